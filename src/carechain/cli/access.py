"""`carechain credential|record|access`: credentials, record anchors, access grants, break-glass, reads."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.table import Table

from carechain.cli.core import Context, cli, parse_duration, parse_time, pass_ctx, show_time
from carechain.clients.access import AccessClient, Basis
from carechain.clients.base import bytes32, checksum
from carechain.clients.credentials import CredentialClient
from carechain.clients.records import RecordClient, category_bit, content_hash
from carechain.core import purposes
from carechain.core.config import require_account
from carechain.core.signed import SignedAction
from carechain.errors import InputError

role_option = click.option(
    "--role", "-r", required=True, help="PROVIDER, RESEARCHER, IRB, EMERGENCY, REVIEWER, CUSTODIAN."
)
for_option = click.option("--for", "patient", help="The patient, when you act as their delegate.")


def _categories(value: str) -> int:
    return purposes.scopes_mask(part.strip() for part in value.split(",") if part.strip())


# ---- credential ----------------------------------------------------------------------------------


@cli.group()
def credential() -> None:
    """Registrars attest who is a provider, researcher, IRB, emergency clinician, reviewer or custodian."""


@credential.command("add-registrar")
@click.argument("account")
@pass_ctx
def credential_add_registrar(ctx: Context, account: str) -> None:
    """(Admin) appoint ACCOUNT as a registrar."""
    ctx.tx("registrar added", ctx.client(CredentialClient).add_registrar(checksum(account, "registrar")))


@credential.command("attest")
@click.argument("account")
@role_option
@click.option(
    "--license-hash", required=True, help="0x bytes32: salted hash of the licence (never the licence)."
)
@click.option("--valid-from", default="0", show_default=True, help="Start (a date or unix time; 0 = now).")
@click.option(
    "--valid-until", default="never", show_default=True, help="End: never, a duration (365d) or a date."
)
@pass_ctx
def credential_attest(
    ctx: Context, account: str, role: str, license_hash: str, valid_from: str, valid_until: str
) -> None:
    """(Registrar) attest ACCOUNT in a role."""
    args = (
        checksum(account, "account"),
        role,
        bytes32(license_hash, "licence hash"),
        parse_time(valid_from),
        parse_time(valid_until),
    )
    ctx.tx("credential attested", ctx.client(CredentialClient).attest(*args))


def _registrar_action(name: str, verb: str) -> None:
    @credential.command(name)
    @click.argument("account")
    @role_option
    @pass_ctx
    def command(ctx: Context, account: str, role: str) -> None:
        client = ctx.client(CredentialClient)
        ctx.tx(f"credential {verb}", getattr(client, name)(checksum(account, "account"), role))

    command.__doc__ = f"(Registrar) {name} ACCOUNT's credential in a role."


for _name, _verb in (("suspend", "suspended"), ("reinstate", "reinstated"), ("revoke", "revoked")):
    _registrar_action(_name, _verb)


@credential.command("check")
@click.argument("account")
@role_option
@pass_ctx
def credential_check(ctx: Context, account: str, role: str) -> None:
    """Does ACCOUNT hold a live credential in the role? Exit 0 if yes, 3 if not."""
    client = ctx.client(CredentialClient, with_key=False)
    account = checksum(account, "account")
    live = client.has_credential(account, role)
    stored = client.get_credential(account, role)
    ctx.verdict(
        live,
        {
            "live": live,
            "status": stored.status.name,
            "validFrom": stored.valid_from,
            "validUntil": stored.valid_until,
        },
        f"{'LIVE' if live else 'NOT LIVE'}: {account} as {role.upper()} ({stored.status.name.lower()}, "
        f"valid until {show_time(stored.valid_until)})",
    )


# ---- record --------------------------------------------------------------------------------------


@cli.group()
def record() -> None:
    """Custodians anchor records: the hash of the encrypted content, never the content."""


def _content(content_hash_hex: str | None, file: Path | None) -> bytes:
    if (content_hash_hex is None) == (file is None):
        raise InputError("give exactly one of --content-hash or --file (the encrypted record)")
    if file is not None:
        try:
            return content_hash(file.read_bytes())
        except OSError as err:
            raise InputError(f"cannot read {file}: {err.strerror}") from err
    return bytes32(content_hash_hex or "", "content hash")


content_options = [
    click.option("--content-hash", help="0x keccak256 of the encrypted record."),
    click.option(
        "--file", type=click.Path(dir_okay=False, path_type=Path), help="The encrypted record: hashed here."
    ),
]


F = TypeVar("F", bound=Callable[..., Any])


def _with_content(f: F) -> F:
    """Both content options (--content-hash or --file) on a command."""
    for option in reversed(content_options):
        f = option(f)
    return f


@record.command("anchor")
@click.argument("record_id")
@click.argument("patient")
@click.option("--category", "-c", required=True, help="One data scope: labs, imaging, genomics...")
@_with_content
@pass_ctx
def record_anchor(
    ctx: Context, record_id: str, patient: str, category: str, content_hash: str | None, file: Path | None
) -> None:
    """(Custodian) anchor RECORD_ID (0x bytes32, opaque) about PATIENT."""
    args = (
        bytes32(record_id, "record id"),
        checksum(patient, "patient"),
        category_bit(category),
        _content(content_hash, file),
    )
    ctx.tx("record anchored", ctx.client(RecordClient).anchor(*args))


@record.command("amend")
@click.argument("record_id")
@_with_content
@pass_ctx
def record_amend(ctx: Context, record_id: str, content_hash: str | None, file: Path | None) -> None:
    """(Custodian) append a new version of RECORD_ID."""
    args = (bytes32(record_id, "record id"), _content(content_hash, file))
    ctx.tx("record amended", ctx.client(RecordClient).amend(*args))


@record.command("history")
@click.argument("record_id")
@pass_ctx
def record_history(ctx: Context, record_id: str) -> None:
    """Every version of RECORD_ID, oldest first."""
    client = ctx.client(RecordClient, with_key=False)
    rid = bytes32(record_id, "record id")
    facts, versions = client.get_record(rid), client.history(rid)
    category = purposes.scope_names(1 << facts.category)[0]
    data = {
        "patient": facts.patient,
        "custodian": facts.custodian,
        "category": category,
        "versions": [
            {"contentHash": "0x" + v.content_hash.hex(), "anchoredAt": v.anchored_at} for v in versions
        ],
    }
    if ctx.as_json:
        ctx.emit(data, "")
        return
    table = Table("version", "content hash", "anchored", title=f"{category} record of {facts.patient}")
    for number, version in enumerate(versions):
        table.add_row(str(number), "0x" + version.content_hash.hex(), show_time(version.anchored_at))
    ctx.console.print(table)


# ---- access --------------------------------------------------------------------------------------


@cli.group()
def access() -> None:
    """Patients grant providers access; emergency break-glass; the access log."""


def _patient(ctx: Context, client: AccessClient, patient: str | None) -> str:
    if patient:
        return checksum(patient, "patient")
    assert client.sender is not None
    return client.sender.address


@access.command("grant")
@click.argument("provider")
@click.option("--categories", "-c", required=True, help="Comma-separated data scopes (labs,imaging).")
@click.option("--expires", "-e", required=True, help="A duration (30d), a date or a unix time.")
@for_option
@pass_ctx
def access_grant(ctx: Context, provider: str, categories: str, expires: str, patient: str | None) -> None:
    """Grant PROVIDER access to your records (or a patient's, as delegate) in some categories."""
    args = (checksum(provider, "provider"), _categories(categories), parse_time(expires, allow_never=False))
    client = ctx.client(AccessClient)
    ctx.tx("access granted", client.grant_access(_patient(ctx, client, patient), *args))


@access.command("grant-record")
@click.argument("provider")
@click.argument("record_id")
@click.option("--expires", "-e", required=True, help="A duration (30d), a date or a unix time.")
@pass_ctx
def access_grant_record(ctx: Context, provider: str, record_id: str, expires: str) -> None:
    """Grant PROVIDER access to one record."""
    args = (
        checksum(provider, "provider"),
        bytes32(record_id, "record id"),
        parse_time(expires, allow_never=False),
    )
    ctx.tx("record access granted", ctx.client(AccessClient).grant_record_access(*args))


@access.command("revoke")
@click.argument("provider")
@click.option("--record", "record_id", help="Revoke a one-record grant instead of the category grant.")
@for_option
@pass_ctx
def access_revoke(ctx: Context, provider: str, record_id: str | None, patient: str | None) -> None:
    """Revoke PROVIDER's access (the category grant, or --record one)."""
    provider = checksum(provider, "provider")
    client = ctx.client(AccessClient)
    if record_id:
        ctx.tx(
            "record access revoked", client.revoke_record_access(provider, bytes32(record_id, "record id"))
        )
    else:
        ctx.tx("access revoked", client.revoke_access(_patient(ctx, client, patient), provider))


@access.command("check")
@click.argument("provider")
@click.argument("record_id")
@pass_ctx
def access_check(ctx: Context, provider: str, record_id: str) -> None:
    """May PROVIDER read RECORD_ID now, and why? Exit 0 if yes, 3 if not."""
    provider, rid = checksum(provider, "provider"), bytes32(record_id, "record id")
    basis, episode = ctx.client(AccessClient, with_key=False).access_basis(provider, rid)
    why = basis.name.lower().replace("_", " ") + (f" (episode {episode})" if episode else "")
    ctx.verdict(
        basis is not Basis.NONE,
        {"canAccess": basis is not Basis.NONE, "basis": basis.name, "episodeId": episode},
        f"{'ALLOWED' if basis is not Basis.NONE else 'DENIED'}: {provider} on {record_id} ({why})",
    )


@access.command("sign")
@click.argument("provider")
@click.option("--categories", "-c", help="Comma-separated data scopes (a category grant).")
@click.option("--record", "record_id", help="One record instead of categories.")
@click.option("--expires", "-e", help="Until when (a duration, a date or a unix time); not for --revoke.")
@click.option("--revoke", is_flag=True, help="Sign a revocation instead of a grant.")
@click.option(
    "--deadline", default="1h", show_default=True, help="Until when the signature may be submitted."
)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True)
@pass_ctx
def access_sign(
    ctx: Context,
    provider: str,
    categories: str | None,
    record_id: str | None,
    expires: str | None,
    revoke: bool,
    deadline: str,
    output: Path,
) -> None:
    """Sign an access grant or revocation as the patient (EIP-712), for a clinic to submit."""
    if revoke == bool(expires) or (not revoke and (categories is None) == (record_id is None)):
        raise InputError("sign a grant with --expires and one of --categories / --record, or --revoke")
    patient = require_account(ctx.settings)
    provider, until = checksum(provider, "provider"), parse_time(deadline, allow_never=False)
    client = ctx.client(AccessClient, with_key=False)
    if record_id and revoke:
        signed = client.sign_record_revoke(patient, provider, bytes32(record_id, "record id"), until)
    elif record_id:
        signed = client.sign_record_grant(
            patient,
            provider,
            bytes32(record_id, "record id"),
            parse_time(expires or "", allow_never=False),
            until,
        )
    elif revoke:
        signed = client.sign_revoke(patient, provider, until)
    else:
        signed = client.sign_grant(
            patient,
            provider,
            _categories(categories or ""),
            parse_time(expires or "", allow_never=False),
            until,
        )
    output.write_text(signed.to_json() + "\n")
    ctx.emit(
        {"file": str(output), "patient": signed.signer, "kind": signed.kind},
        f"signed {signed.kind} written to {output}",
    )


