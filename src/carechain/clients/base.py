"""What every contract client shares: the contract, an optional sender, sends and reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from web3 import Web3

from carechain.core import eip712
from carechain.core.deployments import DEPENDENCIES, Manifest, load_abi
from carechain.core.reverts import call
from carechain.core.sender import Sender, TxResult
from carechain.core.values import bytes32, checksum, uint
from carechain.errors import InputError

ClientT = TypeVar("ClientT", bound="ContractClient")

__all__ = ["ContractClient", "bytes32", "checksum", "uint"]  # the value checks live in core.values


class ContractClient:
    """One deployment of one contract, seen from one account (the sender) or read-only."""

    name = ""
    # What the contract calls besides its DEPENDENCIES (a factory's clones): their custom errors bubble up.
    callees: tuple[str, ...] = ()

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
        """The deployment recorded in deployments/<chainId>.json, once its addresses are checked to hold
        the contracts it names (`Manifest.check_code`)."""
        manifest = Manifest.load(root, w3.eth.chain_id)
        manifest.check_code(w3, root)
        return cls.at(w3, root, manifest.address(cls.name), sender)

    @classmethod
    def at(cls: type[ClientT], w3: Web3, root: Path, address: str, sender: Sender | None = None) -> ClientT:
        """The deployment at `address` (one no manifest records), with the ABI in `root` and the custom
        errors of the contracts it calls."""
        client = cls(w3, address, load_abi(root, cls.name), sender)
        client.errors = client.abi + _callee_errors(root, cls.name, cls.callees)
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

    def _call_from(self, caller: str, function: str, *args: Any) -> Any:
        """A read whose answer depends on who asks (msg.sender)."""
        return call(getattr(self.contract.functions, function)(*args), self.errors, caller=caller)


def _callee_errors(root: Path, name: str, callees: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The custom errors of every contract `name` calls (`callees` and its dependencies), directly or
    through their dependencies."""
    seen: list[str] = []
    pending = [*DEPENDENCIES.get(name, ()), *callees]
    while pending:
        callee = pending.pop()
        if callee not in seen:
            seen.append(callee)
            pending.extend(DEPENDENCIES.get(callee, ()))
    return [entry for callee in seen for entry in load_abi(root, callee) if entry.get("type") == "error"]
