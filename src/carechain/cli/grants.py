"""`carechain consent grants ...`: a patient's private consents (ConsentGrants), found from the wallet alone.

The wallet (PRIVATE_KEY or KEYSTORE) only signs the key-derivation message, here in this process, and never
sends anything; a wallet that cannot sign deterministically uses `--secret`, a keystore secret made by
`new-secret` (its password: $CARECHAIN_SECRET_PASSWORD, else asked for). Every act is signed by its grant's
own key and sent by the relayer (`--relayer`, or $CARECHAIN_RELAYER); `list`, `check` and `export-keys`
only read, and need no relayer. The patient's grants are found in ConsentGrants' logs from its deployment
block, matched on this device; the numbers signed here are recorded in .chain/grants/ (no keys).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from carechain.cli.consent import consent
from carechain.cli.core import Context, pass_ctx
from carechain.cli.options import FILE, address_of, parse_time, uint_of
from carechain.clients.grants import ConsentGrantsClient
from carechain.core import keys, profiles
from carechain.core.acts import Submitted
from carechain.core.config import keystore_password, require_account
from carechain.core.deployments import Manifest
from carechain.core.files import write_private
from carechain.core.times import show_time
from carechain.core.transport import connect
from carechain.core.values import bytes32
from carechain.errors import ConfigError, TransactionFailed
from carechain.offchain.patient import GAP_LIMIT, Patient, Submitter, signed_file_name

RELAYER_ENV = "CARECHAIN_RELAYER"
SECRET_PASSWORD_ENV = "CARECHAIN_SECRET_PASSWORD"
INDEX = uint_of("grant number", 32)
GRANTEE = address_of("grantee")
F = TypeVar("F", bound=Callable[..., Any])


_RELAYER_OPTION = click.option(
    "--relayer", envvar=RELAYER_ENV, help=f"The relayer's URL (default: ${RELAYER_ENV})."
)
_SECRET_OPTION = click.option(
    "--secret",
    type=FILE,
    help="A keystore secret (carechain/keys/v1) instead of the wallet's key-derivation signature.",
)
_GAP_OPTION = click.option("--gap-limit", type=click.IntRange(1, 1000), default=GAP_LIMIT, show_default=True)


def patient_options(command: F) -> F:
    """--relayer, --secret and --gap-limit: how a command reaches the patient's grants (the `consent grants`
    group's options; `fhir export-grants` and `import-grants` take them too)."""
    return _RELAYER_OPTION(_SECRET_OPTION(_GAP_OPTION(command)))


def remember_patient(relayer: str | None, secret: Path | None, gap_limit: int) -> None:
    """Keep the patient options for `open_patient` (in the invocation's shared meta)."""
    click.get_current_context().meta["patient"] = (relayer, secret, gap_limit)


@consent.group("grants")
@patient_options
def grants(relayer: str | None, secret: Path | None, gap_limit: int) -> None:
    """A patient's private consents on ConsentGrants: one key per grant, every act relayed."""
    remember_patient(relayer, secret, gap_limit)


def open_patient(ctx: Context, needs_relayer: bool = True) -> Patient:
    """The patient of the configured wallet (or --secret) on this chain's ConsentGrants; with a relayer
    only when it sends."""
    relayer, secret, gap_limit = click.get_current_context().meta["patient"]
    if relayer is None and needs_relayer:
        raise ConfigError(f"acts are sent by a relayer: give --relayer URL or set {RELAYER_ENV}")
    w3 = connect(ctx.settings.rpc_url)
    chain_id = int(w3.eth.chain_id)
    contract = ConsentGrantsClient.from_manifest(w3, ctx.settings.root)
    if secret is not None:
        password = keystore_password(secret, SECRET_PASSWORD_ENV)
        root = keys.KeyRoot.from_secret(keys.load_secret(secret, password))
    else:
        wallet = require_account(ctx.settings)
        first = keys.sign_derivation(wallet, chain_id, contract.address)
        again = keys.sign_derivation(wallet, chain_id, contract.address)
        root = keys.KeyRoot.from_signature(keys.check_deterministic(first, again))
    deployed = Manifest.load(ctx.settings.root, chain_id).contracts["ConsentGrants"].get("block", 0)
    signed = (
        ctx.settings.root / ".chain" / "grants" / f"{chain_id}-{contract.address}-{signed_file_name(root)}"
    )
    submitter = _relay_client(relayer) if needs_relayer and relayer is not None else None
    return Patient(root, contract, submitter, gap_limit, from_block=int(deployed or 0), signed_file=signed)


