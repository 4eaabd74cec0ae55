"""A subject act on ConsentGrants as it travels from the patient's device to a relayer: signed, not sent.

A grant's subject key never sends a transaction (the patient's wallet must not fund or send one: that would
link the patient's grants), so each of its acts — a grant, a signed revocation, a withdrawn scope leaf, a
nonce burn — leaves the patient as a `SubjectAct`: the fields its typed data covers, the nonce signed and
the `subjectSig`. Its JSON form (`to_json`) is what the relayer's `POST /subject-acts` takes; its EIP-712
digest in the deployment's domain is its identity (the relayer's idempotency key).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

from eth_abi.abi import decode
from eth_abi.exceptions import DecodingError

from carechain.core import eip712, grants, signatures
from carechain.core.grants import GrantInput, Policy
from carechain.core.keys import subject_commitment
from carechain.core.values import ascii_whole, bytes32, checksum, hex_bytes, uint
from carechain.errors import InputError

Kind = Literal["Grant", "RevokeBySubject", "RevokeScopeLeaf", "BurnNonce"]
KINDS: Final[tuple[Kind, ...]] = get_args(Kind)
MAX_SUBJECT_SIG: Final = 4096  # bytes: a contract key's inner signature may be long, not unbounded
_GRANT_FIELDS: Final = tuple(field["name"] for field in grants.TYPES["Grant"] if field["name"] != "nonce")


@dataclass(frozen=True)
class SubjectAct:
    """One signed subject act. `target` is what it acts on: the subject commitment (Grant: the grant's id;
    BurnNonce: the commitment whose nonce it consumes) or the grant id (the two revocations)."""

    kind: Kind
    target: bytes
    nonce: int
    subject_sig: bytes
    grant: GrantInput | None = None  # Grant only
    reason_code: bytes = bytes(32)  # RevokeBySubject only
    leaf: bytes = bytes(32)  # RevokeScopeLeaf only

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(f"a subject act is one of {', '.join(KINDS)}, got {self.kind!r}")
        bytes32(self.target, "target")
        uint(self.nonce, "nonce")
        if (self.grant is not None) != (self.kind == "Grant"):
            raise InputError("a Grant act carries its grant, and only a Grant act does")
        if self.grant is not None and self.grant.subject_commit != self.target:
            raise InputError("a Grant act's target is its grant's subjectCommit")
        split_subject_sig(self.subject_sig)

    def payload(self, domain: eip712.Domain) -> dict[str, Any]:
        """The typed data the subject key signed, in `domain` (the ConsentGrants deployment's)."""
        if self.kind == "Grant":
            assert self.grant is not None
            return grants.grant_typed_data(domain, self.grant, self.nonce)
        if self.kind == "RevokeBySubject":
            return grants.revoke_typed_data(domain, self.target, self.reason_code, self.nonce)
        if self.kind == "RevokeScopeLeaf":
            return grants.revoke_leaf_typed_data(domain, self.target, self.leaf, self.nonce)
        return grants.burn_nonce_typed_data(domain, self.target, self.nonce)

    def digest(self, domain: eip712.Domain) -> bytes:
        """The EIP-712 digest signed: the act's identity (one act, one digest, one submission)."""
        return eip712.digest(self.payload(domain))

    def as_json(self) -> dict[str, Any]:
        """The JSON object `POST /subject-acts` takes: hex bytes, whole numbers past 2^53 as decimal text."""
        body: dict[str, Any] = {
            "kind": self.kind,
            "target": "0x" + self.target.hex(),
            "nonce": str(self.nonce),
            "subjectSig": "0x" + self.subject_sig.hex(),
        }
        if self.grant is not None:
            fields = dict(zip(_GRANT_FIELDS, self.grant.as_tuple(), strict=True))
            body["grant"] = {name: _json_value(value) for name, value in fields.items()}
        if self.kind == "RevokeBySubject":
            body["reasonCode"] = "0x" + self.reason_code.hex()
        if self.kind == "RevokeScopeLeaf":
            body["leaf"] = "0x" + self.leaf.hex()
        return body

    def to_json(self) -> str:
        return json.dumps(self.as_json(), sort_keys=True)

    @classmethod
    def from_json(cls, body: Mapping[str, Any] | str) -> SubjectAct:
        """The act of `as_json`'s object (or its text); InputError names the first thing wrong."""
        if isinstance(body, str):
            try:
                fields = json.loads(body)
            except (ValueError, RecursionError):
                raise InputError("a subject act is a JSON object: this text is not JSON") from None
        else:
            fields = body
        if not isinstance(fields, Mapping):
            raise InputError("a subject act is a JSON object")
        try:
            kind = fields["kind"]
            grant = None
            if kind == "Grant":
                raw = fields["grant"]
                if not isinstance(raw, Mapping) or set(raw) != set(_GRANT_FIELDS):
                    raise InputError(f"a Grant act's grant has exactly the fields {', '.join(_GRANT_FIELDS)}")
                grant = GrantInput(
                    scope_ref=_hex32(raw["scopeRef"], "scopeRef"),
                    purpose_profile_ref=_hex32(raw["purposeProfileRef"], "purposeProfileRef"),
                    terms_ref=_hex32(raw["termsRef"], "termsRef"),
                    asset_token_id=_whole(raw["assetTokenId"], "assetTokenId"),
                    subject_commit=_hex32(raw["subjectCommit"], "subjectCommit"),
                    grantee=checksum(raw["grantee"], "grantee"),
                    agent=checksum(raw["agent"], "agent"),
                    policy=Policy.unpack(_whole(raw["policy"], "policy")),
                )
            return cls(
                kind=kind,
                target=_hex32(fields["target"], "target"),
                nonce=_whole(fields["nonce"], "nonce"),
                subject_sig=_hex(fields["subjectSig"], "subjectSig"),
                grant=grant,
                reason_code=_hex32(fields.get("reasonCode", "0x" + "00" * 32), "reasonCode"),
                leaf=_hex32(fields.get("leaf", "0x" + "00" * 32), "leaf"),
            )
        except KeyError as err:
            raise InputError(f"the subject act has no {err.args[0]}") from None


@dataclass(frozen=True)
class Submitted:
    """A subject act someone took on to send: its id (the act's digest) and how far it got."""

    id: bytes
    kind: str
    status: str  # pending, submitted, mined or failed
    tx: str | None
    error: str | None  # the contract's error name when it failed


def split_subject_sig(subject_sig: bytes) -> tuple[bytes, bytes]:
    """(subjectSalt, signature) of `abi.encode(bytes32 subjectSalt, bytes signature)`, strictly encoded."""
    longest = 96 + MAX_SUBJECT_SIG + 32  # salt, offset, length, the signature padded to words
    if not isinstance(subject_sig, bytes | bytearray) or not 96 <= len(subject_sig) <= longest:
        raise InputError("a subjectSig is abi.encode(bytes32 subjectSalt, bytes signature)")
    try:
        salt, signature = decode(["bytes32", "bytes"], bytes(subject_sig), strict=True)
    except (DecodingError, ValueError, OverflowError):
        raise InputError("a subjectSig is abi.encode(bytes32 subjectSalt, bytes signature)") from None
    if len(signature) > MAX_SUBJECT_SIG:
        raise InputError(f"a subjectSig's signature is at most {MAX_SUBJECT_SIG} bytes")
    return bytes(salt), bytes(signature)


def opens(subject_commit: bytes, digest: bytes, subject_sig: bytes) -> bool | None:
    """Whether `subject_sig` over `digest` opens `subject_commit`, as the contract checks it: True or False
    for an EOA key (65 or 64 bytes, low s); None for a contract key (ERC-1271), whose signature only the
    chain can check — then its salt and named key are still checked against the commitment."""
    salt, signature = split_subject_sig(subject_sig)
    if len(signature) in (64, 65):
        try:
            key = signatures.recover(digest, signatures.check(_full(signature)))
        except InputError:
            return False
        return subject_commitment(salt, key) == subject_commit
    if len(signature) > 20:
        key = checksum("0x" + signature[:20].hex())
        return None if subject_commitment(salt, key) == subject_commit else False
    return False


def _json_value(value: object) -> str:
    """A field as JSON carries it: bytes as 0x-hex, an address as it is, a number as decimal text."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


def _full(signature: bytes) -> bytes:
    """A 64-byte EIP-2098 signature (r, vs) as r ‖ s ‖ v; a 65-byte one as it is."""
    if len(signature) == 65:
        return signature
    vs = int.from_bytes(signature[32:], "big")
    return signature[:32] + (vs & (1 << 255) - 1).to_bytes(32, "big") + bytes([27 + (vs >> 255)])


def _hex(value: Any, what: str) -> bytes:
    return hex_bytes(value, what, 96 + MAX_SUBJECT_SIG + 32)


def _hex32(value: Any, what: str) -> bytes:
    return bytes32(_hex(value, what), what)


def _whole(value: Any, what: str) -> int:
    """A whole number as a JSON number or a decimal string (what a browser's BigInt becomes)."""
    if isinstance(value, str):
        value = ascii_whole(value, 78)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{what} is not a whole number (a JSON number or a decimal string)")
    return uint(value, what)
