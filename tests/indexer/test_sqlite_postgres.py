"""A scripted flow indexed into SQLite and into PostgreSQL: the same rows, and the chain's counts."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa

from benchmarks.indexer import fill
from carechain.core.deployments import load_abi
from carechain.index.indexer import Indexer
from indexer.conftest import chain_counts, make_project, scripted_flow, without_ids


def test_sqlite_and_postgres_hold_the_same_rows_as_the_chain(w3, root, tmp_path, pg_url):
    scripted_flow(w3, root)
    sqlite = Indexer(w3, root, str(tmp_path / "index.db"))
    postgres = Indexer(w3, root, pg_url)
    assert postgres.engine.dialect.name == "postgresql"

    first = sqlite.sync()
    assert postgres.sync().events == first.events > 0
    assert without_ids(sqlite) == without_ids(postgres)
    assert sqlite.counts() == dict(chain_counts(w3, sqlite))
    assert {
        "ConsentGranted",
        "ConsentRevoked",
        "CredentialAttested",
        "RecordAnchored",
        "AccessGranted",
        "RecordAccessed",
        "TrialRegistered",
        "SubjectEnrolled",
    } <= set(sqlite.counts())


def test_queries_by_patient_record_and_trial(w3, root, tmp_path, pg_url):
    scripted_flow(w3, root)
    patient, gp = w3.eth.accounts[1], w3.eth.accounts[2]
    for url in (str(tmp_path / "index.db"), pg_url):
        index = Indexer(w3, root, url)
        index.sync()
        history = index.events(patient=patient.lower())
        assert [e["event"] for e in history if e["contract"] == "ConsentRegistry"] == [
            "ConsentGranted",
            "ConsentGranted",
            "ConsentRevoked",
        ]
        (anchored,) = index.events(event="RecordAnchored")
        reads = index.events(record_id=anchored["record_id"], event="RecordAccessed")
        assert [(r["party"], r["patient"]) for r in reads] == [(gp, patient)]
        (registered,) = index.events(event="TrialRegistered")
        trial = index.events(trial_id=registered["trial_id"])
        assert [e["event"] for e in trial] == [
            "TrialRegistered",
            "SiteAdded",
            "ProtocolApproved",
            "SubjectEnrolled",
        ]
        assert all(isinstance(e["args"], dict) for e in trial)


def test_arguments_match_web3s_decoding_of_every_log(w3, root, tmp_path):
    scripted_flow(w3, root)
    index = Indexer(w3, root, str(tmp_path / "index.db"))
    index.sync()
    expected = []
    for name, address in index.addresses.items():
        contract = w3.eth.contract(address=address, abi=load_abi(root, name))
        for log in w3.eth.get_logs({"address": address, "fromBlock": 0, "toBlock": "latest"}):
            decoded = contract.get_event_by_topic(log["topics"][0].to_0x_hex()).process_log(log)
            args = {k: "0x" + v.hex() if isinstance(v, bytes) else v for k, v in decoded["args"].items()}
            expected.append((log["blockNumber"], log["logIndex"], name, decoded["event"], args))
    got = [(e["block_number"], e["log_index"], e["contract"], e["event"], e["args"]) for e in index.events()]
    assert got == sorted(expected, key=lambda row: row[:2])


def test_another_driver_goes_through_sqlalchemy_and_writes_the_same_rows(w3, root, tmp_path, pg_url):
    scripted_flow(w3, root)
    fast = Indexer(w3, root, str(tmp_path / "fast.db"))
    fast.sync()
    for url in (str(tmp_path / "generic.db"), pg_url):
        generic = Indexer(w3, root, url)
        assert generic._fast in ("pysqlite", "psycopg")
        generic._fast = None  # as for a driver without a fast path (SQLAlchemy's insert, args as a dict)
        assert generic.sync().events == len(without_ids(fast)) > 0
        assert without_ids(generic) == without_ids(fast)


def test_a_locked_database_fails_as_sqlalchemy_reports_it_and_keeps_nothing_half_written(w3, root, tmp_path):
    scripted_flow(w3, root)
    path = tmp_path / "index.db"
    index = Indexer(w3, root, f"sqlite:///{path}?timeout=0.1")
    writer = sqlite3.connect(path)
    writer.execute("BEGIN IMMEDIATE")  # another writer holds the database: reads work, writes wait
    with pytest.raises(sa.exc.OperationalError, match="database is locked"):
        index.sync()
    writer.rollback()
    writer.close()
    assert index.last_block() is None and index.counts() == {}
    assert index.sync().events == sum(dict(chain_counts(w3, index)).values())


def test_sqlite_reads_a_patients_or_partys_events_through_their_index_not_the_whole_chain(w3, tmp_path):
    folder = make_project(tmp_path / "project")
    fill(w3, folder, 450, per_tx=50)  # 450 consents: 9 patients, 450 grantees
    path = tmp_path / "index.db"
    index = Indexer(w3, folder, str(path))
    index.sync()
    patient, grantee = w3.eth.accounts[1], index.events(event="ConsentGranted")[-1]["party"]
    with sqlite3.connect(path) as db:
        for column, value in (("patient", patient), ("party", grantee)):
            plan = db.execute(
                f"EXPLAIN QUERY PLAN SELECT * FROM events WHERE chain_id = ? AND {column} = ? "
                "ORDER BY block_number, log_index",
                (index.chain_id, value),
            ).fetchall()
            assert any(f"USING INDEX ix_events_{column} " in row[-1] for row in plan), plan
    assert len(index.events(patient=patient)) == 50 and len(index.events(party=grantee)) == 1
