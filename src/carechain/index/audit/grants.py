"""The public audit of ConsentGrants: aggregates only (grants by purpose, kind and status; revocations and
grants per day; tree depths), never a grant-by-grant dossier, beside one check: the revocation epoch.

Statuses are effective ones, as `effectiveStatus` and `isGrantActive` answer them: a sub-grant under an
ended ancestor shows that ancestor's status, and a live grant past its `expiresAt` (at the chain's latest
block time) is EXPIRED. A grant not yet in its window counts as ACTIVE (`notBefore` is in no event).
The epoch check (`EpochCheck`): every revocation of any kind (a suspension too) moves `revocationEpoch` by
one, so an index whose epoch at its last block equals the contract's there has counted as many of those
acts; it does not compare which grants they ended, nor any other event (grants made, resumptions, usage),
and says nothing after that block. Unknown on either side is shown as unknown, not as a mismatch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from carechain.core.grants import Status
from carechain.core.profiles import purpose_code, purpose_of_code
from carechain.errors import InputError
from carechain.index.audit.common import Serialisable, Snapshot, snapshot
from carechain.index.grants import FIRST_EPOCH
from carechain.index.indexer import Indexer, grant_events_table, grants_table

DAY = 86_400
EXPIRED = "EXPIRED"  # not a Status: a live status past expiresAt
LIVE = frozenset({Status.ACTIVE, Status.SUSPENDED})
# The day report's columns: the event and, for ConsentRevoked, the status it sets.
DAY_COLUMNS: dict[tuple[str, int | None], str] = {
    ("ConsentGranted", None): "granted",
    ("ConsentSubGranted", None): "sub_granted",
    ("ConsentRevoked", Status.REVOKED_BY_SUBJECT): "revoked_by_subject",
    ("ConsentRevoked", Status.RENOUNCED_BY_GRANTEE): "renounced_by_grantee",
    ("ConsentRevoked", Status.TERMINATED_BY_ISSUER): "terminated_by_issuer",
    ("ConsentRevoked", Status.EXHAUSTED): "exhausted",
    ("ConsentRevoked", Status.SUSPENDED): "suspended",
    ("ConsentResumed", None): "resumed",
    ("ScopeLeafRevoked", None): "leaves_withdrawn",
    ("AgentRevoked", None): "agents_revoked",
}
ENDED = ("revoked_by_subject", "renounced_by_grantee", "terminated_by_issuer", "exhausted")


def purpose_name(code: int | None) -> str:
    """HMB, TREAT ... for CareChain's codes; the number for any other (None: a sub-grant gone in a reorg)."""
    if code is None:
        return "-"
    known = purpose_of_code(code)
    return known.purpose.code if known is not None else str(code)


UINT32_MAX = 2**32 - 1  # purposeCode is a uint32


def purpose_filter(value: str | int | None) -> int | None:
    """A purpose given as a code (HMB), a CURIE (DUO:0000006) or a registry number (10039: ASCII digits,
    at most a uint32, as purposeCode is; anything else is one InputError, never a filter matching nothing)."""
    if value is None:
        return None
    if isinstance(value, int):
        number, shown = value, str(value)
    else:
        text = value.strip()
        if not (text.isascii() and text.isdigit()):
            return purpose_code(text)
        number, shown = int(text), text[:20]
    if not 0 <= number <= UINT32_MAX:
        raise InputError(f"purpose number {shown} is out of range: purpose codes are 0..{UINT32_MAX}")
    return number


def parse_day(value: str | date | None, what: str) -> date | None:
    """A UTC day given as YYYY-MM-DD."""
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"{what} is a day as YYYY-MM-DD, got {value[:20]!r}") from None


def day_of(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).date().isoformat()


# ---- what the index holds ---------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexedGrant(Serialisable):
    """One indexed grant and its own latest status (the last status-setting event)."""

    grant_id: str
    root_id: str
    parent_id: str | None
    depth: int
    grantee: str | None
    purpose_code: int | None
    expires_at: int | None
    granted_block: int
    granted_time: int
    own_status: Status


