"""brownie run scripts/demo.py: consents (grant, relay, delegate, check, revoke), provider access, a
hospital's record gateway, a trial.

Runs on brownie's local Anvil (or Ganache: --network ganache7) and says what happens in plain
words, with transaction hashes and gas used.
"""

import base64
import json
import os
import secrets
import tempfile
import warnings
from pathlib import Path

import httpx
from brownie import accounts, chain, web3
from eth_account import Account
from eth_account.signers.local import LocalAccount

from carechain.clients import (
    AccessClient,
    ConsentClient,
    CredentialClient,
    RecordClient,
    TrialClient,
    category_bit,
    content_hash,
    license_hash,
    record_id,
)
from carechain.core import purposes
from carechain.core.config import project_root
from carechain.core.deployments import deploy
from carechain.core.purposes import Scope
from carechain.core.sender import Sender, TxResult
from carechain.dev.stacks import serving_gateway
from carechain.errors import AccessRefused, CareChainError
from carechain.offchain.trialdata import (
    DataBatch,
    Endpoints,
    Results,
    file_hash,
    subject_account,
    verify_batch,
    verify_results,
    verify_row,
)
from carechain.services.gateway import crypto, receipts
from carechain.services.gateway.client import GatewayClient
from carechain.services.gateway.requests import ReadRequest, Wallet, sign
from carechain.services.gateway.service import GatewayService
from carechain.services.gateway.store import Store

GRANT_BUDGET = 55_600  # 1.2 x the 46,336-gas physical floor of one packed slot + a three-topic event
# The Ethereum Attestation Service's attest() for comparable work, as `make bench` measured it beside ours.
EAS_ATTEST = json.loads((Path(__file__).parents[1] / "benchmarks" / "results" / "gas.json").read_text())[
    "eas.attest"
]
DAY = 86_400
# The hospital's and the trial site's own files on their patients. These identifiers stay off chain: the
# chain sees only salted hashes derived from them (a record id, case-report-form leaves) and addresses.
PATIENTS = {
    "Alice": {"name": "Alice Martin", "mrn": "MRN-20480417", "birth_date": "1984-03-17"},
    "Carol": {"name": "Carol Nguyen", "mrn": "MRN-20511093", "birth_date": "1990-11-02"},
    "Dan": {"name": "Daniel Okoro", "mrn": "MRN-20533318", "birth_date": "1977-06-25"},
}

warnings.filterwarnings("ignore", category=FutureWarning)  # brownie's own rpc.* deprecation notes


def say(text: str) -> None:
    print(f"  {text}")


def step(title: str) -> None:
    print(f"\n== {title}")


def tx(what: str, result: TxResult) -> None:
    say(f"{what}: tx {result.tx_hash[:18]}… block {result.block_number}, {result.gas_used:,} gas")


def client(kind, root, account):
    """A client acting as `account`: a key of its own (signs here) or a node-unlocked account (brownie's)."""
    signer = account if isinstance(account, LocalAccount | str) else account.address
    return kind.from_manifest(web3, root, Sender(web3, signer))


def check(
    consent: ConsentClient, patient: str, who: str, grantee: str, purpose: str, scopes: list[str]
) -> bool:
    permitted = consent.is_permitted(
        patient, grantee, purposes.purpose_id(purpose), purposes.scopes_mask(scopes)
    )
    verdict = "PERMITTED" if permitted else "NOT permitted"
    say(f"may {who} use {'+'.join(scopes)} for {purpose}? {verdict}")
    return permitted


