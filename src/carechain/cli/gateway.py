"""`carechain gateway`: a custodian's record gateway (serve, put, rotate-key, erase), a provider's get
(or sign-read, for curl) and anyone's check of a read receipt (receipt).

The custodian's chain key is PRIVATE_KEY or KEYSTORE as everywhere; its encryption key is
CARECHAIN_GATEWAY_KEY or CARECHAIN_GATEWAY_KEY_FILE; the ingest token CARECHAIN_GATEWAY_TOKEN;
the database CARECHAIN_GATEWAY_DB (or --db). None of them is ever a command-line value.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from carechain.cli.core import Context, cli, pass_ctx
from carechain.cli.options import host_option, port_option
from carechain.clients.access import AccessClient
from carechain.clients.base import bytes32, checksum
from carechain.clients.records import category_bit, new_record_id
from carechain.core import purposes
from carechain.core.config import require_account
from carechain.core.transport import connect
from carechain.errors import CareChainError, ConfigError, InputError
from carechain.services.gateway import crypto, receipts
from carechain.services.gateway.client import GatewayClient
from carechain.services.gateway.requests import ReadRequest
from carechain.services.gateway.service import DEFAULT_MEDIA_TYPE, open_gateway

URL_ENV = "CARECHAIN_GATEWAY_URL"
NEW_KEY_ENV = "CARECHAIN_GATEWAY_NEW_KEY"

db_option = click.option(
    "--db", "db_url", help="Database URL (default: $CARECHAIN_GATEWAY_DB, else SQLite in .chain/)."
)


@cli.group()
def gateway() -> None:
    """A custodian's record gateway: encrypted records, served on canAccess, every read logged on chain."""


@gateway.command("serve")
@host_option()
@port_option(8600)
@click.option(
    "--log-mode",
    type=click.Choice(receipts.LOG_MODES),
    default="tx",
    show_default=True,
    help="tx: each read's own logAccess transaction, mined before serving; receipts: a signed receipt "
    "per read, their Merkle root committed on chain every --batch-interval seconds.",
)
@click.option(
    "--confirmations",
    type=click.IntRange(0),
    help="Blocks on top of a log transaction before serving (0: mined); "
    "default $CARECHAIN_CONFIRMATIONS, else 0.",
)
@click.option(
    "--batch-interval",
    type=click.FloatRange(min=0.1),
    default=receipts.DEFAULT_BATCH_INTERVAL,
    show_default=True,
    help="Seconds between two commits of the pending receipts (receipts mode).",
)
@db_option
@pass_ctx
def gateway_serve(
    ctx: Context,
    host: str,
    port: int,
    log_mode: str,
    confirmations: int | None,
    batch_interval: float,
    db_url: str | None,
) -> None:
    """(Custodian) run the gateway's HTTP API (OpenAPI spec at /docs and /openapi.json)."""
    import uvicorn

    from carechain.services.gateway.app import TOKEN_ENV, create_app

    service = open_gateway(
        ctx.settings, db_url, log_mode=log_mode, confirmations=confirmations, batch_interval=batch_interval
    )
    token = os.environ.get(TOKEN_ENV) or None
    app = create_app(service, token)  # a bad CARECHAIN_GATEWAY_MAX_BYTES is one line before anything starts
    logging = (
        f"reads logged by transaction, {service.confirmations} confirmation(s)"
        if log_mode == "tx"
        else f"reads logged by signed receipts, committed every {batch_interval:g}s"
    )
    click.echo(
        f"gateway {service.gateway} on chain {service.chain_id} at http://{host}:{port}; {logging}"
        + ("" if token else f" (ingest over HTTP off: no {TOKEN_ENV})"),
        err=True,
    )
    uvicorn.run(app, host=host, port=port, log_level="info")


@gateway.command("put")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--patient", "-p", required=True, help="The patient's address.")
@click.option("--category", "-c", required=True, help="One data scope: labs, imaging, genomics...")
@click.option("--record-id", help="0x bytes32 (a new version of that record); default: a new random id.")
@click.option("--media-type", default=DEFAULT_MEDIA_TYPE, show_default=True)
@db_option
@pass_ctx
def gateway_put(
    ctx: Context,
    file: Path,
    patient: str,
    category: str,
    record_id: str | None,
    media_type: str,
    db_url: str | None,
) -> None:
    """(Custodian) encrypt FILE, store it, anchor its ciphertext's hash; the same content anchors once."""
    try:
        content = file.read_bytes()
    except OSError as err:
        raise InputError(f"cannot read {file}: {err.strerror}") from None
    rid = bytes32(record_id, "record id") if record_id else new_record_id()
    args = (rid, checksum(patient, "patient"), category_bit(category), content, media_type)
    put = open_gateway(ctx.settings, db_url).put(*args)
    done = "anchored" if put.tx_hash else "unchanged, nothing anchored"
    ctx.emit(
        {
            "recordId": "0x" + put.record_id.hex(),
            "version": put.version,
            "contentHash": "0x" + put.content_hash.hex(),
            "txHash": put.tx_hash,
        },
        f"record 0x{put.record_id.hex()} version {put.version}: {done}"
        + (f" (tx {put.tx_hash})" if put.tx_hash else ""),
    )


