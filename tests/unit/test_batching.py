"""carechain.core.batching: no planned transaction asks for more gas than the network's cap (EIP-7825).

Chain-free: the planner is arithmetic, and the chain it reads (the block gas limit) is a stand-in.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carechain.core.batching import (
    BLOCK_SHARE,
    EIP7825_TX_GAS_CAP,
    GAS_MARGIN,
    Planner,
    network_cap,
    planner,
    tx_gas_cap_from_env,
)
from carechain.core.sender import Sender
from carechain.errors import ConfigError, InputError
from carechain.offchain.consent_import import ITEM_GAS, MAX_BATCH, batch_gas, max_batch_size

ACCOUNT = "0x" + "11" * 20


def chain(block_gas_limit: int) -> SimpleNamespace:
    """A stand-in `w3` whose latest block has `block_gas_limit`."""
    return SimpleNamespace(eth=SimpleNamespace(get_block=lambda _: {"gasLimit": block_gas_limit}))


@pytest.fixture(autouse=True)
def no_cap_from_the_environment(monkeypatch):
    monkeypatch.delenv("CARECHAIN_TX_GAS_CAP", raising=False)


planners = st.builds(
    Planner,
    cap=st.integers(21_000, 2**26),
    overhead=st.integers(0, 100_000),
    margin=st.floats(1.0, 2.0),
    most=st.none() | st.integers(1, 1_000),
)


@settings(max_examples=300, deadline=None)
@given(plan=planners, data=st.data())
def test_no_planned_batch_asks_for_more_than_the_cap_and_every_item_goes_once_in_order(plan, data):
    fitting = max(1, int(plan.cap / plan.margin) - plan.overhead)
    gases = data.draw(st.lists(st.integers(1, fitting), max_size=400))
    if gases and not plan.fits(max(gases)):  # float rounding at the very edge: that item fits no batch
        with pytest.raises(InputError, match="cannot be sent in any batch"):
            list(plan.batches(list(range(len(gases))), gases.__getitem__))
        return
    batches = list(plan.batches(list(range(len(gases))), gases.__getitem__))
    assert [item for batch in batches for item in batch] == list(range(len(gases)))
    for batch, following in zip(batches, [*batches[1:], None], strict=False):
        needed = sum(gases[i] for i in batch)
        assert batch and plan.gas_limit(needed) <= plan.cap
        assert plan.most is None or len(batch) <= plan.most
        if following:  # greedy: the next item did not fit this batch, or the batch was full
            assert len(batch) == plan.most or not plan.fits(needed + gases[following[0]])


@settings(max_examples=300, deadline=None)
@given(plan=planners, item_gas=st.integers(1, 2_000_000))
def test_a_batch_of_the_size_fits_and_one_more_item_does_not(plan, item_gas):
    if not plan.fits(item_gas):
        with pytest.raises(InputError, match=f"over this network's {plan.cap:,} gas a transaction"):
            plan.size(item_gas)
        return
    size = plan.size(item_gas)
    assert size >= 1 and plan.fits(size * item_gas)
    assert size == plan.most or not plan.fits((size + 1) * item_gas)


@settings(max_examples=200, deadline=None)
@given(cap=st.integers(200_000, 2**25), block_gas_limit=st.integers(200_000, 2**27))
def test_the_consent_import_never_plans_a_transaction_over_the_cap_or_the_block(cap, block_gas_limit):
    w3 = chain(block_gas_limit)
    most = max_batch_size(w3, cap)
    sent = batch_gas(w3, most, cap)
    assert 1 <= most <= MAX_BATCH
    assert sent <= cap and sent <= block_gas_limit * BLOCK_SHARE
    assert sent >= (most * ITEM_GAS + 50_000) * GAS_MARGIN - 1  # the model, not cut short by the cap


def test_ethereum_takes_214_signed_consents_a_transaction_where_a_30m_block_took_307():
    w3 = chain(30_000_000)
    assert network_cap(w3) == EIP7825_TX_GAS_CAP == 16_777_216
    assert max_batch_size(w3) == 214
    assert batch_gas(w3, 214) == 16_752_000 <= EIP7825_TX_GAS_CAP
    assert max_batch_size(chain(20_000_000)) == 204  # 80 % of a smaller block


def test_the_cap_is_configured_by_carechain_tx_gas_cap(monkeypatch):
    assert tx_gas_cap_from_env() == 2**24
    monkeypatch.setenv("CARECHAIN_TX_GAS_CAP", "2_000_000")
    assert tx_gas_cap_from_env() == 2_000_000
    w3 = chain(30_000_000)
    assert network_cap(w3) == 2_000_000
    assert max_batch_size(w3) == 24
    assert planner(w3, 5_000_000).cap == 5_000_000  # given beats the environment
    assert Sender(w3, ACCOUNT).tx_gas_cap == 2_000_000
    assert Sender(w3, ACCOUNT, tx_gas_cap=3_000_000).tx_gas_cap == 3_000_000


@pytest.mark.parametrize("text", ["lots", "-1", "20000", "1e6"])
def test_a_cap_that_is_not_a_gas_amount_is_one_config_error(monkeypatch, text):
    monkeypatch.setenv("CARECHAIN_TX_GAS_CAP", text)
    with pytest.raises(ConfigError, match="CARECHAIN_TX_GAS_CAP"):
        tx_gas_cap_from_env()


def test_an_item_that_alone_exceeds_the_cap_is_one_input_error_before_any_batch():
    plan = Planner(cap=1_000_000, overhead=50_000, margin=1.2)
    items = [10_000] * 5 + [900_000]
    with pytest.raises(InputError, match=r"one item needs 1,140,000 gas .* over this network's 1,000,000"):
        plan.batches(items, lambda gas: gas)  # raised at once, not when the big item is reached
    with pytest.raises(InputError, match="over this network's"):
        max_batch_size(chain(30_000_000), 100_000)
    with pytest.raises(InputError, match="positive"):
        plan.size(0)


@pytest.mark.parametrize(
    "fields",
    [{"cap": 0}, {"overhead": -1}, {"margin": 0.9}, {"most": 0}],
    ids=["cap", "overhead", "margin", "most"],
)
def test_a_planner_with_impossible_bounds_is_refused(fields):
    with pytest.raises(InputError, match="a batch planner needs"):
        Planner(**{"cap": 1_000_000, "overhead": 0, "margin": 1.2, **fields})


def test_a_send_over_the_cap_is_refused_before_anything_reaches_the_node():
    sender = Sender(SimpleNamespace(), ACCOUNT, tx_gas_cap=2_000_000)
    with pytest.raises(InputError, match="needs 2,000,001 gas, over the 2,000,000 gas a transaction"):
        sender.send_raw(ACCOUNT, b"", 2_000_001)  # the stand-in node has no methods: nothing was asked of it
