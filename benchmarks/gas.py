"""Gas of CareChain's operations beside the Ethereum Attestation Service, measured in one run.

`make bench` (`python -m benchmarks.gas`) starts its own Anvil with a 30M block gas limit (100 EAS
attestations do not fit brownie's 12M), deploys CareChain and EAS (the npm package's shipped
artifacts, as they are), performs each operation once, prints a table and writes
benchmarks/results/gas.json: operation name -> gas used by its mined transaction. Under the key
`private_grants` (issue 16) the same run measures ConsentGrants beside ReferenceConsentGrant (ERC-8356's
struct stored as printed) and EAS's `attestByDelegation`, with the ratios and issue 16's ceilings.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD

from benchmarks import ROOT, run, write_json
from carechain import CareChainError, Sender, connect, purpose_id, scopes_mask
from carechain.clients import (
    AccessClient,
    ConsentClient,
    CredentialClient,
    GrantRequest,
    RecordClient,
    TrialClient,
    category_bit,
    content_hash,
    license_hash,
    record_id,
)
from carechain.core import eip712, grants, keys, profiles
from carechain.core.deployments import deploy, load_artifact
from carechain.core.keys import GrantKeys
from carechain.core.sender import TxResult
from carechain.dev.localnode import find_anvil, local_node
from carechain.offchain.scopes import ScopeTree
from carechain.offchain.trialdata import DataBatch

RESULTS = ROOT / "benchmarks" / "results" / "gas.json"
EAS_ARTIFACTS = Path("node_modules/@ethereum-attestation-service/eas-contracts/artifacts/contracts")
BLOCK_GAS_LIMIT = 30_000_000
BATCH = 100
TRIAL_ROWS = 1_000_000  # the large batch commitment: the same gas as 10 rows
DAY = 86_400
YEAR = 365 * DAY
# Fixed, far-off signature deadline and whole-day expiries: calldata (zero bytes cost less) and the
# deterministic signatures then repeat, so runs on one day give identical numbers.
DEADLINE = 4_102_444_800  # 2100-01-01
ZERO_ADDRESS = "0x" + "00" * 20

HMB = purpose_id("HMB")
SCOPES = scopes_mask(["labs", "genomics"])
EAS_SCHEMA = "bytes32 purpose,uint256 scopes"  # what a consent says, as an EAS schema
EAS_ATTEST_TYPE = [  # EIP1271Verifier.ATTEST_TYPEHASH hashes exactly this type
    {"name": "attester", "type": "address"},
    {"name": "schema", "type": "bytes32"},
    {"name": "recipient", "type": "address"},
    {"name": "expirationTime", "type": "uint64"},
    {"name": "revocable", "type": "bool"},
    {"name": "refUID", "type": "bytes32"},
    {"name": "data", "type": "bytes"},
    {"name": "value", "type": "uint256"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint64"},
]

# Named by their size at the default TRIAL_ROWS: a 1,000,000-row batch, whose tree is 20 deep.
SIZED = ("trial.commit_batch_1000000_rows", "trial.verify_inclusion_depth20")
REQUIRED = (
    "consent.grant",
    "consent.update",
    "consent.revoke",
    "consent.grant_by_sig",
    "consent.batch_grant_per_item",
    "consent.batch_signed_per_item",
    "consent.batch_signed_bytes_per_item",
    "access.grant",
    "access.break_glass",
    "trial.enroll",
    "trial.commit_batch",
    *SIZED,
    "eas.attest",
    "eas.attest_by_delegation",
    "eas.multi_attest_per_item",
)
# The EAS operation doing the comparable work: the reference each ratio is taken against.
REFERENCES = {
    "consent.grant": "eas.attest",
    "consent.grant_by_sig": "eas.attest_by_delegation",
    "consent.batch_grant_per_item": "eas.multi_attest_per_item",
    "consent.batch_signed_per_item": "eas.attest_by_delegation",
    "consent.batch_signed_bytes_per_item": "eas.attest_by_delegation",
    "access.grant": "eas.attest",
    "access.grant_record": "eas.attest",
    "credential.attest": "eas.attest",
}
# Issue 9's gas targets (upper bounds).
TARGETS = {
    "consent.grant": 55_600,
    "consent.grant_by_sig": 80_000,
    "consent.batch_grant_per_item": 30_000,
    "consent.batch_signed_per_item": 55_000,
    "trial.enroll": 75_000,
    "trial.commit_batch": 75_000,
}


def measure(
    w3: Web3, accounts: Sequence[str], root: Path = ROOT, batch: int = BATCH, trial_rows: int = TRIAL_ROWS
) -> dict[str, int]:
    """Deploy CareChain and EAS on `w3` and return the gas of each operation (node-unlocked `accounts`).

    `trial_rows` is the size of the large batch; its key stays `trial.commit_batch_1000000_rows` only at
    the default (tests use fewer rows and get a key naming their count).
    """
    if len(accounts) < 8:
        raise ValueError(f"the bench needs 8 unlocked accounts, the node has {len(accounts)}")
    expires = (int(w3.eth.get_block("latest")["timestamp"]) + YEAR) // DAY * DAY + DAY  # a year ahead
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "build").symlink_to(root / "build")
        gas = _carechain(w3, accounts, folder, batch, expires)
        gas.update(_trial(w3, accounts, folder, expires, trial_rows))
    gas.update(_eas(w3, accounts, root / EAS_ARTIFACTS, batch, expires))
    return gas


def _carechain(w3: Web3, accounts: Sequence[str], folder: Path, batch: int, expires: int) -> dict[str, int]:
    authority, patient, researcher, clinic, gp, specialist, er, hospital = accounts[:8]
    deploy(w3, Sender(w3, authority), folder)

    def as_(kind: Any, account: str) -> Any:
        return kind.from_manifest(w3, folder, Sender(w3, account))

    gas: dict[str, int] = {}
    consent: ConsentClient = as_(ConsentClient, patient)
    gas["consent.grant"] = consent.grant(researcher, HMB, SCOPES, expires).gas_used
    gas["consent.update"] = consent.update(researcher, HMB, scopes_mask(["labs"]), expires).gas_used
    gas["consent.revoke"] = consent.revoke(researcher, HMB).gas_used

    relay: ConsentClient = as_(ConsentClient, clinic)
    first = relay.sign_grant(_key("signed", 0), researcher, HMB, SCOPES, expires, DEADLINE)
    gas["consent.grant_by_sig"] = relay.submit_grant(first).gas_used
    requests = [GrantRequest(_address("grantee", i), HMB, SCOPES, expires) for i in range(batch)]
    gas["consent.batch_grant_per_item"] = consent.grant_batch(requests).gas_used // batch
    # A clinic's onboarding: new patients, all EOAs, through the compact (EIP-2098) entry point; and
    # another such cohort through grantBySigBatch (65-byte signatures, what a contract wallet needs).
    cohort = [
        relay.sign_grant(_key("cohort-compact", i), researcher, HMB, SCOPES, expires, DEADLINE)
        for i in range(batch)
    ]
    gas["consent.batch_signed_per_item"] = relay.grant_by_sig_batch_compact(cohort).gas_used // batch
    cohort = [
        relay.sign_grant(_key("cohort", i), researcher, HMB, SCOPES, expires, DEADLINE) for i in range(batch)
    ]
    gas["consent.batch_signed_bytes_per_item"] = relay.submit_grants(cohort).gas_used // batch

    registry: CredentialClient = as_(CredentialClient, authority)
    registry.add_registrar(authority)
    salt = keccak(text="carechain-bench licence salt")
    gas["credential.attest"] = registry.attest(gp, "PROVIDER", license_hash(gp, salt), 0, expires).gas_used
    for account, role in ((specialist, "PROVIDER"), (er, "EMERGENCY"), (hospital, "CUSTODIAN")):
        registry.attest(account, role, license_hash(account, salt), 0, expires)

    record = record_id(salt, "lab-result-1")
    anchored = as_(RecordClient, hospital).anchor(
        record, patient, category_bit("labs"), content_hash(b"ciphertext")
    )
    gas["record.anchor"] = anchored.gas_used
    access: AccessClient = as_(AccessClient, patient)
    gas["access.grant"] = access.grant_access(patient, gp, scopes_mask(["labs"]), expires).gas_used
    gas["access.grant_record"] = access.grant_record_access(specialist, record, expires).gas_used
    gas["access.log_access"] = (
        as_(AccessClient, hospital).log_access(gp, record, purpose_id("TREAT")).gas_used
    )
    opened, _ = as_(AccessClient, er).break_glass(patient, purpose_id("ETREAT"), 4 * 3600)
    gas["access.break_glass"] = opened.gas_used
    return gas


def _trial(w3: Web3, accounts: Sequence[str], folder: Path, expires: int, rows: int) -> dict[str, int]:
    """A trial registered and approved, a consenting subject enrolled, batches of 10 and `rows` rows."""
    authority, patient, irb, site = accounts[:4]

    def as_(kind: Any, account: str) -> Any:
        return kind.from_manifest(w3, folder, Sender(w3, account))

    registry: CredentialClient = as_(CredentialClient, authority)
    salt = keccak(text="carechain-bench trial salt")
    registry.attest(irb, "IRB", license_hash(irb, salt), 0, expires)
    registry.attest(site, "RESEARCHER", license_hash(site, salt), 0, expires)
    sponsor: TrialClient = as_(TrialClient, authority)
    scopes = scopes_mask(["labs", "vitals"])
    protocol, endpoints = keccak(text="protocol v1"), keccak(text="primary endpoints")
    gas: dict[str, int] = {}
    secondary = keccak(text="secondary endpoints")
    registered, trial_id = sponsor.register(protocol, scopes, irb, endpoints, secondary)
    gas["trial.register"] = registered.gas_used
    gas["trial.approve"] = as_(TrialClient, irb).approve(trial_id).gas_used
    sponsor.add_site(trial_id, site)
    purpose = sponsor.trial_purpose(trial_id, 1)
    as_(ConsentClient, patient).grant(sponsor.address, purpose, scopes, expires)
    at_site: TrialClient = as_(TrialClient, site)
    gas["trial.enroll"] = at_site.enroll(trial_id, patient).gas_used

    small = DataBatch.of(trial_id, site, [(patient, 1, f"field-{i}", str(i)) for i in range(10)])
    large = DataBatch.of(
        trial_id, site, [(patient, 1 + i // 100, f"field-{i % 100}", str(i)) for i in range(rows)]
    )
    gas["trial.commit_batch"] = at_site.commit_batch(trial_id, small.root, 10)[0].gas_used
    gas[f"trial.commit_batch_{rows}_rows"] = at_site.commit_batch(trial_id, large.root, rows)[0].gas_used

    # A proof check as a caller pays for it: the estimate of verifyRow with the deepest proof of the tree.
    index = max(range(min(rows, 4096)), key=lambda i: len(large.tree.get_proof(i)))
    proof = large.prove(index)
    call = at_site.contract.functions.verifyRow(
        trial_id, proof.site, proof.root, proof.row.as_struct(), proof.proof
    )
    assert call.call(), "the bench's own proof must verify"
    gas[f"trial.verify_inclusion_depth{len(proof.proof)}"] = call.estimate_gas()
    return gas


def _eas(w3: Web3, accounts: Sequence[str], artifacts: Path, batch: int, expires: int) -> dict[str, int]:
    """The same consents as EAS attestations: patient attests to the grantee under a registered schema."""
    authority, patient, researcher, clinic = accounts[:4]
    deployer = Sender(w3, authority)
    schemas = _deploy_artifact(w3, deployer, artifacts / "SchemaRegistry.sol" / "SchemaRegistry.json")
    eas = _deploy_artifact(w3, deployer, artifacts / "EAS.sol" / "EAS.json", schemas.address)
    registered = deployer.transact(schemas.functions.register(EAS_SCHEMA, ZERO_ADDRESS, True), schemas.abi)
    schema = bytes(schemas.events.Registered().process_receipt(registered.receipt)[0]["args"]["uid"])
    data = abi_encode(["bytes32", "uint256"], [HMB, SCOPES])

    def request(recipient: str) -> tuple[Any, ...]:
        return (recipient, expires, True, bytes(32), data, 0)

    gas: dict[str, int] = {}
    attest = eas.functions.attest((schema, request(researcher)))
    gas["eas.attest"] = Sender(w3, patient).transact(attest, eas.abi).gas_used

    signer = _key("eas-signed", 0)
    signature = _sign_eas_attest(eas, signer, schema, request(researcher), DEADLINE)
    delegated = eas.functions.attestByDelegation(
        (schema, request(researcher), signature, signer.address, DEADLINE)
    )
    gas["eas.attest_by_delegation"] = Sender(w3, clinic).transact(delegated, eas.abi).gas_used

    many = [request(_address("eas-grantee", i)) for i in range(batch)]
    multi = eas.functions.multiAttest([(schema, many)])
    gas["eas.multi_attest_per_item"] = Sender(w3, patient).transact(multi, eas.abi).gas_used // batch
    return gas


def _deploy_artifact(w3: Web3, sender: Sender, path: Path, *args: Any) -> Contract:
    """Deploy a Hardhat artifact's bytecode as shipped."""
    if not path.is_file():
        raise CareChainError(f"no EAS artifact at {path}: run `npm ci` (package.json pins eas-contracts)")
    artifact = json.loads(path.read_text())
    result = sender.transact(
        sender.constructor(artifact["abi"], artifact["bytecode"], *args), artifact["abi"]
    )
    assert result.contract_address
    return w3.eth.contract(address=to_checksum_address(result.contract_address), abi=artifact["abi"])


