"""The audit answers, replayed from the index, equal what the chain says now."""

from __future__ import annotations

from web3 import Web3

from audit.conftest import GENOMICS, IMAGING, LABS, latest_time, mine_at
from carechain.clients.access import AccessClient, Basis
from carechain.clients.consent import ANY_GRANTEE, ConsentClient
from carechain.clients.credentials import CredentialClient
from carechain.clients.trials import TrialClient, TrialStatus
from carechain.core.purposes import purpose_id
from carechain.core.sender import Sender
from carechain.index import audit


def _live(report):
    return {(row.party, row.kind) for row in report.permissions if row.index_live}


def test_who_can_see_labs_is_what_is_permitted_and_accessible_on_chain(w3, root, story, index):
    mine_at(w3, story.vendor_expiry + 1)  # the vendor's consent has lapsed since it was indexed
    report = audit.who_can_see(index, story.patient, LABS)

    assert report.agrees and all(row.agrees for row in report.permissions)
    assert _live(report) == {
        (story.researcher, "consent"),
        (ANY_GRANTEE, "consent"),
        (story.gp, "category-grant"),
        (story.er, "break-glass"),
        (story.er2, "break-glass"),  # reviewed and approved: its access runs to its end
    }
    assert report.time == latest_time(w3) and report.indexed_block < report.head
    consents = ConsentClient.from_manifest(w3, root)
    for party, code in ((story.researcher, "HMB"), (story.vendor, "TREAT"), (story.former, "HMB")):
        permitted = consents.is_permitted(story.patient, party, purpose_id(code), LABS)
        assert permitted == ((party, "consent") in _live(report))
    assert not consents.is_permitted(story.patient, story.vendor, purpose_id("TREAT"), LABS)
    access = AccessClient.from_manifest(w3, root)
    for provider in (story.gp, story.specialist, story.er, story.er2):
        listed = any(row.party == provider and row.index_live for row in report.permissions)
        assert access.can_access(provider, story.lab_record) == listed
    for row in report.permissions:  # the chain's own checks, as the audit asked them
        assert row.is_permitted is (True if row.kind == "consent" else None)
        assert row.can_access is (None if row.kind == "consent" else True)
    (gp_row,) = (row for row in report.permissions if row.party == story.gp)
    assert (gp_row.scopes, gp_row.granted_tx) == (["labs"], story.gp_grant_tx)
    (er_row,) = (row for row in report.permissions if row.party == story.er)
    assert er_row.episode_id == story.episode == access.access_basis(story.er, story.lab_record)[1]


def test_who_can_see_imaging_names_the_one_record_grant(w3, root, story, index):
    report = audit.who_can_see(index, story.patient, IMAGING)
    assert (
        _live(report)
        == {
            (story.gp, "record-grant"),
            (story.er, "break-glass"),
            (story.er2, "break-glass"),
        }
        and report.agrees
    )
    (row,) = (row for row in report.permissions if row.kind == "record-grant")
    assert row.record_id == "0x" + story.scan_record.hex() and row.granted_tx == story.scan_grant_tx
    access = AccessClient.from_manifest(w3, root)
    assert access.access_basis(story.gp, story.scan_record) == (Basis.RECORD_GRANT, 0)
    assert not access.can_access(story.specialist, story.scan_record)


def test_who_can_see_one_purpose_and_several_scopes(story, index):
    report = audit.who_can_see(index, story.patient, LABS | GENOMICS, purpose_id("HMB"))
    assert _live(report) == {(story.researcher, "consent")}
    (row,) = report.permissions
    assert (row.purpose_label, row.scopes, row.expires_at) == ("HMB", ["labs", "genomics"], 0)


def test_an_index_behind_the_chain_is_reported_not_hidden(w3, root, story, index):
    ConsentClient.from_manifest(w3, root, Sender(w3, story.patient)).revoke(
        story.researcher, purpose_id("HMB")
    )
    report = audit.who_can_see(index, story.patient, LABS)  # not synced since the revocation
    (row,) = (row for row in report.permissions if row.party == story.researcher)
    assert (row.index_live, row.chain_live, row.agrees, report.agrees) == (True, False, False, False)
    assert row.is_permitted is False
    index.sync()
    again = audit.who_can_see(index, story.patient, LABS)
    assert again.agrees and story.researcher not in {row.party for row in again.permissions}


def test_a_revoked_provider_credential_ends_access_in_the_index_too(w3, root, story, index):
    CredentialClient.from_manifest(w3, root, Sender(w3, w3.eth.accounts[0])).suspend(story.gp, "PROVIDER")
    index.sync()
    report = audit.who_can_see(index, story.patient, LABS)
    assert (story.gp, "category-grant") not in _live(report) and report.agrees
    assert not AccessClient.from_manifest(w3, root).can_access(story.gp, story.lab_record)


