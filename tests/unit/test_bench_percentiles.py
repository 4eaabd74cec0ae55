"""The gateway bench's percentiles (the bench itself, on chains: tests/bench/test_gateway_bench.py)."""

from __future__ import annotations

from benchmarks.gateway import percentiles


def test_percentiles_are_nearest_rank_in_milliseconds():
    assert percentiles([0.004, 0.001, 0.002, 0.003]) == {"p50": 2.0, "p95": 4.0, "p99": 4.0, "max": 4.0}
