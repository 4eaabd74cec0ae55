"""A testnet rehearsed locally: every flow through the CLI, each role with its own key, waiting for blocks.

A separate Anvil mines a block a second under Sepolia's chain id, so nothing counts as a local chain:
no unlocked account is used (the deployer is Anvil's first dev key, given as PRIVATE_KEY in `.env`,
and it pays every other role its ether by a plain transfer), the CLI finds the node from `.env`'s
RPC_URL, and every transaction waits for one block on top of its own (CARECHAIN_CONFIRMATIONS=1).
Deploy, the consent, access and trial flows, then `carechain index --confirmations 2` and
`carechain audit`, each answer checked against the chain itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from carechain.cli import cli
from carechain.clients import AccessClient, ConsentClient, TrialClient, TrialStatus
from carechain.core.purposes import purpose_id, scopes_mask
from carechain.dev.localnode import LocalNode, local_node
from carechain.index.indexer import Indexer

REPO = Path(__file__).parents[2]
CHAIN_ID = 11155111  # Sepolia's: not a local chain, so the CLI behaves as on the public testnet
TIMELOCK_DELAY = 3  # seconds a registrar appointment waits (two days on a real testnet)
DEPLOYER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # Anvil's first dev key
INDEX_CONFIRMATIONS = 2
ENDPOINTS = {"primary": [{"id": "P1", "measure": "change in HbA1c", "timeFrame": "24 weeks"}]}
ROLES = ("patient", "researcher", "clinic", "hospital", "gp", "er", "reviewer", "sponsor", "irb", "site")
CREDENTIALS = (
    ("hospital", "CUSTODIAN"),
    ("gp", "PROVIDER"),
    ("er", "EMERGENCY"),
    ("reviewer", "REVIEWER"),
    ("irb", "IRB"),
    ("site", "RESEARCHER"),
)


@dataclass
class Rehearsal:
    """The node, the user's project folder, and the keys of everyone who acts."""

    node: LocalNode
    root: Path
    w3: Web3
    keys: dict[str, LocalAccount] = field(default_factory=dict)

    def run(self, *args: str, key: LocalAccount | None = None, confirmations: int = 1) -> Result:
        """`carechain ARGS` in the project folder: RPC_URL (and, without `key`, PRIVATE_KEY) from `.env`."""
        env = {
            "CARECHAIN_ROOT": str(self.root),
            "RPC_URL": None,  # unset: read from the project's .env, as a user's would be
            "PRIVATE_KEY": key.key.hex() if key else None,
            "KEYSTORE": None,
            "CARECHAIN_CONFIRMATIONS": str(confirmations),
        }
        return CliRunner().invoke(cli, list(args), env=env)

    def ok(self, *args: str, key: LocalAccount | None = None, confirmations: int = 1) -> Result:
        result = self.run(*args, key=key, confirmations=confirmations)
        assert result.exit_code == 0, f"carechain {' '.join(args)}: {result.output}"
        return result

    def json(self, *args: str, key: LocalAccount | None = None, confirmations: int = 1) -> Any:
        return json.loads(self.ok("--json", *args, key=key, confirmations=confirmations).stdout)

    def address(self, name: str) -> str:
        return str(self.keys[name].address)


def _fund(w3: Web3, payer: LocalAccount, payees: list[str], value: int) -> None:
    """Plain signed transfers from `payer`, as a wallet sends them; waits until every one is mined."""
    nonce = w3.eth.get_transaction_count(payer.address, "pending")
    price = 2 * w3.eth.gas_price
    hashes = []
    for offset, payee in enumerate(payees):
        tx = {"to": payee, "value": value, "gas": 21_000, "gasPrice": price, "nonce": nonce + offset}
        signed = payer.sign_transaction({**tx, "chainId": CHAIN_ID})
        hashes.append(w3.eth.send_raw_transaction(signed.raw_transaction))
    for tx_hash in hashes:
        assert w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)["status"] == 1


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rehearsal]:
    """A 1-second-block Anvil with Sepolia's id; a project folder whose .env points at it."""
    with local_node(chain_id=CHAIN_ID, block_time=1) as node:
        root = tmp_path_factory.mktemp("testnet-project")
        (root / "build").symlink_to(REPO / "build")
        deployer = Account.from_key(
            DEPLOYER_KEY
        ).address  # plays the multisig too: one key proposes, executes
        (root / ".env").write_text(
            f"RPC_URL={node.url}\nPRIVATE_KEY={DEPLOYER_KEY}\n"
            f"CARECHAIN_ADMIN={deployer}\nCARECHAIN_TIMELOCK_DELAY={TIMELOCK_DELAY}\n"
        )
        w3 = Web3(Web3.HTTPProvider(node.url))
        yield Rehearsal(node, root, w3)


