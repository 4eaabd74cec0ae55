"""Sends retried correctly, not blindly: a taken nonce, a lost answer, an underpriced replacement.

Each test races the Sender on a node of its own: a transaction from the same key sent behind its back
(`HookedProvider.before`), or an answer lost on the way back (`lose_answer`). What must hold every time:
the call lands exactly once, nothing from the same key is cancelled, and the hash returned is the mined one.
"""

from __future__ import annotations

from typing import Any

import pytest
from web3 import Web3
from web3.exceptions import TransactionNotFound

from carechain.core.sender import Sender
from reliability.support import (
    FAST,
    GWEI,
    HMB,
    LABS,
    HookedProvider,
    consent_registry,
    decode_raw,
    lose_answer,
    mined_from,
    node,
    patient,
    rpc,
    sign,
    transfer,
)

GRANTEE = "0x" + "22" * 20


@pytest.fixture(params=[True, False], ids=["automine", "manual"])
def chain(request):
    """(a plain Web3 on a node of the test's own, a hooked Web3 for the Sender, its hooks, the registry, the
    first block to scan); "manual" has automine off: sent transactions wait until the test mines."""
    with node() as anvil:
        w3 = Web3(Web3.HTTPProvider(anvil.url))
        registry = consent_registry(w3)
        if not request.param:
            rpc(w3, "evm_setAutomine", False)
        hooked = HookedProvider(anvil.url)
        yield w3, Web3(hooked), hooked, registry, w3.eth.block_number + 1


automine = pytest.mark.parametrize("chain", [True], indirect=True, ids=["automine"])
manual = pytest.mark.parametrize("chain", [False], indirect=True, ids=["manual"])


def _grant(registry: Any, sender_w3: Web3) -> Any:
    return sender_w3.eth.contract(registry.address, abi=registry.abi).functions.grant(GRANTEE, HMB, LABS, 0)


def _grants(w3: Web3, registry: Any, since: int) -> list[dict[str, Any]]:
    return [tx for tx in mined_from(w3, patient().address, since) if tx["to"] == registry.address]


@automine
def test_nonce_taken_behind_the_senders_back_is_re_read_and_re_signed(chain):
    w3, sender_w3, hooked, registry, since = chain
    key = patient()
    nonce = w3.eth.get_transaction_count(key.address)
    hooked.before["eth_sendRawTransaction"] = lambda _: transfer(w3, key, nonce)  # mined at once
    sender = Sender(sender_w3, key, retry=FAST)
    result = sender.transact(_grant(registry, sender_w3), registry.abi)

    assert hooked.counts["eth_sendRawTransaction"] == 2  # refused ("nonce too low"), then re-signed
    mined = mined_from(w3, key.address, since)
    assert [tx["nonce"] for tx in mined] == [nonce, nonce + 1]
    assert [tx["to"] for tx in mined] == ["0x" + "11" * 20, registry.address]  # the transfer stands
    assert [tx["hash"].to_0x_hex() for tx in _grants(w3, registry, since)] == [result.tx_hash]
    assert registry.functions.getConsent(key.address, GRANTEE, HMB).call()[0] == LABS  # scopes


@automine
def test_a_lost_answer_of_a_mined_send_is_adopted_not_sent_again(chain):
    w3, sender_w3, hooked, registry, since = chain
    key = patient()
    hooked.after["eth_sendRawTransaction"] = lose_answer
    sender = Sender(sender_w3, key, retry=FAST)
    result = sender.transact(_grant(registry, sender_w3), registry.abi)

    assert hooked.counts["eth_sendRawTransaction"] == 2  # the retry hears "nonce too low": it was mined
    grants = _grants(w3, registry, since)
    assert [tx["hash"].to_0x_hex() for tx in grants] == [result.tx_hash]
    assert len(mined_from(w3, key.address, since)) == 1


