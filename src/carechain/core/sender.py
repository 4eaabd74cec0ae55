"""Sending transactions: one dispatch loop for signed and node-unlocked sends, one receipt wait.

Sending is retried only where that cannot make a duplicate: a signed transaction is the same bytes on
every try, so a lost answer shows up as "already known" or "nonce too low" for a transaction that is in
fact there, and is adopted; a nonce another transaction took is re-read and the transaction re-signed.
A node-unlocked send is never tried again after a lost answer. The two differ only in how one try is
submitted (`Sender._submit_signed`, `Sender._submit_unlocked`); `Sender._dispatch` is the loop.
A mined transaction counts once CARECHAIN_CONFIRMATIONS more blocks (default 0) lie on top of its block.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import TransactionNotFound, Web3RPCError
from web3.types import BlockIdentifier, Nonce, RPCEndpoint, TxParams, TxReceipt, Wei

from carechain.core.batching import GAS_MARGIN, tx_gas_cap_from_env
from carechain.core.reverts import reverts_decoded
from carechain.core.transport import NO_ANSWER, RetryPolicy, endpoint, retrying
from carechain.errors import ChainUnavailable, ConfigError, InputError, OutOfGas, TransactionFailed

SEND_ATTEMPTS = 5  # re-signings after a taken nonce or an underpriced replacement, before giving up
FEE_BUMP = 8  # a replacement pays 1/8 (12.5 %) more than the transaction it replaces; geth needs 10 %
CONFIRMATION_POLL = 0.25  # seconds between looks at the head while a transaction waits for confirmations
RECEIPT_POLL = (0.02, 0.5)  # seconds between looks for a receipt: the first, doubled up to the second

T = TypeVar("T")


def confirmations_from_env() -> int:
    """CARECHAIN_CONFIRMATIONS: blocks a sent transaction waits for on top of its own (default 0)."""
    text = os.environ.get("CARECHAIN_CONFIRMATIONS")
    if not text:
        return 0
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"CARECHAIN_CONFIRMATIONS={text!r} is not a whole number") from None
    if value < 0:
        raise ConfigError(f"CARECHAIN_CONFIRMATIONS={text!r} must be 0 or more")
    return value


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
    """Sends transactions from a local key (signed here) or a node-unlocked account (local chains).

    Node calls are retried while the node does not answer (`retry`, default `RetryPolicy.from_env()`).
    A mined transaction is waited on until `confirmations` blocks lie on top of its block (default
    CARECHAIN_CONFIRMATIONS, else 0: its receipt is enough), as `carechain index --confirmations N` stays
    N blocks behind the head; if a reorganisation moved it meanwhile, its new block is waited on.
    A signed transaction whose nonce another transaction took (sent from the same key behind this
    Sender's back) is re-signed with the next pending nonce, unless it is the one that took it (a send
    whose answer was lost); one whose nonce a pending transaction holds ("replacement transaction
    underpriced") waits for that transaction if it is a copy of this call that pays as much, replaces
    it with a fee bump if it is a cheaper copy, and otherwise takes the next nonce, so no other
    transaction is ever cancelled and none is ever sent twice.
    No transaction asks for more than `tx_gas_cap` gas (default CARECHAIN_TX_GAS_CAP, else 2^24: the
    per-transaction cap of EIP-7825): a call whose estimate is over it is an InputError before anything
    is sent (batch it smaller: `carechain.core.batching.Planner`), and the margin on an estimate under
    it stops at the cap.
    """

    def __init__(
        self,
        w3: Web3,
        account: LocalAccount | str,
        receipt_timeout: float = 180.0,
        retry: RetryPolicy | None = None,
        confirmations: int | None = None,
        tx_gas_cap: int | None = None,
    ) -> None:
        self.w3 = w3
        self.account = account
        self.receipt_timeout = receipt_timeout
        self.retry = retry or RetryPolicy.from_env()
        self._chain_id: int | None = None
        self.confirmations = confirmations_from_env() if confirmations is None else confirmations
        if self.confirmations < 0:
            raise ConfigError(f"confirmations must be 0 or more, not {self.confirmations}")
        self.tx_gas_cap = tx_gas_cap_from_env() if tx_gas_cap is None else tx_gas_cap

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
        estimate: TxParams = {"from": self.address}
        with reverts_decoded(abi):
            gas = self._rpc("eth_estimateGas", lambda: call.estimate_gas(estimate))
        self._check_gas(gas)
        return self._send({"gas": min(int(gas * GAS_MARGIN), self.tx_gas_cap)}, call.build_transaction)

    def _check_gas(self, gas: int) -> None:
        if gas > self.tx_gas_cap:
            raise InputError(
                f"the transaction needs {gas:,} gas, over the {self.tx_gas_cap:,} gas a transaction may ask "
                "for on this network (EIP-7825; CARECHAIN_TX_GAS_CAP): send it in smaller batches"
            )

    @property
    def chain_id(self) -> int:
        """The chain's id, asked of the node once."""
        if self._chain_id is None:
            self._chain_id = int(self._rpc("eth_chainId", lambda: self.w3.eth.chain_id))
        return self._chain_id

    def pending_nonce(self) -> int:
        """The next nonce of this account, counting its transactions still in the node's pool."""
        address = to_checksum_address(self.address)
        return self._rpc(
            "eth_getTransactionCount", lambda: self.w3.eth.get_transaction_count(address, "pending")
        )

    # ---- pre-encoded calldata (large batches: no web3.py encoding, no eth_estimateGas) -------------

    def simulate(
        self,
        to: str,
        data: bytes,
        abi: list[dict[str, Any]],
        gas: int | None = None,
        block: BlockIdentifier = "pending",
    ) -> bytes:
        """One eth_call of `data` to `to` from this account, with a gas limit of `gas` when given.

        A revert raises its typed exception (decoded against `abi`); running out of `gas` raises
        `OutOfGas`. At "pending" (the default) the call runs after this account's transactions still
        in the pool, so a batch may be checked while the one before it is being mined.
        """
        params: TxParams = {"from": self.address, "to": to_checksum_address(to), "data": HexBytes(data)}
        if gas is not None:
            params["gas"] = gas
        try:
            with reverts_decoded(abi):
                result = self._rpc("eth_call", lambda: self.w3.eth.call(params, block))
        except Web3RPCError as err:
            if gas is not None and "gas" in _rpc_message(err):
                raise OutOfGas(f"the call to {to} needs more than {gas:,} gas") from err
            raise
        return bytes(result)

    def estimate(self, to: str, data: bytes, abi: list[dict[str, Any]]) -> int:
        """eth_estimateGas of `data` to `to` (slow on Anvil for large batches: it runs them many times)."""
        params: TxParams = {"from": self.address, "to": to_checksum_address(to), "data": HexBytes(data)}
        with reverts_decoded(abi):
            gas = self._rpc("eth_estimateGas", lambda: self.w3.eth.estimate_gas(params, "pending"))
        return int(gas)

    def send_raw(self, to: str, data: bytes, gas: int) -> HexBytes:
        """Sign (or have the node sign) and send `data` to `to` with gas limit `gas`; nothing estimated,
        nothing waited for. The next pending nonce is used, so calls in a row get distinct nonces and
        may be mined while the next is sent; lost answers and taken nonces are handled as in `send`.
        A `gas` over `tx_gas_cap` is an InputError: the network would refuse the transaction."""
        self._check_gas(gas)
        return self._send(
            {"to": to_checksum_address(to), "data": HexBytes(data), "gas": gas, "value": Wei(0)}
        )

    def _rpc(self, what: str, fn: Callable[[], T]) -> T:
        return retrying(self.w3, what, fn, self.retry)

    def _send(self, fields: TxParams, build: Callable[[TxParams], TxParams] | None = None) -> HexBytes:
        """What `send` and `send_raw` share once their fields are known: the sender, the next pending
        nonce, the chain id and the fees filled in, the transaction built (`build`, for a contract call)
        and dispatched."""
        params: TxParams = {
            **fields,
            "from": self.address,
            "nonce": Nonce(self.pending_nonce()),
            "chainId": self.chain_id,
        }
        params.update(self._rpc("reading the fees", lambda: fees(self.w3, params)))
        if build is not None:
            params = self._rpc("building the transaction", lambda: build(params))
        return self._dispatch(dict(params))

    def _dispatch(self, tx: dict[str, Any]) -> HexBytes:
        """Submit `tx` until the node takes it (or a copy of it already sent), re-nonced or fee-bumped
        between tries as `Sender` describes; how one try is submitted depends on who signs."""
        submit = self._submit_unlocked if isinstance(self.account, str) else self._submit_signed
        signed: list[HexBytes] = []  # the hash of each version signed here (none when the node signs)
        for _ in range(SEND_ATTEMPTS):
            try:
                return submit(tx, signed)
            except Web3RPCError as err:
                reason = _rpc_message(err)
                if signed and _is_known(reason):  # this very transaction is in the pool already: wait for it
                    return signed[-1]
                if "nonce too low" in reason:
                    landed = next((h for h in signed if self._exists(h)), None)
                    if landed is not None:  # ours took the nonce: a try whose answer was lost got through
                        return landed
                    tx["nonce"] = max(self.pending_nonce(), int(tx["nonce"]) + 1)
                elif "replacement transaction underpriced" in reason:
                    adopted = self._make_room(tx)
                    if adopted is not None:
                        return adopted
                else:
                    raise
        tries, owner = ("signings", "key") if signed else ("tries", "account")
        raise TransactionFailed(
            f"transaction from {self.address} not accepted by {endpoint(self.w3)} after {SEND_ATTEMPTS} "
            f"{tries} (nonce {tx['nonce']}): other transactions from the same {owner} keep taking its nonce"
        )

    def _submit_signed(self, tx: dict[str, Any], signed: list[HexBytes]) -> HexBytes:
        """Sign here and eth_sendRawTransaction: the same bytes on every retry of a lost answer, so a
        retry cannot make a second transaction; the hash is recorded for adoption."""
        account = cast(LocalAccount, self.account)
        raw = HexBytes(account.sign_transaction(tx).raw_transaction)
        signed.append(HexBytes(keccak(raw)))
        return HexBytes(self._rpc("eth_sendRawTransaction", lambda: self.w3.eth.send_raw_transaction(raw)))

    def _submit_unlocked(self, tx: dict[str, Any], signed: list[HexBytes]) -> HexBytes:
        """eth_sendTransaction: the node signs, so a retry after a lost answer could send a second one."""
        try:
            return HexBytes(self.w3.eth.send_transaction(tx))  # type: ignore[arg-type]
        except NO_ANSWER as err:
            raise ChainUnavailable(
                f"the Ethereum node at {endpoint(self.w3)} did not answer eth_sendTransaction "
                f"({type(err).__name__}); the transaction may have been sent: check nonce {tx['nonce']} "
                f"of {self.address} before re-running"
            ) from err

    def _make_room(self, tx: dict[str, Any]) -> HexBytes | None:
        """A pending transaction holds `tx`'s nonce: the hash to wait for instead, or None with `tx` changed.

        A copy of this call that pays at least as much: wait for it. A cheaper copy: replace it, fees
        bumped by the replacement rule. Another transaction: never cancel it; take the next nonce.
        """
        nonce = int(tx["nonce"])
        holder = self._pending_at(nonce)
        if holder is not None and not _same_call(holder, tx):
            tx["nonce"] = max(self.pending_nonce(), nonce + 1)
            return None
        if holder is not None and _pays_at_least(holder, tx):
            return HexBytes(holder["hash"])
        _bump_fees(tx, holder)  # a cheaper copy, or a holder the node does not show: replace it
        return None

    def _pending_at(self, nonce: int) -> dict[str, Any] | None:
        """This account's transaction at `nonce` in the node's pool (txpool_content), if the node shows it."""
        try:
            response = self._rpc(
                "txpool_content", lambda: self.w3.provider.make_request(RPCEndpoint("txpool_content"), [])
            )
        except (Web3RPCError, ValueError):
            return None
        pool = response.get("result") or {}
        for section in ("pending", "queued"):
            for sender, by_nonce in (pool.get(section) or {}).items():
                if str(sender).lower() == self.address.lower():
                    found = by_nonce.get(str(nonce))
                    if found is not None:
                        return dict(found)
        return None

    def _exists(self, tx_hash: HexBytes) -> bool:
        try:
            self._rpc("eth_getTransactionByHash", lambda: self.w3.eth.get_transaction(tx_hash))
        except TransactionNotFound:
            return False
        return True

    # ---- waiting for a transaction -----------------------------------------------------------------

    def wait(
        self, tx_hash: HexBytes, call: ContractFunction | None = None, abi: list[dict[str, Any]] | None = None
    ) -> TxResult:
        """Wait for a sent transaction; a revert is decoded by replaying `call` at its block."""
        return self._settled(tx_hash, logs=True, call=call, abi=abi or [])

    def confirm(self, tx_hash: HexBytes) -> TxResult:
        """Wait for a sent transaction like `wait`, reading its receipt without its logs: web3.py's
        formatting of a batch's hundreds of logs takes longer than mining it. The TxResult's receipt
        has `logs` empty unless `confirmations` are waited for; a revert raises TransactionFailed
        (replay the call to learn why)."""
        return self._settled(tx_hash, logs=False)

    def _settled(
        self,
        tx_hash: HexBytes,
        *,
        logs: bool,
        call: ContractFunction | None = None,
        abi: list[dict[str, Any]] | None = None,
    ) -> TxResult:
        """The one receipt wait of `wait` and `confirm`: mined, confirmed, then a success or an error."""
        receipt = self._receipt(tx_hash, time.monotonic() + self.receipt_timeout, logs=logs)
        if receipt is None:
            raise TransactionFailed(
                f"transaction {_hex(tx_hash)} not mined within {self.receipt_timeout:.0f}s"
            )
        if self.confirmations:  # then re-read in full once they are there
            receipt = self._confirmed(tx_hash, receipt)
        if receipt["status"] != 1:
            if call is not None and hasattr(call, "call"):  # constructors cannot be replayed
                with reverts_decoded(abi or []):  # replay at the block it failed in, to learn why
                    self._rpc(
                        f"replaying transaction {_hex(tx_hash)}",
                        lambda: call.call({"from": self.address}, block_identifier=receipt["blockNumber"]),
                    )
            raise TransactionFailed(f"transaction {_hex(tx_hash)} reverted in block {receipt['blockNumber']}")
        return TxResult(_hex(tx_hash), receipt["blockNumber"], receipt["gasUsed"], receipt)

    def _receipt(self, tx_hash: HexBytes, deadline: float, *, logs: bool) -> TxReceipt | None:
        """The receipt of `tx_hash` once it is mined (its logs formatted by web3.py only when `logs`),
        or None at `deadline`."""
        pause, longest = RECEIPT_POLL
        while True:
            receipt = self._rpc(
                f"waiting for transaction {_hex(tx_hash)}", lambda: self._read_receipt(tx_hash, logs=logs)
            )
            if receipt is not None:
                return receipt
            if time.monotonic() >= deadline:
                return None
            time.sleep(pause)
            pause = min(longest, pause * 2)

    def _read_receipt(self, tx_hash: HexBytes, *, logs: bool) -> TxReceipt | None:
        if logs:
            try:
                return self.w3.eth.get_transaction_receipt(tx_hash)
            except TransactionNotFound:
                return None
        response = self.w3.provider.make_request(RPCEndpoint("eth_getTransactionReceipt"), [_hex(tx_hash)])
        if "error" in response:
            raise TransactionFailed(f"the node refused the receipt of {_hex(tx_hash)}: {response['error']}")
        raw = response.get("result")
        return _brief_receipt(raw) if raw else None

    def _confirmed(self, tx_hash: HexBytes, receipt: TxReceipt) -> TxReceipt:
        """`receipt` once `confirmations` blocks lie on top of its block; re-read if a reorg moved it."""
        deadline = time.monotonic() + self.receipt_timeout
        while True:
            head = self._rpc("eth_blockNumber", lambda: self.w3.eth.block_number)
            if head >= receipt["blockNumber"] + self.confirmations:
                # a reorg may have dropped it back into the pool: wait for it to be mined again
                current = self._receipt(tx_hash, max(deadline, time.monotonic() + 1.0), logs=True)
                if current is None:
                    raise TransactionFailed(
                        f"transaction {_hex(tx_hash)} left block {receipt['blockNumber']} in a reorg "
                        f"and was not mined again within {self.receipt_timeout:.0f}s"
                    )
                if current["blockHash"] == receipt["blockHash"]:
                    return current
                receipt = current  # reorganised into another block: count from that one
                continue
            if time.monotonic() > deadline:
                raise TransactionFailed(
                    f"transaction {_hex(tx_hash)} mined in block {receipt['blockNumber']} did not get "
                    f"{self.confirmations} confirmations within {self.receipt_timeout:.0f}s"
                )
            time.sleep(CONFIRMATION_POLL)

    def constructor(self, abi: list[dict[str, Any]], bytecode: str, *args: Any) -> ContractFunction:
        """A contract's constructor call, to `send`/`transact` like any other call."""
        factory = self.w3.eth.contract(abi=abi, bytecode=bytecode)
        return factory.constructor(*args)  # type: ignore[return-value]


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def fees(w3: Web3, tx: TxParams) -> TxParams:
    """The fee fields web3.py's defaults fill in for `tx`: a gas price strategy's gasPrice when one is
    set, else EIP-1559 fees (the node's suggested tip, and a cap of the tip plus twice the latest base
    fee, so the transaction stays valid while base fees rise for a few blocks)."""
    price = w3.eth.generate_gas_price(tx)
    if price is not None:
        return {"gasPrice": price}
    tip = w3.eth.max_priority_fee
    base_fee = w3.eth.get_block("latest")["baseFeePerGas"]
    return {"maxPriorityFeePerGas": tip, "maxFeePerGas": Wei(tip + 2 * base_fee)}


def _brief_receipt(raw: dict[str, Any]) -> TxReceipt:
    """A raw receipt's fields that `TxResult` and the confirmation wait read, typed as web3.py types them;
    its logs left out (their formatting costs more than mining them)."""
    address = raw.get("contractAddress")
    brief = {
        "transactionHash": HexBytes(raw["transactionHash"]),
        "blockHash": HexBytes(raw["blockHash"]),
        "blockNumber": _int(raw["blockNumber"]),
        "status": _int(raw["status"]),
        "gasUsed": _int(raw["gasUsed"]),
        "contractAddress": to_checksum_address(address) if address else None,
        "logs": [],
    }
    return cast(TxReceipt, brief)


def _rpc_message(err: Web3RPCError) -> str:
    """The node's error message, lower case ("nonce too low", "already known"...)."""
    response = err.rpc_response or {}
    error = response.get("error") if isinstance(response, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return str(message or err.message or err).lower()


def _is_known(reason: str) -> bool:
    """geth says "already known", Anvil "transaction already imported", older nodes "known transaction"."""
    return any(word in reason for word in ("already known", "already imported", "known transaction"))


def _same_call(pending: dict[str, Any], tx: dict[str, Any]) -> bool:
    """`pending` (a txpool entry) makes the same call as `tx`: same target, data and value."""
    to = pending.get("to")
    return (
        (to or "").lower() == str(tx.get("to") or "").lower()
        and HexBytes(pending.get("input") or b"") == HexBytes(tx.get("data") or b"")
        and _int(pending.get("value")) == _int(tx.get("value"))
    )


def _fee_fields(tx: dict[str, Any]) -> tuple[str, ...]:
    return ("gasPrice",) if "gasPrice" in tx else ("maxFeePerGas", "maxPriorityFeePerGas")


def _pays_at_least(pending: dict[str, Any], tx: dict[str, Any]) -> bool:
    return all(_int(pending.get(field)) >= _int(tx.get(field)) for field in _fee_fields(tx))


def _bump_fees(tx: dict[str, Any], holder: dict[str, Any] | None) -> None:
    """Raise `tx`'s fees 12.5 % over its own and the holder's: the replacement rule (EIP-1559: both the
    fee cap and the tip; legacy: the gas price)."""
    for field in _fee_fields(tx):
        base = max(_int(tx.get(field)), _int((holder or {}).get(field)))
        tx[field] = base + max(1, -(-base // FEE_BUMP))
    if "maxFeePerGas" in tx:
        tx["maxFeePerGas"] = max(tx["maxFeePerGas"], tx["maxPriorityFeePerGas"])


def _int(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str):
        return int(value, 16) if value.startswith("0x") else int(value)
    return int(value)
