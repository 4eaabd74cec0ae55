"""benchmarks/merkle.py builds the same trees in Python and JS, and writes its results in the agreed shape
(timings are not asserted: `make bench` measures them on 100k and 1M leaves)."""

from __future__ import annotations

import json

from benchmarks.merkle import js_run, measure, python_run, write_results


def test_python_and_js_builders_give_the_same_root():
    ours, theirs = python_run(1_000, proofs=50), js_run(1_000, proofs=50)
    assert ours.root == theirs.root
    assert ours.proofs_per_s and theirs.proofs_per_s


def test_results_have_the_agreed_shape(tmp_path):
    results = measure(sizes=(500, 1_000), python_proofs=20, js_proofs=10)
    written = json.loads(write_results(results, tmp_path / "merkle.json").read_text())
    assert written["roots_match"] is True
    for side in ("python", "js"):
        assert set(written["build_s"][side]) == {"500", "1000"}
        assert all(seconds > 0 for seconds in written["build_s"][side].values())
        assert written["proofs_per_s"][side] > 0
    assert set(written["speedup"]) == {"500", "1000"}