def main() -> None:
    root = project_root()
    names = [
        "deployer",
        "Alice (patient)",
        "Dr Reyes (researcher)",
        "St Mary's clinic (relayer)",
        "Sam's parent",
        "Sam (a minor)",
    ]
    deployer, alice, researcher, clinic, parent, sam = (accounts[i] for i in range(6))
    bob = Account.create()  # a patient with a key and no ether: he only signs

    step("Deploy")
    manifest = deploy(web3, Sender(web3, deployer.address), root, log=say)
    base = ConsentClient.from_manifest(web3, root)
    say(f"ConsentRegistry at {base.address} on chain {web3.eth.chain_id}; manifest {manifest.path.name}")
    for name, account in zip(names, (deployer, alice, researcher, clinic, parent, sam), strict=True):
        say(f"{name:28} {account.address}")
    say(f"{'Bob (patient, no ether)':28} {bob.address}")

    def as_(account) -> ConsentClient:
        return base.with_sender(Sender(web3, account.address))

    hmb, labs_genomics = purposes.purpose_id("HMB"), int(Scope.LABS | Scope.GENOMICS)

    step("Alice grants Dr Reyes research consent (DUO:0000006 HMB) over labs + genomics for 90 days")
    result = as_(alice).grant(researcher.address, hmb, labs_genomics, chain.time() + 90 * DAY)
    tx("granted", result)
    verdict = "within" if result.gas_used <= GRANT_BUDGET else "OVER"
    say(
        f"a new consent cost {result.gas_used:,} gas: {verdict} the {GRANT_BUDGET:,} budget "
        f"(EAS attest, measured by make bench: {EAS_ATTEST:,}, {EAS_ATTEST / result.gas_used:.1f}x more)"
    )
    check(base, alice.address, "Dr Reyes", researcher.address, "HMB", ["labs"])
    check(base, alice.address, "Dr Reyes", researcher.address, "HMB", ["labs", "imaging"])

    step("Bob signs a consent (EIP-712) in his wallet; the clinic submits it and pays the gas")
    signed = base.sign_grant(
        bob, researcher.address, hmb, int(Scope.LABS), chain.time() + 7 * DAY, deadline=chain.time() + 3600
    )
    say(f"Bob signed nonce {signed.nonce}, deadline in one hour: {signed.signature.hex()[:20]}…")
    tx("clinic submitted Bob's consent", as_(clinic).submit_grant(signed))
    say(f"Bob's balance is still {web3.eth.get_balance(bob.address)} wei: he paid nothing")
    check(base, bob.address, "Dr Reyes", researcher.address, "HMB", ["labs"])
    try:
        as_(clinic).submit_grant(signed)
    except CareChainError as err:
        say(f"the clinic tries to replay the same signature: refused with {err}")

    step("Sam, a minor, appoints a parent as delegate until Sam turns 18 (5 years)")
    tx("delegate set", as_(sam).set_delegate(parent.address, chain.time() + 5 * 365 * DAY))
    tx(
        "parent granted for Sam (treatment, TREAT: medications)",
        as_(parent).grant_for(
            sam.address, researcher.address, purposes.purpose_id("TREAT"), int(Scope.MEDICATIONS)
        ),
    )
    check(base, sam.address, "Dr Reyes", researcher.address, "TREAT", ["medications"])
    tx("Sam removes the delegate", as_(sam).remove_delegate(parent.address))
    try:
        as_(parent).revoke_for(sam.address, researcher.address, purposes.purpose_id("TREAT"))
    except CareChainError as err:
        say(f"the removed parent tries to act for Sam: refused with {err}")

    step("Alice revokes her consent")
    check(base, alice.address, "Dr Reyes", researcher.address, "HMB", ["labs"])
    tx("revoked", as_(alice).revoke(researcher.address, hmb))
    check(base, alice.address, "Dr Reyes", researcher.address, "HMB", ["labs"])

    step("Eight days pass: Bob's 7-day consent expires on its own")
    chain.sleep(8 * DAY)
    chain.mine()
    check(base, bob.address, "Dr Reyes", researcher.address, "HMB", ["labs"])

    access_walkthrough(root, deployer, alice)
    gateway_walkthrough(root, alice)
    trial_walkthrough(root, deployer)
    print("\nDone: every permission above was decided by the chain, and no health data left the patients.")


