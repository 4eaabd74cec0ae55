"""GatewayService.put: encrypt, store, anchor keccak(ciphertext); new content a new version, the same none."""

from __future__ import annotations

import os

import pytest
from eth_utils.crypto import keccak

from carechain.errors import InputError
from carechain.services.gateway import crypto

from .conftest import LAB_RESULT, LABS_BIT


def anchors(service, record_id: bytes) -> list[dict]:
    """The RecordAnchored events of one record."""
    logs = service.records.contract.events.RecordAnchored().get_logs(
        argument_filters={"recordId": record_id}, from_block=0
    )
    return [dict(log["args"]) for log in logs]


def test_put_anchors_the_hash_of_the_ciphertext_never_the_content(service, patient):
    record_id = os.urandom(32)
    put = service.put(record_id, str(patient), LABS_BIT, LAB_RESULT)
    (stored,) = service.store.versions(record_id)
    assert put.version == 0 and put.tx_hash is not None
    assert stored.anchor_tx == put.tx_hash
    assert service.records.latest_content_hash(record_id) == keccak(stored.blob) == put.content_hash
    assert LAB_RESULT not in stored.blob and b"Glucose" not in stored.blob
    facts = service.records.get_record(record_id)
    assert (facts.patient, facts.category, facts.custodian) == (str(patient), LABS_BIT, service.gateway)
    tx = service.records.w3.eth.get_transaction(put.tx_hash)
    assert b"Glucose" not in bytes(tx["input"])


def test_every_version_has_its_own_data_key(service, patient, custodian_key):
    record_id = os.urandom(32)
    service.put(record_id, str(patient), LABS_BIT, b"first")
    service.put(record_id, str(patient), LABS_BIT, b"second")
    first, second = service.store.versions(record_id)
    keys = [crypto.unwrap(custodian_key, record_id, v.version, v.wrapped_key) for v in (first, second)]
    assert keys[0] != keys[1]
    assert crypto.decrypt(keys[1], record_id, 1, second.blob) == b"second"
    with pytest.raises(Exception, match="does not decrypt"):  # a key is bound to its version (AAD)
        crypto.decrypt(keys[0], record_id, 1, second.blob)


def test_re_putting_the_same_content_anchors_nothing_twice(service, patient):
    record_id = os.urandom(32)
    first = service.put(record_id, str(patient), LABS_BIT, LAB_RESULT)
    again = service.put(record_id, str(patient), LABS_BIT, LAB_RESULT)
    assert again.tx_hash is None
    assert (again.version, again.content_hash) == (first.version, first.content_hash)
    assert len(anchors(service, record_id)) == 1
    assert len(service.store.versions(record_id)) == 1


def test_new_content_is_a_new_version_and_appends(service, patient):
    record_id = os.urandom(32)
    service.put(record_id, str(patient), LABS_BIT, b"v0")
    amended = service.put(record_id, str(patient), LABS_BIT, b"v1")
    assert amended.version == 1 and amended.tx_hash is not None
    assert service.put(record_id, str(patient), LABS_BIT, b"v1").tx_hash is None
    assert [a["version"] for a in anchors(service, record_id)] == [0, 1]
    assert service.records.get_record(record_id).versions == 2


def test_an_interrupted_put_is_finished_by_the_next_one(service, patient, node_down_for):
    """Stored, but the node was down for the anchor: re-putting the same content anchors it, once."""
    record_id = os.urandom(32)
    node_down_for(record_id, str(patient), LABS_BIT, LAB_RESULT)
    assert service.store.versions(record_id)[0].anchor_tx is None
    finished = service.put(record_id, str(patient), LABS_BIT, LAB_RESULT)
    assert finished.tx_hash is not None and len(anchors(service, record_id)) == 1
    assert service.store.versions(record_id)[0].anchor_tx == finished.tx_hash
    assert service.put(record_id, str(patient), LABS_BIT, LAB_RESULT).tx_hash is None


def test_a_put_anchored_before_a_crash_is_adopted_not_anchored_again(service, patient):
    record_id = os.urandom(32)
    put = service.put(record_id, str(patient), LABS_BIT, LAB_RESULT)
    with service.store.engine.begin() as db:  # as if the process died between the receipt and the mark
        from carechain.services.gateway.store import versions_table

        db.execute(versions_table.update().values(anchor_tx=None))
    again = service.put(record_id, str(patient), LABS_BIT, LAB_RESULT)
    assert again.tx_hash == put.tx_hash
    assert len(anchors(service, record_id)) == 1


def test_a_record_stays_with_its_patient_and_category(service, patient, accounts):
    record_id = os.urandom(32)
    service.put(record_id, str(patient), LABS_BIT, b"v0")
    with pytest.raises(InputError, match="another patient or category"):
        service.put(record_id, str(accounts[3]), LABS_BIT, b"v1")
    with pytest.raises(InputError, match="another patient or category"):
        service.put(record_id, str(patient), LABS_BIT + 1, b"v1")


@pytest.mark.parametrize("category", [-1, 64])
def test_a_category_outside_the_scope_bits_is_refused(service, patient, category):
    with pytest.raises(InputError, match="scope bit"):
        service.put(os.urandom(32), str(patient), category, b"x")


def test_another_custodians_record_cannot_be_amended(
    service, records, credentials, registrar, accounts, patient
):
    from conftest import CUSTODIAN, attest

    record_id = os.urandom(32)
    attest(credentials, registrar, accounts[4], CUSTODIAN)
    records.anchor(record_id, patient, LABS_BIT, keccak(b"theirs"), {"from": accounts[4]})
    with pytest.raises(InputError, match=f"anchored by another custodian, {accounts[4]}"):
        service.put(record_id, str(patient), LABS_BIT, b"mine")
    assert service.store.versions(record_id)[0].anchor_tx is None  # kept, never served: no grant reaches it


def test_a_pending_version_superseded_before_its_anchor_is_replaced(service, patient, node_down_for):
    """Version numbers stay the chain's: the new content takes the pending version's number."""
    record_id = os.urandom(32)
    service.put(record_id, str(patient), LABS_BIT, b"v0")
    node_down_for(record_id, str(patient), LABS_BIT, b"v1 draft")
    put = service.put(record_id, str(patient), LABS_BIT, b"v1 final")
    assert put.version == 1 and put.tx_hash is not None
    assert [v.version for v in service.store.versions(record_id)] == [0, 1]
    assert [a["version"] for a in anchors(service, record_id)] == [0, 1]
    assert service.records.latest_content_hash(record_id) == put.content_hash


def test_a_pending_version_the_chain_has_is_kept(service, patient):
    """Anchored, but the mark was lost: the next, different put keeps it and appends after it."""
    from carechain.services.gateway.store import versions_table

    record_id = os.urandom(32)
    first = service.put(record_id, str(patient), LABS_BIT, b"v0")
    with service.store.engine.begin() as db:
        db.execute(versions_table.update().values(anchor_tx=None))
    put = service.put(record_id, str(patient), LABS_BIT, b"v1")
    assert put.version == 1
    assert [v.anchor_tx for v in service.store.versions(record_id)] == [first.tx_hash, put.tx_hash]