def test_history_is_every_event_of_the_patient_in_chain_order(w3, root, story, index):
    report = audit.history(index, story.patient)
    names = [entry.event for entry in report.entries]
    assert names[:6] == ["ConsentGranted"] * 4 + ["ConsentRevoked", "DelegateSet"]
    expected = []
    for client, events in (
        (ConsentClient, ("ConsentGranted", "ConsentRevoked", "DelegateSet")),
        (AccessClient, ("AccessGranted", "AccessRevoked", "BreakGlassOpened", "RecordAccessed")),
    ):
        contract = client.from_manifest(w3, root).contract
        for name in events:
            for log in getattr(contract.events, name)().get_logs(
                argument_filters={"patient": story.patient}, from_block=0
            ):
                expected.append(
                    (log["blockNumber"], log["logIndex"], name, "0x" + log["transactionHash"].hex())
                )
    assert [(e.block, e.log_index, e.event, e.tx) for e in report.entries] == sorted(expected)
    first = report.entries[0]
    assert first.actor == story.patient and first.detail["purpose"] == "HMB"
    assert first.time == w3.eth.get_block(first.block)["timestamp"]
    revoke = report.entries[4]
    assert revoke.party == story.former and revoke.detail == {"grantee": story.former, "purpose": "HMB"}


def test_record_reads_name_the_grant_or_the_episode_as_the_chain_logged_them(w3, root, story, index):
    lab = audit.record_reads(index, story.lab_record)
    chain = AccessClient.from_manifest(w3, root).reads(record=story.lab_record)
    assert lab.agrees and lab.chain_reads == len(chain) == 2
    assert [(r.block, r.tx, r.provider, r.basis) for r in lab.reads] == [
        (c.block_number, c.tx_hash, c.provider, c.basis.name.lower()) for c in chain
    ]
    by_grant, by_episode = lab.reads
    assert (by_grant.provider, by_grant.basis, by_grant.grant_tx) == (
        story.gp,
        "category_grant",
        story.gp_grant_tx,
    )
    assert (by_episode.basis, by_episode.episode_id, by_episode.purpose_label) == (
        "break_glass", story.episode, "ETREAT",
    )  # fmt: skip
    assert (lab.patient, lab.category, lab.custodian) == (story.patient, ["labs"], story.custodian)
    scan = audit.record_reads(index, story.scan_record)
    (read,) = scan.reads
    assert (read.basis, read.grant_tx) == ("record_grant", story.scan_grant_tx)


def test_open_break_glass_lists_the_unreviewed_episode_until_it_ends(w3, root, story, index):
    report = audit.open_break_glass(index)
    (episode,) = report.episodes
    on_chain = AccessClient.from_manifest(w3, root).get_episode(story.episode)
    assert (episode.episode_id, episode.provider, episode.patient) == (story.episode, story.er, story.patient)
    assert (episode.live, episode.chain_live, episode.chain_review, episode.agrees) == (
        True,
        True,
        "open",
        True,
    )
    assert episode.expires_at == on_chain.expires_at and episode.reason == "ETREAT"
    mine_at(w3, episode.expires_at)
    ended = audit.open_break_glass(index, story.patient)
    assert [(e.episode_id, e.live, e.chain_live) for e in ended.episodes] == [(story.episode, False, False)]
    assert audit.open_break_glass(index, story.gp).episodes == []


def test_trial_report_matches_the_chains_trial_state(w3, root, story, index):
    report = audit.trial_report(index, story.trial_id)
    assert report.agrees and all(check.agrees for check in report.checks)
    trials = TrialClient.from_manifest(w3, root)
    chain = trials.get_trial(story.trial_id)
    assert chain.status == TrialStatus.REPORTED and report.locked["lockedAt"] == chain.locked_at
    assert report.sponsor == chain.sponsor != story.sponsor  # the key it was transferred to
    assert report.irb == chain.irb  # the IRB of record, from TrialRegistered
    assert [v["version"] for v in report.protocol_versions] == [1, 2]
    assert [v["protocolHash"] for v in report.protocol_versions] == [
        "0x" + v.protocol_hash.hex() for v in trials.protocol_versions(story.trial_id)
    ]
    assert [(b["site"], b["sequence"], b["root"], b["rows"]) for b in report.commitments] == [
        (b.site, b.sequence, "0x" + b.root.hex(), b.rows) for b in trials.batches(story.trial_id)
    ]
    assert [s["subject"] for s in report.subjects] == trials.subjects(story.trial_id)
    withdrawn = {s["subject"]: s["withdrawnAt"] for s in report.subjects}
    assert (
        withdrawn[story.subject] == 0
        and withdrawn[story.dropout] == trials.get_enrolment(story.trial_id, story.dropout).withdrawn_at > 0
    )
    assert report.results["resultsHash"] == "0x" + Web3.keccak(text="results").hex()
    checked = {check.field for check in report.checks}
    facts = {"irb", "status", "enrolled", "lockedAt", "reportedAt", "protocol v2", f"site {story.site}"}
    assert facts <= checked


def test_a_flagged_episode_ends_its_access_and_leaves_the_open_list(w3, root, story, index):
    AccessClient.from_manifest(w3, root, Sender(w3, story.reviewer)).review(story.episode, False)
    index.sync()
    assert audit.open_break_glass(index).episodes == []
    report = audit.who_can_see(index, story.patient, LABS)
    assert (story.er, "break-glass") not in _live(report) and report.agrees
    assert not AccessClient.from_manifest(w3, root).can_access(story.er, story.lab_record)
