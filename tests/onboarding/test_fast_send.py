"""Large batches go out pre-encoded: one eth_call to check each, no eth_estimateGas, sent back to back."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from brownie import accounts, chain, web3
from conftest import HMB, LABS, NEVER
from eth_account import Account
from web3 import Web3

from carechain import ContractError, InputError, Sender, TransactionFailed, connect
from carechain.clients import ConsentClient
from carechain.clients.consent import ANY_GRANTEE
from carechain.core.reverts import encode_call
from carechain.core.transport import RetryingHTTPProvider, RetryPolicy
from carechain.errors import OutOfGas
from carechain.offchain.consent_import import (
    batch_calldata,
    batch_gas,
    plan_import,
    read_csv,
    sign_grant,
    submit_plan,
    write_csv,
)

DEADLINE = 4_102_444_800  # 2100-01-01


class RecordingProvider(RetryingHTTPProvider):
    """The library's provider, noting every JSON-RPC method it is asked for, in order."""

    def __init__(self, url: str) -> None:
        super().__init__(url, RetryPolicy())
        self.methods: list[str] = []

    def make_request(self, method: Any, params: Any) -> Any:
        self.methods.append(str(method))
        return super().make_request(method, params)


@pytest.fixture
def recorded(registry):
    """A client of the brownie-deployed registry whose node calls are recorded; accounts[0] sends."""
    provider = RecordingProvider(web3.provider.endpoint_uri)
    w3 = Web3(provider)
    return ConsentClient(w3, registry.address, registry.abi, Sender(w3, accounts[0].address)), provider


def cohort(client, count, nonce=0):
    domain = client.domain()
    return [
        sign_grant(Account.create().key, domain, accounts[2].address, HMB, LABS, NEVER, nonce, DEADLINE)
        for _ in range(count)
    ]


def planned(client, tmp_path, grants, name="cohort.csv"):
    path = tmp_path / name
    write_csv(path, grants)
    return plan_import(client, read_csv(path))


def test_the_calldata_is_what_web3_would_send_and_an_unknown_function_is_an_input_error(registry):
    w3 = connect(web3.provider.endpoint_uri)
    client = ConsentClient(w3, registry.address, registry.abi)
    grants = [g.as_tuple() for g in cohort(client, 3)]
    expected = client.contract.encode_abi("grantBySigBatch", args=[grants])
    assert "0x" + encode_call(registry.abi, "grantBySigBatch", grants).hex() == expected
    with pytest.raises(InputError, match="no function grantBySigBatsch taking 1 arguments"):
        encode_call(registry.abi, "grantBySigBatsch", grants)


def test_the_laid_out_batch_calldata_is_byte_for_byte_eth_abis_and_odd_items_fall_back(registry):
    w3 = connect(web3.provider.endpoint_uri)
    client = ConsentClient(w3, registry.address, registry.abi)
    domain = client.domain()
    grants = [
        *cohort(client, 2),
        sign_grant(Account.create().key, domain, ANY_GRANTEE, HMB, LABS | 4, 2**64 - 1, 7, 2**256 - 1),
    ]
    expected = client.contract.encode_abi("grantBySigBatch", args=[[g.as_tuple() for g in grants]])
    assert "0x" + batch_calldata(registry.abi, grants).hex() == expected
    long_signature = replace(grants[0], signature=grants[0].signature + b"\x00")
    assert batch_calldata(registry.abi, [long_signature]) == encode_call(
        registry.abi, "grantBySigBatch", [long_signature.as_tuple()]
    )
    renamed = [dict(e, name="other") if e.get("name") == "grantBySigBatch" else e for e in registry.abi]
    with pytest.raises(InputError, match="no function grantBySigBatch"):
        batch_calldata(renamed, grants)  # not the ABI it knows: the generic path, which names the gap