def _sign_eas_attest(
    eas: Contract, attester: LocalAccount, schema: bytes, request: tuple[Any, ...], deadline: int
) -> tuple[int, bytes, bytes]:
    """EAS's delegated-attestation signature (EIP-712, domain from the contract's eip712Domain())."""
    _, name, version, chain_id, verifying_contract, _, _ = eas.functions.eip712Domain().call()
    recipient, expiration, revocable, ref_uid, data, value = request
    message = {
        "attester": attester.address,
        "schema": schema,
        "recipient": recipient,
        "expirationTime": expiration,
        "revocable": revocable,
        "refUID": ref_uid,
        "data": data,
        "value": value,
        "nonce": eas.functions.getNonce(attester.address).call(),
        "deadline": deadline,
    }
    payload = {
        "types": {"EIP712Domain": eip712.DOMAIN_TYPE, "Attest": EAS_ATTEST_TYPE},
        "primaryType": "Attest",
        "domain": eip712.Domain(name, version, chain_id, verifying_contract).as_dict(),
        "message": message,
    }
    signature = eip712.sign(attester, payload)
    return signature[64], signature[:32], signature[32:64]


def _key(label: str, index: int) -> LocalAccount:
    """A deterministic throwaway key: a patient who signs but never holds ether."""
    account: LocalAccount = Account.from_key(keccak(text=f"carechain-bench:{label}:{index}"))
    return account