def access_walkthrough(root, authority, alice) -> None:
    """A hospital anchors a lab result; Alice's GP reads it, a specialist cannot, the ER breaks the glass."""
    hospital, gp, specialist, er_doctor = (accounts[i] for i in (6, 7, 8, 9))
    reviewer = Account.create()
    authority.transfer(reviewer.address, "1 ether", silent=True)

    step("The health authority's registrar attests credentials (only licence hashes go on chain)")
    registry = client(CredentialClient, root, authority)
    registry.add_registrar(authority.address)
    salt = os.urandom(16)
    for who, account, roles in (
        ("St Mary's hospital", hospital, ("CUSTODIAN",)),
        ("Dr Okafor (GP)", gp, ("PROVIDER",)),
        ("Dr Lund (specialist)", specialist, ("PROVIDER",)),
        ("Dr Silva (ER)", er_doctor, ("PROVIDER", "EMERGENCY")),
        ("Dr Chen (reviewer)", reviewer.address, ("REVIEWER",)),
    ):
        address = account if isinstance(account, str) else account.address
        for role in roles:
            registry.attest(address, role, license_hash(f"{who}-{role}", salt), 0, chain.time() + 365 * DAY)
        say(f"{who:22} {address}  {', '.join(roles)}")

    step("St Mary's anchors Alice's lab result: the chain gets an opaque id and the hash of the ciphertext")
    ciphertext = os.urandom(512)  # the encrypted FHIR Observation stays in the hospital's own store
    lab = record_id(salt, f"{PATIENTS['Alice']['mrn']}/LAB-2026-0042")  # the hospital's own id, salted
    tx(
        "anchored",
        client(RecordClient, root, hospital).anchor(
            lab, alice.address, category_bit("labs"), content_hash(ciphertext)
        ),
    )
    say(f"record {lab.hex()[:16]}…, content hash {content_hash(ciphertext).hex()[:16]}…")

    step("Alice grants her GP access to her labs for 30 days")
    result = client(AccessClient, root, alice).grant_access(
        alice.address, gp.address, int(Scope.LABS), chain.time() + 30 * DAY
    )
    tx("access granted", result)
    say(f"a new access grant cost {result.gas_used:,} gas (a new consent: see above)")

    log = client(AccessClient, root, hospital)
    step("The GP asks St Mary's gateway for the lab result: the chain allows it, the read is logged")
    say(f"canAccess(GP) = {log.can_access(gp.address, lab)}")
    tx("read logged", log.log_access(gp.address, lab, purposes.purpose_id("TREAT")))

    step("A specialist Alice never granted asks for it")
    say(f"canAccess(specialist) = {log.can_access(specialist.address, lab)}")
    try:
        log.log_access(specialist.address, lab, purposes.purpose_id("TREAT"))
    except CareChainError as err:
        say(f"the gateway refuses, and the chain would refuse to log it: {err}")

    step("Alice is brought unconscious to the ER: Dr Silva breaks the glass (4 hours, reason ETREAT)")
    result, episode = client(AccessClient, root, er_doctor).break_glass(
        alice.address, purposes.purpose_id("ETREAT"), 4 * 3600
    )
    tx(f"break-glass episode {episode} opened", result)
    say(f"opening break-glass cost {result.gas_used:,} gas; Alice and the reviewers see the event")
    tx("ER read logged", log.log_access(er_doctor.address, lab, purposes.purpose_id("ETREAT")))
    tx(
        f"Dr Chen reviews episode {episode}: approved",
        client(AccessClient, root, reviewer).review(episode, True),
    )

    step("Alice lists who saw her records")
    for read in log.reads(patient=alice.address):
        who = {gp.address: "Dr Okafor (GP)", er_doctor.address: "Dr Silva (ER)"}.get(
            read.provider, read.provider
        )
        basis = read.basis.name.lower().replace("_", " ") + (
            f" #{read.episode_id}" if read.episode_id else ""
        )
        purpose = purposes.purpose_by_id(read.purpose)
        say(
            f"block {read.block_number}: {who} read {read.record_id.hex()[:16]}… for "
            f"{purpose.code if purpose else '?'} under {basis}"
        )


def wallet(account) -> Wallet:
    """The provider's wallet (here: the node's eth_signTypedData_v4 for its unlocked account)."""

    def sign_typed_data(payload: dict) -> bytes:
        answer = web3.provider.make_request("eth_signTypedData_v4", [account.address, json.dumps(payload)])
        return bytes.fromhex(answer["result"][2:])

    return sign_typed_data


def signed_read(service: GatewayService, account, record: bytes, purpose: str) -> ReadRequest:
    """A read request for `service` (called in-process, not over HTTP), signed in the provider's wallet."""
    purpose_id, access_grants = purposes.purpose_id(purpose), service.access.address
    return sign(
        account.address,
        record,
        purpose_id,
        service.gateway,
        service.chain_id,
        access_grants,
        wallet=wallet(account),
    )


