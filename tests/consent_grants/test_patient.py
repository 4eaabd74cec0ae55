"""The patient library end to end: a patient's grants made, found from the wallet alone, listed, checked,
narrowed and withdrawn, through the relayer's HTTP API (each act one transaction from the relayer's key) and
through a direct sender; the relayer's refusals before anything is sent."""

from __future__ import annotations

import json
from dataclasses import replace
from types import SimpleNamespace

import pytest
from brownie import accounts, web3
from click.testing import CliRunner
from eth_abi.abi import encode
from eth_account import Account
from fastapi.testclient import TestClient
from grants_support import HMB, client_of, grant_input

from carechain import errors
from carechain.cli import cli
from carechain.cli import grants as grants_cli
from carechain.clients import ConsentGrantsClient, GuardianshipFactoryClient, PurposeRegistryClient
from carechain.clients.guardianship import term_end
from carechain.core import deployments, grants, keys
from carechain.core.acts import SubjectAct
from carechain.core.grants import GrantInput, Op, Status
from carechain.core.keys import GrantKeys, KeyRoot
from carechain.core.sender import Sender
from carechain.offchain.patient import DirectSubmitter, Patient
from carechain.services.relay.acts import GAS, SubjectActRelay, clone_code, open_subject_acts
from carechain.services.relay.app import create_app
from carechain.services.relay.client import RelayClient
from carechain.services.relay.service import Rate
from carechain.services.relay.store import Store, subject_acts_table
from consent_grants.conftest import WALLET_KEY, wallet_traces

pytestmark = pytest.mark.usefixtures("wallet_never_on_chain")

YEAR = 365 * 86_400


@pytest.fixture(scope="module")
def hospital(project):
    return client_of(project, accounts[2])


@pytest.fixture
def acts(project, relay, tmp_path):
    """The relayer's subject-act service: accounts[4] pays, its store in a fresh SQLite file for each test
    (the chain is rolled back after each)."""
    url = f"sqlite:///{tmp_path / 'relay.db'}"
    purposes = PurposeRegistryClient.from_manifest(web3, project)
    return SubjectActRelay(Store(url, subject_acts_table), relay, Rate.parse("100/h"), purposes)


@pytest.fixture
def api(acts):
    """The relayer's HTTP API in-process (no background follower: statuses move when read)."""
    with TestClient(create_app(None, poll=0, acts=acts)) as client:
        yield client


@pytest.fixture(scope="module")
def factory(project, relay) -> GuardianshipFactoryClient:
    """`carechain deploy` run again on the module's deployment adds its GuardianshipFactory (nothing else is
    sent); the relayer operator's key deploys the accounts through it with this client (any funded key could:
    the relayer's HTTP API deploys none)."""
    deployments.deploy(web3, Sender(web3, accounts[0].address), project, names=("GuardianshipFactory",))
    return GuardianshipFactoryClient.from_manifest(web3, project, relay.sender)


def manifest_relayer(project, relay, url: str) -> SubjectActRelay:
    """The subject-act relay as `relay serve` opens it (`open_subject_acts`), from the project's manifest;
    its ConsentRegistry relay stood in for by what `open_subject_acts` takes of it (the paying key, the
    database, the rate)."""
    service = SimpleNamespace(
        client=SimpleNamespace(w3=web3, sender=relay.sender),
        store=SimpleNamespace(url=url),
        limiter=SimpleNamespace(rate=Rate.parse("100/h")),
    )
    opened = open_subject_acts(service, project)  # type: ignore[arg-type]
    assert opened is not None
    return opened


def signed_through(
    account: str, signer: GrantKeys, domain, kind, target: bytes, nonce: int, grant: GrantInput | None = None
) -> SubjectAct:
    """A subject act of the guardianship `account` (an ERC-1271 subject key): the account's signer's
    signature of the act, in the subjectSig with the grant's subject salt and the account named."""
    unsigned = SubjectAct(kind, target, nonce, grants.subject_sig_1271(signer.salt, account, b""), grant)
    inner = grants.sign(signer, unsigned.payload(domain))
    return replace(unsigned, subject_sig=grants.subject_sig_1271(signer.salt, account, inner))


