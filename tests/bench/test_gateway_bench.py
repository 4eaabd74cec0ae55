"""The gateway bench reads through a real gateway in both log modes, on a chain mining at once and on a
block-time chain, and writes the JSON `make bench` keeps."""

from __future__ import annotations

import json

from benchmarks.gateway import measure, report, write_results


def test_the_bench_reads_in_every_mode_on_each_chain_and_writes_json(tmp_path):
    results = measure(
        reads=4, automine_reads=6, concurrency=2, block_times=(1,), confirmations=(0, 1), batch_interval=0.5
    )
    runs = results["runs"]
    assert [(r["block_time_s"], r["mode"], r.get("confirmations")) for r in runs] == [
        (0, "tx", 0),
        (0, "receipts", None),
        (1, "tx", 0),
        (1, "tx", 1),
        (1, "receipts", None),
    ]
    for run in runs:
        assert run["reads"] == (6 if run["block_time_s"] == 0 else 4) and run["reads_per_s"] > 0
        assert 0 < run["latency_ms"]["p50"] <= run["latency_ms"]["p95"] <= run["latency_ms"]["max"]
        assert run["log_latency_ms"]["p50"] > 0
    for run in runs:
        if run["mode"] == "receipts":
            assert run["batch_interval_s"] == 0.5 and run["batches"] >= 1
            assert run["log_latency_ms"]["max"] >= run["latency_ms"]["p50"], "the root follows the read"
    one_second = {(r["mode"], r.get("confirmations")): r for r in runs if r["block_time_s"] == 1}
    # On 1 s blocks a tx-mode read waits for its block (and one more with a confirmation).
    assert one_second[("tx", 0)]["latency_ms"]["max"] >= 100
    assert one_second[("tx", 1)]["latency_ms"]["p50"] > one_second[("tx", 0)]["latency_ms"]["p50"]
    default = runs[0]
    assert (results["reads"], results["reads_per_s"], results["latency_ms"]) == (
        default["reads"],
        default["reads_per_s"],
        default["latency_ms"],
    )
    assert results["mode"] == "tx" and results["confirmations"] == 0
    assert "receipts 0.5s" in report(results) and "1 s blocks" in report(results)
    path = write_results(results, tmp_path / "gateway.json")
    assert json.loads(path.read_text()) == results

