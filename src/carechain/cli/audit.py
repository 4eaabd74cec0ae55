"""`carechain audit ...`: who may see a patient's data and why, histories, reads, break-glass, trials,
and the public aggregates of consent grants (the private model).

Every answer comes from the event index (synced first unless --no-sync) and is checked against the
chain; a disagreement is shown and makes the exit status 3.
"""

from __future__ import annotations

from typing import Any

import click
import sqlalchemy as sa
from rich.table import Table

from carechain.cli.core import Context, cli, pass_ctx
from carechain.cli.index import LIVE_CONFIRMATIONS, index_database
from carechain.cli.options import (
    TRIAL_ID,
    F,
    address_of,
    patient_filter_option,
    purpose_option,
    scopes_option,
)
from carechain.clients.consent import ANY_GRANTEE
from carechain.core.deployments import is_local_chain
from carechain.core.times import show_time
from carechain.core.transport import connect
from carechain.errors import CareChainError, InputError
from carechain.index import audit as queries
from carechain.index.indexer import Indexer


def _index_options(command: F) -> F:
    command = click.option(
        "--no-sync", is_flag=True, help="Answer from the index as it is (do not read new blocks first)."
    )(command)
    return click.option(
        "--db",
        help="Index: a file, sqlite:///x.db or postgresql://... (default: .chain/index-<chainId>.db).",
    )(command)


def _indexer(ctx: Context, db: str | None, no_sync: bool) -> Indexer:
    """The index of this chain's deployment, brought up to the head (less confirmations) unless no_sync."""
    w3 = connect(ctx.settings.rpc_url)
    indexer = Indexer(w3, ctx.settings.root, index_database(ctx, w3.eth.chain_id) if db is None else db)
    if not no_sync:
        confirmations = 0 if is_local_chain(indexer.chain_id) else LIVE_CONFIRMATIONS
        try:
            indexer.sync(confirmations=confirmations)
        except sa.exc.OperationalError as err:
            raise CareChainError(
                f"the index database failed: {str(err.orig).strip().splitlines()[0]}"
            ) from None
    return indexer


def _short(value: str | None) -> str:
    """An address or hash cut for a table (JSON carries it whole)."""
    if not value:
        return "-"
    return value if len(value) <= 14 else f"{value[:8]}…{value[-4:]}"


def _yes(value: bool) -> str:
    return "yes" if value else "NO"


def _footer(report: Any) -> str:
    behind = report.head - report.indexed_block
    lag = f", {behind} block{'s' if behind > 1 else ''} behind the head {report.head}" if behind > 0 else ""
    return f"index at block {report.indexed_block}{lag}"


def _answer(ctx: Context, agrees: bool, data: dict[str, Any], table: Table, footer: str) -> None:
    """The table (or JSON) and, when the index and the chain disagree, say so and exit 3."""
    if not agrees:
        footer += "; THE CHAIN DISAGREES with the index on the rows marked NO (sync the index?)"
    if ctx.as_json:
        ctx.verdict(agrees, data, "")
        return
    ctx.console.print(table)
    ctx.verdict(agrees, data, footer)


@cli.group()
def audit() -> None:
    """Answers from the event index, checked against the chain (exit 3 when they disagree).

    \b
    Examples:
      carechain audit access 0xPatient --scopes labs
      carechain audit history 0xPatient
      carechain audit reads 0xRecordId
      carechain audit break-glass
      carechain --json audit trial 1
      carechain audit grants --purpose HMB
      carechain audit revocations --since 2026-12-01
    """


@audit.command("access")
@click.argument("patient", type=address_of("patient"))
@scopes_option("Comma-separated data scopes the party must see (labs).")
@purpose_option("Only consents for this purpose (HMB, a CURIE or 0x bytes32); grants name none.")
@_index_options
@pass_ctx
def audit_access(
    ctx: Context, patient: str, scopes: int, purpose: bytes | None, db: str | None, no_sync: bool
) -> None:
    """Who may see PATIENT's data of these scopes now, and why (consent, grant, break-glass).

    \b
    Examples:
      carechain audit access 0xPatient --scopes labs
      carechain --json audit access 0xPatient --scopes labs,genomics --purpose HMB
    """
    report = queries.who_can_see(_indexer(ctx, db, no_sync), patient, scopes, purpose)
    table = Table(
        "party", "basis", "purpose", "scopes", "expires", "granted", "index", "chain",
        title=f"Who may see {','.join(report.scopes)} of {patient} at {show_time(report.time)}",
    )  # fmt: skip
    for row in report.permissions:
        if row.episode_id:
            granted = f"episode {row.episode_id}"
        else:
            granted = f"block {row.granted_block}" + (
                f", record {_short(row.record_id)}" if row.record_id else ""
            )
        table.add_row(
            "any grantee" if row.party == ANY_GRANTEE else row.party,
            row.kind,
            row.purpose_label or "-",
            ",".join(row.scopes),
            show_time(row.expires_at),
            granted,
            _yes(row.index_live),
            _yes(row.chain_live),
        )
    live = sum(row.index_live for row in report.permissions)
    _answer(ctx, report.agrees, report.to_dict(), table, f"{live} live; {_footer(report)}")


