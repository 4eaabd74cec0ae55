"""The onboarding bench signs a cohort, imports it (every consent lands), re-imports it (nothing lands)."""

from __future__ import annotations

import json
from pathlib import Path

from brownie import web3

from benchmarks.onboarding import measure, write_results

KEYS = {
    "patients",
    "consents_per_s",
    "gas_per_consent",
    "gas_total",
    "batch_size",
    "transactions",
    "block_gas_limit",
    "import_s",
    "rerun_s",
    "sign_s",
}


def test_the_bench_onboards_a_small_cohort_and_writes_json(tmp_path):
    (tmp_path / "build").symlink_to(Path(__file__).parents[2] / "build")
    results = measure(web3, tmp_path, patients=40, batch_size=16)
    assert set(results) == KEYS and results["patients"] == 40
    assert results["transactions"] == 3 and results["batch_size"] == 16
    assert results["consents_per_s"] > 0 and 40_000 < results["gas_per_consent"] < 80_000
    assert abs(results["gas_total"] / 40 - results["gas_per_consent"]) <= 0.5
    path = write_results(results, tmp_path / "onboarding.json")
    assert json.loads(path.read_text()) == results and path.read_text().endswith("}\n")
