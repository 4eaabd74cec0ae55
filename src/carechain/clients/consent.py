"""ConsentRegistry on web3.py: grant, update, revoke, check, delegate, and EIP-712 signed consents."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, cast

from eth_account.signers.local import LocalAccount
from web3.contract.contract import ContractFunction

from carechain.clients.base import ContractClient, bytes32, checksum
from carechain.core import eip712
from carechain.core.files import read_text
from carechain.core.purposes import check_grantable
from carechain.core.sender import TxResult
from carechain.core.signatures import compact_signature
from carechain.core.signed import Signed, default_deadline, read_json
from carechain.errors import InputError

ANY_GRANTEE = "0xFFfFfFffFFfffFFfFFfFFFFFffFFFffffFfFFFfF"
_EIP7702_DELEGATION = bytes.fromhex("ef0100")  # an EOA's code under EIP-7702: its key still signs


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
class SignedGrant(Signed):
    """A consent the patient signed; anyone may submit it. Its file names the fields as here (expires_at)."""

    kind = "Grant"

    patient: str
    grantee: str
    purpose: bytes
    scopes: int
    expires_at: int
    nonce: int
    deadline: int
    signature: bytes

    def message(self) -> dict[str, Any]:
        return {
            "patient": self.patient,
            "grantee": self.grantee,
            "purpose": self.purpose,
            "scopes": self.scopes,
            "expiresAt": self.expires_at,
            "nonce": self.nonce,
            "deadline": self.deadline,
        }

    def json_fields(self) -> dict[str, Any]:
        return _json_fields(self)

    def as_tuple(self) -> tuple[Any, ...]:
        """The SignedGrant struct grantBySig and grantBySigBatch take."""
        return tuple(self.args())

    def as_compact_tuple(self) -> tuple[Any, ...]:
        """A CompactSignedGrant: the same fields, the signature as EIP-2098's (r, vs)."""
        return (*self.args()[:7], *compact_signature(self.signature))

    @classmethod
    def from_json(cls, text: str, where: str | None = None) -> SignedGrant:
        return cast(SignedGrant, _read(text, where or "the document", cls))


@dataclass(frozen=True)
class SignedRevoke(Signed):
    """A revocation the patient signed; anyone may submit it."""

    kind = "Revoke"

    patient: str
    grantee: str
    purpose: bytes
    nonce: int
    deadline: int
    signature: bytes

    def message(self) -> dict[str, Any]:
        return {
            "patient": self.patient,
            "grantee": self.grantee,
            "purpose": self.purpose,
            "nonce": self.nonce,
            "deadline": self.deadline,
        }

    def json_fields(self) -> dict[str, Any]:
        return _json_fields(self)

    @classmethod
    def from_json(cls, text: str, where: str | None = None) -> SignedRevoke:
        return cast(SignedRevoke, _read(text, where or "the document", cls))


def _read(text: str, where: str, *kinds: type[SignedGrant | SignedRevoke]) -> SignedGrant | SignedRevoke:
    """A signed consent file of one of `kinds`, its fields checked against their EIP-712 types; an error
    names the file (`where`) and the field."""
    names = {kind.kind: [f.name for f in fields(kind) if f.name != "signature"] for kind in kinds}
    found, data, signature = read_json(text, where, names)
    signed = next(kind for kind in kinds if kind.kind == found)
    return signed(**{**data, "purpose": bytes.fromhex(data["purpose"][2:]), "signature": signature})


def _json_fields(signed: SignedGrant | SignedRevoke) -> dict[str, Any]:
    data = asdict(signed)
    del data["signature"]
    return {**data, "purpose": "0x" + signed.purpose.hex()}


def load_signed(path: Path) -> SignedGrant | SignedRevoke:
    """Read a file written by `carechain consent sign` (a grant or a revocation)."""
    return _read(read_text(path, "signed consent file"), str(path), SignedGrant, SignedRevoke)


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
        unsigned = SignedGrant(
            str(patient.address),
            checksum(grantee, "grantee"),
            _grantable(purpose),
            scopes,
            expires_at,
            self.nonce(patient.address) if nonce is None else nonce,
            default_deadline(deadline),
            b"",
        )
        return replace(unsigned, signature=self._signature(patient, unsigned))

    def sign_revoke(
        self,
        patient: LocalAccount,
        grantee: str,
        purpose: bytes,
        deadline: int | None = None,
        nonce: int | None = None,
    ) -> SignedRevoke:
        unsigned = SignedRevoke(
            str(patient.address),
            checksum(grantee, "grantee"),
            _purpose_bytes(purpose),
            self.nonce(patient.address) if nonce is None else nonce,
            default_deadline(deadline),
            b"",
        )
        return replace(unsigned, signature=self._signature(patient, unsigned))

    def _signature(self, patient: LocalAccount, unsigned: Signed) -> bytes:
        return eip712.sign(patient, unsigned.typed_data(self.domain()))

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
        return self._send("revokeBySig", *signed.args())

    def signed_call(self, signed: SignedGrant | SignedRevoke) -> ContractFunction:
        """`grantBySig` or `revokeBySig` of a signed request, not sent: a relayer simulates, sends and
        follows it itself."""
        if isinstance(signed, SignedGrant):
            return self.contract.functions.grantBySig(signed.as_tuple())
        return self.contract.functions.revokeBySig(*signed.args())

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
