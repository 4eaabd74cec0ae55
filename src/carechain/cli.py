"""`carechain`: the command line over the library. Parse, call the library, print.

Keys come only from PRIVATE_KEY, `.env` or an encrypted keystore (hidden prompt); bad input gets
one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
import re
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.table import Table

from carechain import purposes
from carechain.chain import TxResult, connect
from carechain.clients.consent import ANY_GRANTEE, ConsentClient, SignedGrant, checksum, load_signed
from carechain.config import Settings, load_sender, load_settings, require_account
from carechain.deployments import deploy as deploy_contracts
from carechain.errors import CareChainError, InputError
from carechain.toolchain import project_root

_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_time(value: str, now: int | None = None, allow_never: bool = True) -> int:
    """'never' or '0', a duration from now ('30d', '12h'), a date ('2027-01-31'), or a unix time."""
    text = value.strip().lower()
    now = int(time.time()) if now is None else now
    if text in {"never", "0"}:
        if not allow_never:
            raise InputError("a deadline cannot be 'never'")
        return 0
    if match := _DURATION.match(text):
        return now + int(match.group(1)) * _UNITS[match.group(2)]
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InputError(
            f"cannot read time {value!r}: use 'never', a duration like 30d / 12h, a date like 2027-01-31, "
            "or a unix time"
        ) from None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def show_time(timestamp: int) -> str:
    return (
        "never"
        if timestamp == 0
        else datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    )


@dataclass
class Context:
    """What every command needs: settings, output mode, and lazily a node connection."""

    settings: Settings
    as_json: bool
    console: Console

    def client(self, with_key: bool = True) -> ConsentClient:
        w3 = connect(self.settings.rpc_url)
        sender = load_sender(w3, self.settings) if with_key else None
        return ConsentClient.from_manifest(w3, self.settings.root, sender)

    def emit(self, data: dict[str, Any], text: str) -> None:
        if self.as_json:
            click.echo(json.dumps(data, indent=2, default=str))
        else:
            self.console.print(text)

    def tx(self, action: str, result: TxResult, **extra: Any) -> None:
        self.emit(
            {
                "action": action,
                "txHash": result.tx_hash,
                "block": result.block_number,
                "gasUsed": result.gas_used,
                **extra,
            },
            f"{action}: tx {result.tx_hash} in block {result.block_number}, {result.gas_used:,} gas",
        )


pass_ctx = click.make_pass_decorator(Context)


class _Group(click.Group):
    """Turns every CareChainError into one line on stderr and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CareChainError as err:
            _fail(str(err))


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--rpc-url", envvar="RPC_URL", help="Node to talk to (default: $RPC_URL, .env, http://127.0.0.1:8545)."
)
@click.option(
    "--keystore",
    envvar="KEYSTORE",
    type=click.Path(dir_okay=False),
    help="Encrypted JSON keystore; the password is asked for, hidden (or $KEYSTORE_PASSWORD).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Project folder with deployments/ and abi/ (default: found from the working folder).",
)
@click.pass_context
def cli(
    ctx: click.Context, rpc_url: str | None, keystore: str | None, as_json: bool, root: Path | None
) -> None:
    """CareChain: patient consents on an Ethereum chain.

    \b
    Examples:
      carechain deploy
      carechain consent grant 0xResearcher --purpose HMB --scopes labs,genomics --expires 365d
      carechain consent check 0xPatient 0xResearcher --purpose HMB --scopes labs
      carechain consent sign 0xResearcher --purpose HMB --scopes labs -o consent.json
      carechain consent submit consent.json
    Keys: PRIVATE_KEY in the environment or .env, or --keystore (never on the command line).
    """
    try:
        folder = root.resolve() if root else project_root()
    except CareChainError:
        folder = Path.cwd()
    ctx.obj = Context(load_settings(folder, rpc_url, keystore), as_json, Console())