def _address(label: str, index: int) -> str:
    return to_checksum_address(keccak(text=f"carechain-bench:{label}:{index}")[12:])


# ---- private grants (issue 16): ConsentGrants beside ERC-8356's printed layout and EAS ------------------

PRIVATE = "private_grants"
PRIVATE_BATCHES = (50, 100)
EAS_SIGNED = "eas.attest_by_delegation"  # the EAS operation a relayed signed grant is set beside
GRU = profiles.purpose_code("GRU")  # DUO:0000042 general research use: every bench grant's purpose
READ, QUERY = 0x01, 0x02
FLAG_SCOPE_IS_ROOT, FLAG_DELEGABLE = 0x01, 0x02
PROFILE = profiles.profile_ref([{"term": "DUO:0000042"}])
TERMS = profiles.terms_ref("research-broad-v1")
SCOPE_SALT = keccak(text="carechain-bench scope salt")
# A root-scoped grant's resources: 8 leaves, so every proof is 3 deep.
SCOPE_NAMES = tuple(
    f"carechain:category:{name}"
    for name in ("labs", "vitals", "genomics", "imaging", "notes", "drugs", "allergies", "vaccines")
)
# Issue 16's ceilings on CareChain's figures; any `grant_batch_<n>_per_item` has BATCH_ITEM_CEILING.
CEILINGS = {
    "grant_relayed": 135_000,
    "grant_relayed_later": 135_000,
    "revoke_relayed": 50_000,
    "is_grant_active_depth0": 10_000,
}
BATCH_ITEM_CEILING = 115_000

