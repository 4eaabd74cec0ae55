"""`carechain credential|record|access`: credentials, record anchors, access grants, break-glass, reads."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from carechain.cli.core import Context, cli, pass_ctx, show_purpose
from carechain.cli.options import (
    CATEGORY,
    DURATION,
    EPISODE_ID,
    FILE,
    PURPOSE,
    RECORD_ID,
    SCOPES,
    TIME,
    F,
    address_of,
    bytes32_of,
    deadline_option,
    delegate_option,
    expires_option,
    output_option,
    patient_filter_option,
    purpose_option,
    scopes_option,
)
from carechain.clients.access import AccessClient, Basis
from carechain.clients.base import bytes32
from carechain.clients.credentials import CredentialClient
from carechain.clients.records import RecordClient
from carechain.core import purposes
from carechain.core.config import require_account
from carechain.core.signed import SignedAction
from carechain.core.times import show_time
from carechain.errors import InputError

role_option = click.option(
    "--role", "-r", required=True, help="PROVIDER, RESEARCHER, IRB, EMERGENCY, REVIEWER, CUSTODIAN."
)
with_delegate = delegate_option("The patient, when you act as their delegate.")
account_argument = click.argument("account", type=address_of("account"))
record_argument = click.argument("record_id", type=RECORD_ID)
provider_argument = click.argument("provider", type=address_of("provider"))
with_access_expiry = expires_option("A duration (30d), a date or a unix time.", never=False, required=True)


# ---- credential ----------------------------------------------------------------------------------


@cli.group()
def credential() -> None:
    """Registrars attest who is a provider, researcher, IRB, emergency clinician, reviewer or custodian."""


@credential.command("add-registrar")
@click.argument("account", type=address_of("registrar"))
@pass_ctx
def credential_add_registrar(ctx: Context, account: str) -> None:
    """(Admin) appoint ACCOUNT as a registrar."""
    ctx.tx("registrar added", ctx.client(CredentialClient).add_registrar(account))


@credential.command("attest")
@account_argument
@role_option
@click.option(
    "--license-hash",
    type=bytes32_of("licence hash"),
    required=True,
    help="0x bytes32: salted hash of the licence (never the licence).",
)
@click.option(
    "--valid-from", type=TIME, default="0", show_default=True, help="Start (a date or unix time; 0 = now)."
)
@click.option(
    "--valid-until",
    type=TIME,
    default="never",
    show_default=True,
    help="End: never, a duration (365d) or a date.",
)
@pass_ctx
def credential_attest(
    ctx: Context, account: str, role: str, license_hash: bytes, valid_from: int, valid_until: int
) -> None:
    """(Registrar) attest ACCOUNT in a role."""
    client = ctx.client(CredentialClient)
    ctx.tx("credential attested", client.attest(account, role, license_hash, valid_from, valid_until))


def _registrar_action(name: str, verb: str) -> None:
    @credential.command(name)
    @account_argument
    @role_option
    @pass_ctx
    def command(ctx: Context, account: str, role: str) -> None:
        ctx.tx(f"credential {verb}", getattr(ctx.client(CredentialClient), name)(account, role))

    command.__doc__ = f"(Registrar) {name} ACCOUNT's credential in a role."


for _name, _verb in (("suspend", "suspended"), ("reinstate", "reinstated"), ("revoke", "revoked")):
    _registrar_action(_name, _verb)


@credential.command("check")
@account_argument
@role_option
@pass_ctx
def credential_check(ctx: Context, account: str, role: str) -> None:
    """Does ACCOUNT hold a live credential in the role? Exit 0 if yes, 3 if not."""
    client = ctx.client(CredentialClient, with_key=False)
    live = client.has_credential(account, role)
    stored = client.get_credential(account, role)
    status = stored.status.name.lower().replace("_", " ")
    ctx.verdict(
        live,
        {
            "live": live,
            "status": stored.status.name,
            "validFrom": stored.valid_from,
            "validUntil": stored.valid_until,
        },
        f"{'LIVE' if live else 'NOT LIVE'}: {account} as {role.upper()} ({status}, "
        f"valid until {show_time(stored.valid_until)})",
    )


# ---- record --------------------------------------------------------------------------------------


@cli.group()
def record() -> None:
    """Custodians anchor records: the hash of the encrypted content, never the content."""


def _content(ctx: Context, hashed: bytes | None, file: Path | None) -> bytes:
    """The content hash given, or the keccak256 of the encrypted record's file (`content_hash` of its
    bytes), read in chunks."""
    if (hashed is None) == (file is None):
        raise InputError("give exactly one of --content-hash or --file (the encrypted record)")
    if file is not None:
        return ctx.hash_file(file)
    assert hashed is not None
    return hashed


def _with_content(command: F) -> F:
    """Both content options (--content-hash or --file) on a command."""
    command = click.option("--file", type=FILE, help="The encrypted record: hashed here.")(command)
    return click.option(
        "--content-hash", type=bytes32_of("content hash"), help="0x keccak256 of the encrypted record."
    )(command)


@record.command("anchor")
@record_argument
@click.argument("patient", type=address_of("patient"))
@click.option(
    "--category", "-c", type=CATEGORY, required=True, help="One data scope: labs, imaging, genomics..."
)
@_with_content
@pass_ctx
def record_anchor(
    ctx: Context, record_id: bytes, patient: str, category: int, content_hash: bytes | None, file: Path | None
) -> None:
    """(Custodian) anchor RECORD_ID (0x bytes32, opaque) about PATIENT."""
    args = (record_id, patient, category, _content(ctx, content_hash, file))
    ctx.tx("record anchored", ctx.client(RecordClient).anchor(*args))


@record.command("amend")
@record_argument
@_with_content
@pass_ctx
def record_amend(ctx: Context, record_id: bytes, content_hash: bytes | None, file: Path | None) -> None:
    """(Custodian) append a new version of RECORD_ID."""
    ctx.tx("record amended", ctx.client(RecordClient).amend(record_id, _content(ctx, content_hash, file)))


@record.command("history")
@record_argument
@pass_ctx
def record_history(ctx: Context, record_id: bytes) -> None:
    """Every version of RECORD_ID, oldest first."""
    client = ctx.client(RecordClient, with_key=False)
    facts, versions = client.get_record(record_id), client.history(record_id)
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


def _patient(client: AccessClient, patient: str | None) -> str:
    if patient:
        return patient
    assert client.sender is not None
    return client.sender.address


@access.command("grant")
@provider_argument
@scopes_option("Comma-separated data scopes (labs,imaging).", "--categories", "-c")
@with_access_expiry
@with_delegate
@pass_ctx
def access_grant(ctx: Context, provider: str, categories: int, expires: int, patient: str | None) -> None:
    """Grant PROVIDER access to your records (or a patient's, as delegate) in some categories."""
    client = ctx.client(AccessClient)
    ctx.tx("access granted", client.grant_access(_patient(client, patient), provider, categories, expires))


@access.command("grant-record")
@provider_argument
@record_argument
@with_access_expiry
@pass_ctx
def access_grant_record(ctx: Context, provider: str, record_id: bytes, expires: int) -> None:
    """Grant PROVIDER access to one record."""
    ctx.tx(
        "record access granted", ctx.client(AccessClient).grant_record_access(provider, record_id, expires)
    )


@access.command("revoke")
@provider_argument
@click.option(
    "--record", "record_id", type=RECORD_ID, help="Revoke a one-record grant instead of the category grant."
)
@with_delegate
@pass_ctx
def access_revoke(ctx: Context, provider: str, record_id: bytes | None, patient: str | None) -> None:
    """Revoke PROVIDER's access (the category grant, or --record one)."""
    client = ctx.client(AccessClient)
    if record_id:
        ctx.tx("record access revoked", client.revoke_record_access(provider, record_id))
    else:
        ctx.tx("access revoked", client.revoke_access(_patient(client, patient), provider))


@access.command("check")
@provider_argument
@click.argument("record_id")
@pass_ctx
def access_check(ctx: Context, provider: str, record_id: str) -> None:
    """May PROVIDER read RECORD_ID now, and why? Exit 0 if yes, 3 if not.

    The answer line repeats RECORD_ID as typed, so it is read here, not by its type.
    """
    rid = bytes32(record_id, "record id")
    basis, episode = ctx.client(AccessClient, with_key=False).access_basis(provider, rid)
    why = basis.name.lower().replace("_", " ") + (f" (episode {episode})" if episode else "")
    ctx.verdict(
        basis is not Basis.NONE,
        {"canAccess": basis is not Basis.NONE, "basis": basis.name, "episodeId": episode},
        f"{'ALLOWED' if basis is not Basis.NONE else 'DENIED'}: {provider} on {record_id} ({why})",
    )


@access.command("sign")
@provider_argument
@click.option("--categories", "-c", type=SCOPES, help="Comma-separated data scopes (a category grant).")
@click.option("--record", "record_id", type=RECORD_ID, help="One record instead of categories.")
@expires_option("Until when (a duration, a date or a unix time); not for --revoke.", never=False)
@click.option("--revoke", is_flag=True, help="Sign a revocation instead of a grant.")
@deadline_option()
@output_option()
@pass_ctx
def access_sign(
    ctx: Context,
    provider: str,
    categories: int | None,
    record_id: bytes | None,
    expires: int | None,
    revoke: bool,
    deadline: int,
    output: Path,
) -> None:
    """Sign an access grant or revocation as the patient (EIP-712), for a clinic to submit."""
    if revoke == (expires is not None) or (not revoke and (categories is None) == (record_id is None)):
        raise InputError("sign a grant with --expires and one of --categories / --record, or --revoke")
    patient = require_account(ctx.settings)
    client = ctx.client(AccessClient, with_key=False)
    if record_id and revoke:
        signed = client.sign_record_revoke(patient, provider, record_id, deadline)
    elif record_id:
        assert expires is not None
        signed = client.sign_record_grant(patient, provider, record_id, expires, deadline)
    elif revoke:
        signed = client.sign_revoke(patient, provider, deadline)
    else:
        assert categories is not None and expires is not None
        signed = client.sign_grant(patient, provider, categories, expires, deadline)
    output.write_text(signed.to_json() + "\n")
    ctx.emit(
        {"file": str(output), "patient": signed.signer, "kind": signed.kind},
        f"signed {signed.kind} written to {output}",
    )


@access.command("submit")
@click.argument("file", type=FILE)
@pass_ctx
def access_submit(ctx: Context, file: Path) -> None:
    """Submit a patient's signed access grant or revocation (you pay the gas)."""
    signed = SignedAction.load(file)
    ctx.tx(f"submitted signed {signed.kind}", ctx.client(AccessClient).submit(signed), patient=signed.signer)


@access.command("break-glass")
@click.argument("patient", type=address_of("patient"))
@click.option(
    "--reason",
    type=PURPOSE,
    default="ETREAT",
    show_default=True,
    help="Reason code (a purpose code, e.g. ETREAT).",
)
@click.option("--duration", "-d", type=DURATION, default="4h", show_default=True, help="At most 24h.")
@pass_ctx
def access_break_glass(ctx: Context, patient: str, reason: bytes, duration: int) -> None:
    """(Emergency clinician) open time-boxed access to PATIENT's records; always audited."""
    result, episode = ctx.client(AccessClient).break_glass(patient, reason, duration)
    ctx.tx(f"break-glass episode {episode} opened", result, episodeId=episode)


@access.command("review")
@click.argument("episode", type=EPISODE_ID)
@click.option(
    "--approve/--flag", required=True, help="Close the episode as justified, or flag it (ends access)."
)
@click.option(
    "--note-hash",
    type=bytes32_of("note hash"),
    default="0x" + "00" * 32,
    help="0x hash of the reviewer's note (kept off chain).",
)
@pass_ctx
def access_review(ctx: Context, episode: int, approve: bool, note_hash: bytes) -> None:
    """(Reviewer) close a break-glass episode."""
    result = ctx.client(AccessClient).review(episode, approve, note_hash)
    ctx.tx(f"episode {episode} {'approved' if approve else 'flagged'}", result)


@access.command("log")
@provider_argument
@record_argument
@purpose_option(None, default="TREAT", show_default=True)
@pass_ctx
def access_log(ctx: Context, provider: str, record_id: bytes, purpose: bytes) -> None:
    """(Custodian) log PROVIDER's read of RECORD_ID; refused if the chain does not allow the read."""
    ctx.tx("read logged", ctx.client(AccessClient).log_access(provider, record_id, purpose))


@access.command("reads")
@patient_filter_option("Reads of this patient's records.")
@click.option("--record", "record_id", type=RECORD_ID, help="Reads of one record.")
@pass_ctx
def access_reads(ctx: Context, patient: str | None, record_id: bytes | None) -> None:
    """Who saw what: every logged read, with its basis (grant or break-glass)."""
    reads = ctx.client(AccessClient, with_key=False).reads(patient, record_id)
    rows = [
        {
            "recordId": "0x" + r.record_id.hex(),
            "patient": r.patient,
            "provider": r.provider,
            "purpose": show_purpose(r.purpose),
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
@patient_filter_option("Only this patient's episodes.")
@pass_ctx
def access_episodes(ctx: Context, patient: str | None) -> None:
    """Break-glass episodes and their review state."""
    episodes = ctx.client(AccessClient, with_key=False).episodes(patient)
    rows = [
        {
            "episodeId": e.episode_id,
            "patient": e.patient,
            "provider": e.provider,
            "openedAt": e.opened_at,
            "expiresAt": e.expires_at,
            "review": e.review.name,
            "reviewer": e.reviewer,
            "reason": show_purpose(e.reason_code),
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