def indexed_grants(indexer: Indexer, roots: frozenset[str] | None = None) -> Iterator[IndexedGrant]:
    """Every indexed grant of this chain, streamed; with `roots`, only those trees, kept here (the set is
    never put in a query, so an index on a shared server never sees which trees a patient asked about)."""
    e, g = grant_events_table.c, grants_table.c
    ranked = (
        sa.select(
            e.grant_id,
            e.status,
            sa.func.row_number()
            .over(partition_by=e.grant_id, order_by=(e.block_number.desc(), e.log_index.desc()))
            .label("n"),
        )
        .where(e.chain_id == indexer.chain_id, e.status.is_not(None))
        .subquery()
    )
    query = (
        sa.select(*g, ranked.c.status.label("own_status"))
        .join(ranked, sa.and_(ranked.c.grant_id == g.grant_id, ranked.c.n == 1), isouter=True)
        .where(g.chain_id == indexer.chain_id)
        .order_by(g.block_number, g.log_index)
    )
    with indexer.engine.connect() as db:
        for row in db.execution_options(yield_per=5_000).execute(query):
            if roots is not None and row.root_id not in roots:
                continue
            yield IndexedGrant(
                row.grant_id,
                row.root_id,
                row.parent_id,
                int(row.depth),
                row.grantee,
                None if row.purpose_code is None else int(row.purpose_code),
                None if row.expires_at is None else int(row.expires_at),
                int(row.block_number),
                int(row.block_time),
                Status(int(row.own_status or Status.ACTIVE)),
            )


def effective_statuses(grants: list[IndexedGrant], now: int) -> dict[str, str]:
    """Each grant's status as the chain would show it at `now`: the first ended status up its tree (an
    ancestor outside `grants` counts as live), else its own; EXPIRED once a live grant is past its end."""
    by_id = {grant.grant_id: grant for grant in grants}
    shown: dict[str, str] = {}
    for grant in grants:
        status, at = grant.own_status, grant
        while status in LIVE and at.parent_id is not None and at.parent_id in by_id:
            at = by_id[at.parent_id]
            if at.own_status not in LIVE:
                status = at.own_status
        expired = grant.expires_at is not None and grant.expires_at <= now
        shown[grant.grant_id] = EXPIRED if status in LIVE and expired else status.name
    return shown


def chain_epoch(indexer: Indexer, block: int) -> int | None:
    """The contract's revocation epoch at `block`; None when the node keeps no state that old (never the
    latest instead: an index that lags would then seem to miss revocations)."""
    if block < indexer.grants_block:
        return FIRST_EPOCH if block >= 0 else None
    return indexer.grants.revocation_epoch(block)


@dataclass(frozen=True)
class EpochCheck(Serialisable):
    """The index's revocation epoch at its last block beside the contract's at that block. Equal means the
    index holds as many epoch-moving acts as the chain (ConsentRevoked, ScopeLeafRevoked, AgentRevoked) up
    to that block; it does not compare the acts themselves, nor any other event. `agrees` is None when
    either side is unknown (an index started after the deploy, a node without that block's state)."""

    index_epoch: int | None
    chain_epoch: int | None
    agrees: bool | None

    @property
    def shown(self) -> str:
        def side(value: int | None) -> str:
            return "unknown" if value is None else str(value)

        return f"revocation epoch {side(self.index_epoch)} in the index, {side(self.chain_epoch)} on chain"


def epoch_check(indexer: Indexer, at: Snapshot) -> EpochCheck:
    ours = indexer.revocation_epoch()
    theirs = chain_epoch(indexer, at.indexed_block)
    return EpochCheck(ours, theirs, None if ours is None or theirs is None else ours == theirs)


# ---- grants by purpose and status ---------------------------------------------------------------------


@dataclass(frozen=True)
class GrantCount(Serialisable):
    purpose_code: int | None
    purpose: str
    kind: str  # "grant" (a root grant) or "sub-grant"
    status: str  # a Status name, or EXPIRED
    count: int


@dataclass(frozen=True)
class GrantsReport(Serialisable):
    chain_id: int
    indexed_block: int
    head: int
    time: int
    purpose_code: int | None  # the filter, if any
    counts: list[GrantCount]
    by_status: dict[str, int]
    depths: dict[str, int]  # grants per tree depth ("0": root grants)
    total: int
    epoch: EpochCheck

    @property
    def agrees(self) -> bool:
        """No disagreement found (an unknown epoch is no mismatch: `epoch.agrees` is then None)."""
        return self.epoch.agrees is not False

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {"agrees": self.agrees}


