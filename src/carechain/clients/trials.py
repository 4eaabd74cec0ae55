"""TrialRegistry on web3.py: sponsors, IRBs and sites act; anyone reads trials, batches and proofs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from carechain.clients.base import ContractClient, bytes32, checksum, uint
from carechain.core.sender import TxResult
from carechain.errors import InputError

ZERO32 = bytes(32)


class TrialStatus(IntEnum):
    """ITrialRegistry.Status: where a trial stands."""

    NONE = 0
    REGISTERED = 1
    APPROVED = 2
    LOCKED = 3
    REPORTED = 4


@dataclass(frozen=True)
class Trial:
    """ITrialRegistry.Trial, in its fields' order; `irb` is the IRB of record, the one account that
    approves the trial's protocol versions."""

    trial_id: int
    sponsor: str
    status: TrialStatus
    protocol_version: int
    consent_version: int
    current_approved: bool
    irb: str
    required_scopes: int
    enrolled: int
    locked_at: int
    reported_at: int
    primary_endpoints: bytes
    secondary_endpoints: bytes
    endpoints_commitment: bytes
    results_hash: bytes

    @property
    def blinded(self) -> bool:
        return self.endpoints_commitment != ZERO32


@dataclass(frozen=True)
class ProtocolVersion:
    version: int
    protocol_hash: bytes
    registered_at: int
    requires_reconsent: bool
    irb: str
    approved_at: int


@dataclass(frozen=True)
class Site:
    active: bool
    batches: int
    added_at: int


@dataclass(frozen=True)
class Enrolment:
    """A subject's latest enrolment (all zero if never enrolled); its site, the sponsor or the subject
    may withdraw them."""

    site: str
    enrolled_at: int
    consent_version: int
    withdrawn_at: int


@dataclass(frozen=True)
class Batch:
    """A site's committed batch as the chain holds it (all zero if that site never committed the root)."""

    committed_at: int
    sequence: int

    @property
    def committed(self) -> bool:
        return self.committed_at != 0


@dataclass(frozen=True)
class Row:
    """One case-report-form value of one subject at one visit, with the salt that hides it: the leaf of a
    batch's StandardMerkleTree, which the contract takes as ITrialRegistry.Row and hashes itself."""

    subject: str
    visit: int
    field: str
    value: str
    salt: bytes

    def leaf_value(self) -> list[Any]:
        """The leaf in the tree's encoding ["bytes32","address","uint32","string","string"]."""
        return ["0x" + self.salt.hex(), self.subject, self.visit, self.field, self.value]

    @classmethod
    def from_leaf_value(cls, value: Sequence[Any]) -> Row:
        salt, subject, visit, field_name, text = value
        return cls(
            checksum(subject, "subject"), int(visit), str(field_name), str(text), bytes32(salt, "salt")
        )

    def as_struct(self) -> tuple[bytes, str, int, str, str]:
        """ITrialRegistry.Row: (salt, subject, visit, field, value)."""
        return (
            bytes32(self.salt, "salt"),
            checksum(self.subject, "subject"),
            uint(self.visit, "visit", bits=32),
            self.field,
            self.value,
        )

    def matches(self, subject: str, visit: int, field_name: str) -> bool:
        return self.subject.lower() == subject.lower() and self.visit == visit and self.field == field_name


@dataclass(frozen=True)
class BatchEvent:
    """One BatchCommitted event: the batch plus its row count and where it was mined."""

    trial_id: int
    site: str
    sequence: int
    root: bytes
    rows: int
    block_number: int
    tx_hash: str


def _trial_id(value: int) -> int:
    return uint(value, "trial id", minimum=1)


