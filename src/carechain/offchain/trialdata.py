"""The off-chain half of trial integrity: documents and endpoints as hashes, case-report-form batches
as Merkle trees, per-trial subject keys, and the verdicts of `carechain trial verify`.

Nothing here sends a transaction; `carechain.clients.trials.TrialClient` does, and the verdicts read
the chain through it. Rows never leave the site: the chain holds a batch's root, a proof holds one
row's salted leaf and its siblings.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from eth_abi.abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import is_address, to_checksum_address
from eth_utils.crypto import keccak
from pydantic import BaseModel, ConfigDict

from carechain.clients.base import bytes32, checksum
from carechain.clients.trials import ZERO32, Row, TrialClient, TrialStatus
from carechain.core.files import checked, keccak_file, parse_json, read_text, validated
from carechain.core.signatures import SECP256K1_N
from carechain.core.times import show_time
from carechain.core.values import ascii_whole, uint
from carechain.errors import InputError
from carechain.offchain.merkle import StandardMerkleTree

# A case-report-form row as a leaf: (salt, subject, visit, field, value). The per-row salt keeps a
# guessable value (a blood pressure, a yes/no) from being found by hashing candidates against a proof.
LEAF_ENCODING = ["bytes32", "address", "uint32", "string", "string"]
ROW_COLUMNS = ("subject", "visit", "field", "value")


# ---- documents and endpoints ---------------------------------------------------------------------


def file_hash(path: Path) -> bytes:
    """keccak256 of a document's bytes (a protocol PDF, say), read in chunks: what the chain holds of it."""
    return keccak_file(path)


def canonical_hash(value: Any) -> bytes:
    """keccak256 of canonical JSON (sorted keys, no spaces, UTF-8), so re-formatting changes nothing."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return keccak(text.encode())


def read_json(path: Path, what: str) -> Any:
    """A JSON file a site or sponsor hands in (BOM or not), under core.files' size and depth limits."""
    return parse_json(read_text(path, what), f"{what} {path}")


TrialId = Annotated[int, checked(uint)]
Address = Annotated[str, checked(checksum)]
Hash = Annotated[bytes, checked(bytes32)]


class _ResultsFile(BaseModel):
    model_config = ConfigDict(title="a results file")

    trialId: TrialId
    endpoints: Any


class _BatchFile(BaseModel):
    model_config = ConfigDict(title="a batch file")

    trialId: TrialId
    site: Address
    tree: dict[str, Any]


class _ProofFile(BaseModel):
    model_config = ConfigDict(title="a row proof")

    trialId: TrialId
    site: Address
    root: Hash
    value: list[Any]
    leaf: Hash
    proof: list[Hash]


@dataclass(frozen=True)
class Endpoints:
    """Pre-registered endpoints: a non-empty primary list and an optional secondary list."""

    primary: list[Any]
    secondary: list[Any]

    @classmethod
    def from_json(cls, data: Any, where: str = "endpoints") -> Endpoints:
        if not isinstance(data, dict) or set(data) - {"primary", "secondary"}:
            raise InputError(f"{where} must be an object with 'primary' and optionally 'secondary' lists")
        primary, secondary = data.get("primary"), data.get("secondary", [])
        if not isinstance(primary, list) or not primary or not isinstance(secondary, list):
            raise InputError(f"{where}: 'primary' must be a non-empty list and 'secondary' a list")
        return cls(primary, secondary)

    @classmethod
    def load(cls, path: Path) -> Endpoints:
        return cls.from_json(read_json(path, "endpoints file"), str(path))

    @property
    def primary_hash(self) -> bytes:
        return canonical_hash(self.primary)

    @property
    def secondary_hash(self) -> bytes:
        """0 when there are no secondary endpoints (as the contract stores it)."""
        return canonical_hash(self.secondary) if self.secondary else ZERO32

    def commitment(self, sponsor: str, salt: bytes) -> bytes:
        """A blinded plan's commitment; the sponsor is inside it, so nobody else can reveal a copy."""
        return endpoints_commitment(sponsor, self.primary_hash, self.secondary_hash, salt)