@cli.command()
@pass_ctx
def deploy(ctx: Context) -> None:
    """Deploy the contracts (only what is missing) and write deployments/<chainId>.json and abi/."""
    w3 = connect(ctx.settings.rpc_url)
    lines: list[str] = []
    log = lines.append if ctx.as_json else ctx.console.print
    manifest = deploy_contracts(w3, load_sender(w3, ctx.settings), ctx.settings.root, log=log)
    ctx.emit(manifest.data, f"manifest: {manifest.path}")


@cli.command("purposes")
@pass_ctx
def list_purposes(ctx: Context) -> None:
    """List the purpose codes (GA4GH DUO, HL7 purpose of use) and data scopes."""
    table_data = purposes.export_table()
    if ctx.as_json:
        click.echo(json.dumps(table_data, indent=2))
        return
    table = Table("code", "CURIE", "label", title="Purposes")
    for p in table_data["purposes"]:
        table.add_row(p["code"], p["curie"], p["label"])
    ctx.console.print(table)
    scopes = Table("scope", "bit", "label", title="Data scopes")
    for s in table_data["scopes"]:
        scopes.add_row(s["name"], str(s["bit"]), s["label"])
    ctx.console.print(scopes)


# ---- consent -------------------------------------------------------------------------------------


@cli.group()
def consent() -> None:
    """Grant, update, revoke, check and sign consents; manage delegates."""


def _grantee(value: str) -> str:
    return ANY_GRANTEE if value.lower() in {"any", "*"} else checksum(value, "grantee")


purpose_option = click.option(
    "--purpose", "-p", required=True, help="Purpose code or CURIE (HMB, DUO:0000006, TREAT...) or 0x bytes32."
)
scopes_option = click.option(
    "--scopes", "-s", required=True, help="Comma-separated data scopes (labs,genomics)."
)
expires_option = click.option(
    "--expires",
    "-e",
    default="never",
    show_default=True,
    help="never, a duration (365d), a date (2027-01-31) or a unix time.",
)
for_option = click.option("--for", "patient", help="Act as a delegate for this patient.")


def _scopes(value: str) -> int:
    return purposes.scopes_mask(part.strip() for part in value.split(",") if part.strip())


@consent.command("grant")
@click.argument("grantee")
@purpose_option
@scopes_option
@expires_option
@for_option
@pass_ctx
def consent_grant(
    ctx: Context, grantee: str, purpose: str, scopes: str, expires: str, patient: str | None
) -> None:
    """Grant GRANTEE (an address, or 'any') consent for a purpose over data scopes."""
    args = (_grantee(grantee), purposes.purpose_id(purpose), _scopes(scopes), parse_time(expires))
    client = ctx.client()
    result = client.grant_for(checksum(patient, "patient"), *args) if patient else client.grant(*args)
    ctx.tx("granted", result)


@consent.command("update")
@click.argument("grantee")
@purpose_option
@scopes_option
@expires_option
@for_option
@pass_ctx
def consent_update(
    ctx: Context, grantee: str, purpose: str, scopes: str, expires: str, patient: str | None
) -> None:
    """Change the scopes or expiry of a live consent."""
    args = (_grantee(grantee), purposes.purpose_id(purpose), _scopes(scopes), parse_time(expires))
    client = ctx.client()
    result = client.update_for(checksum(patient, "patient"), *args) if patient else client.update(*args)
    ctx.tx("updated", result)


@consent.command("revoke")
@click.argument("grantee")
@purpose_option
@for_option
@pass_ctx
def consent_revoke(ctx: Context, grantee: str, purpose: str, patient: str | None) -> None:
    """Revoke a consent; it permits nothing from the next block on."""
    args = (_grantee(grantee), purposes.purpose_id(purpose))
    client = ctx.client()
    result = client.revoke_for(checksum(patient, "patient"), *args) if patient else client.revoke(*args)
    ctx.tx("revoked", result)