class TrialClient(ContractClient):
    """A TrialRegistry deployment."""

    name = "TrialRegistry"

    # ---- sponsor ---------------------------------------------------------------------------------

    def register(
        self,
        protocol_hash: bytes,
        required_scopes: int,
        irb: str,
        primary_endpoints: bytes = ZERO32,
        secondary_endpoints: bytes = ZERO32,
        endpoints_commitment: bytes = ZERO32,
    ) -> tuple[TxResult, int]:
        """Register a trial under its IRB of record (the only account that will approve it), with plain
        endpoint hashes or a blinded plan's commitment; returns its id."""
        result = self._send(
            "register",
            bytes32(protocol_hash, "protocol hash"),
            required_scopes,
            checksum(irb, "IRB"),
            bytes32(primary_endpoints, "primary endpoints hash"),
            bytes32(secondary_endpoints, "secondary endpoints hash"),
            bytes32(endpoints_commitment, "endpoints commitment"),
        )
        (event,) = self.contract.events.TrialRegistered().process_receipt(result.receipt)
        return result, int(event["args"]["trialId"])

    def amend(self, trial_id: int, protocol_hash: bytes, requires_reconsent: bool) -> tuple[TxResult, int]:
        """A new protocol version; returns it."""
        result = self._send(
            "amend", _trial_id(trial_id), bytes32(protocol_hash, "protocol hash"), requires_reconsent
        )
        (event,) = self.contract.events.ProtocolAmended().process_receipt(result.receipt)
        return result, int(event["args"]["version"])

    def add_site(self, trial_id: int, site: str) -> TxResult:
        return self._send("addSite", _trial_id(trial_id), checksum(site, "site"))

    def remove_site(self, trial_id: int, site: str) -> TxResult:
        return self._send("removeSite", _trial_id(trial_id), checksum(site, "site"))

    def change_irb(self, trial_id: int, new_irb: str) -> TxResult:
        """Name another IRB of record (the sponsor, before the lock); it approves the pending version too.

        While a version awaits approval, only away from an IRB of record that can no longer act on it
        (its IRB credential not live, or it became the sponsor): else `errors.IrbReviewPending`.
        """
        return self._send("changeIrb", _trial_id(trial_id), checksum(new_irb, "IRB"))

    def transfer_sponsor(self, trial_id: int, new_sponsor: str) -> TxResult:
        """Propose the trial's next sponsor (the zero address cancels); nothing moves until they accept."""
        return self._send("transferSponsor", _trial_id(trial_id), checksum(new_sponsor, "new sponsor"))

    def accept_sponsor(self, trial_id: int) -> TxResult:
        """As the proposed sponsor: take the trial over."""
        return self._send("acceptSponsor", _trial_id(trial_id))

    def reveal_endpoints(self, trial_id: int, primary: bytes, secondary: bytes, salt: bytes) -> TxResult:
        return self._send(
            "revealEndpoints",
            _trial_id(trial_id),
            bytes32(primary, "primary endpoints hash"),
            bytes32(secondary, "secondary endpoints hash"),
            bytes32(salt, "salt"),
        )

    def lock(self, trial_id: int) -> TxResult:
        return self._send("lock", _trial_id(trial_id))

    def report_results(
        self, trial_id: int, results_hash: bytes, primary: bytes, secondary: bytes
    ) -> TxResult:
        return self._send(
            "reportResults",
            _trial_id(trial_id),
            bytes32(results_hash, "results hash"),
            bytes32(primary, "primary endpoints hash"),
            bytes32(secondary, "secondary endpoints hash"),
        )

    # ---- IRB and sites ---------------------------------------------------------------------------

    def approve(self, trial_id: int, version: int | None = None) -> TxResult:
        """As the trial's IRB of record: approve a protocol version (default: the latest)."""
        if version is None:
            version = self.get_trial(trial_id).protocol_version
        return self._send("approve", _trial_id(trial_id), uint(version, "protocol version", 32, minimum=1))

    def enroll(self, trial_id: int, subject: str) -> TxResult:
        return self._send("enroll", _trial_id(trial_id), checksum(subject, "subject"))

    def reconsent(self, trial_id: int, subject: str) -> TxResult:
        return self._send("reconsent", _trial_id(trial_id), checksum(subject, "subject"))

    def withdraw(self, trial_id: int, subject: str) -> TxResult:
        return self._send("withdraw", _trial_id(trial_id), checksum(subject, "subject"))

    def commit_batch(self, trial_id: int, root: bytes, rows: int) -> tuple[TxResult, int]:
        """Commit a batch's Merkle root; returns the transaction and the batch's sequence number."""
        if not 0 < rows < 2**32:
            raise InputError(f"a batch holds 1 to {2**32 - 1} rows, got {rows}")
        result = self._send("commitBatch", _trial_id(trial_id), bytes32(root, "batch root"), rows)
        (event,) = self.contract.events.BatchCommitted().process_receipt(result.receipt)
        return result, int(event["args"]["sequence"])

    # ---- reads -----------------------------------------------------------------------------------

    def pending_sponsor(self, trial_id: int) -> str | None:
        """The proposed, not yet accepted sponsor (None: no transfer pending)."""
        pending = str(self._call("pendingSponsor", _trial_id(trial_id)))
        return None if int(pending, 16) == 0 else pending

    def trial_count(self) -> int:
        return int(self._call("trialCount"))

    def trial_purpose(self, trial_id: int, version: int) -> bytes:
        return bytes(self._call("trialPurpose", _trial_id(trial_id), uint(version, "protocol version", 32)))

    def get_trial(self, trial_id: int) -> Trial:
        raw: list[Any] = [
            bytes(v) if isinstance(v, bytes) else v for v in self._call("getTrial", _trial_id(trial_id))
        ]
        raw[1] = TrialStatus(raw[1])
        return Trial(trial_id, *raw)

    def protocol_versions(self, trial_id: int) -> list[ProtocolVersion]:
        """Every protocol version, oldest first."""
        latest = self.get_trial(trial_id).protocol_version
        versions = []
        for version in range(1, latest + 1):
            protocol_hash, registered_at, reconsent, irb, approved_at = self._call(
                "getProtocolVersion", trial_id, version
            )
            versions.append(
                ProtocolVersion(version, bytes(protocol_hash), registered_at, reconsent, irb, approved_at)
            )
        return versions

    def get_site(self, trial_id: int, site: str) -> Site:
        return Site(*self._call("getSite", _trial_id(trial_id), checksum(site, "site")))

    def get_enrolment(self, trial_id: int, subject: str) -> Enrolment:
        return Enrolment(*self._call("getEnrolment", _trial_id(trial_id), checksum(subject, "subject")))

    def is_enrolled(self, trial_id: int, subject: str) -> bool:
        return bool(self._call("isEnrolled", _trial_id(trial_id), checksum(subject, "subject")))

    def get_batch(self, trial_id: int, site: str, root: bytes) -> Batch:
        """The batch `site` committed under `root` (a root belongs to the site that committed it)."""
        return Batch(
            *self._call("getBatch", _trial_id(trial_id), checksum(site, "site"), bytes32(root, "batch root"))
        )

    def verify_row(
        self, trial_id: int, site: str, root: bytes, row: Row, proof: Sequence[bytes | str]
    ) -> bool:
        """The chain's answer: did `site` commit `root` to the trial, and is `row` inside it? The contract
        hashes the row itself, so neither the root nor an inner node passes as a row."""
        return bool(
            self._call(
                "verifyRow",
                _trial_id(trial_id),
                checksum(site, "site"),
                bytes32(root, "batch root"),
                row.as_struct(),
                [bytes32(p, "proof node") for p in proof],
            )
        )

    def verify_rows(
        self,
        trial_id: int,
        site: str,
        root: bytes,
        rows: Sequence[Row],
        proof: Sequence[bytes | str],
        proof_flags: Sequence[bool],
    ) -> bool:
        """The same for several rows of one batch (a multiproof; the rows in its order of leaves)."""
        return bool(
            self._call(
                "verifyRows",
                _trial_id(trial_id),
                checksum(site, "site"),
                bytes32(root, "batch root"),
                [row.as_struct() for row in rows],
                [bytes32(p, "proof node") for p in proof],
                list(proof_flags),
            )
        )

    def batches(self, trial_id: int, from_block: int = 0) -> list[BatchEvent]:
        """Every batch committed to the trial, in order."""
        logs = self.contract.events.BatchCommitted().get_logs(
            argument_filters={"trialId": _trial_id(trial_id)}, from_block=from_block
        )
        return [
            BatchEvent(
                trial_id,
                log["args"]["site"],
                int(log["args"]["sequence"]),
                bytes(log["args"]["root"]),
                int(log["args"]["rows"]),
                log["blockNumber"],
                "0x" + bytes(log["transactionHash"]).hex(),
            )
            for log in logs
        ]

    def subjects(self, trial_id: int, from_block: int = 0) -> list[str]:
        """Every subject ever enrolled, in enrolment order."""
        logs = self.contract.events.SubjectEnrolled().get_logs(
            argument_filters={"trialId": _trial_id(trial_id)}, from_block=from_block
        )
        return [str(log["args"]["subject"]) for log in logs]

    def events(self, trial_id: int, from_block: int = 0) -> list[dict[str, Any]]:
        """The trial's whole history (registration, amendments, approvals, sites, subjects, batches,
        lock, results), oldest first, as plain dicts."""
        history: list[dict[str, Any]] = []
        filters = {"trialId": _trial_id(trial_id)}
        for name in (entry["name"] for entry in self.abi if entry.get("type") == "event"):
            for log in getattr(self.contract.events, name)().get_logs(
                argument_filters=filters, from_block=from_block
            ):
                args = {k: "0x" + v.hex() if isinstance(v, bytes) else v for k, v in log["args"].items()}
                history.append(
                    {"event": name, "block": log["blockNumber"], "logIndex": log["logIndex"], **args}
                )
        return sorted(history, key=lambda e: (e["block"], e["logIndex"]))
