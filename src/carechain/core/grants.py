"""ERC-8356 grants as a client makes them: the policy word, the typed data a subject key signs, scope leaves.

The standard fixes the `Grant` struct, the bit layout of `policy`, the `ops` and `flags` bits and the
scope leaf, so that a grant signed with one implementation verifies in another; the signed revocations
and the nonce burn are CareChain's, in the same domain. The Merkle tree over several scope leaves is
`carechain.offchain.scopes`. docs/private-consent.md is the design, docs/key-derivation.md the keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, IntFlag
from typing import Any, Final

from eth_abi.abi import encode
from eth_keys.datatypes import PrivateKey
from eth_utils.crypto import keccak

from carechain.core import eip712, signatures
from carechain.core.keys import GrantKeys
from carechain.core.purposes import SCOPES
from carechain.core.values import bytes32, checksum, uint
from carechain.errors import InputError

DOMAIN_NAME: Final = "ConsentGrant"
DOMAIN_VERSION: Final = "1"


class Status(IntEnum):
    """A grant's status (ERC-8356 `Status`)."""

    NONE = 0
    ACTIVE = 1
    REVOKED_BY_SUBJECT = 2
    RENOUNCED_BY_GRANTEE = 3
    TERMINATED_BY_ISSUER = 4
    SUSPENDED = 5
    EXHAUSTED = 6
    SUPERSEDED = 7


class AgentKind(IntEnum):
    """What the agent address is (ERC-8356 `AgentKind`); ASSERTED_UNVERIFIED never satisfies a check."""

    NONE = 0
    SESSION_KEY = 1
    EXTERNAL_REGISTRY = 2
    TOKEN_BOUND_ACCOUNT = 3
    ASSERTED_UNVERIFIED = 4


class AgentStatus(IntEnum):
    """IConsentGrants.AgentStatus: the agent leg's own status, revocable without the grant."""

    NONE = 0
    ACTIVE = 1
    REVOKED = 2


class Op(IntFlag):
    """The `ops` bits, normative in ERC-8356: a grant minted by one party is read by another."""

    READ = 0x01
    QUERY = 0x02
    DERIVE = 0x04
    EXPORT = 0x08
    TRAIN = 0x10


FLAG_SCOPE_IS_ROOT: Final = 0x01
FLAG_DELEGABLE: Final = 0x02
FLAG_DESTROY_DERIVATIVES: Final = 0x04
ALL_OPS: Final = sum(Op)
ALL_FLAGS: Final = FLAG_SCOPE_IS_ROOT | FLAG_DELEGABLE | FLAG_DESTROY_DERIVATIVES

# Each policy field: its attribute, its first bit and its width (ERC-8356, "Authorship of consent").
_POLICY_LAYOUT: Final = (
    ("not_before", 0, 48),
    ("expires_at", 48, 48),
    ("ops", 96, 32),
    ("purpose_code", 128, 32),
    ("uses_max", 160, 16),
    ("agent_kind", 176, 8),
    ("flags", 184, 8),
)
_POLICY_BITS: Final = 192


@dataclass(frozen=True)
class Policy:
    """The seven small scalars of a grant, packed into the `policy` word its signature covers."""

    not_before: int
    expires_at: int
    ops: int
    purpose_code: int
    uses_max: int = 0  # 0: unlimited
    agent_kind: int = AgentKind.NONE
    flags: int = 0

    def __post_init__(self) -> None:
        for name, _, width in _POLICY_LAYOUT:
            uint(getattr(self, name), name, width)
        if self.ops & ~ALL_OPS:
            raise InputError(
                f"ops {self.ops:#x} sets reserved bits {self.ops & ~ALL_OPS:#x} (defined: 0x01-0x10)"
            )
        if self.flags & ~ALL_FLAGS:
            raise InputError(
                f"flags {self.flags:#x} sets reserved bits {self.flags & ~ALL_FLAGS:#x} (defined: 0x01-0x04)"
            )
        if self.agent_kind > max(AgentKind):
            raise InputError(f"agent_kind {self.agent_kind} is not an AgentKind (0 to {max(AgentKind)})")

    def pack(self) -> int:
        """The uint256 `policy`: notBefore in bits 0-47, ..., flags in bits 184-191, the rest zero."""
        return sum(getattr(self, name) << first for name, first, _ in _POLICY_LAYOUT)

    @classmethod
    def unpack(cls, policy: int) -> Policy:
        """The fields of a `policy` word; reserved bits set are an InputError, never ignored."""
        uint(policy, "policy")
        if policy >> _POLICY_BITS:
            raise InputError(f"policy {policy:#x} sets reserved bits (192 and above must be zero)")
        return cls(**{name: policy >> first & (1 << width) - 1 for name, first, width in _POLICY_LAYOUT})


