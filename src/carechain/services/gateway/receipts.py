"""Signed read receipts, batched under one Merkle root on chain (the gateway's `--log-mode receipts`).

In receipts mode a read is not logged by its own transaction: the gateway signs a `ReadReceipt`
(EIP-712, the gateway's domain: provider, record, purpose, basis, time served and the digest of the
provider's signed request), stores it, and serves. Every few seconds it commits the pending receipts
as the root of an OpenZeppelin-compatible StandardMerkleTree (`AccessGrants.logAccessBatch`, event
`AccessBatchLogged`). A provider (or the patient, or an auditor) fetches a receipt with its proof
(`GET /receipts/{id}`) and checks it with `verify`: the gateway's signature, the proof to the root,
and the root committed on chain by the gateway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils.address import to_checksum_address

from carechain.clients.access import AccessClient, Basis
from carechain.core import eip712
from carechain.errors import InputError, InvalidReceipt, MerkleTreeError
from carechain.offchain.merkle import StandardMerkleTree
from carechain.services.gateway.requests import DOMAIN_NAME, DOMAIN_VERSION

PRIMARY = "ReadReceipt"
RECEIPT_TYPE = [
    {"name": "provider", "type": "address"},
    {"name": "recordId", "type": "bytes32"},
    {"name": "purpose", "type": "bytes32"},
    {"name": "basis", "type": "uint8"},
    {"name": "servedAt", "type": "uint64"},
    {"name": "request", "type": "bytes32"},
]
# A leaf is the receipt's fields, in RECEIPT_TYPE order: a contract can check one with MerkleProof.
LEAF_ENCODING = [field["type"] for field in RECEIPT_TYPE]
LOG_MODES = ("tx", "receipts")
DEFAULT_BATCH_INTERVAL = 2.0  # seconds between two commits of the pending receipts


@dataclass(frozen=True)
class Receipt:
    """One served read, as the gateway signed it."""

    provider: str
    record_id: bytes
    purpose: bytes
    basis: Basis
    served_at: int
    request: bytes  # the EIP-712 digest of the provider's signed ReadRequest

    def message(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "recordId": "0x" + self.record_id.hex(),
            "purpose": "0x" + self.purpose.hex(),
            "basis": int(self.basis),
            "servedAt": self.served_at,
            "request": "0x" + self.request.hex(),
        }

    def payload(self, chain_id: int, access_grants: str) -> dict[str, Any]:
        """The typed data the gateway signs (the same domain as the provider's read requests)."""
        domain = eip712.Domain(DOMAIN_NAME, DOMAIN_VERSION, chain_id, access_grants)
        return {
            "types": {"EIP712Domain": eip712.DOMAIN_TYPE, PRIMARY: RECEIPT_TYPE},
            "primaryType": PRIMARY,
            "domain": domain.as_dict(),
            "message": self.message(),
        }

    def digest(self, chain_id: int, access_grants: str) -> bytes:
        """The receipt's id: its EIP-712 digest."""
        return eip712.digest(self.payload(chain_id, access_grants))

    def leaf(self) -> list[Any]:
        """The receipt as a Merkle leaf value (LEAF_ENCODING)."""
        return [
            self.provider,
            self.record_id,
            self.purpose,
            int(self.basis),
            self.served_at,
            self.request,
        ]

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> Receipt:
        try:
            return cls(
                to_checksum_address(message["provider"]),
                _bytes32(message["recordId"]),
                _bytes32(message["purpose"]),
                Basis(int(message["basis"])),
                int(message["servedAt"]),
                _bytes32(message["request"]),
            )
        except (KeyError, TypeError, ValueError):
            raise InvalidReceipt("not a CareChain read receipt") from None


def tree(receipts: list[Receipt]) -> StandardMerkleTree:
    """The batch's tree; leaves sorted (OpenZeppelin's default), so the order of receipts is irrelevant."""
    return StandardMerkleTree.of([r.leaf() for r in receipts], LEAF_ENCODING)


def verify(
    answer: dict[str, Any], gateway: str, chain_id: int, access_grants: str, committed_roots: set[bytes]
) -> Receipt:
    """Check a `GET /receipts/{id}` answer: signed by `gateway`, proven under a root it committed.

    `committed_roots` are the roots of the gateway's AccessBatchLogged events (what the chain says);
    returns the receipt, or raises InvalidReceipt saying what fails.
    """
    receipt = Receipt.from_message(answer.get("receipt") or {})
    try:
        signature = _bytes(answer.get("signature"), 65)
        signer = eip712.recover(receipt.payload(chain_id, access_grants), signature)
    except (InputError, ValueError):  # not 65 bytes of hex, or no signature eip712.recover accepts
        raise InvalidReceipt("the receipt's signature is malformed") from None
    if signer != to_checksum_address(gateway):
        raise InvalidReceipt(f"the receipt is signed by {signer}, not by the gateway {gateway}")
    root = answer.get("root")
    if root is None:
        raise InvalidReceipt("the receipt is not committed on chain yet: ask again in a few seconds")
    try:
        root_bytes = _bytes(root, 32)
        proven = StandardMerkleTree.verify_proof(root_bytes, LEAF_ENCODING, receipt.leaf(), answer["proof"])
    except (KeyError, TypeError, ValueError, MerkleTreeError):
        raise InvalidReceipt("the receipt's proof is malformed") from None
    if not proven:
        raise InvalidReceipt(f"the proof does not lead from the receipt to root {root}")
    if root_bytes not in committed_roots:
        raise InvalidReceipt(f"root {root} was never committed on chain by the gateway {gateway}")
    return receipt


def committed_roots(access: AccessClient, gateway: str, from_block: int = 0) -> set[bytes]:
    """The receipt roots `gateway` committed on chain (its AccessBatchLogged events)."""
    logs = access.contract.events.AccessBatchLogged().get_logs(
        argument_filters={"custodian": to_checksum_address(gateway)}, from_block=from_block
    )
    return {bytes(log["args"]["root"]) for log in logs}


def _bytes32(value: Any) -> bytes:
    return _bytes(value, 32)


def _bytes(value: Any, size: int) -> bytes:
    raw = bytes.fromhex(value.removeprefix("0x")) if isinstance(value, str) else b""
    if len(raw) != size:
        raise ValueError(f"expected {size} bytes of 0x-hex")
    return raw