def _relay_client(url: str) -> Submitter:
    try:
        from carechain.services.relay.client import RelayClient  # httpx: the services extra
    except ModuleNotFoundError as missing:
        raise ConfigError(
            f"sending through a relayer needs `pip install carechain[services]` ({missing})"
        ) from None
    return RelayClient(url)


def show_sent(ctx: Context, action: str, index: int | None, sent: Submitted) -> None:
    """Print a submission; a failed one is an error (non-zero exit) naming the contract's error."""
    if sent.status == "failed":
        raise TransactionFailed(
            f"{action}: submission 0x{sent.id.hex()} failed on chain ({sent.error or 'reverted'})"
            + (f", tx {sent.tx}" if sent.tx else "")
        )
    number = "" if index is None else f"grant #{index}, "
    ctx.emit(
        {
            "action": action,
            "index": index,
            "submission": "0x" + sent.id.hex(),
            "status": sent.status,
            "tx": sent.tx,
        },
        f"{action}: {number}submission 0x{sent.id.hex()} {sent.status}"
        + (f" (tx {sent.tx})" if sent.tx else ""),
    )


@grants.command("grant")
@click.argument("grantee", type=GRANTEE)
@click.option("--purpose", "-p", required=True, help="Purpose code or CURIE (HMB, TREAT, DUO:0000006).")
@click.option("--categories", "-c", required=True, help="Comma-separated data categories (labs,genomics).")
@click.option("--until", "until", required=True, help="When it ends: a duration (365d) or a date.")
@click.option("--from", "start", help="When it starts (a date, or 30d; default: now).")
@pass_ctx
def grant(ctx: Context, grantee: str, purpose: str, categories: str, until: str, start: str | None) -> None:
    """Grant GRANTEE a consent over data categories, under the next unused grant number."""
    now = int(time.time())
    names = [name.strip() for name in categories.split(",") if name.strip()]
    keys_, sent = open_patient(ctx).grant(
        grantee,
        purpose,
        names,
        None if start is None else parse_time(start, now),
        parse_time(until, now, allow_never=False),
    )
    show_sent(ctx, "granted", keys_.index, sent)


@grants.command("list")
@pass_ctx
def list_grants(ctx: Context) -> None:
    """Every grant of the patient the chain knows, found from the wallet alone."""
    rows: list[dict[str, Any]] = []
    lines: list[str] = []
    for found in open_patient(ctx, needs_relayer=False).grants():
        grant = found.grant
        categories = None if found.categories is None else list(found.categories)
        row: dict[str, Any] = {
            "index": found.index,
            "grantId": "0x" + found.grant_id.hex(),
            "status": found.status.name,
            "active": found.active,
            "categories": categories,
        }
        rows.append(row)
        if grant is None:
            lines.append(f"#{found.index} no grant (a signed act used its nonce)")
            continue
        known = profiles.purpose_of_code(grant.purpose_code)
        purpose = known.purpose.code if known else str(grant.purpose_code)
        row.update(
            purpose=purpose, grantee=grant.grantee, notBefore=grant.not_before, expiresAt=grant.expires_at
        )
        lines.append(
            f"#{found.index} {found.status.name}{' (active)' if found.active else ''} {purpose} to "
            f"{grant.grantee}: {','.join(categories or ['?'])}, {show_time(grant.not_before)} to "
            f"{show_time(grant.expires_at)}"
        )
    ctx.emit({"grants": rows}, "\n".join(lines) or "no grants found")