@access.command("submit")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_ctx
def access_submit(ctx: Context, file: Path) -> None:
    """Submit a patient's signed access grant or revocation (you pay the gas)."""
    signed = SignedAction.load(file)
    ctx.tx(f"submitted signed {signed.kind}", ctx.client(AccessClient).submit(signed), patient=signed.signer)


@access.command("break-glass")
@click.argument("patient")
@click.option(
    "--reason", default="ETREAT", show_default=True, help="Reason code (a purpose code, e.g. ETREAT)."
)
@click.option("--duration", "-d", default="4h", show_default=True, help="At most 24h.")
@pass_ctx
def access_break_glass(ctx: Context, patient: str, reason: str, duration: str) -> None:
    """(Emergency clinician) open time-boxed access to PATIENT's records; always audited."""
    args = (checksum(patient, "patient"), purposes.purpose_id(reason), parse_duration(duration))
    result, episode = ctx.client(AccessClient).break_glass(*args)
    ctx.tx(f"break-glass episode {episode} opened", result, episodeId=episode)


@access.command("review")
@click.argument("episode", type=int)
@click.option(
    "--approve/--flag", required=True, help="Close the episode as justified, or flag it (ends access)."
)
@click.option(
    "--note-hash", default="0x" + "00" * 32, help="0x hash of the reviewer's note (kept off chain)."
)
@pass_ctx
def access_review(ctx: Context, episode: int, approve: bool, note_hash: str) -> None:
    """(Reviewer) close a break-glass episode."""
    result = ctx.client(AccessClient).review(episode, approve, bytes32(note_hash, "note hash"))
    ctx.tx(f"episode {episode} {'approved' if approve else 'flagged'}", result)


