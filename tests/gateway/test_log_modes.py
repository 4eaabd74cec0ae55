"""How a read is logged: its own transaction with N confirmations (tx mode), or a signed receipt whose
batch's Merkle root the gateway commits on chain every few seconds (receipts mode)."""

from __future__ import annotations

import dataclasses
import threading
import time

import httpx
import pytest
from brownie import chain, web3
from eth_account import Account

from carechain.clients.access import Basis
from carechain.core import eip712
from carechain.errors import AccessRefused, ConfigError, InvalidReceipt, ReceiptNotFound
from carechain.services.gateway import receipts
from carechain.services.gateway.app import create_app
from carechain.services.gateway.receipts import Receipt

from .conftest import LAB_RESULT, TOKEN, ask, logged


@pytest.fixture
def batching(make_service):
    """A receipts-mode gateway on the test's database (the `lab` fixture's gateway ingested into it)."""
    return make_service(log_mode="receipts")


def verify(service, answer):
    roots = receipts.committed_roots(service.access, service.gateway)
    return receipts.verify(answer, service.gateway, service.chain_id, service.access.address, roots)


def batch_events(service, tx_hash):
    tx = web3.eth.get_transaction_receipt(tx_hash)
    return service.access.contract.events.AccessBatchLogged().process_receipt(tx)


# ---- tx mode ------------------------------------------------------------------------------------


def test_tx_mode_serves_only_once_the_log_has_its_confirmations(make_service, lab, gp_granted):
    waiting = make_service(confirmations=2)
    assert waiting.info()["logMode"] == "tx" and waiting.info()["confirmations"] == 2
    served = []
    reader = threading.Thread(target=lambda: served.append(waiting.read(ask(waiting, gp_granted, lab))))
    reader.start()
    deadline = time.monotonic() + 20
    while not logged(waiting, lab):  # the log transaction is mined (brownie's Anvil mines at once)
        assert time.monotonic() < deadline, "the read was never logged"
        time.sleep(0.05)
    time.sleep(0.5)
    assert not served, "served before its log transaction had 2 confirmations"
    chain.mine(2)
    reader.join(timeout=20)
    (record,) = served
    assert record.content == LAB_RESULT and record.block_number is not None
    assert web3.eth.block_number >= record.block_number + 2
    (read,) = logged(waiting, lab)
    assert read.tx_hash == record.log_tx and read.provider == gp_granted.address


def test_tx_mode_with_no_confirmations_serves_once_mined(service, lab, gp_granted):
    assert service.confirmations == 0
    served = service.read(ask(service, gp_granted, lab))
    assert served.receipt_id is None and served.block_number == web3.eth.block_number
    assert [r.tx_hash for r in logged(service, lab)] == [served.log_tx]


# ---- receipts mode ------------------------------------------------------------------------------


def test_receipts_mode_serves_with_a_signed_receipt_then_commits_its_root(batching, lab, gp_granted):
    served = batching.read(ask(batching, gp_granted, lab))
    assert served.content == LAB_RESULT and served.log_tx is None and served.receipt_id is not None
    assert logged(batching, lab) == [], "no per-read transaction in receipts mode"
    pending = batching.receipt(served.receipt_id)
    assert pending["root"] is None and pending["proof"] is None
    with pytest.raises(InvalidReceipt, match="not committed on chain yet"):
        verify(batching, pending)

    batch = batching.commit_receipts()
    assert batch is not None and batch.count == 1
    (event,) = batch_events(batching, batch.tx_hash)
    assert event["args"]["custodian"] == batching.gateway
    assert bytes(event["args"]["root"]) == batch.root and event["args"]["count"] == 1
    answer = batching.receipt(served.receipt_id)
    assert answer["root"] == "0x" + batch.root.hex() and answer["txHash"] == batch.tx_hash
    receipt = verify(batching, answer)
    assert (receipt.provider, receipt.record_id, receipt.basis) == (
        gp_granted.address,
        lab,
        Basis.CATEGORY_GRANT,
    )
    assert receipt.digest(batching.chain_id, batching.access.address) == served.receipt_id
    assert batching.commit_receipts() is None, "nothing pending: nothing committed twice"


def test_one_root_proves_every_receipt_of_its_batch(batching, lab, gp_granted, er_in_glass):
    reads = [batching.read(ask(batching, doctor, lab)) for doctor in (gp_granted, er_in_glass, gp_granted)]
    batch = batching.commit_receipts()
    assert batch is not None and batch.count == 3
    checked = [verify(batching, batching.receipt(r.receipt_id)) for r in reads]
    assert [c.basis for c in checked] == [Basis.CATEGORY_GRANT, Basis.BREAK_GLASS, Basis.CATEGORY_GRANT]
    assert len({batching.receipt(r.receipt_id)["root"] for r in reads}) == 1


