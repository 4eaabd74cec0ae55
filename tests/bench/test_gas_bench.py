"""The gas bench measures every required operation, beside EAS, and writes them as name -> integer.

brownie's Anvil has a 12M block gas limit, so batches are 10 here; `make bench` runs 100 on 30M.
"""

from __future__ import annotations

import json

import pytest
from brownie import accounts, web3

from benchmarks.gas import REQUIRED, SIZED, measure, write_results

ROWS = 2_000  # the large trial batch (1,000,000 under `make bench`): a tree of depth 11


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    gas = measure(web3, [a.address for a in accounts], batch=10, trial_rows=ROWS)
    path = write_results(gas, tmp_path_factory.mktemp("bench") / "gas.json")
    return path, json.loads(path.read_text())


def test_every_required_operation_is_a_positive_integer(written):
    _, gas = written
    missing = [name for name in REQUIRED if name not in gas and name not in SIZED]
    assert not missing
    assert f"trial.commit_batch_{ROWS}_rows" in gas and "trial.verify_inclusion_depth11" in gas
    assert all(type(value) is int and value > 0 for value in gas.values()), gas


def test_a_consent_costs_less_than_an_eas_attestation(written):
    _, gas = written
    assert gas["consent.grant"] < gas["eas.attest"]


def test_json_has_sorted_keys_and_a_trailing_newline(written):
    path, gas = written
    text = path.read_text()
    assert list(gas) == sorted(gas)
    assert text.endswith("}\n")


def test_a_batch_commitment_costs_the_same_whatever_its_size(written):
    _, gas = written
    assert abs(gas[f"trial.commit_batch_{ROWS}_rows"] - gas["trial.commit_batch"]) <= 64


def test_the_compact_signed_batch_costs_less_than_the_bytes_one(written):
    """consent.batch_signed_per_item is grantBySigBatchCompact (EOA patients), kept beside grantBySigBatch."""
    _, gas = written
    assert "consent.batch_signed_bytes_per_item" in REQUIRED
    assert 0 < gas["consent.batch_signed_per_item"] < gas["consent.batch_signed_bytes_per_item"]