# A per-grant subject of the bench: its key and salt fixed by label (repeatable calldata), signing through
# carechain.core.grants as every client does.
def subject(label: str, index: int) -> GrantKeys:
    key = _key(f"subject-{label}", index)
    salt = keccak(text=f"carechain-bench:salt:{label}:{index}")
    commitment = keys.subject_commitment(salt, key.address)
    return GrantKeys(index, "subject", bytes(key.key), key.address, salt, SCOPE_SALT, commitment)


def policy(window: tuple[int, int], ops: int, flags: int = 0) -> grants.Policy:
    """Purpose GRU, without a use cap or an agent."""
    not_before, expires_at = window
    return grants.Policy(not_before, expires_at, ops, GRU, flags=flags)


def grant_input(
    owner: GrantKeys, grantee: str, scope_ref: bytes, policy_: grants.Policy, terms: bytes = TERMS
) -> grants.GrantInput:
    return grants.GrantInput(scope_ref, PROFILE, terms, 0, owner.commitment, grantee, ZERO_ADDRESS, policy_)


def resource_hash(name: str) -> bytes:
    """keccak256(resourceId) of `name` under the bench's scope salt: docs/private-consent.md."""
    return grants.resource_hash(SCOPE_SALT, name)


def scope_tree() -> ScopeTree:
    return ScopeTree(SCOPE_SALT, SCOPE_NAMES)


