"""`carechain index`: follow every CareChain event into SQLite (a file) or PostgreSQL (a URL)."""

from __future__ import annotations

import time

import click
import sqlalchemy as sa
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from carechain.cli.core import Context, cli, pass_ctx
from carechain.cli.options import BLOCK, poll_option, uint_of
from carechain.core.deployments import is_local_chain
from carechain.core.transport import connect
from carechain.errors import CareChainError
from carechain.index.indexer import Indexer, SyncResult

LIVE_CONFIRMATIONS = 12  # blocks a public chain may still reorganise; local chains need none


def index_database(ctx: Context, chain_id: int) -> str:
    """The default index of a chain: .chain/index-<chainId>.db in the project."""
    folder = ctx.settings.root / ".chain"
    folder.mkdir(exist_ok=True)
    return str(folder / f"index-{chain_id}.db")


@cli.command()
@click.option(
    "--db",
    help="sqlite:///path.db, a file path, or postgresql://user@host/db (default: .chain/index-<chainId>.db).",
)
@click.option("--from-block", type=BLOCK, help="First block of an empty index (default: deploy).")
@click.option(
    "--confirmations",
    type=uint_of("confirmations", 64),
    help=f"Index only up to head - N (default: 0 on local chains, {LIVE_CONFIRMATIONS} elsewhere).",
)
@click.option("--follow", is_flag=True, help="Keep polling for new blocks until Ctrl-C.")
@poll_option("Seconds between polls.")
@pass_ctx
def index(
    ctx: Context,
    db: str | None,
    from_block: int | None,
    confirmations: int | None,
    follow: bool,
    poll: float,
) -> None:
    """Index the events of the deployment in this chain's manifest; resumes, rolls back reorgs.

    \b
    Examples:
      carechain index
      carechain index --db postgresql://indexer@localhost/carechain --follow
    """
    w3 = connect(ctx.settings.rpc_url)
    chain_id = w3.eth.chain_id
    db = index_database(ctx, chain_id) if db is None else db
    if confirmations is None:
        confirmations = 0 if is_local_chain(chain_id) else LIVE_CONFIRMATIONS
    indexer = Indexer(w3, ctx.settings.root, db)
    total = SyncResult(from_block=-1, to_block=-1)
    try:
        while True:
            result = _sync(ctx, indexer, from_block, confirmations)
            if total.from_block < 0:
                total.from_block = result.from_block
            total.to_block = max(total.to_block, result.to_block)
            total.events += result.events
            total.blocks += result.blocks
            total.rolled_back += result.rolled_back
            if not follow:
                break
            if result.events or result.rolled_back:
                _report(ctx, result, indexer, err=True)
            time.sleep(poll)
    except KeyboardInterrupt:
        pass
    except sa.exc.OperationalError as err:  # the database went away mid-run; what was committed stays
        raise CareChainError(f"the index database failed: {str(err.orig).strip().splitlines()[0]}") from None
    finally:
        indexer.close()
    _report(ctx, total, indexer)


def _sync(ctx: Context, indexer: Indexer, from_block: int | None, confirmations: int) -> SyncResult:
    """One sync, with a progress bar of blocks on stderr (none under --json)."""
    columns = (
        TextColumn("indexing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("blocks"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), disable=ctx.as_json, transient=True) as bar:
        task = bar.add_task("blocks", total=None)
        return indexer.sync(
            from_block=from_block,
            confirmations=confirmations,
            progress=lambda done, todo: bar.update(task, completed=done, total=todo),
        )


def _report(ctx: Context, result: SyncResult, indexer: Indexer, err: bool = False) -> None:
    data = {
        "chainId": indexer.chain_id,
        "fromBlock": result.from_block,
        "toBlock": result.to_block,
        "events": result.events,
        "blocks": result.blocks,
        "rolledBack": result.rolled_back,
        "indexedEvents": sum(indexer.counts().values()),
    }
    rolled = f", {result.rolled_back} blocks rolled back (reorg)" if result.rolled_back else ""
    span = (
        f"blocks {result.from_block}..{result.to_block}"
        if result.blocks
        else f"up to date at {result.to_block}"
    )
    text = (
        f"indexed {result.events} events in {result.blocks} blocks ({span}){rolled}; "
        f"the index holds {data['indexedEvents']} events"
    )
    if err:
        click.echo(text, err=True)
    else:
        ctx.emit(data, text)
