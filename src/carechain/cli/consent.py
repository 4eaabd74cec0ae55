"""`carechain consent ...`: grant, update, revoke, check, sign, submit, import (a cohort); delegates."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn

from carechain.cli.core import Context, cli, pass_ctx
from carechain.cli.options import (
    FILE,
    GRANTEE,
    address_of,
    deadline_option,
    delegate_option,
    expires_option,
    json_option,
    output_option,
    purpose_option,
    scopes_mask,
    scopes_option,
)
from carechain.clients.consent import ConsentClient, SignedGrant, load_signed
from carechain.core import purposes
from carechain.core.config import require_account
from carechain.core.times import show_time
from carechain.errors import InputError
from carechain.offchain.consent_import import plan_import, submit_plan, write_csv

# ---- consent -------------------------------------------------------------------------------------


@cli.group()
def consent() -> None:
    """Grant, update, revoke, check and sign consents; manage delegates."""


PURPOSE_HELP = "Purpose code or CURIE (HMB, DUO:0000006, TREAT...) or 0x bytes32."
SCOPES_HELP = "Comma-separated data scopes (labs,genomics)."
with_purpose = purpose_option(PURPOSE_HELP, required=True)
with_scopes = scopes_option(SCOPES_HELP)
with_expiry = expires_option(
    "never, a duration (365d), a date (2027-01-31) or a unix time.", default="never", show_default=True
)
with_delegate = delegate_option("Act as a delegate for this patient.")
with_deadline = deadline_option()


def _write_command(name: str, verb: str, doc: str) -> None:
    """`consent grant` and `consent update`: the same inputs, as the patient or (--for) a delegate."""

    @consent.command(name, help=doc)
    @click.argument("grantee", type=GRANTEE)
    @with_purpose
    @with_scopes
    @with_expiry
    @with_delegate
    @pass_ctx
    def command(
        ctx: Context, grantee: str, purpose: bytes, scopes: int, expires: int, patient: str | None
    ) -> None:
        args = (grantee, purpose, scopes, expires)
        client = ctx.client(ConsentClient)
        result = getattr(client, f"{name}_for")(patient, *args) if patient else getattr(client, name)(*args)
        ctx.tx(verb, result)


_write_command(
    "grant", "granted", "Grant GRANTEE (an address, or 'any') consent for a purpose over data scopes."
)
_write_command("update", "updated", "Change the scopes or expiry of a live consent.")


@consent.command("revoke")
@click.argument("grantee", type=GRANTEE)
@with_purpose
@with_delegate
@pass_ctx
def consent_revoke(ctx: Context, grantee: str, purpose: bytes, patient: str | None) -> None:
    """Revoke a consent; it permits nothing from the next block on."""
    client = ctx.client(ConsentClient)
    result = client.revoke_for(patient, grantee, purpose) if patient else client.revoke(grantee, purpose)
    ctx.tx("revoked", result)


@consent.command("check")
@click.argument("patient", type=address_of("patient"))
@click.argument("grantee", type=GRANTEE)
@click.option("--purpose", "-p", required=True, help=PURPOSE_HELP)
@click.option("--scopes", "-s", required=True, help=SCOPES_HELP)
@pass_ctx
def consent_check(ctx: Context, patient: str, grantee: str, purpose: str, scopes: str) -> None:
    """Is GRANTEE permitted PATIENT's data scopes for a purpose now? Exit 0 if yes, 3 if not.

    The answer line repeats the purpose and scopes as typed, so they are read here, not by their types.
    """
    purpose_id, mask = purposes.purpose_id(purpose), scopes_mask(scopes)
    client = ctx.client(ConsentClient, with_key=False)
    permitted = client.is_permitted(patient, grantee, purpose_id, mask)
    stored = client.get_consent(patient, grantee, purpose_id)
    ctx.verdict(
        permitted,
        {
            "permitted": permitted,
            "patient": patient,
            "grantee": grantee,
            "purpose": "0x" + purpose_id.hex(),
            "scopes": mask,
            "consent": {
                "scopes": purposes.scope_names(stored.scopes) if stored.scopes else [],
                "grantedAt": stored.granted_at,
                "expiresAt": stored.expires_at,
                "revokedAt": stored.revoked_at,
            },
        },
        ("PERMITTED" if permitted else "NOT PERMITTED")
        + f": {grantee} for {purpose} over {scopes}"
        + (
            f" (consent granted {show_time(stored.granted_at)}, expires {show_time(stored.expires_at)}"
            + (f", revoked {show_time(stored.revoked_at)})" if stored.revoked_at else ")")
            if stored.granted_at
            else ""
        ),
    )


@consent.command("sign")
@click.argument("grantee", type=GRANTEE)
@with_purpose
@with_scopes
@with_expiry
@with_deadline
@output_option("File to write the signed consent to (hand it to the clinic or relayer).", required=False)
@click.option(
    "--csv",
    "csv_file",
    type=FILE,
    help="Append the signed consent as a row to a clinic's CSV instead (for `consent import`).",
)
@pass_ctx
def consent_sign(
    ctx: Context,
    grantee: str,
    purpose: bytes,
    scopes: int,
    expires: int,
    deadline: int,
    output: Path | None,
    csv_file: Path | None,
) -> None:
    """Sign a consent as the patient (EIP-712), without sending anything: the submitter pays the gas."""
    if (output is None) == (csv_file is None):
        raise InputError("give one of --output (a signed-consent file) or --csv (a row of a clinic's CSV)")
    patient = require_account(ctx.settings)
    client = ctx.client(ConsentClient, with_key=False)
    signed = client.sign_grant(patient, grantee, purpose, scopes, expires, deadline)
    if csv_file is not None:
        try:
            write_csv(csv_file, [signed])
        except OSError as err:
            raise InputError(f"cannot write {csv_file}: {err.strerror}") from err
    elif output is not None:
        output.write_text(signed.to_json() + "\n")
    written = csv_file or output
    ctx.emit(
        {"file": str(written), "patient": signed.patient, "nonce": signed.nonce, "deadline": signed.deadline},
        f"signed consent of {signed.patient} (nonce {signed.nonce}, submit before "
        f"{show_time(signed.deadline)}) {'added to' if csv_file else 'written to'} {written}",
    )


@consent.command("sign-revoke")
@click.argument("grantee", type=GRANTEE)
@with_purpose
@with_deadline
@output_option()
@pass_ctx
def consent_sign_revoke(ctx: Context, grantee: str, purpose: bytes, deadline: int, output: Path) -> None:
    """Sign a revocation as the patient (EIP-712), for someone else to submit."""
    patient = require_account(ctx.settings)
    signed = ctx.client(ConsentClient, with_key=False).sign_revoke(patient, grantee, purpose, deadline)
    output.write_text(signed.to_json() + "\n")
    ctx.emit(
        {"file": str(output), "patient": signed.patient, "nonce": signed.nonce},
        f"signed revocation of {signed.patient} (nonce {signed.nonce}) written to {output}",
    )


@consent.command("submit")
@click.argument("files", nargs=-1, required=True, type=FILE)
@pass_ctx
def consent_submit(ctx: Context, files: tuple[Path, ...]) -> None:
    """Submit signed consents or revocations (several grants go in one transaction)."""
    signed = [load_signed(path) for path in files]
    client = ctx.client(ConsentClient)
    grants = [s for s in signed if isinstance(s, SignedGrant)]
    if len(grants) > 1:
        ctx.tx("submitted signed grants", client.submit_grants(grants), count=len(grants))
    elif grants:
        ctx.tx("submitted signed grant", client.submit_grant(grants[0]), patient=grants[0].patient)
    for revocation in (s for s in signed if not isinstance(s, SignedGrant)):
        ctx.tx("submitted signed revocation", client.submit_revoke(revocation), patient=revocation.patient)


REJECTED_EXIT = 3


@consent.command("import")
@click.argument("file", type=FILE)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    help="Signed consents per transaction (default: as many as fit the network's gas cap a transaction, "
    "CARECHAIN_TX_GAS_CAP, else 2^24 by EIP-7825).",
)
@click.option(
    "--check",
    is_flag=True,
    help="Check every row, against the chain too, and say what would be submitted; send nothing.",
)
@json_option("Machine-readable summary (same as carechain --json).")
@pass_ctx
def consent_import(ctx: Context, file: Path, batch_size: int | None, check: bool, as_json: bool) -> None:
    """Submit a clinic's CSV of patient-signed consents in batched transactions (the sender pays the gas).

    \b
    Columns: patient, grantee, purpose, scopes, expires_at, nonce, deadline, signature
    (rows made by `carechain consent sign ... --csv FILE`). Every row is checked first; rows already
    on chain are skipped, so a re-run submits only what is missing. The file is read as a stream, in
    flat memory; on a terminal a progress display on stderr counts the rows checked and the consents sent.
    Exit 0 when every row is on chain (or, with --check, would be), 3 when some row was rejected
    (listed by line number), 1 when the file is not such a CSV (nothing submitted) or the node fails
    (re-run to finish).
    """
    ctx.as_json = ctx.as_json or as_json
    client = ctx.client(ConsentClient, with_key=not check)
    with ctx.progress(TextColumn("checking rows"), TextColumn("{task.completed:,} checked")) as bar:
        task = bar.add_task("rows", total=None)
        plan = plan_import(client, file, progress=lambda done: bar.update(task, completed=done))
    if check:
        lines = [
            f"{file}: {plan.count} rows; {len(plan.rows)} to submit, {len(plan.skipped)} skipped as already "
            f"on chain, {len(plan.rejected)} rejected (checked only: nothing sent)",
            *(f"  line {issue.line}: {issue.reason}" for issue in plan.rejected),
        ]
        summary = {
            "rows": plan.count,
            "toSubmit": len(plan.rows),
            "skipped": len(plan.skipped),
            "rejected": [{"line": i.line, "reason": i.reason} for i in plan.rejected],
        }
        ctx.emit({"file": str(file), "checkOnly": True, **summary}, "\n".join(lines))
        if plan.rejected:
            sys.exit(REJECTED_EXIT)
        return
    columns = (TextColumn("submitting"), BarColumn(), MofNCompleteColumn(), TextColumn("consents"))
    with ctx.progress(*columns) as bar:
        task = bar.add_task("consents", total=len(plan.rows))
        result = submit_plan(
            client, plan, batch_size, progress=lambda done, todo: bar.update(task, completed=done, total=todo)
        )
    lines = [
        f"{file}: {result.count} rows; {len(result.submitted)} submitted in {len(result.transactions)} "
        f"transactions ({result.gas_used:,} gas), {len(result.skipped)} skipped as already on chain, "
        f"{len(result.rejected)} rejected",
        *(f"  line {issue.line}: {issue.reason}" for issue in result.rejected),
    ]
    ctx.emit({"file": str(file), **result.as_dict()}, "\n".join(lines))
    if result.rejected:
        sys.exit(REJECTED_EXIT)


@consent.group()
def delegate() -> None:
    """Appoint or remove a delegate (a minor's parent, a proxy) who may act for you."""


delegate_argument = click.argument("address", type=address_of("delegate"))


@delegate.command("add")
@delegate_argument
@with_expiry
@pass_ctx
def delegate_add(ctx: Context, address: str, expires: int) -> None:
    """Appoint ADDRESS as your delegate until --expires."""
    ctx.tx("delegate set", ctx.client(ConsentClient).set_delegate(address, expires))


@delegate.command("remove")
@delegate_argument
@pass_ctx
def delegate_remove(ctx: Context, address: str) -> None:
    """Remove a delegate; always possible."""
    ctx.tx("delegate removed", ctx.client(ConsentClient).remove_delegate(address))