def with_code(runtime: bytes) -> str:
    """A contract holding `runtime` as its code (init code that copies and returns it), from accounts[0]."""
    init = bytes.fromhex("61") + len(runtime).to_bytes(2, "big") + bytes.fromhex("80600c6000396000f3")
    tx = web3.eth.send_transaction({"from": accounts[0].address, "data": "0x" + (init + runtime).hex()})
    address = str(web3.eth.get_transaction_receipt(tx)["contractAddress"])
    assert bytes(web3.eth.get_code(address)) == runtime
    return address


def reader(project) -> ConsentGrantsClient:
    """ConsentGrants read-only, as a patient's device sees it: it sends nothing."""
    return ConsentGrantsClient.from_manifest(web3, project)


def sent_by(first_block: int) -> list[tuple[str, int]]:
    """(sender, ConsentGranted events) of each transaction mined from `first_block` on."""
    granted = web3.keccak(text="ConsentGranted(bytes32,uint256,address,uint32,uint48)")
    found = []
    for number in range(first_block, web3.eth.block_number + 1):
        for tx in web3.eth.get_block(number, full_transactions=True)["transactions"]:
            logs = web3.eth.get_transaction_receipt(tx["hash"])["logs"]
            found.append((tx["from"], sum(bytes(log["topics"][0]) == granted for log in logs)))
    return found