@access.command("log")
@click.argument("provider")
@click.argument("record_id")
@click.option("--purpose", "-p", default="TREAT", show_default=True)
@pass_ctx
def access_log(ctx: Context, provider: str, record_id: str, purpose: str) -> None:
    """(Custodian) log PROVIDER's read of RECORD_ID; refused if the chain does not allow the read."""
    args = (checksum(provider, "provider"), bytes32(record_id, "record id"), purposes.purpose_id(purpose))
    ctx.tx("read logged", ctx.client(AccessClient).log_access(*args))


@access.command("reads")
@click.option("--patient", help="Reads of this patient's records.")
@click.option("--record", "record_id", help="Reads of one record.")
@pass_ctx
def access_reads(ctx: Context, patient: str | None, record_id: str | None) -> None:
    """Who saw what: every logged read, with its basis (grant or break-glass)."""
    reads = ctx.client(AccessClient, with_key=False).reads(
        checksum(patient, "patient") if patient else None,
        bytes32(record_id, "record id") if record_id else None,
    )
    rows = [
        {
            "recordId": "0x" + r.record_id.hex(),
            "patient": r.patient,
            "provider": r.provider,
            "purpose": _purpose_name(r.purpose),
            "basis": r.basis.name,
            "episodeId": r.episode_id,
            "block": r.block_number,
            "txHash": r.tx_hash,
        }
        for r in reads
    ]
    if ctx.as_json:
        ctx.emit({"reads": rows}, "")
        return
    table = Table("block", "provider", "record", "purpose", "basis", title="Logged reads")
    for row in rows:
        basis = str(row["basis"]) + (f" #{row['episodeId']}" if row["episodeId"] else "")
        table.add_row(
            str(row["block"]),
            str(row["provider"]),
            str(row["recordId"])[:18] + "…",
            str(row["purpose"]),
            basis,
        )
    ctx.console.print(table)