@pytest.fixture(scope="module")
def deployed(rehearsal: Rehearsal) -> dict[str, Any]:
    """`carechain deploy` as a user runs it: the installed command, in the project folder, from `.env`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {"CARECHAIN_ROOT", "RPC_URL", "PRIVATE_KEY", "CARECHAIN_ADMIN", "CARECHAIN_TIMELOCK_DELAY"}
    }
    env["CARECHAIN_CONFIRMATIONS"] = "1"
    done = subprocess.run(
        [str(Path(sys.executable).parent / "carechain"), "--json", "deploy"],
        cwd=rehearsal.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    manifest = json.loads((rehearsal.root / "deployments" / f"{CHAIN_ID}.json").read_text())
    assert manifest["chainId"] == CHAIN_ID and DEPLOYER_KEY[2:] not in json.dumps(manifest)
    return dict(manifest)


@pytest.fixture(scope="module")
def cast(rehearsal: Rehearsal, deployed: dict[str, Any]) -> Rehearsal:
    """Every role a fresh key paid 1 ether by the deployer; the deployer, appointed registrar through the
    timelock (scheduled, then executed once its delay has passed), attests credentials."""
    r = rehearsal
    r.keys = {name: Account.create() for name in ROLES}
    deployer = Account.from_key(DEPLOYER_KEY)
    _fund(r.w3, deployer, [r.address(name) for name in ROLES], Web3.to_wei(1, "ether"))
    r.ok("admin", "appoint-registrar", deployer.address, "--send")  # schedules
    time.sleep(TIMELOCK_DELAY + 2)  # a block later than the delay: the operation is ready
    r.ok("admin", "appoint-registrar", deployer.address, "--send")  # executes
    for name, role in CREDENTIALS:
        r.ok(
            "credential", "attest", r.address(name), "-r", role, "--license-hash", "0x" + os.urandom(32).hex()
        )
    return r


@pytest.fixture(scope="module")
def consent_flow(cast: Rehearsal) -> dict[str, Any]:
    """The patient grants a researcher HMB consent, signs a TREAT consent the clinic submits, revokes HMB."""
    r, folder = cast, cast.root
    patient, researcher = r.address("patient"), r.address("researcher")
    r.ok(
        "consent",
        "grant",
        researcher,
        "-p",
        "HMB",
        "-s",
        "labs,genomics",
        "-e",
        "365d",
        key=r.keys["patient"],
    )
    checked = r.run("consent", "check", patient, researcher, "-p", "HMB", "-s", "labs")
    assert checked.exit_code == 0 and checked.output.startswith("PERMITTED"), checked.output
    signed = folder / "consent-treat.json"
    r.ok("consent", "sign", researcher, "-p", "TREAT", "-s", "labs", "-o", str(signed), key=r.keys["patient"])
    r.ok("consent", "submit", str(signed), key=r.keys["clinic"])
    r.ok("consent", "revoke", researcher, "-p", "HMB", key=r.keys["patient"])
    refused = r.run("consent", "check", patient, researcher, "-p", "HMB", "-s", "labs")
    assert refused.exit_code == 3, refused.output
    return {"patient": patient, "researcher": researcher}


@pytest.fixture(scope="module")
def access_flow(cast: Rehearsal) -> dict[str, Any]:
    """The hospital anchors a lab record; the patient grants the GP; reads logged; break-glass, reviewed."""
    r = cast
    blob = r.root / "lab.enc"
    blob.write_bytes(os.urandom(300))  # the encrypted record: only its hash goes on chain
    record = "0x" + os.urandom(32).hex()
    patient, gp, er = r.address("patient"), r.address("gp"), r.address("er")
    r.ok("record", "anchor", record, patient, "-c", "labs", "--file", str(blob), key=r.keys["hospital"])
    r.ok("access", "grant", gp, "-c", "labs", "-e", "30d", key=r.keys["patient"])
    r.ok("access", "log", gp, record, "-p", "TREAT", key=r.keys["hospital"])
    episode = r.json("access", "break-glass", patient, "-d", "2h", key=r.keys["er"])["episodeId"]
    r.ok("access", "log", er, record, "-p", "ETREAT", key=r.keys["hospital"])
    r.ok("access", "review", str(episode), "--approve", key=r.keys["reviewer"])
    return {"record": record, "episode": episode}


@pytest.fixture(scope="module")
def trial_flow(cast: Rehearsal) -> dict[str, Any]:
    """Sponsor registers, IRB approves, adds a site; a subject consents, is enrolled; commit, lock, report."""
    r, folder = cast, cast.root
    (folder / "protocol.txt").write_text("Protocol REH-1 v1\n")
    (folder / "endpoints.json").write_text(json.dumps(ENDPOINTS))
    trial = r.json(
        "trial", "register", "--protocol", str(folder / "protocol.txt"), "--endpoints",
        str(folder / "endpoints.json"), "-s", "labs", "--irb", r.address("irb"), key=r.keys["sponsor"],
    )["trialId"]  # fmt: skip
    tid = str(trial)
    r.ok("trial", "approve", tid, key=r.keys["irb"])
    r.ok("trial", "add-site", tid, r.address("site"), key=r.keys["sponsor"])
    master = Account.create()  # the subject's own key: signs only, holds no ether
    r.ok("trial", "consent", tid, "-o", str(folder / "trial-consent.json"), key=master)
    r.ok("consent", "submit", str(folder / "trial-consent.json"), key=r.keys["site"])
    subject = r.json("trial", "subject", tid, key=master)["subject"]
    r.ok("trial", "enroll", tid, subject, key=r.keys["site"])
    rows, batch = folder / "visit1.csv", folder / "batch-1.json"
    rows.write_text(f"subject,visit,field,value\n{subject},1,hba1c,7.9\n")
    r.ok("trial", "commit", tid, "--rows", str(rows), "-o", str(batch), key=r.keys["site"])
    proof = folder / "proof.json"
    r.ok(
        "trial",
        "prove",
        str(batch),
        "--subject",
        subject,
        "--visit",
        "1",
        "--field",
        "hba1c",
        "-o",
        str(proof),
    )
    r.ok("trial", "lock", tid, key=r.keys["sponsor"])
    results = folder / "results.json"
    results.write_text(json.dumps({"trialId": trial, "endpoints": ENDPOINTS, "results": {"P1": -1.1}}))
    r.ok("trial", "report", tid, "--results", str(results), key=r.keys["sponsor"])
    verdict = r.json(
        "trial", "verify", tid, "--results", str(results), "--proof", str(proof), "--batch", str(batch)
    )
    return {"trial": trial, "subject": subject, "verdict": verdict}


def test_deploy_from_env_is_reused_and_the_node_is_not_local(rehearsal, deployed):
    assert rehearsal.w3.eth.chain_id == CHAIN_ID and rehearsal.w3.eth.block_number > 0
    again = rehearsal.json("deploy")
    assert again["chainId"] == CHAIN_ID
    manifest = json.loads((rehearsal.root / "deployments" / f"{CHAIN_ID}.json").read_text())
    assert manifest["contracts"] == deployed["contracts"]  # nothing redeployed
    deployer = Account.from_key(DEPLOYER_KEY).address  # the .env key signed: no unlocked account
    assert {entry["deployer"] for entry in manifest["contracts"].values()} == {deployer}


def test_transactions_wait_for_the_confirmations_asked_for(cast):
    r = cast
    clinic = r.keys["clinic"]  # consents for itself: the patient's history stays as the flows left it
    grant = ("consent", "grant", r.address("gp"), "-p", "TREAT", "-s", "labs")
    sent = r.json(*grant, key=clinic, confirmations=3)
    assert r.w3.eth.block_number >= sent["block"] + 3  # back only once three blocks lie on top of it
    assert r.w3.eth.get_transaction_receipt(sent["txHash"])["blockNumber"] == sent["block"]
    env = {"CARECHAIN_ROOT": str(r.root), "RPC_URL": None, "PRIVATE_KEY": clinic.key.hex()}
    refused = CliRunner().invoke(cli, list(grant), env={**env, "CARECHAIN_CONFIRMATIONS": "two"})
    assert refused.exit_code == 1
    assert refused.output.strip() == "error: CARECHAIN_CONFIRMATIONS='two' is not a whole number"


def test_consent_flow_on_chain(cast, consent_flow):
    consents = ConsentClient.from_manifest(cast.w3, cast.root)
    patient, researcher = consent_flow["patient"], consent_flow["researcher"]
    labs = scopes_mask(["labs"])
    assert consents.is_permitted(
        patient, researcher, purpose_id("TREAT"), labs
    )  # signed, submitted by the clinic
    assert not consents.is_permitted(patient, researcher, purpose_id("HMB"), labs)  # revoked
    assert consents.get_consent(patient, researcher, purpose_id("HMB")).revoked_at > 0


def test_access_flow_on_chain(cast, access_flow):
    access = AccessClient.from_manifest(cast.w3, cast.root)
    record = bytes.fromhex(access_flow["record"][2:])
    assert access.can_access(cast.address("gp"), record)
    assert not access.can_access(cast.address("researcher"), record)
    episode = access.get_episode(access_flow["episode"])
    assert episode.provider == cast.address("er") and episode.review.name == "APPROVED"
    reads = access.reads(patient=cast.address("patient"))
    assert [(read.provider, read.basis.name) for read in reads] == [
        (cast.address("gp"), "CATEGORY_GRANT"),
        (cast.address("er"), "BREAK_GLASS"),
    ]


def test_trial_flow_on_chain(cast, trial_flow):
    trials = TrialClient.from_manifest(cast.w3, cast.root)
    state = trials.get_trial(trial_flow["trial"])
    assert state.status == TrialStatus.REPORTED and state.enrolled == 1 and state.locked_at > 0
    assert trials.is_enrolled(trial_flow["trial"], trial_flow["subject"])
    assert len(trials.batches(trial_flow["trial"])) == 1
    assert trial_flow["verdict"]["verdict"] == "PASS"


def _chain_logs(w3: Web3, indexer: Indexer, to_block: int) -> set[tuple[int, int, str]]:
    logs = w3.eth.get_logs(
        {"address": list(indexer.addresses.values()), "fromBlock": indexer.deploy_block, "toBlock": to_block}
    )
    return {(log["blockNumber"], log["logIndex"], "0x" + bytes(log["transactionHash"]).hex()) for log in logs}


def _indexed(indexer: Indexer) -> set[tuple[int, int, str]]:
    return {(e["block_number"], e["log_index"], e["tx_hash"]) for e in indexer.events()}


def test_index_with_confirmations_then_audit(cast, consent_flow, access_flow, trial_flow):
    r, w3 = cast, cast.w3
    patient, researcher = r.address("patient"), r.address("researcher")
    (r.root / ".chain").mkdir(exist_ok=True)  # where `carechain index` keeps its SQLite file, read here too
    indexer = Indexer(w3, r.root, str(r.root / ".chain" / f"index-{CHAIN_ID}.db"))
    try:
        # A last transaction, back at its receipt (no block on top), then at once the index of head - 2.
        # On a busy machine two blocks may pass in between: then the index must hold it, and it goes again.
        grants = 0
        for _ in range(3):
            grants += 1
            grantee = Account.create().address
            grant = ("consent", "grant", grantee, "-p", "GRU", "-s", "labs")
            last = r.json(*grant, key=r.keys["patient"], confirmations=0)
            head_before = w3.eth.block_number
            synced = r.json("index", "--confirmations", str(INDEX_CONFIRMATIONS))
            head_after = w3.eth.block_number
            assert head_before - INDEX_CONFIRMATIONS <= synced["toBlock"] <= head_after - INDEX_CONFIRMATIONS
            assert _indexed(indexer) == _chain_logs(w3, indexer, synced["toBlock"])
            held = {row[2] for row in _indexed(indexer)}
            if last["block"] > synced["toBlock"]:  # in the last two blocks: on chain, not in the index
                assert last["txHash"] not in held
                assert last["txHash"] in {row[2] for row in _chain_logs(w3, indexer, head_after)}
                break
            assert last["txHash"] in held  # two blocks deep already: confirmed, indexed
        else:
            pytest.fail("three times two blocks were mined before the index read the head: machine too busy")

        while w3.eth.block_number < last["block"] + INDEX_CONFIRMATIONS:  # two blocks on top of it
            time.sleep(0.25)
        resumed = r.json("index", "--confirmations", str(INDEX_CONFIRMATIONS))
        assert resumed["fromBlock"] == synced["toBlock"] + 1 and resumed["toBlock"] >= last["block"]
        assert _indexed(indexer) == _chain_logs(w3, indexer, resumed["toBlock"])
        assert last["txHash"] in {row[2] for row in _indexed(indexer)}
    finally:
        indexer.close()

    # audit syncs first, 12 blocks behind on a public chain: nothing beyond what the index holds already
    trial = r.json("audit", "trial", str(trial_flow["trial"]))
    assert trial["indexed_block"] == resumed["toBlock"] and trial["agrees"]
    assert trial["locked"]["lockedAt"] > 0 and trial["results"] is not None
    assert len(trial["commitments"]) == 1 and len(trial["subjects"]) == 1
    who = r.json("audit", "access", patient, "--scopes", "labs", "--no-sync")
    assert who["agrees"]
    kinds = {(p["party"], p["kind"]) for p in who["permissions"]}
    assert {(r.address("gp"), "category-grant"), (researcher, "consent"), (grantee, "consent")} <= kinds
    history = r.json("audit", "history", patient, "--no-sync")
    events = [e["event"] for e in history["entries"]]
    assert events.count("ConsentGranted") == 2 + grants and events.count("ConsentRevoked") == 1
    reads = r.json("audit", "reads", access_flow["record"], "--no-sync")
    assert reads["agrees"] and [x["basis"] for x in reads["reads"]] == ["category_grant", "break_glass"]
    assert r.json("audit", "break-glass", "--patient", patient, "--no-sync")["episodes"] == []  # reviewed