def endpoints_commitment(sponsor: str, primary: bytes, secondary: bytes, salt: bytes) -> bytes:
    """keccak256(abi.encode(sponsor, primary, secondary, salt)), as TrialRegistry checks a reveal."""
    return keccak(
        encode(
            ["address", "bytes32", "bytes32", "bytes32"],
            [checksum(sponsor, "sponsor"), primary, secondary, salt],
        )
    )


@dataclass(frozen=True)
class Results:
    """A results document: the endpoints it reports on, and anything else the sponsor publishes."""

    trial_id: int
    endpoints: Endpoints
    document: dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> Results:
        data = read_json(path, "results file")
        checked_file = validated(_ResultsFile, data, f"results file {path}")
        return cls(
            checked_file.trialId, Endpoints.from_json(checked_file.endpoints, f"{path}: endpoints"), data
        )

    @property
    def results_hash(self) -> bytes:
        return canonical_hash(self.document)


# ---- per-trial subject keys ----------------------------------------------------------------------


def subject_account(master_key: bytes, chain_id: int, registry: str, trial_id: int) -> LocalAccount:
    """The subject's own address for one trial, derived from their key: their trials do not link.

    A keyed hash of (chain, registry, trial) under the subject's private key; only the subject can
    derive it, and the same inputs always give the same key.
    """
    if len(master_key) != 32:
        raise InputError("a subject's master key is a 32-byte private key")
    context = encode(
        ["string", "uint256", "address", "uint256"],
        ["carechain.trial.subject", chain_id, checksum(registry, "registry"), trial_id],
    )
    seed = int.from_bytes(keccak(master_key + context), "big")
    account: LocalAccount = Account.from_key((seed % (SECP256K1_N - 1) + 1).to_bytes(32, "big"))
    return account


# ---- case-report-form batches --------------------------------------------------------------------


def read_rows(path: Path) -> list[tuple[str, int, str, str]]:
    """Rows of a CSV with the columns subject, visit, field, value; every bad line is named."""
    try:
        reader = csv.DictReader(io.StringIO(read_text(path, "CSV file"), newline=""), strict=True)
        if reader.fieldnames is None or set(ROW_COLUMNS) - set(reader.fieldnames):
            raise InputError(f"{path} needs the columns {', '.join(ROW_COLUMNS)}")
        rows = [_row(entry, f"{path}:{reader.line_num}") for entry in reader]
    except csv.Error as err:
        raise InputError(f"{path} is not a valid CSV file (line {reader.line_num}: {err})") from None
    if not rows:
        raise InputError(f"{path} holds no rows")
    return rows


def _row(entry: dict[str, str | None], where: str) -> tuple[str, int, str, str]:
    subject, visit, field_name, value = (entry.get(c) for c in ROW_COLUMNS)
    if not subject or not is_address(subject.strip()):
        raise InputError(f"{where}: subject {subject!r} is not an address (a subject's per-trial address)")
    number = ascii_whole(visit.strip(), 10) if visit else None
    if number is None or number >= 2**32:
        raise InputError(f"{where}: visit {visit!r} is not a visit number")
    if not field_name or value is None:
        raise InputError(f"{where}: a row needs a field and a value")
    return to_checksum_address(subject.strip()), number, field_name, value