@consent.command("check")
@click.argument("patient")
@click.argument("grantee")
@purpose_option
@scopes_option
@pass_ctx
def consent_check(ctx: Context, patient: str, grantee: str, purpose: str, scopes: str) -> None:
    """Is GRANTEE permitted PATIENT's data scopes for a purpose now? Exit 0 if yes, 3 if not."""
    purpose_id, mask = purposes.purpose_id(purpose), _scopes(scopes)
    patient, grantee = checksum(patient, "patient"), _grantee(grantee)
    client = ctx.client(with_key=False)
    permitted = client.is_permitted(patient, grantee, purpose_id, mask)
    stored = client.get_consent(patient, grantee, purpose_id)
    ctx.emit(
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
    if not permitted:
        sys.exit(3)


@consent.command("sign")
@click.argument("grantee")
@purpose_option
@scopes_option
@expires_option
@click.option(
    "--deadline", default="1h", show_default=True, help="Until when the signature may be submitted."
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="File to write the signed consent to (hand it to the clinic or relayer).",
)
@pass_ctx
def consent_sign(
    ctx: Context, grantee: str, purpose: str, scopes: str, expires: str, deadline: str, output: Path
) -> None:
    """Sign a consent as the patient (EIP-712), without sending anything: the submitter pays the gas."""
    patient = require_account(ctx.settings)
    client = ctx.client(with_key=False)
    signed = client.sign_grant(
        patient,
        _grantee(grantee),
        purposes.purpose_id(purpose),
        _scopes(scopes),
        parse_time(expires),
        parse_time(deadline, allow_never=False),
    )
    output.write_text(signed.to_json() + "\n")
    ctx.emit(
        {"file": str(output), "patient": signed.patient, "nonce": signed.nonce, "deadline": signed.deadline},
        f"signed consent of {signed.patient} (nonce {signed.nonce}, submit before "
        f"{show_time(signed.deadline)}) written to {output}",
    )


@consent.command("sign-revoke")
@click.argument("grantee")
@purpose_option
@click.option(
    "--deadline", default="1h", show_default=True, help="Until when the signature may be submitted."
)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True)
@pass_ctx
def consent_sign_revoke(ctx: Context, grantee: str, purpose: str, deadline: str, output: Path) -> None:
    """Sign a revocation as the patient (EIP-712), for someone else to submit."""
    patient = require_account(ctx.settings)
    signed = ctx.client(with_key=False).sign_revoke(
        patient, _grantee(grantee), purposes.purpose_id(purpose), parse_time(deadline, allow_never=False)
    )
    output.write_text(signed.to_json() + "\n")
    ctx.emit(
        {"file": str(output), "patient": signed.patient, "nonce": signed.nonce},
        f"signed revocation of {signed.patient} (nonce {signed.nonce}) written to {output}",
    )


@consent.command("submit")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@pass_ctx
def consent_submit(ctx: Context, files: tuple[Path, ...]) -> None:
    """Submit signed consents or revocations (several grants go in one transaction)."""
    signed = [load_signed(path) for path in files]
    client = ctx.client()
    grants = [s for s in signed if isinstance(s, SignedGrant)]
    if len(grants) > 1:
        ctx.tx("submitted signed grants", client.submit_grants(grants), count=len(grants))
    elif grants:
        ctx.tx("submitted signed grant", client.submit_grant(grants[0]), patient=grants[0].patient)
    for revocation in (s for s in signed if not isinstance(s, SignedGrant)):
        ctx.tx("submitted signed revocation", client.submit_revoke(revocation), patient=revocation.patient)


@consent.group()
def delegate() -> None:
    """Appoint or remove a delegate (a minor's parent, a proxy) who may act for you."""


@delegate.command("add")
@click.argument("address")
@expires_option
@pass_ctx
def delegate_add(ctx: Context, address: str, expires: str) -> None:
    """Appoint ADDRESS as your delegate until --expires."""
    ctx.tx("delegate set", ctx.client().set_delegate(checksum(address, "delegate"), parse_time(expires)))


@delegate.command("remove")
@click.argument("address")
@pass_ctx
def delegate_remove(ctx: Context, address: str) -> None:
    """Remove a delegate; always possible."""
    ctx.tx("delegate removed", ctx.client().remove_delegate(checksum(address, "delegate")))


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="carechain")


if __name__ == "__main__":
    main()
