"""Audit answers from the event index, each checked against the chain.

Every answer is derived by replaying the indexed events (the latest state per consent, grant,
credential, episode or trial, with expiry honoured against the chain's latest block time) and then
compared with what the contracts say now (`getConsent` and `isPermitted`, `getGrant`,
`getRecordGrant`, `hasCredential` and `canAccess`, `getEpisode`, the access log, `getTrial` ...).
A row the chain disagrees with is reported with `agrees: false`, never dropped: an index that is
behind the chain shows up as disagreement. Nothing here writes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, cast

from web3 import Web3

from carechain.clients.access import AccessClient, Basis, Review
from carechain.clients.base import bytes32, checksum
from carechain.clients.consent import ANY_GRANTEE, ConsentClient
from carechain.clients.credentials import ROLES, CredentialClient
from carechain.clients.records import RecordClient
from carechain.clients.trials import TrialClient
from carechain.core.purposes import ALL_SCOPES, purpose_by_id, scope_names, trial_purpose
from carechain.errors import InputError
from carechain.index.indexer import Indexer

ZERO32 = "0x" + "00" * 32


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _names(mask: int) -> list[str]:
    """Scope names of a mask; bits this table does not know are shown as numbers, not refused."""
    known = mask & ALL_SCOPES
    names = scope_names(known) if known else []
    return names + [f"bit{bit}" for bit in range(64) if (mask & ~ALL_SCOPES) >> bit & 1]


class _Serialisable:
    def to_dict(self) -> dict[str, Any]:
        return asdict(cast(Any, self))


@dataclass(frozen=True)
class Snapshot:
    """Where the answer stands: the index's last block against the chain's head and time."""

    chain_id: int
    indexed_block: int
    head: int
    time: int


def snapshot(indexer: Indexer) -> Snapshot:
    latest = indexer.w3.eth.get_block("latest")
    last = indexer.last_block()
    return Snapshot(
        indexer.chain_id, -1 if last is None else last, int(latest["number"]), int(latest["timestamp"])
    )


class _Clock:
    """Block timestamps, each asked of the node once (the index keeps numbers, not times)."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self.cache: dict[int, int] = {}

    def __call__(self, block: int) -> int:
        if block not in self.cache:
            self.cache[block] = int(self.w3.eth.get_block(block)["timestamp"])
        return self.cache[block]


def purpose_label(purpose: str, trial_purposes: dict[str, str] | None = None) -> str:
    """HMB, TREAT ... for a known purpose; 'trial 3 v1' for a trial's; else the hex."""
    known = purpose_by_id(bytes32(purpose, "purpose"))
    if known is not None:
        return known.code
    return (trial_purposes or {}).get(purpose.lower(), purpose)


def _trial_purposes(indexer: Indexer) -> dict[str, str]:
    """The opaque purpose of every protocol version of every indexed trial, named."""
    named: dict[str, str] = {}
    for row in indexer.events(contract="TrialRegistry"):
        if row["event"] == "TrialRegistered":
            version = 1
        elif row["event"] == "ProtocolAmended":
            version = int(row["args"]["version"])
        else:
            continue
        trial_id = int(row["trial_id"])
        named[_hex(trial_purpose(trial_id, version))] = f"trial {trial_id} v{version}"
    return named


# ---- credentials, replayed --------------------------------------------------------------------------


def _credential_live(indexer: Indexer, account: str, role: str, now: int) -> bool:
    """hasCredential, from the index: attested and active (not suspended or revoked), within validity."""
    role_hex = _hex(ROLES[role])
    state: dict[str, Any] | None = None
    for row in indexer.events(contract="CredentialRegistry", party=account):
        if str(row["args"].get("role", "")).lower() != role_hex:
            continue
        args = row["args"]
        if row["event"] == "CredentialAttested":
            state = {"active": True, "from": int(args["validFrom"]), "until": int(args["validUntil"])}
        elif state is not None and row["event"] in {"CredentialSuspended", "CredentialRevoked"}:
            state["active"] = False
        elif state is not None and row["event"] == "CredentialReinstated":
            state["active"] = True
    return (
        state is not None
        and bool(state["active"])
        and state["from"] <= now
        and (state["until"] == 0 or now < state["until"])
    )