@dataclass(frozen=True)
class GrantInput:
    """What a subject signs and `grant` takes: the ERC's fields but the nonce (the contract's count)."""

    scope_ref: bytes
    purpose_profile_ref: bytes
    terms_ref: bytes
    asset_token_id: int
    subject_commit: bytes
    grantee: str
    agent: str  # the zero address without an agent leg
    policy: Policy

    def __post_init__(self) -> None:
        if not isinstance(self.policy, Policy):
            raise InputError(
                f"a grant's policy is a Policy (Policy.unpack of a packed word), got {self.policy!r}"
            )
        self.as_tuple()

    def as_tuple(self) -> tuple[bytes, bytes, bytes, int, bytes, str, str, int]:
        """The fields in the struct's order, checked, `policy` packed (the contract's input tuple)."""
        return (
            bytes32(self.scope_ref, "scopeRef"),
            bytes32(self.purpose_profile_ref, "purposeProfileRef"),
            bytes32(self.terms_ref, "termsRef"),
            uint(self.asset_token_id, "assetTokenId"),
            bytes32(self.subject_commit, "subjectCommit"),
            checksum(self.grantee, "grantee"),
            checksum(self.agent, "agent"),
            self.policy.pack(),
        )


GRANT_TUPLE: Final = "(bytes32,bytes32,bytes32,uint256,bytes32,address,address,uint256)"

# The struct each signed act hashes (one source: core.eip712.TYPES, which abi/eip712.json publishes); the
# contract's typehashes are keccak256 of `type_string`.
TYPES: Final[dict[str, list[dict[str, str]]]] = eip712.TYPES["ConsentGrants"]


def type_string(primary: str) -> str:
    """`Grant(bytes32 scopeRef,...)`: the text whose keccak256 is the contract's typehash."""
    return eip712.encode_type(primary, TYPES[primary])


def grant_domain(chain_id: int, grants_contract: str) -> eip712.Domain:
    """The domain of a ConsentGrants deployment: name "ConsentGrant", version "1" (fixed by the ERC)."""
    return eip712.Domain(
        DOMAIN_NAME,
        DOMAIN_VERSION,
        uint(chain_id, "chain id", minimum=1),
        checksum(grants_contract, "ConsentGrants address"),
    )


def grant_typed_data(domain: eip712.Domain, grant: GrantInput, nonce: int) -> dict[str, Any]:
    """The `Grant` payload the subject key signs (ERC-8356's normative typed data).

    `assetTokenId` and `policy` are decimal strings, as wallets read them: a policy is past 2^53, where a
    JSON number loses precision in JavaScript and the wallet would sign another digest.
    """
    names = [entry["name"] for entry in TYPES["Grant"]]
    message = dict(zip(names, (*grant.as_tuple(), nonce), strict=True))
    return _typed_data(
        domain,
        "Grant",
        {**message, "assetTokenId": str(message["assetTokenId"]), "policy": str(message["policy"])},
    )


def revoke_typed_data(
    domain: eip712.Domain, grant_id: bytes, reason_code: bytes, nonce: int
) -> dict[str, Any]:
    """The `RevokeBySubject` payload: the subject withdraws the whole grant."""
    return _typed_data(
        domain,
        "RevokeBySubject",
        {
            "grantId": bytes32(grant_id, "grantId"),
            "reasonCode": bytes32(reason_code, "reasonCode"),
            "nonce": nonce,
        },
    )