class GrantBench:
    """One grant registry (ConsentGrants or the reference layout): each operation a transaction sent by the
    party that sends it in practice, its receipt's gasUsed returned; reads through GrantReader's report."""

    def __init__(
        self, registry: Contract, reader: Contract, relayer: Sender, window: tuple[int, int]
    ) -> None:
        self.registry = registry
        self.reader = reader
        self.relayer = relayer
        self.window = window
        self.domain = eip712.contract_domain("ConsentGrants", registry.w3.eth.chain_id, registry.address)

    def signed(
        self, owner: GrantKeys, grantee: str, scope_ref: bytes, flags: int = 0, terms: bytes = TERMS
    ) -> tuple[tuple[Any, ...], bytes]:
        g = grant_input(owner, grantee, scope_ref, policy(self.window, READ | QUERY, flags), terms)
        nonce = self.registry.functions.nonces(owner.commitment).call()
        return g.as_tuple(), grants.signed_by_subject(owner, grants.grant_typed_data(self.domain, g, nonce))

    def intern(self, terms: bytes) -> int | None:
        """What a deployment pays once to store a template pair (None: the printed layout stores none)."""
        if not any(entry.get("name") == "internRefs" for entry in self.registry.abi):
            return None
        return self._send(self.relayer, self.registry.functions.internRefs(PROFILE, terms)).gas_used

    def grant(
        self, owner: GrantKeys, grantee: str, scope_ref: bytes, flags: int = 0, terms: bytes = TERMS
    ) -> int:
        g, sig = self.signed(owner, grantee, scope_ref, flags, terms)
        used = self._send(self.relayer, self.registry.functions.grant(g, sig)).gas_used
        active = self.registry.functions.isGrantActive(owner.commitment).call()
        assert active, "the bench's grant must be active"
        return used

    def grant_batch(self, label: str, size: int, scope_ref: bytes) -> int:
        """A relayer's batch of `size` new subjects' grants: the gas an item."""
        items = [self.signed(subject(label, i), _address(label, i), scope_ref) for i in range(size)]
        call = self.registry.functions.grantBatch([g for g, _ in items], [sig for _, sig in items])
        result = self._send(self.relayer, call)
        failed = self.registry.events.GrantFailed().process_receipt(result.receipt, errors=DISCARD)
        assert not failed, f"the bench's batch items must all mint: {failed}"
        return result.gas_used // size

    def revoke(self, owner: GrantKeys) -> int:
        nonce = self.registry.functions.nonces(owner.commitment).call()
        payload = grants.revoke_typed_data(self.domain, owner.commitment, bytes(32), nonce)
        sig = grants.signed_by_subject(owner, payload)
        call = self.registry.functions.revokeBySubjectWithSig(owner.commitment, bytes(32), sig)
        used = self._send(self.relayer, call).gas_used
        assert not self.registry.functions.isGrantActive(owner.commitment).call(), (
            "the bench's revocation must hold"
        )
        return used

    def sub_grant(
        self, parent_id: bytes, owner: GrantKeys, by: Sender, grantee: str, scope_ref: bytes, flags: int
    ) -> tuple[int, bytes]:
        """`by`, the parent's grantee, hands its scope, window and ops on to `grantee`: gas, child id."""
        g = grant_input(owner, grantee, scope_ref, policy(self.window, READ | QUERY, flags))
        result = self._send(by, self.registry.functions.subGrant(parent_id, g.as_tuple(), []))
        (event,) = self.registry.events.ConsentSubGranted().process_receipt(result.receipt, errors=DISCARD)
        return result.gas_used, bytes(event["args"]["grantId"])

    def is_active(self, grant_id: bytes) -> int:
        active, used = self.reader.functions.isGrantActive(self.registry.address, grant_id).call()
        assert active, "the bench reads an active grant"
        return int(used)

    def check_access(self, grant_id: bytes, resource: bytes, proof: list[str]) -> int:
        call = self.reader.functions.checkAccess(self.registry.address, grant_id, GRU, READ, resource, proof)
        allowed, used = call.call()
        assert allowed, "the bench's access check must pass"
        return int(used)

    def _send(self, sender: Sender, call: Any) -> TxResult:
        return sender.transact(call, self.registry.abi)


