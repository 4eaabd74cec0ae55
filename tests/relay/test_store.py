"""The submissions store on SQLite and PostgreSQL: one live request per (patient, nonce), freed when it
fails; two relayers on one database pay once."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from carechain.dev.localpg import pg_server
from carechain.services.relay.app import create_app
from carechain.services.relay.store import FAILED, MINED, SUBMITTED, Store

from .conftest import refused, relayer_state, signed_grant

_names = itertools.count(1)
PATIENT = "0x" + "12" * 20


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    with pg_server() as url:
        yield url.replace("postgresql://", "postgresql+psycopg://")


@pytest.fixture
def pg_url(postgres: str) -> str:
    """A fresh, empty database on the throwaway server."""
    name = f"relay_{next(_names)}"
    engine = sa.create_engine(postgres, isolation_level="AUTOCOMMIT")
    with engine.connect() as db:
        db.execute(sa.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return postgres.replace("/postgres?", f"/{name}?")


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path) -> Store:
    if request.param == "sqlite":
        return Store(f"sqlite:///{tmp_path / 'relay.db'}")
    return Store(request.getfixturevalue("pg_url"))


def test_a_nonce_is_held_by_one_live_request_and_freed_when_it_fails(store):
    first, second = b"\x01" * 32, b"\x02" * 32
    assert store.claim(first, "Grant", PATIENT, 7, "{}")
    assert not store.claim(first, "Grant", PATIENT, 7, "{}")  # the same request
    assert not store.claim(second, "Revoke", PATIENT, 7, "{}")  # another request, same nonce
    assert store.claim(second, "Revoke", PATIENT, 8, "{}")
    store.update(first, FAILED, error="InvalidAccountNonce")
    third = b"\x03" * 32
    assert store.claim(third, "Grant", PATIENT, 7, "{}")  # a failed request holds nothing
    assert store.holder(PATIENT, 7).id == third
    assert store.get(first).status == FAILED and store.get(first).error == "InvalidAccountNonce"


def test_a_failed_request_can_be_claimed_again(store):
    """A failed row must not answer 'failed' for ever to the same act signed again."""
    act = b"\x04" * 32
    assert store.claim(act, "Grant", PATIENT, 9, "{}")
    store.update(act, FAILED, error="Reverted")
    assert store.claim(act, "Grant", PATIENT, 9, "{}")
    assert store.get(act).status == "pending" and store.get(act).error is None


def test_rows_move_on_and_in_flight_lists_the_sent_ones(store):
    sent, done, pending = b"\x01" * 32, b"\x02" * 32, b"\x03" * 32
    for nonce, key in enumerate((sent, done, pending)):
        assert store.claim(key, "Grant", PATIENT, nonce, "{}")
    store.update(sent, SUBMITTED, tx_hash="0x" + "aa" * 32)
    store.update(done, MINED, tx_hash="0x" + "bb" * 32, block_number=5, gas_used=60_000)
    assert [s.id for s in store.in_flight()] == [sent]
    assert (store.get(done).block_number, store.get(done).gas_used) == (5, 60_000)
    store.release(pending)
    store.release(sent)  # only a pending claim is released
    assert store.get(pending) is None and store.get(sent).status == SUBMITTED


def test_two_relayers_on_one_postgresql_database_pay_once(
    make_service, pg_url, consents, patient_key, relayer, w3, no_automine
):
    first, second = make_service(db_url=pg_url), make_service(db_url=pg_url)
    assert first.store.engine.dialect.name == "postgresql"
    body = signed_grant(consents, patient_key)
    with TestClient(create_app(first, poll=0)) as a, TestClient(create_app(second, poll=0)) as b:
        sent = a.post("/consents", json=body)
        assert sent.status_code == 202, sent.text
        before = relayer_state(w3, relayer)
        again = b.post("/consents", json=body)
        assert again.status_code == 200 and again.json()["id"] == sent.json()["id"]
        other = b.post("/consents", json=signed_grant(consents, patient_key, nonce=0))
        assert sent.json()["id"] in refused(other, 409, "replayed")
        assert w3.eth.get_transaction_count(str(relayer), "pending") == before[1] + 1
