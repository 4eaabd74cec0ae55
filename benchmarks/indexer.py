"""Indexer throughput: events per second from a node holding at least 50,000 CareChain events.

`make bench` (`python -m benchmarks.indexer`) starts its own Anvil and a throwaway PostgreSQL,
deploys CareChain, fills the chain with consents granted in batches (each a ConsentGranted event),
then times `Indexer.sync()` from the deploy block to the head into a fresh SQLite file and into a
fresh PostgreSQL database, RUNS times each, and writes benchmarks/results/indexer.json with the
median run of each (wall clock, and this process's CPU time: the node's work is not in it). Filling
the chain is not timed.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import Web3

from benchmarks import ROOT, run, write_json
from carechain import CareChainError, Sender, connect, purpose_id, scopes_mask
from carechain.clients import ConsentClient, GrantRequest
from carechain.core.deployments import deploy
from carechain.dev.localnode import find_anvil, local_node
from carechain.dev.localpg import pg_server
from carechain.index.indexer import Indexer, database_url

RESULTS = ROOT / "benchmarks" / "results" / "indexer.json"
EVENTS = 50_000
PER_TX = 250  # consents per grantBatch transaction (about 7M gas)
RUNS = 3  # syncs per database, each into a fresh one; the median is reported
TARGET = 20_000  # events/s into SQLite (issue 9)


def fill(w3: Web3, folder: Path, events: int, per_tx: int = PER_TX) -> int:
    """Grant `events` consents in batches, spread over the node's accounts; returns the head block."""
    deploy(w3, Sender(w3, w3.eth.accounts[0]), folder)
    patients = w3.eth.accounts[1:]
    purpose, scopes = purpose_id("HMB"), scopes_mask(["labs"])
    for batch in range(0, events, per_tx):
        patient = patients[(batch // per_tx) % len(patients)]
        grantees = [
            to_checksum_address(keccak(text=f"indexer-bench:{i}")[12:]) for i in range(batch, batch + per_tx)
        ]
        requests = [GrantRequest(grantee, purpose, scopes, 0) for grantee in grantees[: events - batch]]
        ConsentClient.from_manifest(w3, folder, Sender(w3, patient)).grant_batch(requests)
    return int(w3.eth.block_number)


def fresh_postgres(server: str, name: str) -> str:
    """A new, empty database `name` on the PostgreSQL server at `server`; its URL."""
    engine = sa.create_engine(database_url(server), isolation_level="AUTOCOMMIT")
    with engine.connect() as db:
        db.execute(sa.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return server.replace("/postgres?", f"/{name}?")


def time_sync(w3: Web3, folder: Path, url: str, events: int) -> dict[str, Any]:
    """One timed sync of the whole chain into the empty database at `url`."""
    indexer = Indexer(w3, folder, url)
    started, cpu = time.perf_counter(), time.process_time()
    result = indexer.sync()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    indexed = sum(indexer.counts().values())
    indexer.close()
    if indexed < events or indexed != result.events:
        raise CareChainError(
            f"the index holds {indexed} events, the sync read {result.events}, the node {events}+"
        )
    return {
        "events": result.events,
        "ranges": len(result.ranges),
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "events_per_s": round(result.events / seconds),
    }


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median speed, with every run's events/s beside it."""
    middle = statistics.median_low([r["events_per_s"] for r in runs])
    chosen = next(r for r in runs if r["events_per_s"] == middle)
    return {**chosen, "runs_events_per_s": [r["events_per_s"] for r in runs]}


def measure(
    w3: Web3, folder: Path, events: int = EVENTS, postgres: str | None = None, runs: int = RUNS
) -> dict[str, Any]:
    """Fill the chain, then index it `runs` times into SQLite (and PostgreSQL when a server URL is given)."""
    head = fill(w3, folder, events)
    results: dict[str, Any] = {"events": events, "blocks": head, "runs": runs, "target_sqlite": TARGET}
    sqlite = [time_sync(w3, folder, str(folder / f"index-{i}.db"), events) for i in range(runs)]
    results["sqlite"] = median_run(sqlite)
    if postgres is not None:
        pg = [time_sync(w3, folder, fresh_postgres(postgres, f"index_{i}"), events) for i in range(runs)]
        results["postgres"] = median_run(pg)
    results["node_events"] = results["sqlite"]["events"]
    return results


def write_results(results: dict[str, Any], path: Path = RESULTS) -> Path:
    return write_json(results, path)


def _measure_on_own_anvil() -> dict[str, Any]:
    with (
        local_node(find_anvil(ROOT), gas_limit=30_000_000) as node,
        pg_server() as postgres,
        tempfile.TemporaryDirectory() as tmp,
    ):
        folder = Path(tmp)
        (folder / "build").symlink_to(ROOT / "build")
        return measure(connect(node.url), folder, postgres=postgres)


def report(results: dict[str, Any]) -> str:
    head = f"indexed {results['node_events']:,} events of {results['blocks']:,} blocks"
    lines = [f"{head}, median of {results['runs']} syncs each:"]
    for name, label in (("sqlite", "SQLite"), ("postgres", "PostgreSQL")):
        if name in results:
            r = results[name]
            goal = f" (target {TARGET:,})" if name == "sqlite" else ""
            took = f"{r['seconds']:.2f} s ({r['cpu_seconds']:.2f} s CPU)"
            lines.append(f"  {label:<10} {took}: {r['events_per_s']:,} events/s{goal}")
    return "\n".join(lines)


def main() -> int:
    return run(_measure_on_own_anvil, report, write_results)


if __name__ == "__main__":
    sys.exit(main())
