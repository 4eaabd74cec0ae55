"""Talking to a node: connecting, sending transactions, and turning reverts into typed exceptions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from eth_abi.abi import decode as abi_decode
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractLogicError, TimeExhausted
from web3.types import TxParams, TxReceipt

from carechain.errors import ERROR_CLASSES, CareChainError, ConfigError, ContractError

LOCAL_CHAIN_IDS = frozenset({31337, 1337})
GAS_MARGIN = 1.2  # estimates are exact for our contracts; the margin covers state moving before mining


class ChainUnavailable(ConfigError):
    """The node at the RPC URL does not answer."""


class TransactionFailed(CareChainError):
    """A transaction was mined but reverted, or was not mined in time."""


def connect(rpc_url: str, timeout: float = 30.0) -> Web3:
    """A Web3 on `rpc_url`, checked to answer (one clear error when the node is down)."""
    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))
    try:
        w3.eth.chain_id  # noqa: B018 - a cheap call that proves the node answers
    except (requests.exceptions.RequestException, OSError) as err:
        raise ChainUnavailable(f"no Ethereum node answers at {rpc_url} ({type(err).__name__})") from err
    return w3


# ---- revert decoding ----------------------------------------------------------------------------


def _error_signature(entry: dict[str, Any]) -> str:
    return f"{entry['name']}({','.join(_abi_type(i) for i in entry['inputs'])})"


def _abi_type(param: dict[str, Any]) -> str:
    if param["type"].startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in param["components"])
        return f"({inner}){param['type'][5:]}"
    return str(param["type"])


def error_table(abi: list[dict[str, Any]]) -> dict[bytes, dict[str, Any]]:
    """Custom errors of an ABI by their 4-byte selector."""
    return {keccak(text=_error_signature(e))[:4]: e for e in abi if e.get("type") == "error"}


def decode_revert(abi: list[dict[str, Any]], data: bytes | str | None) -> CareChainError:
    """The typed exception for revert data: a named custom error with its arguments when known."""
    raw = HexBytes(data) if data else HexBytes(b"")
    entry = error_table(abi).get(bytes(raw[:4]))
    if entry is None:
        shown = raw.hex() if raw else "no data"
        return ContractError("UnknownRevert", {"data": shown}, f"transaction reverted ({shown})")
    types = [_abi_type(i) for i in entry["inputs"]]
    values = abi_decode(types, bytes(raw[4:]))
    arguments = {
        i["name"] or f"arg{n}": _plain(v)
        for n, (i, v) in enumerate(zip(entry["inputs"], values, strict=True))
    }
    cls = ERROR_CLASSES.get(entry["name"], ContractError)
    return cls(entry["name"], arguments)


def _plain(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return to_checksum_address(value)
    return value


def _revert_data(err: Exception) -> str | None:
    """Revert data from web3's ContractLogicError, or from the JSON-RPC error dict some stacks raise.

    Anvil puts the data in `data`; Ganache 7 in `data.result` (with `data.message` "revert").
    """
    data: Any = err.data if isinstance(err, ContractLogicError) else (err.args[0] if err.args else None)
    while isinstance(data, dict):
        data = data.get("data", data.get("result"))
    return data if isinstance(data, str) and data.startswith("0x") else None


def _is_revert(err: Exception) -> bool:
    return isinstance(err, ContractLogicError) or _revert_data(err) is not None


def call(function: ContractFunction, abi: list[dict[str, Any]]) -> Any:
    """A read (eth_call); a revert (UnknownTrial, UnknownRecord...) raises its typed exception."""
    try:
        return function.call()
    except (ContractLogicError, ValueError) as err:
        if not _is_revert(err):
            raise
        raise decode_revert(abi, _revert_data(err)) from None


# ---- sending ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TxResult:
    """A mined, successful transaction."""

    tx_hash: str
    block_number: int
    gas_used: int
    receipt: TxReceipt

    @property
    def contract_address(self) -> str | None:
        address = self.receipt.get("contractAddress")
        return str(address) if address else None


class Sender:
    """Sends transactions from a local key (signed here) or a node-unlocked account (local chains)."""

    def __init__(self, w3: Web3, account: LocalAccount | str, receipt_timeout: float = 180.0) -> None:
        self.w3 = w3
        self.account = account
        self.receipt_timeout = receipt_timeout

    @property
    def address(self) -> str:
        if isinstance(self.account, str):
            return to_checksum_address(self.account)
        return str(self.account.address)

    def transact(self, call: ContractFunction, abi: list[dict[str, Any]]) -> TxResult:
        """Estimate (a revert surfaces here, decoded), send, wait for the receipt."""
        return self.wait(self.send(call, abi), call, abi)

    def send(self, call: ContractFunction, abi: list[dict[str, Any]]) -> HexBytes:
        """Estimate and send; returns the transaction hash without waiting for it to be mined."""
        params: TxParams = {"from": self.address}
        try:
            params["gas"] = int(call.estimate_gas(params) * GAS_MARGIN)
        except (ContractLogicError, ValueError) as err:
            if not _is_revert(err):
                raise
            raise decode_revert(abi, _revert_data(err)) from None
        if isinstance(self.account, str):
            return HexBytes(call.transact(params))
        params["nonce"] = self.w3.eth.get_transaction_count(to_checksum_address(self.address), "pending")
        signed = self.account.sign_transaction(dict(call.build_transaction(params)))  # type: ignore[arg-type]
        return HexBytes(self.w3.eth.send_raw_transaction(signed.raw_transaction))

    def wait(
        self, tx_hash: HexBytes, call: ContractFunction | None = None, abi: list[dict[str, Any]] | None = None
    ) -> TxResult:
        """Wait for a sent transaction; a revert is decoded by replaying `call` at its block."""
        try:
            receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=self.receipt_timeout)
        except TimeExhausted as err:
            raise TransactionFailed(
                f"transaction {_hex(tx_hash)} not mined within {self.receipt_timeout:.0f}s"
            ) from err
        if receipt["status"] != 1:
            if call is not None and hasattr(call, "call"):  # constructors cannot be replayed
                try:  # replay at the block it failed in, to learn why
                    call.call({"from": self.address}, block_identifier=receipt["blockNumber"])
                except (ContractLogicError, ValueError) as err:
                    if not _is_revert(err):
                        raise
                    raise decode_revert(abi or [], _revert_data(err)) from None
            raise TransactionFailed(f"transaction {_hex(tx_hash)} reverted in block {receipt['blockNumber']}")
        return TxResult(_hex(tx_hash), receipt["blockNumber"], receipt["gasUsed"], receipt)

    def constructor(self, abi: list[dict[str, Any]], bytecode: str, *args: Any) -> ContractFunction:
        """A contract's constructor call, to `send`/`transact` like any other call."""
        factory = self.w3.eth.contract(abi=abi, bytecode=bytecode)
        return factory.constructor(*args)  # type: ignore[return-value]


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()