@access.command("episodes")
@click.option("--patient", help="Only this patient's episodes.")
@pass_ctx
def access_episodes(ctx: Context, patient: str | None) -> None:
    """Break-glass episodes and their review state."""
    episodes = ctx.client(AccessClient, with_key=False).episodes(
        checksum(patient, "patient") if patient else None
    )
    rows = [
        {
            "episodeId": e.episode_id,
            "patient": e.patient,
            "provider": e.provider,
            "openedAt": e.opened_at,
            "expiresAt": e.expires_at,
            "review": e.review.name,
            "reviewer": e.reviewer,
            "reason": _purpose_name(e.reason_code),
        }
        for e in episodes
    ]
    if ctx.as_json:
        ctx.emit({"episodes": rows}, "")
        return
    table = Table("#", "patient", "provider", "reason", "opened", "review", title="Break-glass episodes")
    for row in rows:
        table.add_row(
            str(row["episodeId"]),
            str(row["patient"]),
            str(row["provider"]),
            str(row["reason"]),
            show_time(int(str(row["openedAt"]))),
            str(row["review"]),
        )
    ctx.console.print(table)


def _purpose_name(purpose: bytes) -> str:
    known = purposes.purpose_by_id(purpose)
    return known.code if known else "0x" + purpose.hex()
