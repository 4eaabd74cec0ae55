"""GatewayService.rotate_key: every data key re-wrapped under a new custodian key; reads go on throughout."""

from __future__ import annotations

import os

import pytest

from carechain.errors import KeyUnavailable
from carechain.services.gateway import crypto

from .conftest import LABS_BIT, ask


@pytest.fixture
def three(service, patient) -> list[bytes]:
    ids = [os.urandom(32) for _ in range(3)]
    for n, record_id in enumerate(ids):
        service.put(record_id, str(patient), LABS_BIT, f"record {n}".encode())
    return ids


def test_reads_work_throughout_a_rotation(service, three, gp_granted):
    blobs = {rid: [v.blob for v in service.store.versions(rid)] for rid in three}
    anchored = {rid: service.records.latest_content_hash(rid) for rid in three}
    served_during: list[bytes] = []

    def read_everything(done: int) -> None:
        for record_id in three:
            served_during.append(service.read(ask(service, gp_granted, record_id)).content)

    new_key = crypto.new_key()
    assert service.rotate_key(new_key, on_batch=read_everything, batch=1) == 3
    assert served_during == [f"record {n}".encode() for n in range(3)] * 3
    assert {v.key_id for rid in three for v in service.store.versions(rid)} == {crypto.key_id(new_key)}
    assert {rid: [v.blob for v in service.store.versions(rid)] for rid in three} == blobs
    assert {rid: service.records.latest_content_hash(rid) for rid in three} == anchored


def test_after_rotation_the_old_key_is_not_needed_and_no_longer_opens_anything(
    service, make_service, three, gp_granted, custodian_key, monkeypatch
):
    new_key = crypto.new_key()
    service.rotate_key(new_key)
    monkeypatch.setenv(crypto.KEY_ENV, new_key.hex())
    restarted = make_service()  # a gateway that only knows the new key
    assert restarted.read(ask(restarted, gp_granted, three[0])).content == b"record 0"
    old_only = make_service(keyring=crypto.Keyring((custodian_key,)))
    with pytest.raises(KeyUnavailable):
        old_only.read(ask(old_only, gp_granted, three[1]))


def test_a_second_rotation_to_the_same_key_has_nothing_to_do(service, three):
    new_key = crypto.new_key()
    assert service.rotate_key(new_key) == 3
    assert service.rotate_key(new_key) == 0


def test_rotation_skips_erased_records(service, three):
    service.erase(three[0])
    assert service.rotate_key(crypto.new_key()) == 2


def test_a_gateway_on_a_key_file_picks_up_the_new_key_written_to_it(
    make_service, three, tmp_path, custodian_key, gp_granted, monkeypatch
):
    """The operator's procedure: new key on the file's first line, rotate, and the server reads on."""
    key_file = tmp_path / "custodian.key"
    key_file.write_text(custodian_key.hex() + "\n")
    monkeypatch.delenv(crypto.KEY_ENV)
    monkeypatch.setenv(crypto.KEY_FILE_ENV, str(key_file))
    serving = make_service()
    serving.reload_keys = lambda: crypto.read_key_file(key_file)
    new_key = crypto.new_key()
    key_file.write_text(f"# rotated\n{new_key.hex()}\n{custodian_key.hex()}\n")
    rotator = make_service(keyring=crypto.read_key_file(key_file))
    rotator.rotate_key(new_key)
    key_file.write_text(new_key.hex() + "\n")
    assert serving.read(ask(serving, gp_granted, three[2])).content == b"record 2"
