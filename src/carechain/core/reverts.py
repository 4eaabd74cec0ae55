"""Revert data turned into typed exceptions, in one place: every read, estimate, simulation, send and
replay of a failed transaction runs inside `reverts_decoded`, which decodes through `decode_revert`;
`call` is a read that does so.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractLogicError, Web3RPCError
from web3.types import TxParams

from carechain.core.transport import RetryPolicy, retrying
from carechain.errors import ERROR_CLASSES, CareChainError, ContractError, InputError


def _error_signature(entry: dict[str, Any]) -> str:
    return f"{entry['name']}({','.join(abi_type(i) for i in entry['inputs'])})"


def abi_type(param: dict[str, Any]) -> str:
    """The canonical type of an ABI parameter, tuples spelled out: "(address,bytes32)[]"."""
    if param["type"].startswith("tuple"):
        inner = ",".join(abi_type(c) for c in param["components"])
        return f"({inner}){param['type'][5:]}"
    return str(param["type"])


def encode_call(abi: list[dict[str, Any]], function: str, *args: Any) -> bytes:
    """Calldata of `function(*args)`: its selector and eth-abi's encoding of the arguments, in one pass.

    What web3.py's contract functions send, without their per-argument Python checks (for a batch of
    hundreds of tuples those take seconds; eth-abi alone takes milliseconds).
    """
    entries = [e for e in abi if e.get("type") == "function" and e.get("name") == function]
    entry = next((e for e in entries if len(e["inputs"]) == len(args)), None)
    if entry is None:
        raise InputError(f"the ABI has no function {function} taking {len(args)} arguments")
    types = [abi_type(i) for i in entry["inputs"]]
    return keccak(text=f"{function}({','.join(types)})")[:4] + abi_encode(types, args)


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
    types = [abi_type(i) for i in entry["inputs"]]
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


def revert_data(err: Exception) -> str | None:
    """Revert data from web3's ContractLogicError, or from the JSON-RPC error dict some stacks raise.

    Anvil puts the data in `data`; Ganache 7 in `data.result` (with `data.message` "revert"), or, for an
    eth_call given its gas limit, in `data.<tx hash or "0x">.return` or `.reason` (`error` "revert").
    """
    data: Any = err.data if isinstance(err, ContractLogicError) else (err.args[0] if err.args else None)
    while isinstance(data, dict):
        if "data" in data or "result" in data:
            data = data.get("data", data.get("result"))
            continue
        reverted = [
            entry for entry in data.values() if isinstance(entry, dict) and entry.get("error") == "revert"
        ]
        if len(reverted) != 1:
            return None
        data = next(
            (value for value in (reverted[0].get("return"), reverted[0].get("reason")) if _hex(value)), None
        )
    return data if _hex(data) else None


def _hex(value: object) -> bool:
    return isinstance(value, str) and value.startswith("0x")


def is_revert(err: Exception) -> bool:
    return isinstance(err, ContractLogicError) or revert_data(err) is not None


@contextmanager
def reverts_decoded(abi: list[dict[str, Any]]) -> Iterator[None]:
    """A revert raised in the block becomes its typed exception (decoded against `abi`); any other error
    passes through as it is."""
    try:
        yield
    except (ContractLogicError, Web3RPCError, ValueError) as err:
        if not is_revert(err):
            raise
        raise decode_revert(abi, revert_data(err)) from None


def call(
    function: ContractFunction,
    abi: list[dict[str, Any]],
    retry: RetryPolicy | None = None,
    caller: str | None = None,
    gas: int | None = None,
    block: int | None = None,
) -> Any:
    """A read (eth_call), from `caller` when the answer depends on who asks (ERC-8356's `checkAccess`),
    with a gas limit of `gas` when given, at `block` (default: the latest); a revert (UnknownTrial,
    UnknownRecord...) raises its typed exception.

    A node that does not answer is asked again (`retry`), then `ChainUnavailable`.
    """
    params: TxParams = {} if caller is None else {"from": to_checksum_address(caller)}
    if gas is not None:
        params["gas"] = gas
    with reverts_decoded(abi):
        return retrying(
            function.w3, f"eth_call {function.fn_name}", lambda: function.call(params, block), retry
        )
