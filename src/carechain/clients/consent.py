"""ConsentRegistry on web3.py: grant, update, revoke, check, delegate, and EIP-712 signed consents."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from carechain.clients.base import ContractClient, bytes32, checksum
from carechain.core import eip712
from carechain.core.purposes import check_grantable
from carechain.core.sender import TxResult
from carechain.errors import InputError

ANY_GRANTEE = "0xFFfFfFffFFfffFFfFFfFFFFFffFFFffffFfFFFfF"
_HALF_CURVE_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
_EIP7702_DELEGATION = bytes.fromhex("ef0100")  # an EOA's code under EIP-7702: its key still signs


def compact_signature(signature: bytes) -> tuple[bytes, bytes]:
    """EIP-2098: an EOA's 65-byte r ‖ s ‖ v signature as the two words (r, vs = s | (v - 27) << 255).

    Refuses, with one InputError, what the registry would refuse anyway: another length (a contract
    wallet's ERC-1271 signature has no compact form), a v other than 27 or 28, a high s (EIP-2).
    """
    if len(signature) != 65:
        raise InputError(
            f"the signature is {len(signature)} bytes: only an EOA's 65-byte (r, s, v) signature has a "
            "compact form; submit it with submit_grants"
        )
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    if v not in (27, 28):
        raise InputError(f"the signature's v is {v}: a 65-byte signature ends in 27 or 28")
    if s > _HALF_CURVE_ORDER:
        raise InputError(
            "the signature's s is in the upper half of the curve order (EIP-2): ask for a new one"
        )
    return r, (s | (v - 27) << 255).to_bytes(32, "big")


def _purpose_bytes(purpose: bytes | str) -> bytes:
    return bytes32(purpose, "purpose")


def _grantable(purpose: bytes | str) -> bytes:
    """A purpose fit for a new or changed consent (never one that reveals a condition)."""
    return check_grantable(_purpose_bytes(purpose))


@dataclass(frozen=True)
class Consent:
    """A stored consent; all zero when never granted."""

    scopes: int
    granted_at: int
    expires_at: int
    revoked_at: int

    def is_live(self, now: int) -> bool:
        return (
            self.granted_at != 0 and self.revoked_at == 0 and (self.expires_at == 0 or now < self.expires_at)
        )


@dataclass(frozen=True)
class GrantRequest:
    """One consent of a batch the caller grants."""

    grantee: str
    purpose: bytes
    scopes: int
    expires_at: int = 0

    def as_tuple(self) -> tuple[str, bytes, int, int]:
        return (checksum(self.grantee, "grantee"), _grantable(self.purpose), self.scopes, self.expires_at)


@dataclass(frozen=True)
class SignedGrant:
    """A consent the patient signed; anyone may submit it. Serialises to JSON for hand-over."""

    patient: str
    grantee: str
    purpose: bytes
    scopes: int
    expires_at: int
    nonce: int
    deadline: int
    signature: bytes

    def as_tuple(self) -> tuple[Any, ...]:
        return (
            self.patient,
            self.grantee,
            self.purpose,
            self.scopes,
            self.expires_at,
            self.nonce,
            self.deadline,
            self.signature,
        )

    def as_compact_tuple(self) -> tuple[Any, ...]:
        """A CompactSignedGrant: the same fields, the signature as EIP-2098's (r, vs)."""
        return (*self.as_tuple()[:7], *compact_signature(self.signature))

    def to_json(self) -> str:
        data = asdict(self)
        data.update(kind="Grant", purpose="0x" + self.purpose.hex(), signature="0x" + self.signature.hex())
        return json.dumps(data, indent=2)

    @classmethod
    def from_json(cls, text: str) -> SignedGrant:
        data = _load_signed(text, "Grant")
        return cls(
            patient=checksum(data["patient"], "patient"),
            grantee=checksum(data["grantee"], "grantee"),
            purpose=_purpose_bytes(data["purpose"]),
            scopes=int(data["scopes"]),
            expires_at=int(data["expires_at"]),
            nonce=int(data["nonce"]),
            deadline=int(data["deadline"]),
            signature=bytes.fromhex(str(data["signature"]).removeprefix("0x")),
        )


@dataclass(frozen=True)
class SignedRevoke:
    """A revocation the patient signed; anyone may submit it."""

    patient: str
    grantee: str
    purpose: bytes
    nonce: int
    deadline: int
    signature: bytes

    def to_json(self) -> str:
        data = asdict(self)
        data.update(kind="Revoke", purpose="0x" + self.purpose.hex(), signature="0x" + self.signature.hex())
        return json.dumps(data, indent=2)

    @classmethod
    def from_json(cls, text: str) -> SignedRevoke:
        data = _load_signed(text, "Revoke")
        return cls(
            patient=checksum(data["patient"], "patient"),
            grantee=checksum(data["grantee"], "grantee"),
            purpose=_purpose_bytes(data["purpose"]),
            nonce=int(data["nonce"]),
            deadline=int(data["deadline"]),
            signature=bytes.fromhex(str(data["signature"]).removeprefix("0x")),
        )


def _load_signed(text: str, kind: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"not a signed {kind} file: invalid JSON ({err.msg})") from err
    if not isinstance(data, dict) or data.get("kind") != kind:
        raise InputError(
            f"not a signed {kind} file (kind is {data.get('kind') if isinstance(data, dict) else None!r})"
        )
    return data


def load_signed(path: Path) -> SignedGrant | SignedRevoke:
    """Read a file written by `carechain consent sign` (a grant or a revocation)."""
    try:
        text = path.read_text()
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror}") from err
    except UnicodeDecodeError:
        raise InputError(f"{path} is not a signed consent file (not UTF-8 text)") from None
    try:
        kind = json.loads(text).get("kind")
    except (json.JSONDecodeError, AttributeError):
        kind = None
    return SignedRevoke.from_json(text) if kind == "Revoke" else SignedGrant.from_json(text)