def test_a_forged_or_uncommitted_receipt_fails_verification(batching, lab, gp_granted):
    served = batching.read(ask(batching, gp_granted, lab))
    batching.commit_receipts()
    answer = batching.receipt(served.receipt_id)
    verify(batching, answer)

    altered = {**answer, "receipt": {**answer["receipt"], "purpose": "0x" + "00" * 32}}
    with pytest.raises(InvalidReceipt, match="not by the gateway"):
        verify(batching, altered)  # the signature no longer recovers to the gateway

    impostor = Account.create()
    receipt = Receipt.from_message(answer["receipt"])
    forged_sig = eip712.sign(impostor, receipt.payload(batching.chain_id, batching.access.address))
    with pytest.raises(InvalidReceipt, match=f"signed by {impostor.address}"):
        verify(batching, {**answer, "signature": "0x" + forged_sig.hex()})

    other = dataclasses.replace(receipt, served_at=receipt.served_at + 1)
    other_root = receipts.tree([other]).root
    with pytest.raises(InvalidReceipt, match="does not lead"):
        verify(batching, {**answer, "root": other_root, "proof": []})

    made_up = receipts.tree([receipt, other])  # a real proof, to a root the gateway never committed
    with pytest.raises(InvalidReceipt, match="never committed"):
        verify(batching, {**answer, "root": made_up.root, "proof": made_up.get_proof(0)})


def test_a_refused_read_gets_no_receipt(batching, lab, specialist):
    with pytest.raises(AccessRefused):
        batching.read(ask(batching, specialist, lab))
    assert batching.commit_receipts() is None
    with pytest.raises(ReceiptNotFound):
        batching.receipt(b"\x01" * 32)


def test_the_batcher_commits_within_its_interval_and_on_stop(make_service, lab, gp_granted):
    batching = make_service(log_mode="receipts", batch_interval=0.2)
    batching.start()
    try:
        first = batching.read(ask(batching, gp_granted, lab))
        deadline = time.monotonic() + 10
        while batching.receipt(first.receipt_id)["root"] is None:
            assert time.monotonic() < deadline, "the batcher never committed the receipt"
            time.sleep(0.05)
        verify(batching, batching.receipt(first.receipt_id))
    finally:
        batching.stop()
    slow = make_service(log_mode="receipts", batch_interval=3600)
    slow.start()
    last = slow.read(ask(slow, gp_granted, lab))
    slow.stop()  # a gateway shut down commits what is pending
    verify(slow, slow.receipt(last.receipt_id))


def test_receipts_over_http(http_server, batching, lab, gp_granted):
    batching.batch_interval = 0.2
    with httpx.Client(base_url=http_server(create_app(batching, TOKEN)), timeout=60) as http:
        assert http.get("/info").json()["logMode"] == "receipts"
        request = ask(batching, gp_granted, lab)
        answer = http.post(f"/records/0x{lab.hex()}/read", json=request.body())
        assert answer.status_code == 200 and answer.content == LAB_RESULT
        assert "X-CareChain-Log-Tx" not in answer.headers
        receipt_id = answer.headers["X-CareChain-Receipt"]
        assert answer.headers["X-CareChain-Receipt-Signature"].startswith("0x")
        deadline = time.monotonic() + 10
        while (body := http.get(f"/receipts/{receipt_id}").json())["root"] is None:
            assert time.monotonic() < deadline, "never committed"
            time.sleep(0.05)
        assert verify(batching, body).provider == gp_granted.address
        unknown = http.get("/receipts/0x" + "ab" * 32)
        assert unknown.status_code == 404 and unknown.json()["error"] == "unknown-receipt"
        malformed = http.get("/receipts/0x1234")
        assert malformed.status_code == 400 and malformed.json()["error"] == "bad-request"


@pytest.mark.parametrize(
    "options, why",
    [
        ({"log_mode": "blocks"}, "log mode is one of tx, receipts"),
        ({"batch_interval": 0}, "batch interval"),
        ({"confirmations": -1}, "confirmations must be 0 or more"),
    ],
)
def test_bad_log_settings_are_config_errors(make_service, options, why):
    with pytest.raises(ConfigError, match=why):
        make_service(**options)