# ---- who can see ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Permission(_Serialisable):
    """One party that may (by the index, or by the chain) see the patient's data of the asked scopes.

    `kind` is consent, category-grant, record-grant or break-glass; `index_live` is the index's
    answer, `chain_live` the chain's for the same consent, grant or episode; `agrees` compares them.
    `is_permitted` is the chain's `isPermitted` for a consent (a broad consent counts too);
    `can_access` its `canAccess` on one of the patient's records the row covers (None: no such record).
    """

    party: str
    kind: str
    purpose: str | None
    purpose_label: str | None
    scopes: list[str]
    record_id: str | None
    episode_id: int | None
    granted_block: int
    granted_tx: str
    expires_at: int
    index_live: bool
    chain_live: bool
    agrees: bool
    why: str
    is_permitted: bool | None = None
    can_access: bool | None = None


@dataclass(frozen=True)
class AccessReport(_Serialisable):
    patient: str
    scopes: list[str]
    purpose: str | None
    chain_id: int
    indexed_block: int
    head: int
    time: int
    permissions: list[Permission]
    agrees: bool


def who_can_see(indexer: Indexer, patient: str, scopes: int, purpose: bytes | None = None) -> AccessReport:
    """Who may see `patient`'s data covering every bit of `scopes` now, and why (purpose optional).

    Consents, category and one-record access grants and break-glass episodes are replayed from the
    index, then each is checked on the chain. With `purpose`, only consents for it (grants and
    break-glass name no purpose).
    """
    patient = checksum(patient, "patient")
    if not 0 < scopes < 2**64:
        raise InputError(f"a scopes mask is a non-zero uint64, got {scopes!r}")
    snap = snapshot(indexer)
    now = snap.time
    w3, root = indexer.w3, indexer.root
    consents = ConsentClient.from_manifest(w3, root)
    access = AccessClient.from_manifest(w3, root)
    credentials = CredentialClient.from_manifest(w3, root)
    named = _trial_purposes(indexer)
    wanted = None if purpose is None else _hex(purpose)
    rows: list[Permission] = []

    # Consents: the latest event per (grantee, purpose) is the consent's state.
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for row in indexer.events(patient=patient, contract="ConsentRegistry"):
        if row["event"] not in {"ConsentGranted", "ConsentUpdated", "ConsentRevoked"}:
            continue
        key = (str(row["args"]["grantee"]), str(row["args"]["purpose"]).lower())
        if wanted is not None and key[1] != wanted.lower():
            continue
        state = latest.setdefault(key, {})
        if row["event"] == "ConsentRevoked":
            state["revoked"] = True
        else:
            state.update(
                revoked=False,
                scopes=int(row["args"]["scopes"]),
                expires=int(row["args"]["expiresAt"]),
                block=int(row["block_number"]),
                tx=str(row["tx_hash"]),
            )
    for (grantee, code), state in latest.items():
        if "scopes" not in state or state["scopes"] & scopes != scopes:
            continue
        index_live = not state["revoked"] and (state["expires"] == 0 or now < state["expires"])
        stored = consents.get_consent(patient, grantee, bytes32(code, "purpose"))
        chain_live = stored.is_live(now) and stored.scopes & scopes == scopes
        if not (index_live or chain_live):
            continue
        label = purpose_label(code, named)
        rows.append(
            Permission(
                grantee,
                "consent",
                code,
                label,
                _names(state["scopes"]),
                None,
                None,
                state["block"],
                state["tx"],
                state["expires"],
                index_live,
                chain_live,
                index_live == chain_live,
                f"{'broad consent (any grantee)' if grantee == ANY_GRANTEE else 'consent'} for {label}",
                is_permitted=consents.is_permitted(patient, grantee, bytes32(code, "purpose"), scopes),
            )
        )

    # Records of the patient whose category the scopes name, for one-record grants and canAccess.
    records = {
        str(row["record_id"]): int(row["args"]["category"])
        for row in indexer.events(patient=patient, contract="RecordRegistry", event="RecordAnchored")
    }

    # Access grants: category grants (record id 0) per provider, one-record grants per (provider, record).
    grants: dict[tuple[str, str], dict[str, Any]] = {}
    for row in indexer.events(patient=patient, contract="AccessGrants"):
        if row["event"] not in {"AccessGranted", "AccessRevoked"}:
            continue
        key = (str(row["args"]["provider"]), str(row["record_id"]).lower())
        state = grants.setdefault(key, {})
        if row["event"] == "AccessRevoked":
            state["revoked"] = True
        else:
            state.update(
                revoked=False,
                categories=int(row["args"]["categories"]),
                expires=int(row["args"]["expiresAt"]),
                block=int(row["block_number"]),
                tx=str(row["tx_hash"]),
            )
    for (provider, record), state in grants.items():
        if "expires" not in state or wanted is not None:  # access grants name no purpose
            continue
        if record == ZERO32:
            if state["categories"] & scopes != scopes:
                continue
            shown = _names(state["categories"])
        else:
            category = records.get(record)
            if category is None or not (1 << category) & scopes:
                continue
            shown = _names(1 << category)
        credential = _credential_live(indexer, provider, "PROVIDER", now)
        index_live = not state["revoked"] and now < state["expires"] and credential
        if record == ZERO32:
            grant = access.get_grant(patient, provider)
            covers = grant.categories & scopes == scopes
        else:
            grant = access.get_record_grant(provider, bytes32(record, "record id"))
            covers = True
        chain_live = grant.is_live(now) and covers and credentials.has_credential(provider, "PROVIDER")
        if not (index_live or chain_live):
            continue
        kind = "category-grant" if record == ZERO32 else "record-grant"
        covered = record if record != ZERO32 else _covered(records, state["categories"] & scopes)
        rows.append(
            Permission(
                provider,
                kind,
                None,
                None,
                shown,
                None if record == ZERO32 else record,
                None,
                state["block"],
                state["tx"],
                state["expires"],
                index_live,
                chain_live,
                index_live == chain_live,
                (f"category grant ({','.join(shown)})" if record == ZERO32 else f"grant to record {record}")
                + ("" if credential else " (provider credential not live)"),
                can_access=None if covered is None else access.can_access(provider, bytes32(covered)),
            )
        )

    # Break-glass: the latest episode per provider, until it expires or a reviewer flags it.
    if wanted is None:
        episodes: dict[str, dict[str, Any]] = {}
        for row in indexer.events(patient=patient, contract="AccessGrants", event="BreakGlassOpened"):
            episodes[str(row["args"]["provider"])] = row
        flagged = {
            int(row["args"]["episodeId"])
            for row in indexer.events(contract="AccessGrants", event="BreakGlassReviewed")
            if not row["args"]["approved"]
        }
        covered = _covered(records, scopes)
        for provider, row in episodes.items():
            episode_id = int(row["args"]["episodeId"])
            expires = int(row["args"]["expiresAt"])
            index_live = (
                episode_id not in flagged
                and now < expires
                and _credential_live(indexer, provider, "EMERGENCY", now)
            )
            on_chain = access.get_episode(episode_id)
            chain_live = now < on_chain.expires_at and credentials.has_credential(provider, "EMERGENCY")
            if not (index_live or chain_live):
                continue
            rows.append(
                Permission(
                    provider,
                    "break-glass",
                    None,
                    None,
                    ["all"],
                    None,
                    episode_id,
                    int(row["block_number"]),
                    str(row["tx_hash"]),
                    expires,
                    index_live,
                    chain_live,
                    index_live == chain_live,
                    f"break-glass episode {episode_id} ({purpose_label(str(row['args']['reasonCode']))})",
                    can_access=None if covered is None else access.can_access(provider, bytes32(covered)),
                )
            )

    return AccessReport(
        patient,
        _names(scopes),
        wanted,
        snap.chain_id,
        snap.indexed_block,
        snap.head,
        snap.time,
        rows,
        all(row.agrees for row in rows),
    )