@dataclass
class DataBatch:
    """A site's salted rows as a StandardMerkleTree: the site keeps the file, the chain the root (under
    the site's address: a root belongs to the site that commits it)."""

    trial_id: int
    site: str
    tree: StandardMerkleTree

    @classmethod
    def of(cls, trial_id: int, site: str, rows: Iterable[tuple[str, int, str, str]]) -> DataBatch:
        """Salt every row with 32 random bytes and build the tree; `site` is who will commit it."""
        salted = [Row(s, v, f, x, os.urandom(32)).leaf_value() for s, v, f, x in rows]
        if not salted:
            raise InputError("a batch needs at least one row")
        return cls(trial_id, checksum(site, "site"), StandardMerkleTree.of(salted, LEAF_ENCODING))

    @property
    def root(self) -> bytes:
        return bytes32(self.tree.root, "root")

    @property
    def rows(self) -> list[Row]:
        return [Row.from_leaf_value(value) for _, value in self.tree]

    def dump(self) -> dict[str, Any]:
        return {"trialId": self.trial_id, "site": self.site, "tree": self.tree.dump()}

    def save(self, path: Path) -> Path:
        path.write_text(json.dumps(self.dump(), indent=1) + "\n")
        return path

    @classmethod
    def load(cls, path: Path) -> DataBatch:
        batch = validated(_BatchFile, read_json(path, "batch file"), f"batch file {path}")
        tree = StandardMerkleTree.load(batch.tree)
        if list(tree.leaf_encoding) != LEAF_ENCODING:
            raise InputError(f"batch file {path}: leaves are not case-report-form rows {LEAF_ENCODING}")
        return cls(batch.trialId, batch.site, tree)

    def find(self, subject: str, visit: int, field_name: str) -> int:
        """The index of a row by what it is about."""
        for index, row in enumerate(self.rows):
            if row.matches(subject, visit, field_name):
                return index
        raise InputError(f"no row for subject {subject}, visit {visit}, field {field_name!r} in this batch")

    def prove(self, index: int) -> RowProof:
        if not 0 <= index < len(self.tree):
            raise InputError(f"row {index} is not in this batch of {len(self.tree)} rows")
        value = self.tree.at(index)
        return RowProof(
            self.trial_id,
            self.site,
            self.root,
            Row.from_leaf_value(value),
            bytes32(self.tree.leaf_hash(value), "leaf"),
            [bytes32(node, "proof node") for node in self.tree.get_proof(index)],
        )


@dataclass(frozen=True)
class RowProof:
    """What a site hands an auditor to show one row was committed: the row, its salt and the path."""

    trial_id: int
    site: str
    root: bytes
    row: Row
    leaf: bytes
    proof: list[bytes]

    def to_json(self) -> str:
        return json.dumps(
            {
                "trialId": self.trial_id,
                "site": self.site,
                "root": "0x" + self.root.hex(),
                "leafEncoding": LEAF_ENCODING,
                "value": [str(v) if isinstance(v, int) else v for v in self.row.leaf_value()],
                "leaf": "0x" + self.leaf.hex(),
                "proof": ["0x" + p.hex() for p in self.proof],
            },
            indent=2,
        )

    @classmethod
    def load(cls, path: Path) -> RowProof:
        proof = validated(_ProofFile, read_json(path, "proof file"), f"proof file {path}")
        try:
            row = Row.from_leaf_value(proof.value)
        except (TypeError, ValueError) as err:
            raise InputError(
                f"proof file {path}: value is not a row as `trial prove` writes it ({err})"
            ) from None
        return cls(proof.trialId, proof.site, proof.root, row, proof.leaf, proof.proof)

    def leaf_matches_row(self) -> bool:
        """The leaf is this row's hash (a proof for one row cannot be passed off as another's)."""
        return (
            bytes32(StandardMerkleTree.hash_leaf(LEAF_ENCODING, self.row.leaf_value()), "leaf") == self.leaf
        )

    def verifies_off_chain(self) -> bool:
        return StandardMerkleTree.verify_proof(
            "0x" + self.root.hex(), LEAF_ENCODING, self.row.leaf_value(), ["0x" + p.hex() for p in self.proof]
        )


# ---- verdicts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    ok: bool
    message: str


@dataclass
class Verdict:
    """What `carechain trial verify` concludes: one line per check; it holds only if every check does."""

    subject: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.findings) and all(f.ok for f in self.findings)

    def check(self, ok: bool, message: str) -> bool:
        self.findings.append(Finding(ok, message))
        return ok

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "verdict": "PASS" if self.ok else "FAIL",
            "findings": [{"ok": f.ok, "message": f.message} for f in self.findings],
        }