def measure_private(
    w3: Web3, accounts: Sequence[str], root: Path = ROOT, batches: Sequence[int] = PRIVATE_BATCHES
) -> dict[str, dict[str, int]]:
    """Deploy a purpose registry, ConsentGrants, the reference layout (ReferenceConsentGrant) and GrantReader
    on `w3`, perform the same operations on both registries: {"carechain": {op: gas}, "reference": {op: gas}}.
    Reads (`is_grant_active_*`, `check_access_*`) are what the call costs a contract calling it (GrantReader's
    gasleft() difference, through eth_call), not a transaction."""
    if len(accounts) < 6:
        raise ValueError(f"the bench needs 6 unlocked accounts, the node has {len(accounts)}")
    admin, relayer, delegate, sub_delegate = accounts[0], accounts[3], accounts[4], accounts[5]
    start = int(w3.eth.get_block("latest")["timestamp"]) // DAY * DAY  # whole days: repeatable calldata
    window = (start, start + YEAR + DAY)
    deployer = Sender(w3, admin)
    purposes = _deploy_built(w3, deployer, root, "PurposeRegistry", admin)
    codes = profiles.registry_entries()  # what a deployment registers
    entries = [(entry.term, entry.release_hash, entry.narrows) for entry in codes]
    deployer.transact(purposes.functions.register([entry.code for entry in codes], entries), purposes.abi)
    reader = _deploy_built(w3, deployer, root, "GrantReader")
    registries = {
        "carechain": _deploy_built(w3, deployer, root, "ConsentGrants", admin, purposes.address),
        "reference": _deploy_built(w3, deployer, root, "ReferenceConsentGrant", purposes.address),
    }
    parties = (Sender(w3, delegate), Sender(w3, sub_delegate))
    return {
        side: _private_operations(GrantBench(registry, reader, Sender(w3, relayer), window), parties, batches)
        for side, registry in registries.items()
    }