def _covered(records: dict[str, int], scopes: int) -> str | None:
    """One of the patient's records in a category of `scopes`, to ask `canAccess` about."""
    return next((record for record, category in records.items() if (1 << category) & scopes), None)


# ---- history ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry(_Serialisable):
    block: int
    time: int
    tx: str
    log_index: int
    contract: str
    event: str
    actor: str | None
    party: str | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class History(_Serialisable):
    patient: str
    chain_id: int
    indexed_block: int
    head: int
    entries: list[HistoryEntry]


_HISTORY_EVENTS = {
    "ConsentGranted",
    "ConsentUpdated",
    "ConsentRevoked",
    "DelegateSet",
    "DelegateRemoved",
    "AccessGranted",
    "AccessRevoked",
    "BreakGlassOpened",
    "RecordAccessed",
}


def _detail(args: dict[str, Any], named: dict[str, str]) -> dict[str, Any]:
    """An event's arguments for people: purposes named, scope masks as names."""
    shown: dict[str, Any] = {}
    for key, value in args.items():
        if key in {"patient", "actor"}:
            continue
        if key in {"purpose", "reasonCode"}:
            shown[key] = purpose_label(str(value), named)
        elif key in {"categories", "episodeId"} and value == 0:
            continue  # a one-record grant has no categories; a read under a grant no episode
        elif key in {"scopes", "categories"} and isinstance(value, int) and value:
            shown[key] = _names(value)
        elif key == "basis":
            shown[key] = Basis(int(value)).name.lower()
        elif key == "recordId" and value == ZERO32:
            continue
        else:
            shown[key] = value
    return shown