@audit.command("history")
@click.argument("patient", type=address_of("patient"))
@_index_options
@pass_ctx
def audit_history(ctx: Context, patient: str, db: str | None, no_sync: bool) -> None:
    """PATIENT's consents, delegates, access grants, break-glass episodes and reads, in order.

    \b
    Example:
      carechain audit history 0xPatient
    """
    report = queries.history(_indexer(ctx, db, no_sync), patient)
    table = Table(
        "block", "time", "event", "actor", "party", "detail", "tx", title=f"History of {report.patient}"
    )
    for entry in report.entries:
        detail = ", ".join(
            f"{key}={_detail(key, value)}"
            for key, value in entry.detail.items()
            if key not in {"grantee", "provider", "delegate"}
        )
        table.add_row(
            str(entry.block),
            show_time(entry.time),
            entry.event,
            _short(entry.actor),
            _short(entry.party),
            detail,
            _short(entry.tx),
        )
    _answer(ctx, True, report.to_dict(), table, f"{len(report.entries)} events; {_footer(report)}")


@audit.command("reads")
@click.argument("record_id")
@_index_options
@pass_ctx
def audit_reads(ctx: Context, record_id: str, db: str | None, no_sync: bool) -> None:
    """Who read RECORD_ID (0x bytes32), when, for which purpose, under which grant or break-glass.

    \b
    Example:
      carechain audit reads 0x5f1c...e2
    """
    if not record_id.startswith("0x"):
        raise InputError(f"a record id is 0x followed by 64 hex digits, got {record_id!r}")
    report = queries.record_reads(_indexer(ctx, db, no_sync), record_id)
    table = Table(
        "block", "time", "provider", "purpose", "basis", "grant / episode",
        title=f"Reads of {','.join(report.category)} record {_short(report.record_id)} of {report.patient}",
    )  # fmt: skip
    for read in report.reads:
        under = f"episode {read.episode_id}" if read.episode_id else f"grant tx {_short(read.grant_tx)}"
        table.add_row(
            str(read.block), show_time(read.time), read.provider, read.purpose_label, read.basis, under
        )
    count = len(report.reads)
    reads = f"{count} read{'' if count == 1 else 's'}"
    footer = f"{reads} in the index, {report.chain_reads} on chain; {_footer(report)}"
    _answer(ctx, report.agrees, report.to_dict(), table, footer)


@audit.command("break-glass")
@patient_filter_option("Only this patient's episodes.")
@_index_options
@pass_ctx
def audit_break_glass(ctx: Context, patient: str | None, db: str | None, no_sync: bool) -> None:
    """Break-glass episodes opened and not yet reviewed, and whether their access is still live.

    \b
    Examples:
      carechain audit break-glass
      carechain --json audit break-glass --patient 0xPatient
    """
    report = queries.open_break_glass(_indexer(ctx, db, no_sync), patient)
    table = Table(
        "#",
        "patient",
        "provider",
        "reason",
        "opened",
        "expires",
        "live",
        "chain",
        title="Unreviewed break-glass",
    )
    for episode in report.episodes:
        table.add_row(
            str(episode.episode_id),
            episode.patient,
            episode.provider,
            episode.reason,
            show_time(episode.opened_at),
            show_time(episode.expires_at),
            _yes(episode.live),
            f"{episode.chain_review}, {'live' if episode.chain_live else 'ended'}",
        )
    _answer(ctx, report.agrees, report.to_dict(), table, f"{len(report.episodes)} open; {_footer(report)}")