def verify_results(client: TrialClient, trial_id: int, results: Results) -> Verdict:
    """Do the published results match what the chain recorded and what was pre-registered?"""
    verdict = Verdict(f"results of trial {trial_id}")
    trial = client.get_trial(trial_id)
    verdict.check(results.trial_id == trial_id, f"the document is about trial {results.trial_id}")
    if not verdict.check(trial.status == TrialStatus.REPORTED, f"trial status on chain: {trial.status.name}"):
        return verdict
    verdict.check(
        results.results_hash == trial.results_hash,
        "the document is the one reported on chain"
        if results.results_hash == trial.results_hash
        else "the document differs from the one reported on chain (hash 0x"
        + trial.results_hash.hex()[:16]
        + "…)",
    )
    for kind, reported, registered in (
        ("primary", results.endpoints.primary_hash, trial.primary_endpoints),
        ("secondary", results.endpoints.secondary_hash, trial.secondary_endpoints),
    ):
        verdict.check(
            reported == registered,
            f"{kind} endpoints match the pre-registered ones"
            if reported == registered
            else f"{kind} endpoints differ from the pre-registered ones: outcome switching",
        )
    return verdict


def verify_row(client: TrialClient, proof: RowProof, *, ask_chain: bool = False) -> Verdict:
    """Was this row committed, in a batch committed before the lock, while its subject was in the trial?

    The row is checked here, against the batch root the chain holds: the node hears of the batch and the
    subject's enrolment, never the row's salt or value. `ask_chain` also has TrialRegistry.verifyRow
    hash the row (an eth_call that sends the whole row to the node: for a node you run yourself)."""
    row = proof.row
    verdict = Verdict(
        f"trial {proof.trial_id}: subject {row.subject}, visit {row.visit}, field {row.field!r}"
    )
    verdict.check(proof.leaf_matches_row(), "the leaf is this row's salted hash")
    verdict.check(proof.verifies_off_chain(), "the proof leads from the row to the batch root (off chain)")
    if ask_chain:
        on_chain = client.verify_row(proof.trial_id, proof.site, proof.root, row, proof.proof)
        verdict.check(on_chain, "TrialRegistry.verifyRow confirms the row is in a committed batch (on chain)")
    batch = client.get_batch(proof.trial_id, proof.site, proof.root)
    if not verdict.check(batch.committed, f"the batch root was committed to this trial by site {proof.site}"):
        return verdict
    trial = client.get_trial(proof.trial_id)
    if trial.locked_at:
        verdict.check(batch.committed_at <= trial.locked_at, "committed before the database lock")
    _check_subject(client, verdict, proof.trial_id, row, batch.committed_at)
    return verdict


def verify_batch(client: TrialClient, batch: DataBatch) -> Verdict:
    """A whole batch file: committed as is, and no row of a subject who was out of the trial by then."""
    verdict = Verdict(f"trial {batch.trial_id}: batch 0x{batch.root.hex()[:16]}… ({len(batch.tree)} rows)")
    committed = client.get_batch(batch.trial_id, batch.site, batch.root)
    if not verdict.check(
        committed.committed,
        f"the batch's root was committed to this trial by site {batch.site}"
        if committed.committed
        else f"NOT COMMITTED: site {batch.site} committed no batch with this root (rows added or changed?)",
    ):
        return verdict
    trial = client.get_trial(batch.trial_id)
    if trial.locked_at:
        verdict.check(committed.committed_at <= trial.locked_at, "committed before the database lock")
    seen: set[str] = set()
    for row in batch.rows:
        if row.subject not in seen:
            seen.add(row.subject)
            _check_subject(client, verdict, batch.trial_id, row, committed.committed_at)
    return verdict


def _check_subject(client: TrialClient, verdict: Verdict, trial_id: int, row: Row, committed_at: int) -> None:
    enrolment = client.get_enrolment(trial_id, row.subject)
    if not verdict.check(
        enrolment.enrolled_at != 0,
        f"subject {row.subject} is enrolled"
        if enrolment.enrolled_at
        else f"subject {row.subject} was never enrolled",
    ):
        return
    withdrawn = enrolment.withdrawn_at
    verdict.check(
        not withdrawn or committed_at <= withdrawn,
        f"subject {row.subject} was in the trial when the batch was committed"
        if not withdrawn or committed_at <= withdrawn
        else f"subject {row.subject} had withdrawn ({show_time(withdrawn)}) before the batch was committed "
        f"({show_time(committed_at)}): a row of a withdrawn subject",
    )
