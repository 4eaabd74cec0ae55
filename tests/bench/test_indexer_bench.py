"""The indexer bench fills a chain with consents and indexes every one into SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from brownie import web3

from benchmarks.indexer import measure, median_run, report, write_results
from carechain.dev.localpg import pg_server


def test_the_bench_indexes_every_event_it_made_into_both_databases_and_writes_json(tmp_path):
    (tmp_path / "build").symlink_to(Path(__file__).parents[2] / "build")
    with pg_server() as postgres:
        results = measure(web3, tmp_path, events=600, postgres=postgres, runs=2)
    assert results["events"] == 600 and results["node_events"] >= 600 and results["runs"] == 2
    for name in ("sqlite", "postgres"):
        run = results[name]
        assert run["events"] == results["node_events"] and run["events_per_s"] > 0
        assert len(run["runs_events_per_s"]) == 2 and run["events_per_s"] in run["runs_events_per_s"]
    assert "SQLite" in report(results) and "PostgreSQL" in report(results)
    path = write_results(results, tmp_path / "indexer.json")
    assert json.loads(path.read_text()) == results


def test_the_median_run_is_the_middle_speed():
    runs = [{"events_per_s": speed, "seconds": 1.0} for speed in (30, 10, 20)]
    assert median_run(runs) == {"events_per_s": 20, "seconds": 1.0, "runs_events_per_s": [30, 10, 20]}