def gateway_walkthrough(root, alice) -> None:
    """St Mary's gateway: it ingests a lab result; the GP fetches it, the specialist is refused, the ER reads
    under break-glass, Alice lists the reads; then one read logged as a signed receipt under a Merkle root."""
    hospital, gp, specialist, er_doctor = (accounts[i] for i in (6, 7, 8, 9))
    names = {gp.address: "Dr Okafor (GP)", er_doctor.address: "Dr Silva (ER)"}
    step(
        "St Mary's runs its record gateway: records encrypted at rest, served only on the chain's permission"
    )
    with tempfile.TemporaryDirectory(prefix="carechain-gateway-") as folder:
        db = f"sqlite:///{Path(folder) / 'gateway.db'}"
        # In production the custodian key comes from CARECHAIN_GATEWAY_KEY or a key file; here a fresh one.
        keyring = crypto.Keyring((crypto.new_key(),))
        hospital_records, hospital_access = (
            client(kind, root, hospital) for kind in (RecordClient, AccessClient)
        )
        service = GatewayService(Store(db), keyring, hospital_records, hospital_access)
        token = secrets.token_hex(16)
        with (
            serving_gateway(service, token) as url,
            httpx.Client(base_url=url, timeout=60) as http,
            GatewayClient(url) as gateway,
        ):
            say(
                f"gateway of {hospital.address} at {url} (OpenAPI: {url}/docs), "
                f"custodian key {keyring.current_id}"
            )

            step("The hospital's lab system posts Alice's glucose result (a FHIR Observation) to the gateway")
            observation = {
                "resourceType": "Observation",
                "status": "final",
                "subject": {
                    "identifier": {"value": PATIENTS["Alice"]["mrn"]},
                    "display": PATIENTS["Alice"]["name"],
                },
                "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7", "display": "Glucose"}]},
                "valueQuantity": {"value": 5.4, "unit": "mmol/L"},
            }
            body = {
                "patient": alice.address,
                "category": "labs",
                "content": base64.b64encode(json.dumps(observation).encode()).decode(),
                "mediaType": "application/fhir+json",
            }
            stored = http.post("/records", json=body, headers={"Authorization": f"Bearer {token}"}).json()
            lab = bytes.fromhex(stored["recordId"][2:])
            say(
                f"stored encrypted as record {stored['recordId'][:18]}…; "
                f"anchored in tx {stored['txHash'][:18]}…: "
                f"the chain holds the ciphertext's hash {stored['contentHash'][:18]}…, never the record"
            )

            def fetch(account, purpose: str):
                request = gateway.sign_read(
                    account.address, lab, purposes.purpose_id(purpose), wallet(account)
                )
                return gateway.read(request)

            step(
                "Dr Okafor (GP, granted Alice's labs) fetches it with a request signed in her wallet "
                "(EIP-712)"
            )
            served = fetch(gp, "TREAT")
            value = json.loads(served.content)["valueQuantity"]
            say(
                f"200: glucose {value['value']} {value['unit']}; the read was logged on chain "
                f"before it was served (tx {served.log_tx[:18]}…, basis {served.basis})"
            )

            step("Dr Lund (specialist, no grant) asks for it")
            try:
                fetch(specialist, "TREAT")
            except AccessRefused as err:
                say(f"{err}; nothing served")

            step("Dr Silva (ER) reads it under the break-glass episode opened above")
            served = fetch(er_doctor, "ETREAT")
            say(f"200: served, basis {served.basis}, logged in tx {served.log_tx[:18]}…")

            step("Alice lists who read her lab result")
            for read in service.access.reads(record=lab):
                purpose = purposes.purpose_by_id(read.purpose)
                say(
                    f"block {read.block_number}: {names.get(read.provider, read.provider)} for "
                    f"{purpose.code if purpose else '?'} under {read.basis.name.lower().replace('_', ' ')}"
                )

        step("On a public chain (a block every ~12 s) the gateway can log reads as signed receipts instead")
        batching = GatewayService(Store(db), keyring, hospital_records, hospital_access, log_mode="receipts")
        served = batching.read(signed_read(batching, gp, lab, "TREAT"))
        say(f"served at once with receipt {served.receipt_id.hex()[:16]}…, signed by the gateway (EIP-712)")
        batch = batching.commit_receipts()
        say(
            f"{batch.count} receipt committed as Merkle root {batch.root.hex()[:16]}… "
            f"in tx {batch.tx_hash[:18]}…"
        )
        roots = receipts.committed_roots(batching.access, batching.gateway)
        receipt = receipts.verify(
            batching.receipt(served.receipt_id),
            batching.gateway,
            batching.chain_id,
            batching.access.address,
            roots,
        )
        say(
            f"the GP checks it: signature, proof and root on chain hold for {names[receipt.provider]}'s read "
            f"({receipt.basis.name.lower().replace('_', ' ')})"
        )