def test_through_the_relayer_a_patient_grants_finds_checks_narrows_and_withdraws(
    api, acts, project, hospital, key_root
):
    patient = Patient(key_root, reader(project), RelayClient(str(api.base_url), http=api))
    doctor = hospital.sender.address
    first_block = web3.eth.block_number + 1
    now = web3.eth.get_block("latest")["timestamp"]

    research, sent = patient.grant(doctor, "HMB", ["labs", "genomics"], now, now + YEAR)
    assert research.index == 0 and sent.status == "submitted"
    assert patient.submitter.status(sent.id).status == "mined"
    assert acts.status(sent.id).gas_used < GAS["Grant"] * 3 // 4  # sent with its cap, not an estimate
    assert web3.eth.get_transaction(acts.status(sent.id).tx_hash)["gas"] == GAS["Grant"]
    care, _ = patient.grant(doctor, "TREAT", ["labs"], now, now + YEAR)
    assert care.index == 1

    # Number 2 is signed and never sent, then cancelled by a nonce burn; number 3 is signed and never sent at
    # all; number 4 lands. The scan steps over both holes and hands out 5 next.
    _, lost = patient.sign_grant(doctor, "HMB", ["imaging"], now, now + YEAR, index=2)
    burnt = patient.burn(2)
    patient.sign_grant(doctor, "HMB", ["imaging"], now, now + YEAR, index=3)
    third, _ = patient.grant(doctor, "HMB", ["imaging"], now, now + YEAR)
    assert third.index == 4
    assert api.post("/subject-acts", json=lost.as_json()).json()["error"] == "replayed"  # the burn voided it
    assert burnt.status == "submitted"

    # A fresh device knows only the wallet: the same signature finds everything again, in ConsentGrants'
    # logs matched on the device (the node is not asked about the patient's commitments).
    again = Patient(key_root, reader(project), patient.submitter)
    with pytest.MonkeyPatch.context() as no_reads:
        no_reads.setattr(again.contract, "nonce", None)
        no_reads.setattr(again.contract, "get_grant", None)
        assert [keys.index for keys in again.scan().used] == [0, 1, 2, 4]
    listed = {found.index: found for found in again.grants()}
    assert sorted(listed) == [0, 1, 2, 4] and again.scan().next_index == 5
    assert listed[0].categories == ("labs", "genomics") and listed[1].categories == ("labs",)
    assert listed[2].grant is None and listed[2].status is Status.NONE  # a burnt nonce, no grant
    assert all(listed[i].active and listed[i].status is Status.ACTIVE for i in (0, 1, 4))
    assert listed[0].grant is not None and listed[0].grant.not_before % 86_400 == 0  # whole days
    assert listed[0].grant.expires_at % 86_400 == 0

    assert [g.index for g in again.check(doctor, "HMB", "genomics")] == [0]
    assert [g.index for g in again.check(doctor, "TREAT", "labs")] == [1]
    assert again.check(doctor, "HMB", "medications") == []
    assert again.check(accounts[3].address, "HMB", "labs") == []  # another grantee

    # The exported keys let the hospital ask the contract itself; they hold no key root.
    exported = again.export_keys(0)
    genomics = exported["categories"]["genomics"]
    assert exported["grantId"] == "0x" + research.commitment.hex()
    code = listed[0].grant.purpose_code
    assert hospital.check_access(
        exported["grantId"], code, Op.READ, genomics["resourceHash"], genomics["proof"]
    )
    assert "subjectPrivateKey" not in exported
    assert again.export_keys(0, private_key=True)["subjectPrivateKey"] == "0x" + research.private_key.hex()

    withdrawn = again.sign_withdraw_category(0, "genomics")
    again.submitter.submit(withdrawn)
    assert again.check(doctor, "HMB", "genomics") == []
    with pytest.raises(errors.InputError, match="withdrawn from grant #0 already"):
        again.withdraw_category(0, "genomics")
    with pytest.raises(errors.InputError, match="not medications"):
        again.withdraw_category(0, "medications")
    keys_0 = key_root.grant_keys("subject", 0)
    twice = replace(
        withdrawn,
        nonce=withdrawn.nonce + 1,
        subject_sig=acts.client.sign_revoke_leaf(
            keys_0, keys_0.commitment, withdrawn.leaf, withdrawn.nonce + 1
        ),
    )
    answer = api.post("/subject-acts", json=twice.as_json())
    assert answer.status_code == 422 and "withdrawn already" in answer.json()["detail"]
    assert [g.index for g in again.check(doctor, "HMB", "labs")] == [0]
    revoked = again.revoke(0)
    assert patient.submitter.status(revoked.id).status == "mined"
    assert again.grant_of(0).status is Status.REVOKED_BY_SUBJECT and again.check(doctor, "HMB", "labs") == []
    with pytest.raises(errors.InputError, match="REVOKED_BY_SUBJECT"):
        again.withdraw_category(0, "labs")
    labs = grants.scope_leaf(keys_0.scope_salt, grants.category_scope("labs"))
    nonce = again.contract.nonce(keys_0.commitment)
    dead = SubjectAct(
        "RevokeScopeLeaf",
        keys_0.commitment,
        nonce,
        acts.client.sign_revoke_leaf(keys_0, keys_0.commitment, labs, nonce),
        leaf=labs,
    )
    assert "REVOKED_BY_SUBJECT" in api.post("/subject-acts", json=dead.as_json()).json()["detail"]

    # One act, one transaction, always from the relayer: never two grants of the patient in one.
    mined = sent_by(first_block)
    assert {sender for sender, _ in mined} == {acts.relayer}
    assert sorted(n for _, n in mined if n) == [1, 1, 1]