@grants.command("check")
@click.argument("grantee", type=GRANTEE)
@click.option("--purpose", "-p", required=True, help="Purpose code or CURIE.")
@click.option("--category", "-c", required=True, help="One data category (labs).")
@pass_ctx
def check(ctx: Context, grantee: str, purpose: str, category: str) -> None:
    """Whether GRANTEE may now read CATEGORY for PURPOSE under one of the patient's grants (exit 0 or 3)."""
    permitting = [
        found.index for found in open_patient(ctx, needs_relayer=False).check(grantee, purpose, category)
    ]
    ctx.verdict(
        bool(permitting),
        {"permitted": bool(permitting), "grants": permitting},
        f"permitted under grant #{', #'.join(map(str, permitting))}" if permitting else "not permitted",
    )


@grants.command("revoke")
@click.argument("index", type=INDEX)
@pass_ctx
def revoke(ctx: Context, index: int) -> None:
    """Withdraw grant number INDEX (signed by its own key, sent by the relayer)."""
    show_sent(ctx, "revoked", index, open_patient(ctx).revoke(index))


@grants.command("withdraw")
@click.argument("index", type=INDEX)
@click.option("--category", "-c", required=True, help="The data category to withdraw from the grant.")
@pass_ctx
def withdraw(ctx: Context, index: int, category: str) -> None:
    """Withdraw one category of grant number INDEX; the grant goes on for the others."""
    show_sent(ctx, "withdrawn", index, open_patient(ctx).withdraw_category(index, category))


@grants.command("burn")
@click.argument("index", type=INDEX)
@pass_ctx
def burn(ctx: Context, index: int) -> None:
    """Void whatever grant number INDEX's key signed and nobody sent (a nonce burn)."""
    show_sent(ctx, "burnt", index, open_patient(ctx).burn(index))


@grants.command("export-keys")
@click.argument("index", type=INDEX)
@click.option("--output", "-o", type=FILE, required=True, help="The JSON file to write (never overwritten).")
@click.option(
    "--private-key", is_flag=True, help="Include the grant's subject key (it can withdraw the grant)."
)
@pass_ctx
def export_keys(ctx: Context, index: int, output: Path, private_key: bool) -> None:
    """Write one grant's key material (id, salts, per category the resource hash, leaf and proof)."""
    exported = open_patient(ctx, needs_relayer=False).export_keys(index, private_key)
    write_private(output, json.dumps(exported, indent=2) + "\n")
    ctx.emit({"action": "exported", "index": index, "file": str(output)}, f"grant #{index}'s keys: {output}")


@grants.command("status")
@click.argument("act_id")
@click.option(
    "--wait", "wait", type=click.IntRange(0, 3600), default=0, help="Seconds to wait for it to settle."
)
@pass_ctx
def status(ctx: Context, act_id: str, wait: int) -> None:
    """The relayer's status of submission ACT_ID (pending, submitted, mined; failed exits non-zero)."""
    relayer = click.get_current_context().meta["patient"][0]
    if relayer is None:
        raise ConfigError(f"a submission's status is the relayer's: give --relayer URL or set {RELAYER_ENV}")
    client = _relay_client(relayer)
    key = bytes32(act_id, "act id")
    deadline = time.monotonic() + wait
    sent = client.status(key)  # type: ignore[attr-defined]
    while sent.status in ("pending", "submitted") and time.monotonic() < deadline:
        time.sleep(1)
        sent = client.status(key)  # type: ignore[attr-defined]
    show_sent(ctx, "status", None, sent)


@grants.command("new-secret")
@click.option(
    "--output", "-o", type=FILE, required=True, help="The keystore file to write (never overwritten)."
)
@pass_ctx
def new_secret(ctx: Context, output: Path) -> None:
    """Make a keystore secret for --secret (for a wallet that cannot sign the same message twice alike).
    Its password is $CARECHAIN_SECRET_PASSWORD, else asked for twice. Lose it and its grants are lost."""
    password = keystore_password(output, SECRET_PASSWORD_ENV, confirm=True)
    keys.save_secret(output, keys.create_secret(), password)
    ctx.emit(
        {"action": "created", "file": str(output)},
        f"keystore secret: {output} (keep a copy: it opens every grant)",
    )
