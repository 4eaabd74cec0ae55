"""`carechain relay serve`: the relayer that submits patients' signed consents and pays their gas.

The relayer's gas-paying key is PRIVATE_KEY or KEYSTORE as everywhere (on a local chain without
one, the node's first account); the database CARECHAIN_RELAY_DB (or --db), the rate per patient
CARECHAIN_RELAY_RATE (or --rate). No key is ever a command-line value.
"""

from __future__ import annotations

import importlib.util

import click

from carechain.cli.core import Context, cli, pass_ctx
from carechain.cli.options import host_option, poll_option, port_option
from carechain.services.relay.acts import BUDGET_ENV, CLIENT_RATE_ENV, DEFAULT_BUDGET, DEFAULT_CLIENT_RATE
from carechain.services.relay.service import DEFAULT_RATE, RATE_ENV, open_relay

# The server comes with the services extra: without it this group is the stand-in that says what to install.
if importlib.util.find_spec("uvicorn") is None:
    raise ModuleNotFoundError("No module named 'uvicorn'", name="uvicorn")


@cli.group()
def relay() -> None:
    """The relayer: submits patients' EIP-712 signed consents and revocations, paying the gas."""


@relay.command("serve")
@host_option()
@port_option(8700)
@click.option("--db", "db_url", help="Database URL (default: $CARECHAIN_RELAY_DB, else SQLite in .chain/).")
@click.option(
    "--rate",
    help=f"Relayed requests per patient and period, like 10/h or 5/30m (default: ${RATE_ENV}, else "
    f"{DEFAULT_RATE}).",
)
@click.option(
    "--act-budget",
    help=f"Subject acts paid for in all per period (default: ${BUDGET_ENV}, else {DEFAULT_BUDGET}).",
)
@click.option(
    "--client-rate",
    help=f"Subject-act requests per client IP address and period, held in memory only (default: "
    f"${CLIENT_RATE_ENV}, else {DEFAULT_CLIENT_RATE}).",
)
@poll_option("Seconds between looks at the receipts of submissions in flight (0: only when asked).")
@pass_ctx
def relay_serve(
    ctx: Context,
    host: str,
    port: int,
    db_url: str | None,
    rate: str | None,
    act_budget: str | None,
    client_rate: str | None,
    poll: float,
) -> None:
    """Run the relayer's HTTP API (OpenAPI spec at /docs and /openapi.json)."""
    import uvicorn

    from carechain.services.relay.acts import open_subject_acts
    from carechain.services.relay.app import create_app  # FastAPI: loaded only to serve

    service = open_relay(ctx.settings, db_url, rate)
    acts = open_subject_acts(service, ctx.settings.root, act_budget, client_rate)
    click.echo(
        f"relayer {service.relayer} for ConsentRegistry {service.client.address} on chain "
        f"{service.chain_id} at http://{host}:{port} ({service.limiter.rate.count} requests per patient "
        f"per {service.limiter.rate.period}s)",
        err=True,
    )
    if acts is not None:
        budget = acts.budget.rate
        click.echo(
            f"  and subject acts for ConsentGrants {acts.client.address} (at most {budget.count} per "
            f"{budget.period}s in all)",
            err=True,
        )
    # No access log: it would write each client's IP address beside /subjects/0x<commitment>/nonce.
    uvicorn.run(create_app(service, poll, acts), host=host, port=port, log_level="info", access_log=False)