def test_the_relayer_refuses_before_paying(api, acts, project, relay, hospital, key_root):
    patient = Patient(key_root, reader(project), RelayClient(str(api.base_url), http=api))
    now = web3.eth.get_block("latest")["timestamp"]
    keys_10, act = patient.sign_grant(hospital.sender.address, "HMB", ["labs"], now, now + YEAR, index=10)
    count = web3.eth.get_transaction_count(acts.relayer)

    other = key_root.grant_keys("subject", 11)
    forged = replace(act, subject_sig=grants.signed_by_subject(other, act.payload(acts.domain)))
    assert api.post("/subject-acts", json=forged.as_json()).json()["error"] == "bad-signature"
    assert act.grant is not None
    ahead = replace(act, nonce=1, subject_sig=relay.sign_grant(keys_10, act.grant, 1))
    assert api.post("/subject-acts", json=ahead.as_json()).json()["error"] == "bad-request"
    unregistered = replace(act.grant, policy=replace(act.grant.policy, purpose_code=999_999))
    signature = relay.sign_grant(keys_10, unregistered, 0)
    signed = SubjectAct("Grant", keys_10.commitment, 0, signature, unregistered)
    answer = api.post("/subject-acts", json=signed.as_json())
    assert answer.status_code == 422 and answer.json()["error"] == "refused"
    assert api.post("/subject-acts", json={"kind": "Grant"}).status_code in (400, 422)
    missing = patient.sign_burn(12)
    unknown = SubjectAct("RevokeBySubject", missing.target, 0, missing.subject_sig)
    assert api.post("/subject-acts", json=unknown.as_json()).json()["error"] == "refused"
    assert web3.eth.get_transaction_count(acts.relayer) == count  # nothing was sent

    with pytest.raises(errors.BadSignature):
        patient.submitter.submit(forged)
    first = patient.submitter.submit(act)
    assert patient.submitter.submit(act) == patient.submitter.status(first.id)  # seen: same, nothing sent
    assert web3.eth.get_transaction_count(acts.relayer) == count + 1


def test_the_relayer_limits_each_client_and_its_whole_budget_before_reading_the_node(
    project, relay, hospital, key_root, tmp_path, monkeypatch
):
    """Fresh subject keys get fresh per-commitment buckets; a client IP's bucket and the relayer's budget
    hold all the same, and refuse before the node is asked anything."""
    url = f"sqlite:///{tmp_path / 'limits.db'}"
    purposes = PurposeRegistryClient.from_manifest(web3, project)
    limited = SubjectActRelay(
        Store(url, subject_acts_table),
        relay,
        Rate.parse("100/h"),
        purposes,
        budget=Rate.parse("1/h"),
        client_rate=Rate.parse("3/h"),
    )
    patient = Patient(key_root, reader(project), DirectSubmitter(relay))
    now = web3.eth.get_block("latest")["timestamp"]
    signed = [
        patient.sign_grant(hospital.sender.address, "HMB", ["labs"], now, now + YEAR, index=i)[1]
        for i in (20, 21)
    ]
    count = web3.eth.get_transaction_count(limited.relayer)
    assert limited.submit(signed[0], client="10.0.0.1")[1] is True
    with pytest.raises(
        errors.RateLimited, match="budget"
    ):  # another patient, another IP: the budget is spent
        limited.submit(signed[1], client="10.0.0.2")
    assert web3.eth.get_transaction_count(limited.relayer) == count + 1

    def no_node(*args):
        raise AssertionError("the node was asked")

    monkeypatch.setattr(limited.client, "nonce", no_node)
    monkeypatch.setattr(limited.client, "subject_of", no_node)
    with pytest.raises(errors.RateLimited, match="budget"):
        limited.submit(signed[1], client="10.0.0.3")
    limited.budget = type(limited.budget)(Rate.parse("100/h"), limited.budget.clock)
    for _ in range(2):
        with pytest.raises(AssertionError, match="the node was asked"):
            limited.nonce("0x" + "ab" * 32, client="10.0.0.1")
    with pytest.raises(errors.RateLimited, match="this client"):  # its 3 requests are spent, unread
        limited.nonce("0x" + "ab" * 32, client="10.0.0.1")
    with pytest.raises(errors.RateLimited, match="this client"):
        limited.submit(signed[1], client="10.0.0.1")


def test_a_contract_subject_key_is_refused_without_a_guardianship_factory(api, acts, project):
    """Any contract could burn the relayer's gas in isValidSignature: none is taken unless it is a clone of
    the deployment's GuardianshipFactory, and this relayer was given none."""
    salt = bytes(range(32))
    contract_key = acts.client.address  # a contract, not a GuardianshipAccount
    commitment = keys.subject_commitment(salt, contract_key)
    signature = bytes.fromhex(contract_key[2:]) + bytes(65)  # the named key, then its inner signature
    subject_sig = encode(["bytes32", "bytes"], [salt, signature])
    burn = SubjectAct("BurnNonce", commitment, 0, subject_sig)
    count = web3.eth.get_transaction_count(acts.relayer)
    answer = api.post("/subject-acts", json=burn.as_json())
    assert answer.status_code == 422 and answer.json()["error"] == "refused", answer.json()
    assert "takes no contract (ERC-1271) subject keys" in answer.json()["detail"]
    assert web3.eth.get_transaction_count(acts.relayer) == count