def _private_operations(
    bench: GrantBench, parties: tuple[Sender, Sender], batches: Sequence[int]
) -> dict[str, int]:
    delegate, sub_delegate = parties
    labs = resource_hash(SCOPE_NAMES[0])
    grantee = _address("private-grantee", 0)
    first, later = subject("first", 0), subject("later", 0)
    gas: dict[str, int] = {}
    # The deployment stores its shipped template pair once (ConsentGrants.internRefs), so patients' grants
    # do not; a grant naming a pair nobody stored yet pays for storing it (grant_relayed_new_pair).
    interned = bench.intern(TERMS)
    if interned is not None:
        gas["intern_template_pair"] = interned
    gas["grant_relayed"] = bench.grant(first, grantee, labs)
    gas["grant_relayed_later"] = bench.grant(later, grantee, labs)
    gas["grant_relayed_new_pair"] = bench.grant(
        subject("new-pair", 0), grantee, labs, terms=profiles.terms_ref("treatment-v1")
    )
    for size in batches:
        gas[f"grant_batch_{size}_per_item"] = bench.grant_batch(f"batch-{size}", size, labs)
    gas["revoke_relayed"] = bench.revoke(first)

    delegable = subject("delegable", 0)
    bench.grant(delegable, delegate.address, labs, FLAG_DELEGABLE)
    gas["sub_grant"], child = bench.sub_grant(
        delegable.commitment, delegable, delegate, sub_delegate.address, labs, FLAG_DELEGABLE
    )
    end = _address("private-grantee", 2)
    _, grandchild = bench.sub_grant(child, delegable, sub_delegate, end, labs, 0)
    gas["is_grant_active_depth0"] = bench.is_active(later.commitment)
    gas["is_grant_active_depth2"] = bench.is_active(grandchild)

    # checkAccess answers for its caller: the grantee is GrantReader, which calls it.
    leaf_scoped, root_scoped = subject("leaf-scoped", 0), subject("root-scoped", 0)
    bench.grant(leaf_scoped, bench.reader.address, labs)
    gas["check_access_leaf"] = bench.check_access(leaf_scoped.commitment, labs, [])
    tree = scope_tree()
    proof = tree.proof(SCOPE_NAMES[0])
    bench.grant(root_scoped, bench.reader.address, tree.root, FLAG_SCOPE_IS_ROOT)
    gas[f"check_access_root_depth{len(proof)}"] = bench.check_access(root_scoped.commitment, labs, proof)
    return gas


def ceiling(operation: str) -> int | None:
    """Issue 16's ceiling on CareChain's figure for `operation` (None: it sets none)."""
    if operation.startswith("grant_batch_"):
        return BATCH_ITEM_CEILING
    return CEILINGS.get(operation)


def private_section(measured: dict[str, dict[str, int]], eas_signed: int) -> dict[str, Any]:
    """gas.json's `private_grants`: per operation both figures, CareChain's ratio to the reference layout and
    (signed grants) to EAS's attestByDelegation of the same run, and issue 16's ceiling with its verdict."""
    ours, reference = measured["carechain"], measured["reference"]
    operations: dict[str, dict[str, Any]] = {}
    for name, used in ours.items():
        row: dict[str, Any] = {"carechain": used}
        if name in reference:  # the printed layout has no template pairs to store
            row["reference"] = reference[name]
            row["carechain_over_reference"] = round(used / reference[name], 3)
        if name.startswith(("grant_relayed", "grant_batch_")):
            row["carechain_over_eas"] = round(used / eas_signed, 3)
        bound = ceiling(name)
        if bound is not None:
            row["ceiling"] = bound
            row["ceiling_met"] = used <= bound
        operations[name] = row
    return {"eas": {EAS_SIGNED: eas_signed}, "operations": operations}