def grants_by_purpose(indexer: Indexer, purpose: str | int | None = None) -> GrantsReport:
    """How many grants there are per purpose, kind and effective status, and per tree depth."""
    code = purpose_filter(purpose)
    at = snapshot(indexer)
    grants = list(indexed_grants(indexer))
    shown = effective_statuses(grants, at.time)
    counted: Counter[tuple[int | None, str, str]] = Counter()
    depths: Counter[int] = Counter()
    for grant in grants:
        if code is not None and grant.purpose_code != code:
            continue
        counted[
            (grant.purpose_code, "grant" if grant.depth == 0 else "sub-grant", shown[grant.grant_id])
        ] += 1
        depths[grant.depth] += 1
    counts = [
        GrantCount(purpose_code, purpose_name(purpose_code), kind, status, count)
        for (purpose_code, kind, status), count in sorted(
            counted.items(), key=lambda item: (item[0][0] or 0, item[0][1], item[0][2])
        )
    ]
    by_status: Counter[str] = Counter()
    for row in counts:
        by_status[row.status] += row.count
    return GrantsReport(
        at.chain_id,
        at.indexed_block,
        at.head,
        at.time,
        code,
        counts,
        dict(sorted(by_status.items())),
        {str(depth): count for depth, count in sorted(depths.items())},
        sum(depths.values()),
        epoch_check(indexer, at),
    )


# ---- per day ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayCount(Serialisable):
    """One UTC day's grant activity: made, ended by each party, suspended and resumed, narrowed."""

    day: str
    granted: int = 0
    sub_granted: int = 0
    revoked_by_subject: int = 0
    renounced_by_grantee: int = 0
    terminated_by_issuer: int = 0
    exhausted: int = 0
    suspended: int = 0
    resumed: int = 0
    leaves_withdrawn: int = 0
    agents_revoked: int = 0

    @property
    def ended(self) -> int:
        """Grants that stopped for good that day (suspensions are not counted: they can be lifted)."""
        return sum(getattr(self, name) for name in ENDED)

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {"ended": self.ended}


@dataclass(frozen=True)
class DaysReport(Serialisable):
    chain_id: int
    indexed_block: int
    head: int
    time: int
    since: str | None
    until: str | None
    purpose_code: int | None
    days: list[DayCount]  # only the days with activity, oldest first
    totals: DayCount
    epoch: EpochCheck

    @property
    def agrees(self) -> bool:
        """No disagreement found (an unknown epoch is no mismatch: `epoch.agrees` is then None)."""
        return self.epoch.agrees is not False

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["days"] = [day.to_dict() for day in self.days]
        data["totals"] = self.totals.to_dict()
        return data | {"agrees": self.agrees}


def revocations_per_day(
    indexer: Indexer,
    since: str | date | None = None,
    until: str | date | None = None,
    purpose: str | int | None = None,
) -> DaysReport:
    """Revocations of every kind per UTC day from `since` to `until` (both included), beside the grants
    made each day (their denominator); `purpose` keeps only grants of that purpose and their acts."""
    first, last = parse_day(since, "since"), parse_day(until, "until")
    if first is not None and last is not None and first > last:
        raise InputError(f"since {first} is after until {last}")
    code = purpose_filter(purpose)
    at = snapshot(indexer)
    e, g = grant_events_table.c, grants_table.c
    where = [e.chain_id == indexer.chain_id, e.event.in_({event for event, _ in DAY_COLUMNS})]
    if first is not None:
        where.append(
            e.block_time >= int(datetime(first.year, first.month, first.day, tzinfo=UTC).timestamp())
        )
    if last is not None:
        where.append(
            e.block_time < int(datetime(last.year, last.month, last.day, tzinfo=UTC).timestamp()) + DAY
        )
    query = sa.select(e.block_time, e.event, e.status, g.purpose_code).where(*where)
    query = query.join(
        grants_table, sa.and_(g.chain_id == e.chain_id, g.grant_id == e.grant_id), isouter=True
    )
    counted: dict[str, Counter[str]] = {}
    with indexer.engine.connect() as db:
        for row in db.execution_options(yield_per=5_000).execute(query):
            if code is not None and row.purpose_code != code:
                continue
            status = row.status if row.event == "ConsentRevoked" else None
            column = DAY_COLUMNS.get((row.event, status))
            if column is not None:
                counted.setdefault(day_of(int(row.block_time)), Counter())[column] += 1
    days = [DayCount(day, **counts) for day, counts in sorted(counted.items())]
    totals: Counter[str] = Counter()
    for counts in counted.values():
        totals.update(counts)
    return DaysReport(
        at.chain_id,
        at.indexed_block,
        at.head,
        at.time,
        None if first is None else first.isoformat(),
        None if last is None else last.isoformat(),
        code,
        days,
        DayCount("total", **totals),
        epoch_check(indexer, at),
    )