class ConsentClient(ContractClient):
    """A ConsentRegistry deployment, seen from one account (the sender) or read-only."""

    name = "ConsentRegistry"

    # ---- patient (or delegate) actions -------------------------------------------------------------

    def grant(self, grantee: str, purpose: bytes, scopes: int, expires_at: int = 0) -> TxResult:
        return self._send("grant", checksum(grantee, "grantee"), _grantable(purpose), scopes, expires_at)

    def grant_for(
        self, patient: str, grantee: str, purpose: bytes, scopes: int, expires_at: int = 0
    ) -> TxResult:
        return self._send(
            "grantFor",
            checksum(patient, "patient"),
            checksum(grantee, "grantee"),
            _grantable(purpose),
            scopes,
            expires_at,
        )

    def grant_batch(self, requests: Sequence[GrantRequest]) -> TxResult:
        return self._send("grantBatch", [r.as_tuple() for r in requests])

    def update(self, grantee: str, purpose: bytes, scopes: int, expires_at: int = 0) -> TxResult:
        return self._send("update", checksum(grantee, "grantee"), _grantable(purpose), scopes, expires_at)

    def update_for(
        self, patient: str, grantee: str, purpose: bytes, scopes: int, expires_at: int = 0
    ) -> TxResult:
        return self._send(
            "updateFor",
            checksum(patient, "patient"),
            checksum(grantee, "grantee"),
            _grantable(purpose),
            scopes,
            expires_at,
        )

    def revoke(self, grantee: str, purpose: bytes) -> TxResult:
        return self._send("revoke", checksum(grantee, "grantee"), _purpose_bytes(purpose))

    def revoke_for(self, patient: str, grantee: str, purpose: bytes) -> TxResult:
        return self._send(
            "revokeFor", checksum(patient, "patient"), checksum(grantee, "grantee"), _purpose_bytes(purpose)
        )

    def set_delegate(self, delegate: str, expires_at: int = 0) -> TxResult:
        return self._send("setDelegate", checksum(delegate, "delegate"), expires_at)

    def remove_delegate(self, delegate: str) -> TxResult:
        return self._send("removeDelegate", checksum(delegate, "delegate"))

    def use_nonce(self) -> TxResult:
        return self._send("useNonce")

    # ---- signed (relayed) ------------------------------------------------------------------------

    def sign_grant(
        self,
        patient: LocalAccount,
        grantee: str,
        purpose: bytes,
        scopes: int,
        expires_at: int = 0,
        deadline: int | None = None,
        nonce: int | None = None,
    ) -> SignedGrant:
        """The patient signs a consent off chain; nothing is sent. Deadline defaults to one hour."""
        message: dict[str, Any] = {
            "patient": patient.address,
            "grantee": checksum(grantee, "grantee"),
            "purpose": _grantable(purpose),
            "scopes": scopes,
            "expiresAt": expires_at,
            "nonce": self.nonce(patient.address) if nonce is None else nonce,
            "deadline": int(time.time()) + 3600 if deadline is None else deadline,
        }
        signature = eip712.sign(patient, eip712.typed_data(self.domain(), "Grant", message))
        return SignedGrant(
            str(patient.address),
            message["grantee"],
            message["purpose"],
            scopes,
            expires_at,
            message["nonce"],
            message["deadline"],
            signature,
        )

    def sign_revoke(
        self,
        patient: LocalAccount,
        grantee: str,
        purpose: bytes,
        deadline: int | None = None,
        nonce: int | None = None,
    ) -> SignedRevoke:
        message: dict[str, Any] = {
            "patient": patient.address,
            "grantee": checksum(grantee, "grantee"),
            "purpose": _purpose_bytes(purpose),
            "nonce": self.nonce(patient.address) if nonce is None else nonce,
            "deadline": int(time.time()) + 3600 if deadline is None else deadline,
        }
        signature = eip712.sign(patient, eip712.typed_data(self.domain(), "Revoke", message))
        return SignedRevoke(
            str(patient.address),
            message["grantee"],
            message["purpose"],
            message["nonce"],
            message["deadline"],
            signature,
        )

    def submit_grant(self, signed: SignedGrant) -> TxResult:
        """Submit a patient's signed consent; the sender (clinic, relayer) pays the gas."""
        return self._send("grantBySig", signed.as_tuple())

    def submit_grants(self, signed: Sequence[SignedGrant]) -> TxResult:
        """Submit many patients' signed consents in one transaction."""
        return self._send("grantBySigBatch", [s.as_tuple() for s in signed])

    def grant_by_sig_batch_compact(self, signed_list: Sequence[SignedGrant]) -> TxResult:
        """Submit EOA patients' signed consents through `grantBySigBatchCompact` (less gas per item).

        Each 65-byte signature is converted to its EIP-2098 form; a signature of another length or a
        patient that is a contract wallet (ERC-1271, only `submit_grants` can ask it) is refused with an
        InputError before anything is sent.
        """
        if not signed_list:
            raise InputError("no signed grants to submit: a batch holds at least one")
        items = []
        for signed in signed_list:
            code = bytes(self.w3.eth.get_code(checksum(signed.patient, "patient")))
            if code and not code.startswith(_EIP7702_DELEGATION):
                raise InputError(
                    f"patient {signed.patient} is a contract wallet: its ERC-1271 signature has no compact "
                    "form; submit it with submit_grants"
                )
            items.append(signed.as_compact_tuple())
        return self._send("grantBySigBatchCompact", items)

    def submit_revoke(self, signed: SignedRevoke) -> TxResult:
        return self._send(
            "revokeBySig",
            signed.patient,
            signed.grantee,
            signed.purpose,
            signed.nonce,
            signed.deadline,
            signed.signature,
        )

    # ---- reads -----------------------------------------------------------------------------------

    def is_permitted(self, patient: str, grantee: str, purpose: bytes, scopes: int) -> bool:
        return bool(
            self.contract.functions.isPermitted(
                checksum(patient, "patient"), checksum(grantee, "grantee"), _purpose_bytes(purpose), scopes
            ).call()
        )

    def get_consent(self, patient: str, grantee: str, purpose: bytes) -> Consent:
        scopes, granted_at, expires_at, revoked_at = self.contract.functions.getConsent(
            checksum(patient, "patient"), checksum(grantee, "grantee"), _purpose_bytes(purpose)
        ).call()
        return Consent(scopes, granted_at, expires_at, revoked_at)

    def is_delegate(self, patient: str, delegate: str) -> bool:
        return bool(
            self.contract.functions.isDelegate(
                checksum(patient, "patient"), checksum(delegate, "delegate")
            ).call()
        )

    def delegate_expiry(self, patient: str, delegate: str) -> int:
        return int(
            self.contract.functions.delegateExpiry(
                checksum(patient, "patient"), checksum(delegate, "delegate")
            ).call()
        )

    def nonce(self, patient: str) -> int:
        return int(self.contract.functions.nonces(checksum(patient, "patient")).call())