def trial_walkthrough(root, authority) -> None:
    """A trial registers, enrols only consenting subjects, commits data, locks, reports; anyone verifies."""
    sponsor, irb, site = (Account.create() for _ in range(3))
    for account in (sponsor, irb, site):
        authority.transfer(account.address, "1 ether", silent=True)

    trials = client(TrialClient, root, sponsor)
    irb_view, site_view = trials.with_sender(Sender(web3, irb)), trials.with_sender(Sender(web3, site))
    consents = client(ConsentClient, root, site)
    registry = client(CredentialClient, root, authority)
    salt = os.urandom(16)
    registry.attest(irb.address, "IRB", license_hash("Riverside IRB", salt), 0, 0)
    registry.attest(site.address, "RESEARCHER", license_hash("St Mary's research unit", salt), 0, 0)
    folder = Path(tempfile.mkdtemp(prefix="carechain-trial-"))

    step("Novara Pharma registers a trial before it starts, Riverside IRB its IRB of record: hashes only")
    endpoints = Endpoints(
        [{"id": "P1", "measure": "change in HbA1c from baseline", "timeFrame": "24 weeks"}],
        [{"id": "S1", "measure": "change in body weight", "timeFrame": "24 weeks"}],
    )
    protocol = folder / "protocol-v1.txt"
    protocol.write_text("Protocol NVP-204 v1: randomised, double-blind, 24 weeks ...\n")
    scopes = int(Scope.LABS | Scope.VITALS)
    result, trial_id = trials.register(
        file_hash(protocol), scopes, irb.address, endpoints.primary_hash, endpoints.secondary_hash
    )
    tx(f"trial {trial_id} registered (primary endpoint {endpoints.primary_hash.hex()[:12]}…)", result)
    tx("Riverside IRB approves protocol version 1", irb_view.approve(trial_id))
    tx("the sponsor adds St Mary's research unit as a site", trials.add_site(trial_id, site.address))

    step("Carol and Dan consent with their own per-trial keys; Erin does not; the site relays and enrols")
    masters = {name: Account.create() for name in ("Carol", "Dan", "Erin")}
    subjects = {
        name: subject_account(bytes(k.key), web3.eth.chain_id, trials.address, trial_id)
        for name, k in masters.items()
    }
    say(
        f"Carol is {subjects['Carol'].address} in this trial; her usual address {masters['Carol'].address} "
        "appears nowhere in it"
    )

    def consent(name: str, version: int) -> None:
        signed = consents.sign_grant(
            subjects[name],
            trials.address,
            trials.trial_purpose(trial_id, version),
            scopes,
            deadline=chain.time() + 3600,
        )
        tx(f"{name}'s signed consent to version {version} relayed", consents.submit_grant(signed))

    consent("Carol", 1)
    consent("Dan", 1)
    for name in ("Carol", "Dan"):
        result = site_view.enroll(trial_id, subjects[name].address)
        tx(
            f"{name} enrolled: the chain checked her consent" if name == "Carol" else f"{name} enrolled",
            result,
        )
    say(f"an enrolment cost {result.gas_used:,} gas (the consent check is a call into ConsentRegistry)")
    try:
        site_view.enroll(trial_id, subjects["Erin"].address)
    except CareChainError as err:
        say(f"the site tries to enrol Erin, who never consented: refused with {err.name}")

    step("The site commits its case-report forms as Merkle roots: the same gas for 4 rows as for 1,000")
    carol, dan = subjects["Carol"].address, subjects["Dan"].address
    visit1 = DataBatch.of(
        trial_id,
        site.address,
        [
            (carol, 1, "birth_date", PATIENTS["Carol"]["birth_date"]),  # guessable: every leaf is salted
            (carol, 1, "hba1c", "7.9"),
            (dan, 1, "birth_date", PATIENTS["Dan"]["birth_date"]),
            (dan, 1, "hba1c", "8.4"),
        ],
    )
    visit2 = DataBatch.of(
        trial_id,
        site.address,
        [(carol if i % 2 else dan, 2, f"glucose-{i // 2}", str(90 + i % 40)) for i in range(1000)],
    )
    for number, batch in ((1, visit1), (2, visit2)):
        batch.save(folder / f"batch-{number}.json")
        result, sequence = site_view.commit_batch(trial_id, batch.root, len(batch.tree))
        tx(f"batch {sequence}: {len(batch.tree)} rows, root {batch.root.hex()[:12]}…", result)

    step("Amendment: version 2 needs re-consent; Carol consents again, Dan revokes his consent")
    protocol2 = folder / "protocol-v2.txt"
    protocol2.write_text("Protocol NVP-204 v2: adds a week-12 visit ...\n")
    result, version = trials.amend(trial_id, file_hash(protocol2), True)
    tx(f"protocol version {version} registered (re-consent required)", result)
    tx(f"Riverside IRB approves version {version}", irb_view.approve(trial_id))
    consent("Carol", version)
    tx("the site records Carol's re-consent", site_view.reconsent(trial_id, carol))
    revoke = consents.sign_revoke(
        subjects["Dan"], trials.address, trials.trial_purpose(trial_id, 1), deadline=chain.time() + 3600
    )
    tx("Dan's signed revocation relayed", consents.submit_revoke(revoke))
    chain.sleep(3600)
    tx("the site records Dan's withdrawal, dated when he revoked", site_view.withdraw(trial_id, dan))
    late = DataBatch.of(trial_id, site.address, [(carol, 3, "hba1c", "7.1"), (dan, 3, "hba1c", "7.7")])
    late.save(folder / "batch-3.json")
    tx(
        "batch 2: visit 3, which (wrongly) still holds a row of Dan's",
        site_view.commit_batch(trial_id, late.root, len(late.tree))[0],
    )

    step("Database lock, then results against the pre-registered endpoints")
    tx("the sponsor locks the database", trials.lock(trial_id))
    after = DataBatch.of(trial_id, site.address, [(carol, 4, "hba1c", "6.2")])
    try:
        site_view.commit_batch(trial_id, after.root, 1)
    except CareChainError as err:
        say(f"the site tries to commit a row after the lock: refused with {err.name}")
    document = {
        "trialId": trial_id,
        "endpoints": {"primary": endpoints.primary, "secondary": endpoints.secondary},
        "results": {"P1": {"meanChange": -1.1, "ci95": [-1.4, -0.8], "p": 0.001}},
    }
    results = Results(trial_id, endpoints, document)
    tx(
        "results reported",
        trials.report_results(
            trial_id, results.results_hash, endpoints.primary_hash, endpoints.secondary_hash
        ),
    )

    step("An auditor verifies, with nothing but the chain and the files")
    auditor = TrialClient.from_manifest(web3, root)
    switched = Endpoints(
        [{"id": "P1", "measure": "change in fasting glucose", "timeFrame": "12 weeks"}], endpoints.secondary
    )
    swapped = {**document, "endpoints": {"primary": switched.primary, "secondary": switched.secondary}}
    added = DataBatch.of(
        trial_id,
        site.address,
        [*((r.subject, r.visit, r.field, r.value) for r in visit1.rows), (carol, 1, "hba1c-retest", "6.0")],
    )
    for title, verdict in (
        ("the published results", verify_results(auditor, trial_id, results)),
        (
            "a paper that reports another primary endpoint",
            verify_results(auditor, trial_id, Results(trial_id, switched, swapped)),
        ),
        (
            "Carol's visit-1 HbA1c (a row proof)",
            verify_row(auditor, visit1.prove(visit1.find(carol, 1, "hba1c"))),
        ),
        ("visit 1 with a row added after the lock", verify_batch(auditor, added)),
        ("batch 2 (visit 3)", verify_batch(auditor, late)),
    ):
        say(f"{title}: {'PASS' if verdict.ok else 'FAIL'}")
        for finding in verdict.findings:
            if not finding.ok:
                say(f"  caught: {finding.message}")
    say(f"batch files kept by the site in {folder}")