def history(indexer: Indexer, patient: str) -> History:
    """Every consent, delegate, access-grant, break-glass and read event of `patient`, in chain order."""
    patient = checksum(patient, "patient")
    snap = snapshot(indexer)
    clock = _Clock(indexer.w3)
    named = _trial_purposes(indexer)
    entries = [
        HistoryEntry(
            int(row["block_number"]),
            clock(int(row["block_number"])),
            str(row["tx_hash"]),
            int(row["log_index"]),
            str(row["contract"]),
            str(row["event"]),
            row["args"].get("actor", patient if row["event"].startswith("Delegate") else None),
            row["party"],
            _detail(row["args"], named),
        )
        for row in indexer.events(patient=patient)
        if row["event"] in _HISTORY_EVENTS
    ]
    return History(patient, snap.chain_id, snap.indexed_block, snap.head, entries)


# ---- record reads -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordRead(_Serialisable):
    """One logged read and what allowed it: the grant's transaction or the break-glass episode."""

    block: int
    time: int
    tx: str
    provider: str
    purpose: str
    purpose_label: str
    basis: str
    episode_id: int | None
    grant_tx: str | None
    grant_block: int | None


@dataclass(frozen=True)
class ReadsReport(_Serialisable):
    record_id: str
    patient: str
    category: list[str]
    custodian: str
    chain_id: int
    indexed_block: int
    head: int
    reads: list[RecordRead]
    chain_reads: int
    agrees: bool