@manual
def test_a_lost_answer_of_a_pooled_send_waits_for_the_known_one(chain):
    w3, sender_w3, hooked, registry, since = chain
    key = patient()
    hooked.after["eth_sendRawTransaction"] = lose_answer
    sender = Sender(sender_w3, key, retry=FAST)
    tx_hash = sender.send(_grant(registry, sender_w3), registry.abi)
    assert hooked.counts["eth_sendRawTransaction"] == 2  # the retry hears "already imported"
    rpc(w3, "evm_mine")
    result = sender.wait(tx_hash)
    assert [tx["hash"].to_0x_hex() for tx in mined_from(w3, key.address, since)] == [result.tx_hash]


@manual
def test_another_pending_transaction_at_the_nonce_is_not_cancelled(chain):
    """ "replacement transaction underpriced" for a different transaction: take the next nonce."""
    w3, sender_w3, hooked, registry, since = chain
    key = patient()
    nonce = w3.eth.get_transaction_count(key.address, "pending")
    other: list[str] = []
    hooked.before["eth_sendRawTransaction"] = lambda _: other.append(transfer(w3, key, nonce))  # pays more
    sender = Sender(sender_w3, key, retry=FAST)
    tx_hash = sender.send(_grant(registry, sender_w3), registry.abi)
    rpc(w3, "evm_mine")
    result = sender.wait(tx_hash)

    assert hooked.counts["eth_sendRawTransaction"] == 2
    mined = mined_from(w3, key.address, since)
    assert [(tx["nonce"], tx["hash"].to_0x_hex()) for tx in mined] == [
        (nonce, other[0]),
        (nonce + 1, result.tx_hash),
    ]


@manual
def test_a_cheaper_copy_of_the_call_is_replaced_with_a_fee_bump(chain):
    """A cheaper copy of this very call pending at the nonce: re-signed 12.5 % above it, it replaces it."""
    w3, sender_w3, hooked, registry, since = chain
    key = patient()
    copies: list[dict[str, Any]] = []

    def cheaper_copy(params: list[Any]) -> None:
        ours = decode_raw(params[0])
        copy = {**ours, "maxPriorityFeePerGas": ours["maxPriorityFeePerGas"] // 2, "gas": ours["gas"] + 1}
        copies.append({**copy, "hash": sign(key, copy).hash})
        w3.eth.send_raw_transaction(sign(key, copy).raw_transaction)

    hooked.before["eth_sendRawTransaction"] = cheaper_copy
    sender = Sender(sender_w3, key, retry=FAST)
    tx_hash = sender.send(_grant(registry, sender_w3), registry.abi)
    rpc(w3, "evm_mine")
    result = sender.wait(tx_hash)

    assert hooked.counts["eth_sendRawTransaction"] == 2  # underpriced, then bumped
    mined = mined_from(w3, key.address, since)
    assert [tx["hash"].to_0x_hex() for tx in mined] == [result.tx_hash]  # one grant, ours
    assert mined[0]["maxFeePerGas"] >= copies[0]["maxFeePerGas"] * 9 // 8
    assert mined[0]["maxPriorityFeePerGas"] >= copies[0]["maxPriorityFeePerGas"] * 9 // 8
    with pytest.raises(TransactionNotFound):
        w3.eth.get_transaction(copies[0]["hash"])  # replaced, so never mined


@manual
def test_a_copy_of_the_call_that_pays_more_is_waited_for(chain):
    w3, sender_w3, hooked, registry, since = chain
    key = patient()
    copies: list[str] = []

    def dearer_copy(params: list[Any]) -> None:
        ours = decode_raw(params[0])
        copy = {**ours, "maxFeePerGas": 50 * GWEI, "maxPriorityFeePerGas": 5 * GWEI}
        copies.append("0x" + bytes(w3.eth.send_raw_transaction(sign(key, copy).raw_transaction)).hex())

    hooked.before["eth_sendRawTransaction"] = dearer_copy
    sender = Sender(sender_w3, key, retry=FAST)
    tx_hash = sender.send(_grant(registry, sender_w3), registry.abi)
    assert "0x" + bytes(tx_hash).hex() == copies[0]  # not a second grant: the known one
    rpc(w3, "evm_mine")
    sender.wait(tx_hash)
    assert [tx["hash"].to_0x_hex() for tx in mined_from(w3, key.address, since)] == copies
