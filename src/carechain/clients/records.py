"""RecordRegistry on web3.py: custodians anchor records (hashes of encrypted content) and versions."""

from __future__ import annotations

import os
from dataclasses import dataclass

from eth_utils.crypto import keccak

from carechain.clients.base import ContractClient, bytes32, checksum
from carechain.core.purposes import SCOPES
from carechain.core.sender import TxResult
from carechain.errors import InputError


def category_bit(name: str) -> int:
    """A record category is one scope bit (labs -> 7)."""
    for scope in SCOPES:
        if scope.name == name.strip().lower():
            return scope.bit
    raise InputError(f"unknown record category {name!r}: one of {', '.join(s.name for s in SCOPES)}")


def record_id(custodian_secret: bytes, local_id: str) -> bytes:
    """An opaque record id: the custodian's own id, hashed with a secret so nobody can guess or link it."""
    if len(custodian_secret) < 16:
        raise InputError("the custodian secret must be at least 16 random bytes")
    return keccak(custodian_secret + local_id.encode())


def new_record_id() -> bytes:
    """A random opaque record id, for custodians that keep their own mapping."""
    return os.urandom(32)


def content_hash(ciphertext: bytes) -> bytes:
    """What the chain holds of a record: keccak256 of its encrypted form."""
    return keccak(ciphertext)


@dataclass(frozen=True)
class Record:
    patient: str
    category: int
    versions: int
    custodian: str


@dataclass(frozen=True)
class Version:
    content_hash: bytes
    anchored_at: int


@dataclass(frozen=True)
class Anchoring:
    """A RecordAnchored event: which version, with which content hash, in which transaction."""

    version: int
    content_hash: bytes
    tx_hash: str


class RecordClient(ContractClient):
    """A RecordRegistry deployment."""

    name = "RecordRegistry"

    def anchor(self, record: bytes, patient: str, category: int, content: bytes) -> TxResult:
        return self._send(
            "anchor",
            bytes32(record, "record id"),
            checksum(patient, "patient"),
            category,
            bytes32(content, "hash"),
        )

    def amend(self, record: bytes, content: bytes) -> TxResult:
        return self._send("amend", bytes32(record, "record id"), bytes32(content, "content hash"))

    def exists(self, record: bytes) -> bool:
        return bool(self._call("exists", bytes32(record, "record id")))

    def get_record(self, record: bytes) -> Record:
        patient, category, versions, custodian = self._call("getRecord", bytes32(record, "record id"))
        return Record(patient, category, versions, custodian)

    def history(self, record: bytes) -> list[Version]:
        """Every version, oldest first."""
        rid = bytes32(record, "record id")
        count = self.get_record(rid).versions
        return [Version(bytes(h), t) for h, t in (self._call("getVersion", rid, v) for v in range(count))]

    def latest_content_hash(self, record: bytes) -> bytes:
        return bytes(self._call("latestContentHash", bytes32(record, "record id")))

    def anchorings(self, record: bytes, from_block: int = 0) -> list[Anchoring]:
        """The transactions that anchored the record's versions, oldest first."""
        logs = self.contract.events.RecordAnchored().get_logs(
            argument_filters={"recordId": bytes32(record, "record id")}, from_block=from_block
        )
        return [
            Anchoring(
                int(log["args"]["version"]),
                bytes(log["args"]["contentHash"]),
                "0x" + bytes(log["transactionHash"]).hex(),
            )
            for log in logs
        ]