def record_reads(indexer: Indexer, record: bytes | str) -> ReadsReport:
    """Who read `record`, when, for which purpose, under which grant or break-glass episode."""
    rid = _hex(bytes32(record, "record id"))
    snap = snapshot(indexer)
    anchored = indexer.events(record_id=rid, event="RecordAnchored")
    records = RecordClient.from_manifest(indexer.w3, indexer.root)
    if not anchored:
        if not records.exists(bytes32(rid)):
            raise InputError(f"unknown record {rid}: no record with this id on chain {snap.chain_id}")
        raise InputError(f"record {rid} is on chain but not in the index yet: sync the index")
    facts = anchored[0]
    patient = str(facts["patient"])
    clock = _Clock(indexer.w3)
    named = _trial_purposes(indexer)
    grants = indexer.events(patient=patient, event="AccessGranted")
    reads = []
    for row in indexer.events(record_id=rid, event="RecordAccessed"):
        args = row["args"]
        basis = Basis(int(args["basis"]))
        grant = None
        if basis in {Basis.RECORD_GRANT, Basis.CATEGORY_GRANT}:
            target = rid if basis == Basis.RECORD_GRANT else ZERO32
            grant = next(
                (
                    g
                    for g in reversed(grants)
                    if g["party"] == args["provider"]
                    and str(g["record_id"]).lower() == target
                    and (g["block_number"], g["log_index"]) < (row["block_number"], row["log_index"])
                ),
                None,
            )
        reads.append(
            RecordRead(
                int(row["block_number"]),
                clock(int(row["block_number"])),
                str(row["tx_hash"]),
                str(args["provider"]),
                str(args["purpose"]),
                purpose_label(str(args["purpose"]), named),
                basis.name.lower(),
                int(args["episodeId"]) or None,
                None if grant is None else str(grant["tx_hash"]),
                None if grant is None else int(grant["block_number"]),
            )
        )
    on_chain = AccessClient.from_manifest(indexer.w3, indexer.root).reads(
        record=bytes32(rid), from_block=indexer.deploy_block
    )
    chain_seen = [(r.block_number, r.tx_hash, r.provider, r.basis.name.lower()) for r in on_chain]
    index_seen = [(r.block, r.tx, r.provider, r.basis) for r in reads]
    return ReadsReport(
        rid,
        patient,
        _names(1 << int(facts["args"]["category"])),
        str(facts["args"]["custodian"]),
        snap.chain_id,
        snap.indexed_block,
        snap.head,
        reads,
        len(on_chain),
        chain_seen == index_seen,
    )


# ---- break-glass ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenEpisode(_Serialisable):
    episode_id: int
    patient: str
    provider: str
    reason: str
    opened_block: int
    opened_at: int
    expires_at: int
    live: bool
    chain_review: str
    chain_live: bool
    agrees: bool


@dataclass(frozen=True)
class EpisodesReport(_Serialisable):
    chain_id: int
    indexed_block: int
    head: int
    time: int
    episodes: list[OpenEpisode]
    agrees: bool


def open_break_glass(indexer: Indexer, patient: str | None = None) -> EpisodesReport:
    """Break-glass episodes opened and not yet reviewed (of one patient, or all), and whether still live.

    An episode's access also needs the provider's EMERGENCY credential; `live` is the index's answer,
    `chain_live` the chain's; the chain's review state must still be Open.
    """
    who = None if patient is None else checksum(patient, "patient")
    snap = snapshot(indexer)
    now = snap.time
    clock = _Clock(indexer.w3)
    access = AccessClient.from_manifest(indexer.w3, indexer.root)
    credentials = CredentialClient.from_manifest(indexer.w3, indexer.root)
    reviewed = {int(row["args"]["episodeId"]) for row in indexer.events(event="BreakGlassReviewed")}
    episodes = []
    for row in indexer.events(patient=who, event="BreakGlassOpened"):
        args = row["args"]
        episode_id = int(args["episodeId"])
        if episode_id in reviewed:
            continue
        provider, expires = str(args["provider"]), int(args["expiresAt"])
        live = now < expires and _credential_live(indexer, provider, "EMERGENCY", now)
        on_chain = access.get_episode(episode_id)
        chain_live = now < on_chain.expires_at and credentials.has_credential(provider, "EMERGENCY")
        episodes.append(
            OpenEpisode(
                episode_id,
                str(args["patient"]),
                provider,
                purpose_label(str(args["reasonCode"])),
                int(row["block_number"]),
                clock(int(row["block_number"])),
                expires,
                live,
                on_chain.review.name.lower(),
                chain_live,
                on_chain.review == Review.OPEN and live == chain_live,
            )
        )
    return EpisodesReport(
        snap.chain_id,
        snap.indexed_block,
        snap.head,
        now,
        episodes,
        all(e.agrees for e in episodes),
    )


