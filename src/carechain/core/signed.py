"""A signed EIP-712 action (fields + signature) that one party signs and another submits.

Serialised as JSON so a patient's wallet or app can hand it to a clinic or relayer. The fields are
exactly the EIP-712 message; the contract's `...BySig` entry point takes them in the same order,
followed by the signature.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from carechain.core import eip712
from carechain.errors import InputError

# The contract each signed action belongs to.
CONTRACT_OF: dict[str, str] = {
    primary: contract for contract, types in eip712.TYPES.items() for primary in types
}


@dataclass(frozen=True)
class SignedAction:
    """`kind` is the EIP-712 primary type (AccessGrant, AccessRevoke...)."""

    kind: str
    fields: dict[str, Any]
    signature: bytes

    @classmethod
    def sign(
        cls, account: LocalAccount, domain: eip712.Domain, kind: str, fields: dict[str, Any]
    ) -> SignedAction:
        payload = eip712.typed_data(domain, kind, fields, CONTRACT_OF[kind])
        return cls(kind, payload["message"], eip712.sign(account, payload))

    @property
    def signer(self) -> str:
        return str(self.fields["patient"])

    def args(self) -> list[Any]:
        """The contract call's arguments: the fields in EIP-712 order, then the signature."""
        order = [f["name"] for f in eip712.TYPES[CONTRACT_OF[self.kind]][self.kind]]
        return [_abi_value(self.fields[name]) for name in order] + [self.signature]

    def to_json(self) -> str:
        return json.dumps(
            {"kind": self.kind, **self.fields, "signature": "0x" + self.signature.hex()}, indent=2
        )

    @classmethod
    def from_json(cls, text: str) -> SignedAction:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise InputError(f"not a signed action: invalid JSON ({err.msg})") from err
        kind = data.get("kind") if isinstance(data, dict) else None
        if kind not in CONTRACT_OF:
            raise InputError(f"not a signed action: unknown kind {kind!r}")
        names = [f["name"] for f in eip712.TYPES[CONTRACT_OF[kind]][kind]]
        missing = [name for name in [*names, "signature"] if name not in data]
        if missing:
            raise InputError(f"signed {kind} misses {', '.join(missing)}")
        try:
            signature = bytes.fromhex(str(data["signature"]).removeprefix("0x"))
        except ValueError:
            raise InputError(f"signed {kind}: the signature is not hex") from None
        return cls(kind, {name: data[name] for name in names}, signature)

    @classmethod
    def load(cls, path: Path) -> SignedAction:
        try:
            return cls.from_json(path.read_text())
        except OSError as err:
            raise InputError(f"cannot read {path}: {err.strerror}") from err
        except UnicodeDecodeError:
            raise InputError(f"{path} is not a signed action file (not UTF-8 text)") from None


def _abi_value(value: Any) -> Any:
    """JSON holds bytes32 as 0x-hex; web3 wants bytes for them (addresses stay strings)."""
    if isinstance(value, str) and value.startswith("0x") and len(value) == 66:
        return bytes.fromhex(value[2:])
    return value