def test_contract_keys_are_refused_when_the_factorys_implementation_is_not_guardianship_account(
    factory, project, relay, tmp_path
):
    """The manifest's code check blanks immutables, and the factory's implementation is one: a manifest
    edited to name a lookalike factory (GuardianshipFactory's code with another implementation) passes it.
    The relayer checks the implementation's own code against GuardianshipAccount's and, as it is not, takes
    no contract key, clones of that implementation included; nor when there is no build to check with."""
    other = PurposeRegistryClient.from_manifest(web3, project).address  # any contract but an account
    padded = bytes(12) + bytes.fromhex(factory.implementation()[2:])
    code = bytes(web3.eth.get_code(factory.address))
    assert padded in code
    lookalike = with_code(code.replace(padded, bytes(12) + bytes.fromhex(other[2:])))
    other_clone = with_code(clone_code(other))
    path = project / "deployments" / f"{web3.eth.chain_id}.json"
    kept = path.read_text()
    data = json.loads(kept)
    data["contracts"]["GuardianshipFactory"]["address"] = lookalike
    path.write_text(json.dumps(data))
    try:
        relayer = manifest_relayer(project, relay, f"sqlite:///{tmp_path / 'relay.db'}")
    finally:
        path.write_text(kept)
    assert GuardianshipFactoryClient.at(web3, project, lookalike).implementation() == other
    salt = bytes(range(32))
    commitment = keys.subject_commitment(salt, other_clone)
    burn = SubjectAct("BurnNonce", commitment, 0, grants.subject_sig_1271(salt, other_clone, bytes(65)))

    def refuses(refusing: SubjectActRelay, why: str) -> None:
        assert refusing.clone_code is None and refusing.info()["contractKeys"] is False
        with pytest.raises(errors.Refused) as refused:
            refusing.submit(burn)
        assert "takes no contract (ERC-1271) subject keys: " + why in str(refused.value)

    refuses(relayer, f"the implementation {other} of GuardianshipFactory {lookalike} does not hold ")
    unchecked = SubjectActRelay(
        Store(f"sqlite:///{tmp_path / 'unchecked.db'}", subject_acts_table),
        relay,
        Rate.parse("100/h"),
        PurposeRegistryClient.from_manifest(web3, project),
        guardianship=factory,
        account=None,  # as an install without build/ opens it
    )
    refuses(unchecked, "it cannot check that GuardianshipFactory")