def test_a_simulated_batch_reverts_with_its_named_error_and_too_little_gas_is_out_of_gas(registry):
    w3 = connect(web3.provider.endpoint_uri)
    client = ConsentClient(w3, registry.address, registry.abi)
    sender = Sender(w3, accounts[0].address)
    with pytest.raises(ContractError) as empty:
        sender.simulate(registry.address, encode_call(registry.abi, "grantBySigBatch", []), registry.abi)
    assert empty.value.name == "EmptyBatch"
    grants = cohort(client, 4)
    data = encode_call(registry.abi, "grantBySigBatch", [g.as_tuple() for g in grants])
    with pytest.raises(OutOfGas, match="needs more than 60,000 gas"):
        sender.simulate(registry.address, data, registry.abi, gas=60_000)
    assert sender.simulate(registry.address, data, registry.abi, gas=batch_gas(w3, 4)) == b""
    assert all(registry.nonces(g.patient) == 0 for g in grants)  # a simulation changes nothing


def test_an_import_checks_each_batch_once_estimates_nothing_and_sends_the_next_before_a_receipt(
    recorded, registry, tmp_path
):
    client, provider = recorded
    grants = cohort(client, 12)
    plan = planned(client, tmp_path, grants)
    provider.methods.clear()
    result = submit_plan(client, plan, batch_size=4)
    assert result.submitted == list(range(2, 14)) and len(result.transactions) == 3
    methods = provider.methods
    assert "eth_estimateGas" not in methods
    assert methods.count("eth_call") == 3 and methods.count("eth_sendTransaction") == 3
    sends = [i for i, m in enumerate(methods) if m == "eth_sendTransaction"]
    receipts = [i for i, m in enumerate(methods) if m == "eth_getTransactionReceipt"]
    assert sends[2] < receipts[0]  # all three were sent before the first receipt was read
    nonces = [web3.eth.get_transaction(h)["nonce"] for h in result.transactions]
    assert nonces == sorted(set(nonces)) and nonces[-1] - nonces[0] == 2
    for grant in grants:
        assert registry.isPermitted(grant.patient, accounts[2].address, HMB, LABS)


def test_a_batch_over_the_gas_model_is_estimated_once_and_still_lands(
    recorded, registry, tmp_path, monkeypatch
):
    client, provider = recorded
    grants = cohort(client, 5)
    plan = planned(client, tmp_path, grants)
    monkeypatch.setattr("carechain.offchain.consent_import.ITEM_GAS", 1_000)  # far below the real cost
    provider.methods.clear()
    result = submit_plan(client, plan, batch_size=5)
    assert result.submitted == list(range(2, 7)) and len(result.transactions) == 1
    assert provider.methods.count("eth_estimateGas") == 1
    tx = web3.eth.get_transaction(result.transactions[0])
    assert tx["gas"] > batch_gas(client.w3, 5) and result.gas_used < tx["gas"]


def spoiled_import(client, registry, tmp_path, monkeypatch, honest, batch_size):
    """Import `honest` fresh patients and one whose nonce is used after the plan, the first batch's
    check let through: returns the result and the hashes of every transaction sent, in order."""
    grants = cohort(client, honest)
    key = Account.create().key
    spoiler = accounts.add(key)
    accounts[0].transfer(spoiler, "1 ether")
    late = sign_grant(key, client.domain(), accounts[2].address, HMB, LABS, NEVER, 0, DEADLINE)
    plan = planned(client, tmp_path, [*grants, late])
    assert len(plan.rows) == honest + 1
    registry.useNonce({"from": spoiler})  # after the plan; the first check is let through below
    sender = client.sender
    checks: list[bytes] = []
    sent: list[str] = []
    real_check, real_send = sender.simulate, sender.send_raw

    def first_check_passes(to, data, abi, gas=None, block="pending"):
        checks.append(data)
        return b"" if len(checks) == 1 else real_check(to, data, abi, gas, block)

    def recorded_send(to, data, gas):
        tx_hash = real_send(to, data, gas)
        sent.append("0x" + bytes(tx_hash).hex())
        return tx_hash

    monkeypatch.setattr(sender, "simulate", first_check_passes)
    monkeypatch.setattr(sender, "send_raw", recorded_send)
    result = submit_plan(client, plan, batch_size=batch_size)
    for grant in grants:
        assert registry.isPermitted(grant.patient, accounts[2].address, HMB, LABS)
    return result, sent


