"""The gas bench's private-grant section: ConsentGrants and the reference layout (ERC-8356's struct as
printed) measured alike, and the ratios and issue 16's ceilings as `make bench` writes them.

brownie's Anvil has a 12M block gas limit, so the batch is 4 here; `make bench` runs 50 and 100 on 30M.
"""

from __future__ import annotations

import pytest
from brownie import accounts, web3

from benchmarks.gas import EAS_SIGNED, ceiling, format_private, measure_private, private_section

BATCH = 4
SHARED = {
    "grant_relayed",
    "grant_relayed_later",
    "grant_relayed_new_pair",
    f"grant_batch_{BATCH}_per_item",
    "revoke_relayed",
    "sub_grant",
    "is_grant_active_depth0",
    "is_grant_active_depth2",
    "check_access_leaf",
    "check_access_root_depth3",
}
# Only ConsentGrants stores template pairs (once, ahead of grants): the printed layout has nothing to intern.
OPERATIONS = {*SHARED, "intern_template_pair"}


@pytest.fixture(scope="module")
def measured():
    return measure_private(web3, [a.address for a in accounts], batches=(BATCH,))


def test_both_registries_measure_every_operation(measured):
    assert set(measured) == {"carechain", "reference"}
    assert set(measured["carechain"]) == OPERATIONS
    assert set(measured["reference"]) == SHARED
    for side in measured.values():
        assert all(type(gas) is int and gas > 0 for gas in side.values()), side


def test_consent_grants_costs_less_than_the_printed_layout_everywhere(measured):
    ours, reference = measured["carechain"], measured["reference"]
    dearer = {op: (ours[op], reference[op]) for op in SHARED if ours[op] >= reference[op]}
    assert not dearer


def test_a_grant_pays_for_its_template_pair_only_when_nobody_stored_it(measured):
    ours, reference = measured["carechain"], measured["reference"]
    # Stored ahead of grants, the pair costs a grant nothing: the first grant costs what a later one does.
    assert abs(ours["grant_relayed"] - ours["grant_relayed_later"]) < 100
    assert ours["grant_relayed_new_pair"] > ours["grant_relayed"] + 40_000
    # The reference stores both template references in every grant: its figures differ in calldata alone.
    assert abs(reference["grant_relayed_new_pair"] - reference["grant_relayed"]) < 100


def test_is_grant_active_reads_every_ancestor(measured):
    for side in measured.values():
        assert side["is_grant_active_depth2"] > 2 * side["is_grant_active_depth0"]


def test_the_section_holds_each_ratio_and_ceiling_of_the_measured_figures(measured):
    eas = 256_033  # any attestByDelegation figure: the section only divides by it
    section = private_section(measured, eas)
    assert section["eas"] == {EAS_SIGNED: eas}
    assert set(section["operations"]) == OPERATIONS
    assert "reference" not in section["operations"]["intern_template_pair"]
    for op, row in section["operations"].items():
        ours = measured["carechain"][op]
        assert row["carechain"] == ours
        if op in SHARED:
            reference = measured["reference"][op]
            assert row["reference"] == reference
            assert row["carechain_over_reference"] == round(ours / reference, 3)
        assert ("carechain_over_eas" in row) == op.startswith(("grant_relayed", "grant_batch_"))
        if "carechain_over_eas" in row:
            assert row["carechain_over_eas"] == round(ours / eas, 3)
        assert row.get("ceiling") == ceiling(op)
        if "ceiling" in row:
            assert row["ceiling_met"] is (ours <= row["ceiling"])
    assert {op for op, row in section["operations"].items() if "ceiling" in row} == {
        "grant_relayed",
        "grant_relayed_later",
        f"grant_batch_{BATCH}_per_item",
        "revoke_relayed",
        "is_grant_active_depth0",
    }
    table = format_private(section)
    assert all(op in table for op in OPERATIONS) and f"{EAS_SIGNED} 256,033" in table