def test_a_guardian_grants_for_a_minor_through_a_guardianship_account_and_the_relayer(
    factory, project, relay, hospital, tmp_path
):
    """A minor's grant whose subject key is a GuardianshipAccount deployed through the manifest's
    GuardianshipFactory by GuardianshipFactoryClient with the relayer operator's key (not through the
    relayer's HTTP API, which deploys no account), signed by the guardian's per-grant key (ERC-1271),
    submitted through the relayer's HTTP API as `relay serve` opens it; withdrawn the same way. Another
    contract key is refused, and so is a grant outlasting the guardian's term, both before paying; the
    guardian's wallet reaches the chain nowhere."""
    relayer = manifest_relayer(project, relay, f"sqlite:///{tmp_path / 'relay.db'}")
    assert relayer.clone_code == clone_code(factory.implementation())
    # A real EIP-1167 clone, but of another contract than the trusted GuardianshipAccount implementation.
    other_key = with_code(clone_code(PurposeRegistryClient.from_manifest(web3, project).address))
    guardian_wallet = Account.create()
    derivation = keys.sign_derivation(guardian_wallet, web3.eth.chain_id, relay.address)
    guardian = KeyRoot.from_signature(derivation).grant_keys("guardian", 0)
    first_block = web3.eth.block_number + 1
    # Two years from now, not a birthday; the client floors it to a whole day (UTC), as the test does here.
    term_ends_at = term_end(web3.eth.get_block("latest")["timestamp"] + 2 * YEAR)
    salt = bytes.fromhex("5a" * 32)  # public (the deploy's calldata): never the subject salt

    predicted = factory.predict(salt, guardian.address, term_ends_at)
    _, account = factory.deploy(salt, guardian.address, term_ends_at)  # a minor: no successor yet
    assert account == predicted
    commitment = keys.subject_commitment(guardian.salt, account)
    grant = replace(grant_input(guardian, hospital.sender.address, lasts=YEAR), subject_commit=commitment)
    domain = relayer.domain

    with TestClient(create_app(None, poll=0, acts=relayer)) as api:
        assert api.get("/consent-grants/info").json()["contractKeys"] is True
        count = web3.eth.get_transaction_count(relayer.relayer)
        other = replace(grant, subject_commit=keys.subject_commitment(guardian.salt, other_key))
        unknown = signed_through(other_key, guardian, domain, "Grant", other.subject_commit, 0, other)
        refused = api.post("/subject-acts", json=unknown.as_json())
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"] == (
            f"contract key {other_key} is not an account of GuardianshipFactory: its code is not an EIP-1167 "
            f"clone of the trusted GuardianshipAccount implementation {factory.implementation()}, and this "
            "relayer takes no other contract keys."
        )
        too_long = replace(grant, policy=replace(grant.policy, expires_at=term_ends_at + 86_400))
        answer = api.post(
            "/subject-acts",
            json=signed_through(account, guardian, domain, "Grant", commitment, 0, too_long).as_json(),
        )
        assert answer.status_code == 422 and "BeyondAuthority" in answer.text, answer.json()
        assert web3.eth.get_transaction_count(relayer.relayer) == count  # nothing was paid for

        client = RelayClient(str(api.base_url), http=api)
        sent = client.submit(signed_through(account, guardian, domain, "Grant", commitment, 0, grant))
        assert client.status(sent.id).status == "mined"
        assert relay.is_active(commitment) and relay.subject_of(commitment) == commitment
        labs = grants.resource_hash(guardian.scope_salt, grants.category_scope("labs"))
        assert hospital.check_access(commitment, HMB, Op.READ, labs)

        revoke = signed_through(account, guardian, domain, "RevokeBySubject", commitment, 1)
        assert client.status(client.submit(revoke).id).status == "mined"
        assert relay.effective_status(commitment) is Status.REVOKED_BY_SUBJECT
        assert not hospital.check_access(commitment, HMB, Op.READ, labs)

    # The account's deployment (sent by the library with the relayer operator's key), the grant and the
    # revocation (sent by the relayer): each a transaction of its own, all from the relayer's key.
    assert [sender for sender, _ in sent_by(first_block)] == [relayer.relayer] * 3
    count, found = wallet_traces(guardian_wallet.address, first_block)
    assert count == 3 and not found, found


def test_a_keystore_secret_patient_grants_and_withdraws_through_a_direct_sender(project, relay, hospital):
    secret_root = KeyRoot.from_secret(keys.create_secret())
    patient = Patient(secret_root, reader(project), DirectSubmitter(client_of(project, accounts[5])))
    now = web3.eth.get_block("latest")["timestamp"]
    subject, sent = patient.grant(hospital.sender.address, "HMB", ["labs"], now, now + YEAR)
    assert sent.status == "mined" and patient.scan().next_index == 1
    assert [g.index for g in patient.check(hospital.sender.address, "HMB", "labs")] == [0]
    patient.revoke(0)
    assert relay.effective_status(subject.commitment) is Status.REVOKED_BY_SUBJECT


