"""TrialRegistry.commitBatch: a site commits the Merkle root of a batch of case-report-form rows, in one slot
and at the same gas whatever the batch's size."""

import pytest
from conftest import hex32, reverts
from eth_utils.crypto import keccak

from trials.conftest import NO_HASH, PRIMARY, PROTOCOL_V2, RESULTS, SECONDARY, Status, register


def root(label: str) -> bytes:
    return keccak(text=f"merkle root of {label}")


def calldata_gas(tx) -> int:
    """What the transaction's input costs as calldata (EIP-2028: 16 gas a non-zero byte, 4 a zero byte)."""
    data = bytes.fromhex(tx.input[2:])
    return sum(16 if byte else 4 for byte in data)


def test_commit_stores_the_batch_and_emits_event(trials, site, approved):
    tx = trials.commitBatch(approved, root("visit 1"), 250, {"from": site})
    assert tx.return_value == 0
    assert tuple(trials.getBatch(approved, site, root("visit 1"))) == (tx.timestamp, 0)
    assert trials.getSite(approved, site)[1] == 1
    assert tx.events["BatchCommitted"] == {
        "trialId": approved,
        "site": site,
        "sequence": 0,
        "root": hex32(root("visit 1")),
        "rows": 250,
    }


def test_sequence_numbers_run_per_site_from_0(trials, sponsor, site, site2, approved):
    trials.addSite(approved, site2, {"from": sponsor})
    sequences = [
        trials.commitBatch(approved, root(label), 10, {"from": by}).return_value
        for label, by in (("a1", site), ("a2", site), ("b1", site2), ("a3", site), ("b2", site2))
    ]
    assert sequences == [0, 1, 0, 2, 1]
    assert (trials.getSite(approved, site)[1], trials.getSite(approved, site2)[1]) == (3, 2)
    assert trials.getBatch(approved, site2, root("b2"))["sequence"] == 1
    assert trials.getBatch(approved, site, root("b2"))["committedAt"] == 0  # site2's, not site's


def test_same_root_twice_from_one_site_reverts(trials, site, approved):
    committed_at = trials.commitBatch(approved, root("visit 1"), 10, {"from": site}).timestamp
    with reverts("BatchExists", approved, site.address, root("visit 1")):
        trials.commitBatch(approved, root("visit 1"), 11, {"from": site})
    assert tuple(trials.getBatch(approved, site, root("visit 1"))) == (committed_at, 0)
    assert trials.getSite(approved, site)[1] == 1


def test_another_sites_copy_of_a_root_is_its_own_batch(trials, sponsor, site, site2, approved):
    """Finding A.3: a site that commits another site's root first (a front-run) neither blocks the honest
    commit nor takes its batch: each site's batch is its own."""
    trials.addSite(approved, site2, {"from": sponsor})
    copied_at = trials.commitBatch(approved, root("visit 1"), 10, {"from": site2}).timestamp
    tx = trials.commitBatch(approved, root("visit 1"), 10, {"from": site})
    assert tx.return_value == 0
    assert tuple(trials.getBatch(approved, site, root("visit 1"))) == (tx.timestamp, 0)
    assert tuple(trials.getBatch(approved, site2, root("visit 1"))) == (copied_at, 0)
    assert (trials.getSite(approved, site)[1], trials.getSite(approved, site2)[1]) == (1, 1)


def test_same_root_in_another_trial_is_another_batch(trials, sponsor, irb, site, approved):
    other = register(trials, sponsor, protocol=PROTOCOL_V2).return_value
    trials.addSite(other, site, {"from": sponsor})
    trials.approve(other, 1, {"from": irb})
    trials.commitBatch(approved, root("visit 1"), 10, {"from": site})
    tx = trials.commitBatch(other, root("visit 1"), 10, {"from": site})
    assert tx.return_value == 0
    assert tuple(trials.getBatch(other, site, root("visit 1"))) == (tx.timestamp, 0)


def test_zero_root_reverts(trials, site, approved):
    with reverts("InvalidHash", NO_HASH):
        trials.commitBatch(approved, NO_HASH, 10, {"from": site})
    assert trials.getSite(approved, site)[1] == 0


def test_empty_batch_reverts(trials, site, approved):
    with reverts("InvalidHash", root("nothing")):
        trials.commitBatch(approved, root("nothing"), 0, {"from": site})
    assert tuple(trials.getBatch(approved, site, root("nothing"))) == (0, 0)


def test_caller_who_is_not_a_site_reverts(trials, sponsor, irb, site2, stranger, approved, site):
    for caller in (stranger, sponsor, irb, site2):
        with reverts("NotSite", approved, caller.address):
            trials.commitBatch(approved, root("visit 1"), 10, {"from": caller})
    assert trials.getBatch(approved, site, root("visit 1"))["committedAt"] == 0


def test_commit_before_approval_reverts(trials, sponsor, site, registered):
    trials.addSite(registered, site, {"from": sponsor})
    with reverts("InvalidTrialStatus", registered, Status.REGISTERED):
        trials.commitBatch(registered, root("visit 1"), 10, {"from": site})


def test_commit_continues_while_an_amendment_awaits_the_irb(trials, sponsor, site, approved):
    """Data of subjects already enrolled keeps flowing under the approved trial; only enrolment waits."""
    trials.amend(approved, PROTOCOL_V2, False, {"from": sponsor})
    tx = trials.commitBatch(approved, root("visit 2"), 10, {"from": site})
    assert trials.getBatch(approved, site, root("visit 2"))["committedAt"] == tx.timestamp


def test_commit_after_lock_reverts(trials, sponsor, site, approved):
    locked_at = trials.lock(approved, {"from": sponsor}).timestamp
    with reverts("TrialLocked", approved, locked_at):
        trials.commitBatch(approved, root("late"), 10, {"from": site})
    trials.reportResults(approved, RESULTS, PRIMARY, SECONDARY, {"from": sponsor})
    with reverts("TrialLocked", approved, locked_at):
        trials.commitBatch(approved, root("later"), 10, {"from": site})
    assert trials.getSite(approved, site)[1] == 0


def test_unknown_trial_reverts(trials, site):
    with reverts("UnknownTrial", 6):
        trials.commitBatch(6, root("visit 1"), 10, {"from": site})


@pytest.mark.parametrize("rows", [1_000_000, 2**32 - 1])
def test_gas_does_not_depend_on_the_batch_size(trials, site, approved, rows):
    """Ten rows or millions: one slot and one event; only the calldata of the `rows` argument differs."""
    small = trials.commitBatch(approved, root("ten rows"), 10, {"from": site})
    large = trials.commitBatch(approved, root("many rows"), rows, {"from": site})
    assert large.gas_used - calldata_gas(large) == small.gas_used - calldata_gas(small)
    assert abs(large.gas_used - small.gas_used) < 100
