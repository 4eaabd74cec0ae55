"""`carechain fhir ...`: a patient's consents as a FHIR Bundle, and FHIR Consents as grants.

`export` and `import` map the address-keyed ConsentRegistry; `export-grants` and `import-grants` map the
patient's private grants on ConsentGrants, found from the wallet (or `--secret`) as `consent grants` finds
them, every act signed by its grant's key and sent by the relayer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from carechain.cli.core import Context, cli, pass_ctx, show_purpose
from carechain.cli.grants import INDEX, open_patient, patient_options, remember_patient
from carechain.cli.options import BLOCK, FILE, address_of, delegate_option, output_option
from carechain.clients.consent import ConsentClient, GrantRequest
from carechain.core import purposes
from carechain.core.acts import Submitted
from carechain.core.grants import Op
from carechain.core.times import show_time
from carechain.core.transport import connect
from carechain.errors import CareChainError, InputError, TransactionFailed
from carechain.offchain import fhir, fhir_grants

MAX_GRANTS = 20  # Consents per import-grants file: well under a relayer's default 60 requests an hour


@cli.group("fhir")
def fhir_group() -> None:
    """Export consents as HL7 FHIR Consent resources (a Bundle); import FHIR Consents as grants.

    export/import: the address-keyed consents; export-grants/import-grants: the private grants."""


@fhir_group.command("export")
@click.argument("patient", type=address_of("patient"))
@output_option("Write the Bundle to this file.", required=False)
@click.option("--active-only", is_flag=True, help="Leave out revoked and expired consents.")
@click.option("--from-block", type=BLOCK, default=0, help="Read events from this block on.")
@pass_ctx
def fhir_export(ctx: Context, patient: str, output: Path | None, active_only: bool, from_block: int) -> None:
    """PATIENT's consents as a FHIR Bundle of Consent resources (JSON on stdout, or -o FILE).

    \b
    Example:
      carechain fhir export 0xPatient -o consents.json
    """
    client = ctx.client(ConsentClient, with_key=False)
    document = fhir.export_bundle(client, patient, active_only=active_only, from_block=from_block)
    _write_bundle(ctx, document, output, "consents", "consent(s)")


@fhir_group.command("import")
@click.argument("file", type=FILE)
@delegate_option("Grant for this patient, as their delegate.")
@click.option("--dry-run", is_flag=True, help="Print the grants without sending anything.")
@pass_ctx
def fhir_import(ctx: Context, file: Path, patient: str | None, dry_run: bool) -> None:
    """Grant what the FHIR Consent(s) in FILE (a Consent or a Bundle) permit: all of it or nothing.

    \b
    Example:
      carechain fhir import consents.json --dry-run
      carechain fhir import consents.json
    """
    document = fhir.load_document(file)
    client = ctx.client(ConsentClient, with_key=not (dry_run and patient))
    holder: str
    if patient:
        holder = patient
    elif client.sender is not None:
        holder = client.sender.address
    else:
        raise InputError("no patient: give --for PATIENT or a key")
    now = int(client.w3.eth.get_block("latest")["timestamp"])
    grants = fhir.consents_to_grants(document, chain_id=client.w3.eth.chain_id, patient=holder, now=now)
    if dry_run:
        ctx.emit(
            {"patient": holder, "dryRun": True, "grants": [_shown(grant) for grant in grants]},
            "\n".join(
                f"would grant {shown['grantee']} {shown['purpose']} over {','.join(shown['scopes'])}"
                f" until {show_time(shown['expiresAt'])}"
                for shown in map(_shown, grants)
            ),
        )
        return
    if patient:
        for grant in grants:
            result = client.grant_for(holder, grant.grantee, grant.purpose, grant.scopes, grant.expires_at)
            ctx.tx("granted", result, **_shown(grant))
    elif len(grants) > 1:
        ctx.tx("granted batch", client.grant_batch(grants), count=len(grants))
    else:
        grant = grants[0]
        ctx.tx(
            "granted",
            client.grant(grant.grantee, grant.purpose, grant.scopes, grant.expires_at),
            **_shown(grant),
        )


@fhir_group.command("export-grants")
@patient_options
@output_option("Write the Bundle to this file.", required=False)
@click.option("--active-only", is_flag=True, help="Only grants in force now.")
@click.option(
    "--patient-reference", help="A local reference (Patient/<id>) your own FHIR server resolves for you."
)
@click.option("--grant", "numbers", type=INDEX, multiple=True, help="Export this grant number (repeatable).")
@click.option("--grantee", type=address_of("grantee"), help="Export the grants to this grantee.")
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Export every grant. WARNING: one Bundle links all these grants to one patient for whoever "
    "receives it; give each recipient only its own grants (--grant, --grantee).",
)
@pass_ctx
def fhir_export_grants(
    ctx: Context,
    relayer: str | None,
    secret: Path | None,
    gap_limit: int,
    output: Path | None,
    active_only: bool,
    patient_reference: str | None,
    numbers: tuple[int, ...],
    grantee: str | None,
    everything: bool,
) -> None:
    """The patient's private grants (found from the wallet or --secret) as a FHIR Bundle: each Consent names
    its grant by the subject commitment, never by the patient. Say which: --grant N, --grantee ADDRESS, or
    --all (a Bundle links its grants to one patient for whoever reads it).

    \b
    Example:
      carechain fhir export-grants --grantee 0xDoctor -o for-doctor.json
      carechain fhir export-grants --grant 3 --grant 5 -o grants.json
    """
    if everything and (numbers or grantee):
        raise click.UsageError("--all exports every grant: give it without --grant or --grantee")
    if not (everything or numbers or grantee):
        raise click.UsageError(
            "say which grants: --grant N (repeatable), --grantee ADDRESS, or --all (a Bundle links all the "
            "grants it holds to one patient for whoever receives it)"
        )
    if patient_reference is not None:
        fhir_grants.local_reference(patient_reference)  # before the wallet is asked to sign
    remember_patient(relayer, secret, gap_limit)
    patient = open_patient(ctx, needs_relayer=False)
    document = fhir_grants.export_grants(
        patient,
        active_only=active_only,
        patient_reference=patient_reference,
        numbers=numbers or None,
        grantee=grantee,
    )
    _write_bundle(ctx, document, output, "grants", "grant(s)")


@fhir_group.command("import-grants")
@patient_options
@click.argument("file", type=FILE)
@click.option("--dry-run", is_flag=True, help="Print the grants without signing or sending anything.")
@click.option(
    "--max",
    "most",
    type=click.IntRange(min=1),
    default=MAX_GRANTS,
    show_default=True,
    help="Refuse a file of more Consents: each costs relayer requests, and a relayer limits each client "
    "(by default 60 requests an hour), so a long file would stop halfway.",
)
@pass_ctx
def fhir_import_grants(
    ctx: Context,
    relayer: str | None,
    secret: Path | None,
    gap_limit: int,
    file: Path,
    dry_run: bool,
    most: int,
) -> None:
    """Sign one grant per FHIR Consent in FILE (a Consent or a Bundle), each with its own key under the next
    unused grant numbers (so the wallet finds them again), and send them through the relayer: every Consent
    is checked before the first is signed.

    \b
    Example:
      carechain fhir import-grants grants.json --dry-run
      carechain fhir import-grants grants.json --relayer https://relay.example
    """
    remember_patient(relayer, secret, gap_limit)
    document = fhir.load_document(file)
    w3 = connect(ctx.settings.rpc_url)  # the file is checked before any key or relayer is needed
    now = int(w3.eth.get_block("latest")["timestamp"])
    wanted = fhir_grants.imported_grants(document, chain_id=int(w3.eth.chain_id), now=now)
    if len(wanted) > most:
        raise InputError(
            f"{file} holds {len(wanted)} Consents, more than --max {most}: a relayer limits the requests of "
            "each client, so split the file (or raise --max if your relayer allows it)"
        )
    if dry_run:
        rows = [_wanted(one, now) for one in wanted]
        ctx.emit(
            {"dryRun": True, "grants": rows},
            "\n".join(
                f"would grant {row['grantee']} {row['purpose']} over {','.join(row['categories'])} "
                f"from {show_time(row['notBefore'])} until {show_time(row['expiresAt'])}"
                for row in rows
            ),
        )
        return
    patient = open_patient(ctx)
    signed = fhir_grants.sign_imported(patient, wanted)
    sent: list[tuple[int, Submitted]] = []
    for position, (keys_, act) in enumerate(signed):
        try:
            submitted = patient.submitter.submit(act)
        except CareChainError as err:  # the relayer may have taken it all the same (a timeout)
            problem = f"{err} (it may have reached the relayer: `consent grants list` shows it then)"
        else:
            if submitted.status != "failed":
                sent.append((keys_.index, submitted))
                continue
            problem = f"failed on chain ({submitted.error or 'reverted'})"
        raise TransactionFailed(_partial(sent, keys_.index, problem, [k.index for k, _ in signed[position:]]))
    rows = [_sent_row(index, one) for index, one in sent]
    ctx.emit(
        {"action": "granted", "grants": rows},
        "\n".join(
            f"granted: grant #{row['index']}, submission {row['submission']} {row['status']}"
            + (f" (tx {row['tx']})" if row["tx"] else "")
            for row in rows
        ),
    )


def _sent_row(index: int, sent: Submitted) -> dict[str, Any]:
    return {"index": index, "submission": "0x" + sent.id.hex(), "status": sent.status, "tx": sent.tx}


def _partial(sent: list[tuple[int, Submitted]], failed: int, problem: str, unsent: list[int]) -> str:
    """One line: what was sent (grant numbers, act ids), what failed, and the numbers signed but not sent,
    whose acts the patient should void (a nonce burn) so nobody holding them can send them later."""
    done = ", ".join(f"#{index} (act 0x{one.id.hex()})" for index, one in sent) or "none"
    numbers = ", ".join(f"#{index}" for index in unsent)
    return (
        f"sending grant #{failed} failed: {problem}; sent before it: {done}; signed but not sent: {numbers}: "
        "void each unsent one with `carechain consent grants burn N`"
    )


def _wanted(one: fhir_grants.ImportedGrant, now: int) -> dict[str, Any]:
    not_before, expires_at = one.window(now)
    return {
        "grantee": one.grantee,
        "purpose": one.purpose,
        "categories": list(one.categories),
        "ops": [op.name for op in Op if one.ops & op],
        "notBefore": not_before,
        "expiresAt": expires_at,
    }


def _shown(grant: GrantRequest) -> dict[str, Any]:
    return {
        "grantee": grant.grantee,
        "purpose": show_purpose(grant.purpose),
        "scopes": purposes.scope_names(grant.scopes),
        "expiresAt": grant.expires_at,
    }


def _write_bundle(ctx: Context, document: dict[str, Any], output: Path | None, key: str, noun: str) -> None:
    """The Bundle to standard output, or to `output` with a line (or JSON) saying how many entries it has."""
    text = json.dumps(document, indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    count = len(document.get("entry", []))
    ctx.emit({"file": str(output), key: count}, f"{count} {noun} written to {output}")
