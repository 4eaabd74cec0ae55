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
from pathlib import Path
from typing import Any, Final

from eth_account.signers.local import LocalAccount

from carechain.core import eip712
from carechain.core.files import read_text
from carechain.errors import InputError

# The contract each signed action belongs to.
CONTRACT_OF: dict[str, str] = {
    primary: contract for contract, types in eip712.TYPES.items() for primary in types
}
LIFETIME: Final = 3600  # seconds a signature stays submittable unless its signer says otherwise


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
    def from_json(cls, text: str) -> SignedAction:
        names = {kind: _field_names(kind) for kind in CONTRACT_OF}
        return cls(*read_json(text, "signed action", names))

    @classmethod
    def load(cls, path: Path) -> SignedAction:
        return cls.from_json(read_text(path, "signed action file"))


def read_json(text: str, what: str, kinds: Mapping[str, Sequence[str]]) -> tuple[str, dict[str, Any], bytes]:
    """A signed action's file: its kind (one of `kinds`), the fields `kinds` names for it, its signature.

    Anything else is one InputError, naming the file as `what`.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"not a {what}: invalid JSON ({err.msg})") from err
    kind = data.get("kind") if isinstance(data, dict) else None
    if not isinstance(kind, str) or kind not in kinds:
        raise InputError(f"not a {what} (kind is {kind!r})")
    missing = [name for name in [*kinds[kind], "signature"] if name not in data]
    if missing:
        raise InputError(f"signed {kind} misses {', '.join(missing)}")
    try:
        signature = bytes.fromhex(str(data["signature"]).removeprefix("0x"))
    except ValueError:
        raise InputError(f"signed {kind}: the signature is not hex") from None
    return kind, {name: data[name] for name in kinds[kind]}, signature


def _field_names(kind: str) -> list[str]:
    return [f["name"] for f in eip712.TYPES[CONTRACT_OF[kind]][kind]]


def _abi_value(value: Any) -> Any:
    """JSON holds bytes32 as 0x-hex; web3 wants bytes for them (addresses stay strings)."""
    if isinstance(value, str) and value.startswith("0x") and len(value) == 66:
        return bytes.fromhex(value[2:])
    return value