def revoke_leaf_typed_data(domain: eip712.Domain, grant_id: bytes, leaf: bytes, nonce: int) -> dict[str, Any]:
    """The `RevokeScopeLeaf` payload: the subject withdraws one resource (its Merkle leaf) of a grant."""
    return _typed_data(
        domain,
        "RevokeScopeLeaf",
        {"grantId": bytes32(grant_id, "grantId"), "leaf": bytes32(leaf, "leaf"), "nonce": nonce},
    )


def burn_nonce_typed_data(domain: eip712.Domain, subject_commit: bytes, nonce: int) -> dict[str, Any]:
    """The `BurnNonce` payload: the subject voids a signature given out but not yet submitted."""
    return _typed_data(
        domain, "BurnNonce", {"subjectCommit": bytes32(subject_commit, "subjectCommit"), "nonce": nonce}
    )


def _typed_data(domain: eip712.Domain, primary: str, message: dict[str, Any]) -> dict[str, Any]:
    uint(message["nonce"], "nonce")
    return eip712.struct_data(domain, primary, TYPES[primary], message)


def sign(keys: GrantKeys, payload: dict[str, Any]) -> bytes:
    """The grant's subject key's signature of `payload` (65 bytes r ‖ s ‖ v, low s)."""
    return signatures.sign(PrivateKey(keys.private_key), eip712.digest(payload))


def subject_sig(salt: bytes, signature: bytes) -> bytes:
    """The `subjectSig` of an EOA subject key: abi.encode(bytes32 subjectSalt, bytes signature)."""
    if len(signature) != 64:  # EIP-2098's compact form has nothing left to check
        signatures.check(signature)
    return encode(["bytes32", "bytes"], [bytes32(salt, "subject salt"), bytes(signature)])


def signed_by_subject(keys: GrantKeys, payload: dict[str, Any]) -> bytes:
    """The `subjectSig` a relayer submits for `payload`, signed with the grant's own subject key."""
    return subject_sig(keys.salt, sign(keys, payload))


def subject_sig_1271(salt: bytes, key_address: str, inner_signature: bytes) -> bytes:
    """The `subjectSig` of a contract subject key (ERC-1271, e.g. a guardianship account):
    abi.encode(bytes32 subjectSalt, bytes key ‖ innerSignature), the contract asking the key."""
    key = bytes.fromhex(checksum(key_address, "subject key")[2:])
    return encode(["bytes32", "bytes"], [bytes32(salt, "subject salt"), key + bytes(inner_signature)])


def sub_grant_id(parent_grant_id: bytes, grant: GrantInput) -> bytes:
    """A sub-grant's id, known before it is sent: keccak256(abi.encode(parentGrantId, g))."""
    return keccak(
        encode(["bytes32", GRANT_TUPLE], [bytes32(parent_grant_id, "parentGrantId"), grant.as_tuple()])
    )


# ---- scopes: salted resource names, the leaves of a grant's scope ----

CATEGORY_PREFIX: Final = "carechain:category:"
CATEGORY_SCOPES: Final[dict[str, str]] = {info.name: CATEGORY_PREFIX + info.name for info in SCOPES}


def category_scope(category: str) -> str:
    """The resource name of a FHIR data category (a scope of `carechain.core.purposes.SCOPES`)."""
    name = CATEGORY_SCOPES.get(category)
    if name is None:
        raise InputError(f"unknown data category {category!r}: one of {', '.join(CATEGORY_SCOPES)}")
    return name


def resource_id(scope_salt: bytes, name: str) -> bytes:
    """abi.encode(bytes32 scopeSalt, bytes32 keccak256(utf8 name)): unguessable without the salt."""
    if not isinstance(name, str) or not name:
        raise InputError(f"a resource name is a non-empty string, got {name!r}")
    return encode(["bytes32", "bytes32"], [bytes32(scope_salt, "scope salt"), keccak(text=name)])


def resource_hash(scope_salt: bytes, name: str) -> bytes:
    """keccak256(resourceId): a single-resource grant's `scopeRef`, and what `checkAccess` is asked about."""
    return keccak(resource_id(scope_salt, name))


def scope_leaf(scope_salt: bytes, name: str) -> bytes:
    """The Merkle leaf keccak256(bytes.concat(resourceHash)) (ERC-8356; OpenZeppelin's StandardMerkleTree)."""
    return keccak(resource_hash(scope_salt, name))