@audit.command("trial")
@click.argument("trial_id", type=TRIAL_ID)
@_index_options
@pass_ctx
def audit_trial(ctx: Context, trial_id: int, db: str | None, no_sync: bool) -> None:
    """TRIAL_ID's protocol versions, sites, enrolments, commitments, lock and results, checked on chain.

    \b
    Examples:
      carechain audit trial 1
      carechain --json audit trial 1 --no-sync
    """
    report = queries.trial_report(_indexer(ctx, db, no_sync), trial_id)
    if ctx.as_json:
        ctx.verdict(report.agrees, report.to_dict(), "")
        return
    console = ctx.console
    versions = Table(
        "version", "protocol hash", "re-consent", "IRB", "registered",
        title=f"Trial {trial_id}, IRB of record {report.irb}",
    )  # fmt: skip
    for v in report.protocol_versions:
        versions.add_row(
            str(v["version"]), _short(v["protocolHash"]), _yes(v["requiresReconsent"]), v["irb"] or "pending",
            show_time(v["time"]),
        )  # fmt: skip
    console.print(versions)
    subjects = Table("subject", "site", "consent v", "enrolled", "withdrawn", title="Subjects")
    for s in report.subjects:
        subjects.add_row(
            s["subject"], s["site"], str(s["consentVersion"]), show_time(s["time"]),
            show_time(s["withdrawnAt"]) if s["withdrawnAt"] else "-",
        )  # fmt: skip
    console.print(subjects)
    batches = Table("site", "seq", "root", "rows", "committed", title="Commitments")
    for b in report.commitments:
        batches.add_row(b["site"], str(b["sequence"]), b["root"], str(b["rows"]), show_time(b["time"]))
    console.print(batches)
    state = "locked " + show_time(report.locked["lockedAt"]) if report.locked else "not locked"
    if report.results:
        state += f"; results {report.results['resultsHash']}"
    checks = Table("fact", "index", "chain", "agrees", title=f"{state}; checked against the chain")
    for c in report.checks:
        kind, _, which = c.field.partition(" ")
        checks.add_row(f"{kind} {_short(which)}".strip(), _show(c.index), _show(c.chain), _yes(c.agrees))
    _answer(ctx, report.agrees, report.to_dict(), checks, _footer(report))


def _show(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_short(str(v)) if isinstance(v, str) else str(v) for v in value)
    return _short(value) if isinstance(value, str) else str(value)


def _detail(key: str, value: Any) -> str:
    """An event argument in a table cell: times as dates, lists joined, hashes cut."""
    if key in {"expiresAt", "withdrawnAt"} and isinstance(value, int):
        return show_time(value)
    if isinstance(value, list):
        return ",".join(map(str, value))
    return _short(value) if isinstance(value, str) and value.startswith("0x") else str(value)


# ---- ConsentGrants: the public aggregate audit --------------------------------------------------------

_purpose_filter = click.option(
    "--purpose", help="Only grants of this purpose: a code (HMB), a CURIE (DUO:0000006) or a registry number."
)


def _epoch_footer(report: Any) -> str:
    return f"{report.epoch.shown}; {_footer(report)}"


@audit.command("grants")
@_purpose_filter
@_index_options
@pass_ctx
def audit_grants(ctx: Context, purpose: str | None, db: str | None, no_sync: bool) -> None:
    """Consent grants (the private model) per purpose, kind and status, and per tree depth: counts only.

    Statuses are effective ones: a sub-grant under an ended grant shows its status, a live grant past
    its end is EXPIRED. The one chain check is the revocation epoch at the index's last block: it counts
    revocations, it does not compare them (exit 3 when it differs; "unknown" when it cannot be asked).

    \b
    Examples:
      carechain audit grants
      carechain --json audit grants --purpose HMB
    """
    report = queries.grants_by_purpose(_indexer(ctx, db, no_sync), purpose)
    table = Table("purpose", "code", "kind", "status", "grants", title="Consent grants by purpose and status")
    for row in report.counts:
        table.add_row(row.purpose, str(row.purpose_code), row.kind, row.status, str(row.count))
    depths = ", ".join(f"depth {depth}: {count}" for depth, count in report.depths.items())
    footer = f"{report.total} grants ({depths or 'none'}); {_epoch_footer(report)}"
    _answer(ctx, report.agrees, report.to_dict(), table, footer)


@audit.command("revocations")
@click.option("--since", help="First UTC day, YYYY-MM-DD (default: the first indexed).")
@click.option("--until", help="Last UTC day, YYYY-MM-DD, included (default: the last indexed).")
@_purpose_filter
@_index_options
@pass_ctx
def audit_revocations(
    ctx: Context, since: str | None, until: str | None, purpose: str | None, db: str | None, no_sync: bool
) -> None:
    """Consent-grant revocations per UTC day, by who ended the grant, beside the grants made that day.

    Days without activity are left out. The one chain check is the revocation epoch at the index's last
    block: it counts revocations, it does not compare them ("unknown" when it cannot be asked).

    \b
    Examples:
      carechain audit revocations --since 2026-12-01
      carechain --json audit revocations --purpose HMB --until 2026-12-31
    """
    report = queries.revocations_per_day(_indexer(ctx, db, no_sync), since, until, purpose)
    table = Table(
        "day", "granted", "sub-granted", "by subject", "by grantee", "by issuer", "exhausted", "ended",
        "suspended", "resumed", "leaves", "agents", title="Consent-grant revocations per day (UTC)",
    )  # fmt: skip
    for day in [*report.days, report.totals]:
        table.add_row(
            day.day, str(day.granted), str(day.sub_granted), str(day.revoked_by_subject),
            str(day.renounced_by_grantee), str(day.terminated_by_issuer), str(day.exhausted), str(day.ended),
            str(day.suspended), str(day.resumed), str(day.leaves_withdrawn), str(day.agents_revoked),
        )  # fmt: skip
    _answer(ctx, report.agrees, report.to_dict(), table, _epoch_footer(report))
