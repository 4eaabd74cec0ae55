"""The gateway on PostgreSQL (a throwaway server): ingest, read, replay cache, erasure, rotation, restart."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from carechain.dev.localpg import pg_server
from carechain.errors import Erased, Replayed
from carechain.services.gateway import crypto

from .conftest import LAB_RESULT, LABS_BIT, ask, logged

_names = itertools.count(1)


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    with pg_server() as url:
        yield url.replace("postgresql://", "postgresql+psycopg://")


@pytest.fixture
def pg_url(postgres: str) -> str:
    """A fresh, empty database on the throwaway server."""
    name = f"gateway_{next(_names)}"
    engine = sa.create_engine(postgres, isolation_level="AUTOCOMMIT")
    with engine.connect() as db:
        db.execute(sa.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return postgres.replace("/postgres?", f"/{name}?")


def test_the_whole_flow_on_postgresql(make_service, pg_url, patient, gp_granted):
    service = make_service(db_url=pg_url)
    assert service.store.engine.dialect.name == "postgresql"
    record_id = os.urandom(32)
    first = service.put(record_id, str(patient), LABS_BIT, LAB_RESULT)
    assert service.put(record_id, str(patient), LABS_BIT, LAB_RESULT).tx_hash is None
    assert service.records.latest_content_hash(record_id) == first.content_hash
    request = ask(service, gp_granted, record_id)
    assert service.read(request).content == LAB_RESULT
    with pytest.raises(Replayed):
        service.read(request)
    assert service.rotate_key(crypto.new_key()) == 1
    assert service.read(ask(service, gp_granted, record_id)).content == LAB_RESULT
    service.erase(record_id)
    with pytest.raises(Erased):
        service.read(ask(service, gp_granted, record_id))
    assert len(logged(service, record_id)) == 2


def test_a_restarted_gateway_loses_nothing(make_service, pg_url, patient, gp_granted):
    """Stop the gateway, start another on the same database: records, versions and the replay cache stay."""
    before = make_service(db_url=pg_url)
    record_id = os.urandom(32)
    before.put(record_id, str(patient), LABS_BIT, b"v0")
    before.put(record_id, str(patient), LABS_BIT, b"v1")
    seen = ask(before, gp_granted, record_id)
    before.read(seen)
    before.store.engine.dispose()
    after = make_service(db_url=pg_url)
    assert [v.version for v in after.store.versions(record_id)] == [0, 1]
    assert after.read(ask(after, gp_granted, record_id)).content == b"v1"
    with pytest.raises(Replayed):
        after.read(seen)