def format_private(section: dict[str, Any]) -> str:
    eas = section["eas"][EAS_SIGNED]
    lines = [
        f"private grants: ConsentGrants beside ERC-8356's printed layout (reference), {EAS_SIGNED} {eas:,}",
        f"{'operation':<32}{'CareChain':>10}{'reference':>11}{'ratio':>8}{'vs EAS':>8}  ceiling",
    ]
    for name, row in section["operations"].items():
        vs_eas = f"{row['carechain_over_eas']:.2f}x" if "carechain_over_eas" in row else ""
        bound = (
            f"<= {row['ceiling']:,} {'met' if row['ceiling_met'] else 'MISSED'}" if "ceiling" in row else ""
        )
        reference = f"{row['reference']:>11,}" if "reference" in row else f"{'-':>11}"
        ratio = f"{row['carechain_over_reference']:>7.2f}x" if "reference" in row else f"{'':>8}"
        lines.append(f"{name:<32}{row['carechain']:>10,}{reference}{ratio}{vs_eas:>8}  {bound}")
    return "\n".join(lines)


def _deploy_built(w3: Web3, sender: Sender, root: Path, name: str, *args: Any) -> Contract:
    """Deploy one of this project's contracts from its build artifact (`make compile`)."""
    artifact = load_artifact(root, name)
    result = sender.transact(sender.constructor(artifact.abi, artifact.bytecode, *args), artifact.abi)
    assert result.contract_address
    return w3.eth.contract(address=to_checksum_address(result.contract_address), abi=artifact.abi)


def write_results(gas: dict[str, Any], path: Path = RESULTS) -> Path:
    return write_json(gas, path)


def target_checks(gas: dict[str, int]) -> list[tuple[str, str, bool]]:
    """Issue 9's targets: (name, target, met)."""
    checks = [(name, f"<= {bound:,}", gas[name] <= bound) for name, bound in TARGETS.items()]
    quarter = gas["eas.attest"] // 4
    checks.insert(1, ("consent.grant", f"<= eas.attest / 4 = {quarter:,}", gas["consent.grant"] <= quarter))
    large = next(name for name in gas if name.startswith("trial.commit_batch_"))
    # Constant gas per batch: only calldata (the row count's non-zero bytes) may differ.
    same = abs(gas[large] - gas["trial.commit_batch"]) <= 64
    checks.append((large, f"== trial.commit_batch ({gas['trial.commit_batch']:,}) up to calldata", same))
    return checks


def format_table(results: dict[str, Any]) -> str:
    gas = {name: used for name, used in results.items() if name != PRIVATE}
    lines = [f"{'operation':<32}{'gas':>10}  {'reference (EAS, same run)':<36}{'ratio':>7}"]
    for name in sorted(gas):
        reference = REFERENCES.get(name)
        shown = f"{reference} {gas[reference]:,}" if reference else ""
        ratio = f"{gas[name] / gas[reference]:.2f}x" if reference else ""
        lines.append(f"{name:<32}{gas[name]:>10,}  {shown:<36}{ratio:>7}")
    lines.append("")
    lines += [
        f"target {name} {bound}: {'met' if met else 'MISSED'}" for name, bound, met in target_checks(gas)
    ]
    if PRIVATE in results:
        lines += ["", format_private(results[PRIVATE])]
    return "\n".join(lines)


def _measure_on_own_anvil() -> dict[str, Any]:
    # The EAS batch of 100 (~18.8M gas) and the reference layout's (~18.7M) are measured whole on this local
    # chain, above mainnet's 2^24 cap a transaction (EIP-7825): reference figures, not transactions CareChain
    # would send.
    os.environ["CARECHAIN_TX_GAS_CAP"] = str(BLOCK_GAS_LIMIT)
    with local_node(find_anvil(ROOT), gas_limit=BLOCK_GAS_LIMIT) as node:
        w3 = connect(node.url)
        results: dict[str, Any] = dict(measure(w3, w3.eth.accounts))
        results[PRIVATE] = private_section(measure_private(w3, w3.eth.accounts), results[EAS_SIGNED])
        return results


def main() -> int:
    return run(_measure_on_own_anvil, format_table, write_results)


if __name__ == "__main__":
    sys.exit(main())
