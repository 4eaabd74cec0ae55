"""The indexer bench fills a chain with consents and indexes every one (small, on brownie's Anvil)."""

from __future__ import annotations

import json
from pathlib import Path

from brownie import web3

from benchmarks.indexer import measure, write_results


def test_the_bench_indexes_every_event_it_made_and_writes_json(tmp_path):
    (tmp_path / "build").symlink_to(Path(__file__).parents[2] / "build")
    results = measure(web3, tmp_path, events=600)
    assert results["node_events"] >= 600 and results["events_per_s"] > 0 and results["database"] == "sqlite"
    path = write_results(results, tmp_path / "indexer.json")
    assert json.loads(path.read_text()) == results