@gateway.command("get")
@click.argument("record_id")
@click.option("--url", envvar=URL_ENV, required=True, help="The gateway (default: $CARECHAIN_GATEWAY_URL).")
@click.option("--purpose", default="TREAT", show_default=True, help="Purpose code of the read.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Default: stdout.")
@pass_ctx
def gateway_get(ctx: Context, record_id: str, url: str, purpose: str, output: Path | None) -> None:
    """(Provider) fetch RECORD_ID with a request signed by your key (PRIVATE_KEY or KEYSTORE)."""
    rid = bytes32(record_id, "record id")
    with GatewayClient(url) as client:
        served = client.read(_signed_request(ctx, client, rid, purpose))
    if output is None:
        click.echo(served.content, nl=False)
        return
    try:
        output.write_bytes(served.content)
    except OSError as err:
        raise InputError(f"cannot write {output}: {err.strerror}") from None
    ctx.emit(
        {
            "file": str(output),
            "bytes": len(served.content),
            "version": served.version,
            "logTx": served.log_tx,
            "receipt": served.receipt_id,
            "basis": served.basis,
        },
        f"record 0x{rid.hex()} written to {output} ({len(served.content)} bytes; "
        + (f"read logged in tx {served.log_tx})" if served.log_tx else f"read receipt {served.receipt_id})"),
    )


@gateway.command("receipt")
@click.argument("receipt_id")
@click.option("--url", envvar=URL_ENV, required=True, help="The gateway (default: $CARECHAIN_GATEWAY_URL).")
@pass_ctx
def gateway_receipt(ctx: Context, receipt_id: str, url: str) -> None:
    """(Provider, patient, auditor) fetch a read receipt and check it: the gateway's signature, the
    Merkle proof, and its root committed on chain (at RPC_URL) by that gateway."""
    rid = bytes32(receipt_id, "receipt id")
    with GatewayClient(url) as client:
        data = client.receipt(rid)
    w3 = connect(ctx.settings.rpc_url)
    access = AccessClient.from_manifest(w3, ctx.settings.root)
    try:
        gateway_address, chain_id = str(data["gateway"]), int(data["chainId"])
    except (KeyError, TypeError, ValueError):
        raise CareChainError(f"{url} answered without a CareChain gateway's receipt") from None
    if chain_id != int(w3.eth.chain_id) or str(data.get("accessGrants")) != access.address:
        raise CareChainError(
            f"the receipt is for another chain or deployment than the one at {ctx.settings.rpc_url}"
        )
    receipt = receipts.verify(
        data, gateway_address, chain_id, access.address, receipts.committed_roots(access, gateway_address)
    )
    ctx.emit(
        {**data, "verified": True},
        f"receipt 0x{rid.hex()}: {receipt.provider} read record 0x{receipt.record_id.hex()} "
        f"({receipt.basis.name}) at {receipt.served_at}; signed by gateway {gateway_address}, "
        f"proven under root {data['root']} committed in tx {data['txHash']}",
    )


@gateway.command("sign-read")
@click.argument("record_id")
@click.option("--url", envvar=URL_ENV, required=True, help="The gateway (default: $CARECHAIN_GATEWAY_URL).")
@click.option("--purpose", default="TREAT", show_default=True, help="Purpose code of the read.")
@pass_ctx
def gateway_sign_read(ctx: Context, record_id: str, url: str, purpose: str) -> None:
    """(Provider) print the JSON body of a signed read request for RECORD_ID (to POST with curl to
    URL/records/RECORD_ID/read within the gateway's window, once)."""
    rid = bytes32(record_id, "record id")
    with GatewayClient(url) as client:
        request = _signed_request(ctx, client, rid, purpose)
    click.echo(json.dumps(request.body()))


def _signed_request(ctx: Context, client: GatewayClient, rid: bytes, purpose: str) -> ReadRequest:
    """A read request for the client's gateway (its /info says what to sign), signed by your key."""
    purpose_id = purposes.purpose_id(purpose)
    return client.sign_read(require_account(ctx.settings), rid, purpose_id)


@gateway.command("rotate-key")
@click.option(
    "--new-key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"The new custodian key's file (its first key); default: ${NEW_KEY_ENV}.",
)
@db_option
@pass_ctx
def gateway_rotate_key(ctx: Context, new_key_file: Path | None, db_url: str | None) -> None:
    """(Custodian) re-wrap every data key under a new custodian key; blobs and chain stay as they are.

    \b
    A running gateway with CARECHAIN_GATEWAY_KEY_FILE keeps serving: put the new key on the file's
    first line (the old one below it) before, and drop the old line after.
    """
    if new_key_file is not None:
        new_key = crypto.read_key_file(new_key_file).current
    elif os.environ.get(NEW_KEY_ENV):
        new_key = crypto.parse_key(os.environ[NEW_KEY_ENV], NEW_KEY_ENV)
    else:
        raise ConfigError(f"give the new custodian key: {NEW_KEY_ENV} (hex or base64) or --new-key-file")
    count = open_gateway(ctx.settings, db_url).rotate_key(new_key)
    ctx.emit(
        {"rewrapped": count, "keyId": crypto.key_id(new_key)},
        f"{count} data keys re-wrapped under custodian key {crypto.key_id(new_key)}; "
        "configure it as the gateway's key now",
    )


@gateway.command("erase")
@click.argument("record_id")
@click.option("--yes", is_flag=True, help="Do not ask: erasure cannot be undone.")
@db_option
@pass_ctx
def gateway_erase(ctx: Context, record_id: str, yes: bool, db_url: str | None) -> None:
    """(Custodian) erase RECORD_ID: destroy its data keys (crypto-shredding), anchor the erasure."""
    rid = bytes32(record_id, "record id")
    if not yes and not click.confirm(f"Erase record 0x{rid.hex()} for good?", err=True):
        raise InputError("erasure not confirmed")
    tx = open_gateway(ctx.settings, db_url).erase(rid)
    ctx.emit(
        {"recordId": "0x" + rid.hex(), "eraseTx": tx},
        f"record 0x{rid.hex()} erased: data keys destroyed, erasure anchored in tx {tx}",
    )
