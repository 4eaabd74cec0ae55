"""A scripted flow indexed into SQLite and into PostgreSQL: the same rows, and the chain's counts."""

from __future__ import annotations

from carechain.deployments import load_abi
from carechain.indexer import Indexer
from indexer.conftest import chain_counts, scripted_flow, without_ids


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