def test_a_batch_refused_on_chain_after_its_check_is_settled_again_without_the_bad_row(
    recorded, registry, tmp_path, monkeypatch
):
    client, _ = recorded
    result, sent = spoiled_import(client, registry, tmp_path, monkeypatch, honest=5, batch_size=6)
    assert web3.eth.get_transaction_receipt(sent[0])["status"] == 0  # mined, reverted, settled again
    assert sent[0] not in result.transactions and result.transactions == sent[1:]
    assert result.submitted == [2, 3, 4, 5, 6] and [i.line for i in result.rejected] == [7]
    assert "InvalidAccountNonce" in result.rejected[0].reason


def test_a_single_row_refused_on_chain_is_not_sent_again_and_its_reason_is_decoded(
    recorded, registry, tmp_path, monkeypatch
):
    client, _ = recorded
    result, sent = spoiled_import(client, registry, tmp_path, monkeypatch, honest=0, batch_size=1)
    assert len(sent) == 1 and web3.eth.get_transaction_receipt(sent[0])["status"] == 0
    assert result.submitted == [] and result.transactions == [] and result.gas_used == 0
    assert [i.line for i in result.rejected] == [2]
    reason = result.rejected[0].reason
    assert reason.startswith("refused on chain: ") and "InvalidAccountNonce" in reason


def test_a_local_key_sends_raw_calldata_back_to_back_with_distinct_nonces(registry):
    w3 = connect(web3.provider.endpoint_uri)
    key = Account.create()
    accounts[0].transfer(key.address, "1 ether")
    client = ConsentClient(w3, registry.address, registry.abi)
    sender = Sender(w3, key)
    first, second = cohort(client, 2), cohort(client, 3)
    hashes = [
        sender.send_raw(
            registry.address,
            encode_call(registry.abi, "grantBySigBatch", [g.as_tuple() for g in batch]),
            batch_gas(w3, len(batch)),
        )
        for batch in (first, second)
    ]
    results = [sender.confirm(h) for h in hashes]
    assert [w3.eth.get_transaction(h)["nonce"] for h in hashes] == [0, 1]
    assert all(r.gas_used > 0 and r.receipt["status"] == 1 for r in results)
    for grant in first + second:
        assert registry.isPermitted(grant.patient, accounts[2].address, HMB, LABS)
    tight = encode_call(registry.abi, "grantBySigBatch", [g.as_tuple() for g in cohort(client, 3)])
    with pytest.raises(TransactionFailed, match="reverted in block"):
        sender.confirm(sender.send_raw(registry.address, tight, 80_000))  # out of gas on chain


def test_confirm_waits_for_the_senders_confirmations_and_then_reads_the_full_receipt(registry):
    w3 = connect(web3.provider.endpoint_uri)
    client = ConsentClient(w3, registry.address, registry.abi)
    sender = Sender(w3, accounts[0].address, receipt_timeout=3, confirmations=2)
    grants = cohort(client, 2)
    data = batch_calldata(registry.abi, grants)
    tx_hash = sender.send_raw(registry.address, data, batch_gas(w3, 2))
    with pytest.raises(TransactionFailed, match="did not get 2 confirmations within 3s"):
        sender.confirm(tx_hash)  # mined, but nothing on top of it yet
    chain.mine(2)
    result = sender.confirm(tx_hash)
    assert result.receipt["status"] == 1 and len(result.receipt["logs"]) == 2
