"""A trial's story from the index (protocol versions and approvals, sites, enrolments and withdrawals,
committed batches, lock and results), every fact compared with the chain's."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from carechain.clients.base import bytes32, uint
from carechain.clients.trials import TrialClient
from carechain.errors import InputError
from carechain.index.audit.common import ZERO32, Clock, Serialisable, snapshot, to_hex
from carechain.index.indexer import Indexer


@dataclass(frozen=True)
class Comparison(Serialisable):
    """One fact of a trial as the index has it and as the chain has it."""

    field: str
    index: Any
    chain: Any
    agrees: bool


@dataclass
class TrialReport(Serialisable):
    trial_id: int
    sponsor: str
    irb: str  # the IRB of record, as registered or last changed
    chain_id: int
    indexed_block: int
    head: int
    protocol_versions: list[dict[str, Any]] = field(default_factory=list)
    sites: list[dict[str, Any]] = field(default_factory=list)
    subjects: list[dict[str, Any]] = field(default_factory=list)
    commitments: list[dict[str, Any]] = field(default_factory=list)
    locked: dict[str, Any] | None = None
    results: dict[str, Any] | None = None
    checks: list[Comparison] = field(default_factory=list)
    agrees: bool = True


def _compare(checks: list[Comparison], name: str, index: Any, chain: Any) -> None:
    checks.append(Comparison(name, index, chain, index == chain))


def trial_report(indexer: Indexer, trial_id: int) -> TrialReport:
    """A trial's protocol versions and approvals, sites, enrolments and withdrawals, committed batches,
    lock and results, from the index; its state and every batch, version and enrolment checked on chain."""
    uint(trial_id, "trial id", minimum=1)
    snap = snapshot(indexer)
    rows = indexer.events(trial_id=trial_id, contract="TrialRegistry")
    trials = TrialClient.from_manifest(indexer.w3, indexer.root)
    if not rows or rows[0]["event"] != "TrialRegistered":
        if trial_id <= trials.trial_count():
            raise InputError(f"trial {trial_id} is on chain but not in the index yet: sync the index")
        raise InputError(f"unknown trial {trial_id}: chain {snap.chain_id} has {trials.trial_count()} trials")
    clock = Clock(indexer.w3)
    first = rows[0]["args"]
    report = TrialReport(
        trial_id, str(first["sponsor"]), str(first["irb"]), snap.chain_id, snap.indexed_block, snap.head
    )
    versions: dict[int, dict[str, Any]] = {}
    sites: dict[str, dict[str, Any]] = {}
    subjects: dict[str, dict[str, Any]] = {}
    status, consent_version, current_approved, enrolled = "registered", 1, False, 0
    endpoints = (str(first["primaryEndpoints"]), str(first["secondaryEndpoints"]))
    for row in rows:
        args, block, event = row["args"], int(row["block_number"]), row["event"]
        where = {"block": block, "time": clock(block), "tx": str(row["tx_hash"])}
        if event in {"TrialRegistered", "ProtocolAmended"}:
            version = 1 if event == "TrialRegistered" else int(args["version"])
            reconsent = bool(args.get("requiresReconsent", False))
            versions[version] = {
                "version": version,
                "protocolHash": str(args["protocolHash"]),
                "requiresReconsent": reconsent,
                "irb": None,
                "approvedBlock": None,
                **where,
            }
            if reconsent:
                consent_version = version
            current_approved = False
        elif event == "ProtocolApproved":
            versions[int(args["version"])].update(irb=str(args["irb"]), approvedBlock=block)
            status, current_approved = "approved", True
        elif event == "SponsorTransferred":
            report.sponsor = str(args["newSponsor"])
        elif event == "IrbOfRecordChanged":
            report.irb = str(args["next"])
        elif event == "SiteAdded":
            sites[str(args["site"])] = {"site": str(args["site"]), "active": True, "batches": 0, **where}
        elif event == "SiteRemoved":
            sites[str(args["site"])]["active"] = False
        elif event == "SubjectEnrolled":
            enrolled += 1
            subjects[str(args["subject"])] = {
                "subject": str(args["subject"]),
                "site": str(args["site"]),
                "consentVersion": int(args["consentVersion"]),
                "withdrawnAt": 0,
                **where,
            }
        elif event == "SubjectReconsented":
            subjects[str(args["subject"])]["consentVersion"] = int(args["consentVersion"])
        elif event == "SubjectWithdrawn":
            subjects[str(args["subject"])]["withdrawnAt"] = int(args["withdrawnAt"])
        elif event == "BatchCommitted":
            sites[str(args["site"])]["batches"] += 1
            report.commitments.append(
                {
                    "site": str(args["site"]),
                    "sequence": int(args["sequence"]),
                    "root": str(args["root"]),
                    "rows": int(args["rows"]),
                    **where,
                }
            )
        elif event == "EndpointsRevealed":
            endpoints = (str(args["primaryEndpoints"]), str(args["secondaryEndpoints"]))
        elif event == "DatabaseLocked":
            status = "locked"
            report.locked = {"lockedAt": int(args["lockedAt"]), **where}
        elif event == "ResultsReported":
            status = "reported"
            report.results = {"resultsHash": str(args["resultsHash"]), **where}
    report.protocol_versions = list(versions.values())
    report.sites = list(sites.values())
    report.subjects = list(subjects.values())

    chain = trials.get_trial(trial_id)
    checks = report.checks
    _compare(checks, "sponsor", report.sponsor, chain.sponsor)
    _compare(checks, "irb", report.irb, chain.irb)
    _compare(checks, "status", status, chain.status.name.lower())
    _compare(checks, "protocolVersion", max(versions), chain.protocol_version)
    _compare(checks, "consentVersion", consent_version, chain.consent_version)
    _compare(checks, "currentApproved", current_approved, chain.current_approved)
    _compare(checks, "enrolled", enrolled, chain.enrolled)
    _compare(checks, "lockedAt", (report.locked or {}).get("lockedAt", 0), chain.locked_at)
    _compare(checks, "reportedAt", (report.results or {}).get("time", 0), chain.reported_at)
    _compare(
        checks, "resultsHash", (report.results or {}).get("resultsHash", ZERO32), to_hex(chain.results_hash)
    )
    _compare(
        checks,
        "endpoints",
        list(endpoints),
        [to_hex(chain.primary_endpoints), to_hex(chain.secondary_endpoints)],
    )
    for protocol in trials.protocol_versions(trial_id):
        mine = versions.get(protocol.version, {})
        _compare(
            checks,
            f"protocol v{protocol.version}",
            [mine.get("protocolHash"), mine.get("requiresReconsent"), mine.get("irb")],
            [
                to_hex(protocol.protocol_hash),
                protocol.requires_reconsent,
                None if protocol.approved_at == 0 else str(protocol.irb),
            ],
        )
    for site in report.sites:
        on_chain = trials.get_site(trial_id, site["site"])
        _compare(
            checks,
            f"site {site['site']}",
            [site["active"], site["batches"]],
            [on_chain.active, on_chain.batches],
        )
    for subject in report.subjects:
        enrolment = trials.get_enrolment(trial_id, subject["subject"])
        _compare(
            checks,
            f"subject {subject['subject']}",
            [subject["site"], subject["time"], subject["withdrawnAt"], subject["consentVersion"]],
            [str(enrolment.site), enrolment.enrolled_at, enrolment.withdrawn_at, enrolment.consent_version],
        )
    for batch in report.commitments:
        on_chain_batch = trials.get_batch(trial_id, batch["site"], bytes32(batch["root"]))
        _compare(
            checks,
            f"batch {batch['root']} of site {batch['site']}",
            [batch["sequence"], batch["time"]],
            [on_chain_batch.sequence, on_chain_batch.committed_at],
        )
    report.agrees = all(check.agrees for check in checks)
    return report
