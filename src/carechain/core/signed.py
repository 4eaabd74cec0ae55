"""Signed actions: an EIP-712 message one party signs and another submits, and the JSON file between them.

`Signed` is what every signed action shares: its typed data and digest, the contract call's arguments
(the fields in EIP-712 order, then the signature), its JSON file and that file's checks. `SignedAction`
holds any action by its EIP-712 field names (AccessGrants' four); `SignedGrant` and `SignedRevoke`
(`carechain.clients.consent`) hold a consent's with typed fields. The contract's `...BySig` entry point
takes the fields in the order of the EIP-712 type, followed by the signature.
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Final

from eth_account.signers.local import LocalAccount
from pydantic import BaseModel, ConfigDict, create_model

from carechain.core import eip712
from carechain.core.files import checked, parse_json, read_text, validated
from carechain.core.values import bytes32, checksum, hex_bytes, uint
from carechain.errors import InputError

# The contract each patient-signed action belongs to. ConsentGrants' acts are signed by per-grant subject
# keys, not by a patient's address (docs/private-consent.md), so they are not Signed actions.
PATIENT_SIGNED: Final = ("ConsentRegistry", "AccessGrants")
CONTRACT_OF: dict[str, str] = {
    primary: contract for contract in PATIENT_SIGNED for primary in eip712.TYPES[contract]
}
LIFETIME: Final = 3600  # seconds a signature stays submittable unless its signer says otherwise
MAX_SIGNATURE: Final = 4096  # bytes: room for a multisig wallet's (ERC-1271) signatures, not for abuse


def default_deadline(given: int | None) -> int:
    """A signature's deadline: `given`, else LIFETIME from now (long enough to hand the file over)."""
    return int(time.time()) + LIFETIME if given is None else given


class Signed(ABC):
    """A patient's EIP-712 signature over one action of `kind` (the primary type); anyone may submit it."""

    kind: str
    signature: bytes

    @abstractmethod
    def message(self) -> dict[str, Any]:
        """The EIP-712 message, by the type's field names (bytes32 as bytes or 0x-hex)."""

    @abstractmethod
    def json_fields(self) -> dict[str, Any]:
        """The file's fields besides `kind` and `signature`, as JSON values."""

    @property
    def signer(self) -> str:
        return str(self.message()["patient"])

    def typed_data(self, domain: eip712.Domain) -> dict[str, Any]:
        """The `eth_signTypedData_v4` payload the patient signs."""
        return eip712.typed_data(domain, self.kind, self.message(), CONTRACT_OF[self.kind])

    def digest(self, domain: eip712.Domain) -> bytes:
        """The EIP-712 digest the contract checks the signature against."""
        separator = eip712.domain_separator(domain)
        return eip712.typed_digest(separator, self.kind, self.message(), CONTRACT_OF[self.kind])

    def args(self) -> list[Any]:
        """The contract call's arguments: the fields in EIP-712 order, then the signature."""
        message = self.message()
        return [_abi_value(message[name]) for name in _field_names(self.kind)] + [self.signature]

    def to_json(self) -> str:
        body = {"kind": self.kind, **self.json_fields(), "signature": "0x" + self.signature.hex()}
        return json.dumps(body, indent=2)


@dataclass(frozen=True)
class SignedAction(Signed):
    """Any signed action by its EIP-712 field names (AccessGrant, AccessRevoke, RecordAccess...)."""

    kind: str
    fields: dict[str, Any]
    signature: bytes

    @classmethod
    def sign(
        cls, account: LocalAccount, domain: eip712.Domain, kind: str, fields: dict[str, Any]
    ) -> SignedAction:
        payload = eip712.typed_data(domain, kind, fields, CONTRACT_OF[kind])
        return cls(kind, payload["message"], eip712.sign(account, payload))

    def message(self) -> dict[str, Any]:
        return self.fields

    def json_fields(self) -> dict[str, Any]:
        return self.fields

    @classmethod
    def from_json(cls, text: str, where: str = "the document") -> SignedAction:
        names = {kind: _field_names(kind) for kind in CONTRACT_OF}
        return cls(*read_json(text, where, names))

    @classmethod
    def load(cls, path: Path) -> SignedAction:
        return cls.from_json(read_text(path, "signed action file"), str(path))


def read_json(text: str, where: str, kinds: Mapping[str, Sequence[str]]) -> tuple[str, dict[str, Any], bytes]:
    """A signed action's file: its kind (one of `kinds`), the fields `kinds` names for it, its signature.

    The fields are held to the kind's EIP-712 types (addresses, bytes32, uint<N> in range) by a pydantic
    model; anything else is one InputError naming the file (`where`) and the field.
    """
    data = parse_json(text, where)
    kind = data.get("kind") if isinstance(data, dict) else None
    if not isinstance(kind, str) or kind not in kinds:
        expected = " or ".join(f"signed {name}" for name in kinds) if len(kinds) < 3 else "signed action"
        found = f"kind is {kind!r}" if isinstance(data, dict) else "not a JSON object"
        raise InputError(f"{where} is not a {expected} ({found})")
    fields = validated(_model(kind, tuple(kinds[kind])), data, where).model_dump(exclude={"kind"})
    signature = fields.pop("signature")
    return kind, fields, signature


@cache
def _model(kind: str, names: tuple[str, ...]) -> type[BaseModel]:
    """The pydantic model of a signed `kind`'s file: its fields (named `names`, in EIP-712 order, typed
    as the EIP-712 type says), `kind` and the signature; nothing else."""
    types = [entry["type"] for entry in eip712.TYPES[CONTRACT_OF[kind]][kind]]
    fields: dict[str, Any] = {
        name: (Annotated[Any, _CHECKS[solidity]], ...) for name, solidity in zip(names, types, strict=True)
    }
    return create_model(
        f"Signed{kind}File",
        __config__=ConfigDict(extra="forbid", title=f"a signed {kind}"),
        kind=(str, ...),
        **fields,
        signature=(Annotated[bytes, checked(hex_bytes, limit=MAX_SIGNATURE)], ...),
    )


def _hex32(value: Any, what: str) -> str:
    """bytes32 as the file holds it, 0x-hex (bytes only for web3, by _abi_value)."""
    if not isinstance(value, str):
        raise InputError(f"{what} {value!r} is not 0x-hex")
    return "0x" + bytes32(value, what).hex()


_CHECKS = {
    "address": checked(checksum),
    "bytes32": checked(_hex32),
    "uint64": checked(uint, bits=64),
    "uint256": checked(uint, bits=256),
}


def _field_names(kind: str) -> list[str]:
    return [f["name"] for f in eip712.TYPES[CONTRACT_OF[kind]][kind]]


def _abi_value(value: Any) -> Any:
    """JSON holds bytes32 as 0x-hex; web3 wants bytes for them (addresses stay strings)."""
    if isinstance(value, str) and value.startswith("0x") and len(value) == 66:
        return bytes.fromhex(value[2:])
    return value
