"""What every contract client shares: the contract, an optional sender, sends and reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from eth_typing import ChecksumAddress
from eth_utils.address import is_hex_address, to_checksum_address
from web3 import Web3

from carechain.core import eip712
from carechain.core.deployments import DEPENDENCIES, Manifest, load_abi
from carechain.core.reverts import call
from carechain.core.sender import Sender, TxResult
from carechain.errors import InputError

ClientT = TypeVar("ClientT", bound="ContractClient")


def checksum(value: str, what: str = "address") -> ChecksumAddress:
    """A checksummed address, or one clear InputError naming what was wrong."""
    if not isinstance(value, str) or not is_hex_address(value):
        raise InputError(f"{what} {value!r} is not an Ethereum address (0x followed by 40 hex digits)")
    digits = value[-40:]
    mixed = digits not in (digits.lower(), digits.upper())
    if mixed and to_checksum_address(value)[2:] != digits:  # mixed case but not EIP-55: a mistyped character
        raise InputError(f"{what} {value} has a bad checksum (EIP-55): a mistyped character?")
    return to_checksum_address(value)


def bytes32(value: bytes | str, what: str = "value") -> bytes:
    """32 bytes from bytes or 0x-hex, or one clear InputError."""
    if not isinstance(value, bytes | bytearray | str):  # bytes(5) would be five zero bytes, not an error
        raise InputError(f"a {what} is 32 bytes or 0x-hex, got {value!r}")
    try:
        raw = bytes.fromhex(value.removeprefix("0x")) if isinstance(value, str) else bytes(value)
    except ValueError:
        raise InputError(f"{what} {value!r} is not hex") from None
    if len(raw) != 32:
        raise InputError(f"a {what} is 32 bytes, got {len(raw)}")
    return raw


def uint(value: int, what: str, bits: int = 256, minimum: int = 0) -> int:
    """A whole number that fits the contract's uint<bits> (and is at least `minimum`), or one InputError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{what} {value!r} is not a whole number")
    if not minimum <= value < 2**bits:
        raise InputError(f"{what} {value} is out of range: a whole number from {minimum} to 2^{bits} - 1")
    return value


class ContractClient:
    """One deployment of one contract, seen from one account (the sender) or read-only."""

    name = ""

    def __init__(
        self, w3: Web3, address: str, abi: list[dict[str, Any]], sender: Sender | None = None
    ) -> None:
        self.w3 = w3
        self.abi = abi
        # Reverts are decoded against this ABI plus the errors of the contracts it calls (a
        # logAccess on an unknown record reverts with RecordRegistry's UnknownRecord).
        self.errors = abi
        self.contract = w3.eth.contract(address=checksum(address, self.name or "contract"), abi=abi)
        self.sender = sender

    @classmethod
    def from_manifest(cls: type[ClientT], w3: Web3, root: Path, sender: Sender | None = None) -> ClientT:
        """The deployment recorded in deployments/<chainId>.json."""
        manifest = Manifest.load(root, w3.eth.chain_id)
        client = cls(w3, manifest.address(cls.name), load_abi(root, cls.name), sender)
        client.errors = client.abi + _callee_errors(root, cls.name)
        return client

    @property
    def address(self) -> str:
        return str(self.contract.address)

    def with_sender(self: ClientT, sender: Sender) -> ClientT:
        """The same deployment, acting as another account."""
        client = type(self)(self.w3, self.address, self.abi, sender)
        client.errors = self.errors
        return client

    def domain(self) -> eip712.Domain:
        """The EIP-712 domain as the contract reports it (ERC-5267 `eip712Domain()`)."""
        _, name, version, chain_id, verifying_contract, _, _ = self._call("eip712Domain")
        return eip712.Domain(name, version, chain_id, verifying_contract)

    def _send(self, function: str, *args: Any) -> TxResult:
        if self.sender is None:
            raise InputError("this client is read-only: give it a Sender (a key) to send transactions")
        return self.sender.transact(getattr(self.contract.functions, function)(*args), self.errors)

    def _call(self, function: str, *args: Any) -> Any:
        return call(getattr(self.contract.functions, function)(*args), self.errors)


def _callee_errors(root: Path, name: str) -> list[dict[str, Any]]:
    """The custom errors of every contract `name` calls, directly or through its dependencies."""
    seen: list[str] = []
    pending = list(DEPENDENCIES.get(name, ()))
    while pending:
        callee = pending.pop()
        if callee not in seen:
            seen.append(callee)
            pending.extend(DEPENDENCIES.get(callee, ()))
    return [entry for callee in seen for entry in load_abi(root, callee) if entry.get("type") == "error"]