# ---- trials -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison(_Serialisable):
    """One fact of a trial as the index has it and as the chain has it."""

    field: str
    index: Any
    chain: Any
    agrees: bool


@dataclass
class TrialReport(_Serialisable):
    trial_id: int
    sponsor: str
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
    if isinstance(trial_id, bool) or not isinstance(trial_id, int) or trial_id <= 0:
        raise InputError(f"a trial id is a positive integer, got {trial_id!r}")
    snap = snapshot(indexer)
    rows = indexer.events(trial_id=trial_id, contract="TrialRegistry")
    trials = TrialClient.from_manifest(indexer.w3, indexer.root)
    if not rows or rows[0]["event"] != "TrialRegistered":
        if trial_id <= trials.trial_count():
            raise InputError(f"trial {trial_id} is on chain but not in the index yet: sync the index")
        raise InputError(f"unknown trial {trial_id}: chain {snap.chain_id} has {trials.trial_count()} trials")
    clock = _Clock(indexer.w3)
    first = rows[0]["args"]
    report = TrialReport(trial_id, str(first["sponsor"]), snap.chain_id, snap.indexed_block, snap.head)
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
    _compare(checks, "status", status, chain.status.name.lower())
    _compare(checks, "protocolVersion", max(versions), chain.protocol_version)
    _compare(checks, "consentVersion", consent_version, chain.consent_version)
    _compare(checks, "currentApproved", current_approved, chain.current_approved)
    _compare(checks, "enrolled", enrolled, chain.enrolled)
    _compare(checks, "lockedAt", (report.locked or {}).get("lockedAt", 0), chain.locked_at)
    _compare(checks, "reportedAt", (report.results or {}).get("time", 0), chain.reported_at)
    _compare(
        checks, "resultsHash", (report.results or {}).get("resultsHash", ZERO32), _hex(chain.results_hash)
    )
    _compare(
        checks,
        "endpoints",
        list(endpoints),
        [_hex(chain.primary_endpoints), _hex(chain.secondary_endpoints)],
    )
    for protocol in trials.protocol_versions(trial_id):
        mine = versions.get(protocol.version, {})
        _compare(
            checks,
            f"protocol v{protocol.version}",
            [mine.get("protocolHash"), mine.get("requiresReconsent"), mine.get("irb")],
            [
                _hex(protocol.protocol_hash),
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
            [subject["time"], subject["withdrawnAt"], subject["consentVersion"]],
            [enrolment.enrolled_at, enrolment.withdrawn_at, enrolment.consent_version],
        )
    for batch in report.commitments:
        on_chain_batch = trials.get_batch(trial_id, bytes32(batch["root"]))
        _compare(
            checks,
            f"batch {batch['root']}",
            [batch["site"], batch["sequence"], batch["time"]],
            [str(on_chain_batch.site), on_chain_batch.sequence, on_chain_batch.committed_at],
        )
    report.agrees = all(check.agrees for check in checks)
    return report


__all__ = [
    "AccessReport",
    "Comparison",
    "EpisodesReport",
    "History",
    "HistoryEntry",
    "OpenEpisode",
    "Permission",
    "ReadsReport",
    "RecordRead",
    "Snapshot",
    "TrialReport",
    "history",
    "open_break_glass",
    "purpose_label",
    "record_reads",
    "snapshot",
    "trial_report",
    "who_can_see",
]
