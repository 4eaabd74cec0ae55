"""CARECHAIN_CONFIRMATIONS in `Sender.wait`: blocks on top counted, a reorg followed, a stuck head reported.

A stand-in node (no chain): its head and receipts are scripted, so every branch is reached exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from hexbytes import HexBytes
from web3.exceptions import TransactionNotFound

from carechain.core import sender as sending
from carechain.core.sender import Sender, confirmations_from_env
from carechain.errors import ConfigError, TransactionFailed

TX = HexBytes("0x" + "ab" * 32)
ACCOUNT = "0x" + "11" * 20


def _receipt(block: int, block_hash: str) -> dict[str, Any]:
    return {"blockNumber": block, "blockHash": HexBytes(block_hash * 32), "status": 1, "gasUsed": 21_000}


class _Node:
    """`w3.eth` of a scripted node: each read of the head takes the next value (the last one repeats)."""

    def __init__(self, heads: list[int], receipts: list[Any]) -> None:
        self.heads: Iterator[int] = iter(heads)
        self.last_head = heads[0]
        self.receipts = list(receipts)

    @property
    def block_number(self) -> int:
        self.last_head = next(self.heads, self.last_head)
        return self.last_head

    def get_transaction_receipt(self, tx_hash: HexBytes) -> Any:
        answer = self.receipts.pop(0) if len(self.receipts) > 1 else self.receipts[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def _sender(node: _Node, confirmations: int, timeout: float = 5.0) -> Sender:
    w3 = SimpleNamespace(eth=node, provider=SimpleNamespace(endpoint_uri="http://stand-in"))
    return Sender(w3, ACCOUNT, receipt_timeout=timeout, confirmations=confirmations)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def no_pause(monkeypatch):
    monkeypatch.setattr(sending, "CONFIRMATION_POLL", 0.0)


def test_waits_until_the_blocks_on_top_then_returns_the_same_receipt():
    node = _Node([10, 10, 11, 12], [_receipt(10, "a")])
    result = _sender(node, confirmations=2).wait(TX)
    assert result.block_number == 10 and node.last_head == 12


def test_a_reorg_that_moves_the_transaction_is_counted_from_its_new_block():
    node = _Node([11, 11, 12, 13], [_receipt(10, "a"), _receipt(11, "b"), _receipt(11, "b")])
    result = _sender(node, confirmations=1).wait(TX)
    assert result.block_number == 11 and result.receipt["blockHash"] == HexBytes("b" * 32)
    assert node.last_head == 12  # counted again from block 11, not from the dropped block 10


def test_a_head_that_does_not_move_ends_in_one_clear_error():
    node = _Node([10], [_receipt(10, "a")])
    with pytest.raises(TransactionFailed, match="did not get 3 confirmations within 0s"):
        _sender(node, confirmations=3, timeout=0.2).wait(TX)


def test_a_transaction_dropped_by_a_reorg_and_not_mined_again_is_reported():
    node = _Node([12], [_receipt(10, "a"), TransactionNotFound("gone")])
    with pytest.raises(TransactionFailed, match="left block 10 in a reorg and was not mined again"):
        _sender(node, confirmations=1, timeout=0.2).wait(TX)


def test_no_confirmations_is_the_receipt_alone():
    node = _Node([10], [_receipt(10, "a")])
    assert _sender(node, confirmations=0).wait(TX).block_number == 10


@pytest.mark.parametrize(("value", "expected"), [(None, 0), ("", 0), ("0", 0), ("4", 4)])
def test_the_setting_from_the_environment(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("CARECHAIN_CONFIRMATIONS", raising=False)
    else:
        monkeypatch.setenv("CARECHAIN_CONFIRMATIONS", value)
    assert confirmations_from_env() == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [("two", "is not a whole number"), ("-1", "must be 0 or more"), ("1.5", "is not a whole number")],
)
def test_a_bad_setting_is_one_clear_error(monkeypatch, value, message):
    monkeypatch.setenv("CARECHAIN_CONFIRMATIONS", value)
    with pytest.raises(ConfigError, match=message):
        confirmations_from_env()


def test_a_negative_count_is_refused():
    with pytest.raises(ConfigError, match="confirmations must be 0 or more, not -1"):
        _sender(_Node([0], [_receipt(0, "a")]), confirmations=-1)
