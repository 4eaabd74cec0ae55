"""AccessGrants on web3.py: grants, signed grants, break-glass, the access log and who saw what."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_account.signers.local import LocalAccount
from web3.contract.contract import ContractFunction

from carechain.clients.base import ContractClient, bytes32, checksum, uint
from carechain.core.sender import TxResult
from carechain.core.signed import SignedAction, default_deadline
from carechain.errors import InputError

MAX_BREAK_GLASS = 24 * 3600
_SUBMIT = {
    "AccessGrant": "grantAccessBySig",
    "AccessRevoke": "revokeAccessBySig",
    "RecordAccessGrant": "grantRecordAccessBySig",
    "RecordAccessRevoke": "revokeRecordAccessBySig",
}


class Basis(IntEnum):
    """IAccessGrants.Basis: why a provider may read a record."""

    NONE = 0
    RECORD_GRANT = 1
    CATEGORY_GRANT = 2
    BREAK_GLASS = 3


class Review(IntEnum):
    """IAccessGrants.Review: where a break-glass episode stands."""

    NONE = 0
    OPEN = 1
    APPROVED = 2
    FLAGGED = 3


@dataclass(frozen=True)
class Grant:
    categories: int
    granted_at: int
    expires_at: int
    revoked_at: int

    def is_live(self, now: int) -> bool:
        return self.granted_at != 0 and self.revoked_at == 0 and now < self.expires_at


@dataclass(frozen=True)
class Episode:
    episode_id: int
    provider: str
    opened_at: int
    expires_at: int
    patient: str
    review: Review
    reviewer: str
    reason_code: bytes


@dataclass(frozen=True)
class Read:
    """One logged read of a record (a RecordAccessed event)."""

    record_id: bytes
    patient: str
    provider: str
    purpose: bytes
    basis: Basis
    episode_id: int
    block_number: int
    tx_hash: str


class AccessClient(ContractClient):
    """An AccessGrants deployment."""

    name = "AccessGrants"

    # ---- grants ----------------------------------------------------------------------------------

    def grant_access(self, patient: str, provider: str, categories: int, expires_at: int) -> TxResult:
        """Grant (or renew) `provider` access to `patient`'s records in `categories` until `expires_at`."""
        return self._send(
            "grantAccess",
            checksum(patient, "patient"),
            checksum(provider, "provider"),
            categories,
            expires_at,
        )

    def grant_record_access(self, provider: str, record: bytes, expires_at: int) -> TxResult:
        return self._send(
            "grantRecordAccess", checksum(provider, "provider"), bytes32(record, "record id"), expires_at
        )

    def revoke_access(self, patient: str, provider: str) -> TxResult:
        return self._send("revokeAccess", checksum(patient, "patient"), checksum(provider, "provider"))

    def revoke_record_access(self, provider: str, record: bytes) -> TxResult:
        return self._send("revokeRecordAccess", checksum(provider, "provider"), bytes32(record, "record id"))

    def sign_grant(
        self,
        patient: LocalAccount,
        provider: str,
        categories: int,
        expires_at: int,
        deadline: int | None = None,
        nonce: int | None = None,
    ) -> SignedAction:
        """The patient signs a category grant off chain, for a clinic to submit."""
        fields = {
            "provider": checksum(provider, "provider"),
            "categories": categories,
            "expiresAt": expires_at,
        }
        return self._sign(patient, "AccessGrant", fields, deadline, nonce)

    def sign_revoke(
        self, patient: LocalAccount, provider: str, deadline: int | None = None, nonce: int | None = None
    ) -> SignedAction:
        return self._sign(
            patient, "AccessRevoke", {"provider": checksum(provider, "provider")}, deadline, nonce
        )

    def sign_record_grant(
        self,
        patient: LocalAccount,
        provider: str,
        record: bytes,
        expires_at: int,
        deadline: int | None = None,
        nonce: int | None = None,
    ) -> SignedAction:
        """The record's patient signs a one-record grant off chain."""
        fields = {
            "provider": checksum(provider, "provider"),
            "recordId": bytes32(record, "record id"),
            "expiresAt": expires_at,
        }
        return self._sign(patient, "RecordAccessGrant", fields, deadline, nonce)

    def sign_record_revoke(
        self,
        patient: LocalAccount,
        provider: str,
        record: bytes,
        deadline: int | None = None,
        nonce: int | None = None,
    ) -> SignedAction:
        fields = {"provider": checksum(provider, "provider"), "recordId": bytes32(record, "record id")}
        return self._sign(patient, "RecordAccessRevoke", fields, deadline, nonce)

    def _sign(
        self,
        patient: LocalAccount,
        kind: str,
        fields: dict[str, Any],
        deadline: int | None,
        nonce: int | None,
    ) -> SignedAction:
        """Sign with the patient's next nonce and, by default, a one-hour deadline."""
        return SignedAction.sign(
            patient,
            self.domain(),
            kind,
            {
                "patient": patient.address,
                **fields,
                "nonce": self.nonce(patient.address) if nonce is None else nonce,
                "deadline": default_deadline(deadline),
            },
        )

    def submit(self, signed: SignedAction) -> TxResult:
        """Submit a patient's signed grant or revocation; the sender (clinic, relayer) pays the gas."""
        function = _SUBMIT.get(signed.kind)
        if function is None:
            raise InputError(f"a signed {signed.kind} is not for AccessGrants")
        return self._send(function, *signed.args())

    def use_nonce(self) -> TxResult:
        return self._send("useNonce")

    # ---- break-glass -----------------------------------------------------------------------------

    def break_glass(self, patient: str, reason_code: bytes, duration: int) -> tuple[TxResult, int]:
        """Open emergency access; returns the transaction and the episode id."""
        result = self._send(
            "breakGlass", checksum(patient, "patient"), bytes32(reason_code, "reason"), duration
        )
        (event,) = self.contract.events.BreakGlassOpened().process_receipt(result.receipt)
        return result, int(event["args"]["episodeId"])

    def review(self, episode_id: int, approved: bool, note_hash: bytes = bytes(32)) -> TxResult:
        return self._send(
            "reviewBreakGlass", uint(episode_id, "episode id"), approved, bytes32(note_hash, "note hash")
        )

    def get_episode(self, episode_id: int) -> Episode:
        provider, opened_at, expires_at, patient, review, reviewer, reason = self._call(
            "getEpisode", uint(episode_id, "episode id")
        )
        return Episode(
            episode_id, provider, opened_at, expires_at, patient, Review(review), reviewer, bytes(reason)
        )

    def break_glass_count(self, provider: str) -> int:
        return int(self._call("breakGlassCount", checksum(provider, "provider")))

    def episodes(self, patient: str | None = None, from_block: int = 0) -> list[Episode]:
        """Break-glass episodes (of one patient, or all), with their current review state."""
        filters = {"patient": checksum(patient, "patient")} if patient else {}
        logs = self.contract.events.BreakGlassOpened().get_logs(
            argument_filters=filters, from_block=from_block
        )
        return [self.get_episode(int(log["args"]["episodeId"])) for log in logs]

    # ---- access log ------------------------------------------------------------------------------

    def log_access(self, provider: str, record: bytes, purpose: bytes) -> TxResult:
        """The record's custodian logs a read; reverts AccessDenied if the chain does not allow it."""
        return self._send(
            "logAccess",
            checksum(provider, "provider"),
            bytes32(record, "record id"),
            bytes32(purpose, "purpose"),
        )

    def log_access_call(self, provider: str, record: bytes, purpose: bytes) -> ContractFunction:
        """`logAccess`, not sent: a gateway sends it under its nonce lock and waits outside the lock."""
        return self.contract.functions.logAccess(
            checksum(provider, "provider"), bytes32(record, "record id"), bytes32(purpose, "purpose")
        )

    def log_access_batch_call(self, root: bytes, count: int) -> ContractFunction:
        """`logAccessBatch` (a Merkle root of `count` signed read receipts), not sent, as above."""
        return self.contract.functions.logAccessBatch(bytes32(root, "receipts root"), count)

    def logged_basis(self, logged: TxResult) -> Basis:
        """On what basis a mined `logAccess` let the read happen (its RecordAccessed event)."""
        (event,) = self.contract.events.RecordAccessed().process_receipt(logged.receipt)
        return Basis(int(event["args"]["basis"]))

    def reads(
        self, patient: str | None = None, record: bytes | None = None, from_block: int = 0
    ) -> list[Read]:
        """Who read what: logged reads of a patient's records (or of one record), oldest first."""
        filters: dict[str, Any] = {}
        if patient:
            filters["patient"] = checksum(patient, "patient")
        if record is not None:
            filters["recordId"] = bytes32(record, "record id")
        logs = self.contract.events.RecordAccessed().get_logs(argument_filters=filters, from_block=from_block)
        return [
            Read(
                bytes(log["args"]["recordId"]),
                log["args"]["patient"],
                log["args"]["provider"],
                bytes(log["args"]["purpose"]),
                Basis(log["args"]["basis"]),
                int(log["args"]["episodeId"]),
                log["blockNumber"],
                "0x" + bytes(log["transactionHash"]).hex(),
            )
            for log in logs
        ]

    # ---- reads -----------------------------------------------------------------------------------

    def can_access(self, provider: str, record: bytes) -> bool:
        return bool(self._call("canAccess", checksum(provider, "provider"), bytes32(record, "record id")))

    def access_basis(self, provider: str, record: bytes) -> tuple[Basis, int]:
        basis, episode = self._call(
            "accessBasis", checksum(provider, "provider"), bytes32(record, "record id")
        )
        return Basis(basis), int(episode)

    def get_grant(self, patient: str, provider: str) -> Grant:
        return Grant(*self._call("getGrant", checksum(patient, "patient"), checksum(provider, "provider")))

    def get_record_grant(self, provider: str, record: bytes) -> Grant:
        return Grant(
            *self._call("getRecordGrant", checksum(provider, "provider"), bytes32(record, "record id"))
        )

    def nonce(self, patient: str) -> int:
        return int(self._call("nonces", checksum(patient, "patient")))