def test_a_trailing_number_signed_and_never_sent_is_not_handed_out_again(project, relay, hospital, tmp_path):
    """The chain cannot know a grant signed and never sent: the numbers signed are recorded on the device,
    so a new grant never takes a number whose old signed grant could land in its place."""
    secret_root = KeyRoot.from_secret(keys.create_secret())
    signed = tmp_path / "signed.json"
    now = web3.eth.get_block("latest")["timestamp"]
    first = Patient(secret_root, reader(project), signed_file=signed)
    assert first.sign_grant(hospital.sender.address, "HMB", ["labs"], None, now + YEAR)[0].index == 0
    later = Patient(secret_root, reader(project), signed_file=signed)  # another run, the same device
    assert later.sign_grant(hospital.sender.address, "HMB", ["labs"], None, now + YEAR)[0].index == 1
    elsewhere = Patient(secret_root, reader(project))  # no record: the chain alone hands out 0 again
    assert elsewhere.scan().next_index == 0


def test_the_cli_grants_lists_checks_exports_and_revokes_through_the_relayer(
    api, project, hospital, monkeypatch, tmp_path
):
    monkeypatch.setattr(grants_cli, "_relay_client", lambda url: RelayClient(url, http=api))
    doctor = hospital.sender.address

    def run(*args: str, relayer: bool = True, env: dict[str, str] | None = None):
        result = CliRunner().invoke(
            cli,
            [
                "--rpc-url",
                web3.provider.endpoint_uri,
                "--root",
                str(project),
                "--json",
                "consent",
                "grants",
                *(["--relayer", str(api.base_url)] if relayer else []),
                *args,
            ],
            env={
                "PRIVATE_KEY": WALLET_KEY,
                "KEYSTORE": "",
                "RPC_URL": "",
                grants_cli.RELAYER_ENV: "",
                **(env or {}),
            },
        )
        return result.exit_code, json.loads(result.output) if result.output.startswith("{") else result.output

    code, sent = run("grant", doctor, "-p", "TREAT", "-c", "imaging,labs", "--until", "30d")
    assert code == 0 and sent["index"] == 0 and sent["status"] == "submitted", sent
    assert run("status", sent["submission"], "--wait", "5")[1]["status"] == "mined"
    code, listed = run("list", relayer=False)  # reading needs no relayer
    assert code == 0 and [(g["index"], g["status"], g["categories"]) for g in listed["grants"]] == [
        (0, "ACTIVE", ["labs", "imaging"])
    ]
    assert run("check", doctor, "-p", "TREAT", "-c", "imaging", relayer=False) == (
        0,
        {"permitted": True, "grants": [0]},
    )
    assert run("check", doctor, "-p", "TREAT", "-c", "genomics")[0] == 3
    keyfile = tmp_path / "grant0.json"
    assert run("export-keys", "0", "-o", str(keyfile), relayer=False)[0] == 0
    assert keyfile.stat().st_mode & 0o777 == 0o600
    assert "index" not in json.loads(keyfile.read_text())  # the clinic is not told the patient's numbering

    def one_line_error(answer, fragment: str) -> None:
        code, text = answer
        assert code not in (0, 3) and isinstance(text, str), answer
        assert text.startswith("error: ") and "\n" not in text.strip() and "Traceback" not in text, text
        assert fragment in text, text

    one_line_error(run("revoke", "0", relayer=False), "acts are sent by a relayer")
    one_line_error(run("grant", doctor, "-p", "HMB", "-c", "x-rays", "--until", "30d"), "x-rays")
    one_line_error(run("revoke", "7"), "grant number 7 is not on ConsentGrants")
    one_line_error(run("export-keys", "0", "-o", str(keyfile)), "exists")
    secret = tmp_path / "secret.json"
    made = run("new-secret", "-o", str(secret), env={grants_cli.SECRET_PASSWORD_ENV: "pw"})
    assert made[0] == 0 and secret.stat().st_mode & 0o777 == 0o600, made
    assert run("--secret", str(secret), "list", env={grants_cli.SECRET_PASSWORD_ENV: "pw"}) == (
        0,
        {"grants": []},
    )
    assert json.loads(keyfile.read_text())["grantId"] == listed["grants"][0]["grantId"]
    assert run("revoke", "0")[1]["status"] == "submitted"
    assert run("list")[1]["grants"][0]["status"] == "REVOKED_BY_SUBJECT"
    assert run("check", doctor, "-p", "TREAT", "-c", "imaging")[0] == 3
