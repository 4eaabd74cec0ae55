"""GatewayService.erase: crypto-shredding plus an ERASED anchor; later reads are 410, nothing decrypts."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from carechain.errors import Erased, IntegrityFailure, RecordNotFound
from carechain.services.gateway import crypto
from carechain.services.gateway.service import ERASED
from carechain.services.gateway.store import metadata

from .conftest import LABS_BIT, ask, logged


def test_erase_shreds_the_keys_anchors_the_erasure_and_later_reads_are_410(service, lab, gp_granted):
    tx = service.erase(lab)
    assert service.records.latest_content_hash(lab) == ERASED
    assert service.store.record(lab).erase_tx == tx
    assert [v.wrapped_key for v in service.store.versions(lab)] == [None]
    with pytest.raises(Erased) as gone:
        service.read(ask(service, gp_granted, lab))
    assert gone.value.status == 410
    assert logged(service, lab) == []


def test_nothing_stored_decrypts_an_erased_record(service, lab, custodian_key, patient):
    service.put(lab, str(patient), LABS_BIT, b"second version")
    blobs = [v.blob for v in service.store.versions(lab)]
    service.erase(lab)
    stored: list[bytes] = [custodian_key]
    with service.store.engine.connect() as db:
        for table in metadata.sorted_tables:
            for row in db.execute(sa.select(table)):
                stored += [value for value in row if isinstance(value, bytes)]
    candidates = {value[i : i + 32] for value in stored for i in range(0, max(len(value) - 31, 1))}
    for version, blob in enumerate(blobs):
        for candidate in candidates:
            with pytest.raises(IntegrityFailure):
                crypto.decrypt(candidate, lab, version, blob)


def test_erase_is_idempotent_and_anchors_once(service, lab):
    first = service.erase(lab)
    assert service.erase(lab) == first
    logs = service.records.contract.events.RecordAnchored().get_logs(
        argument_filters={"recordId": lab}, from_block=0
    )
    assert [bytes(log["args"]["contentHash"]) == ERASED for log in logs] == [False, True]


def test_an_erasure_interrupted_before_its_mark_is_adopted(service, lab):
    tx = service.erase(lab)
    with service.store.engine.begin() as db:
        from carechain.services.gateway.store import records_table

        db.execute(records_table.update().values(erase_tx=None))
    assert service.erase(lab) == tx


def test_an_erased_record_takes_no_new_version(service, lab, patient):
    service.erase(lab)
    with pytest.raises(Erased, match="was erased"):
        service.put(lab, str(patient), LABS_BIT, b"again")


def test_erasing_an_unknown_record_is_404(service):
    with pytest.raises(RecordNotFound):
        service.erase(os.urandom(32))


def test_the_erasure_anchor_says_nothing_about_the_patient(service, lab):
    tx = service.records.w3.eth.get_transaction(service.erase(lab))
    assert bytes(tx["input"])[4:] == lab + ERASED
