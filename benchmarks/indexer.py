"""Indexer throughput: events per second from a node holding at least 50,000 CareChain events into SQLite.

`make bench` (`python -m benchmarks.indexer`) starts its own Anvil, deploys CareChain, fills it with
consents granted in batches (each a ConsentGranted event), then times one `Indexer.sync()` from
the deploy block to the head into a fresh SQLite file and writes benchmarks/results/indexer.json.
Filling the chain is not timed.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import Web3

from benchmarks import ROOT, run, write_json
from carechain import CareChainError, Sender, connect, local_node, purpose_id, scopes_mask
from carechain.clients import ConsentClient, GrantRequest
from carechain.deployments import deploy
from carechain.indexer import Indexer
from carechain.localnode import find_anvil

RESULTS = ROOT / "benchmarks" / "results" / "indexer.json"
EVENTS = 50_000
PER_TX = 250  # consents per grantBatch transaction (about 7M gas)


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


def measure(w3: Web3, folder: Path, events: int = EVENTS) -> dict[str, Any]:
    head = fill(w3, folder, events)
    indexer = Indexer(w3, folder, str(folder / "index.db"))
    started = time.perf_counter()
    result = indexer.sync()
    seconds = time.perf_counter() - started
    indexed = sum(indexer.counts().values())
    indexer.close()
    if indexed < events:
        raise CareChainError(f"the index holds {indexed} events, the node {events}+")
    return {
        "database": "sqlite",
        "node_events": indexed,
        "blocks": head,
        "ranges": len(result.ranges),
        "seconds": round(seconds, 3),
        "events_per_s": round(result.events / seconds),
    }


def write_results(results: dict[str, Any], path: Path = RESULTS) -> Path:
    return write_json(results, path)


def _measure_on_own_anvil() -> dict[str, Any]:
    with local_node(find_anvil(ROOT), gas_limit=30_000_000) as node, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "build").symlink_to(ROOT / "build")
        return measure(connect(node.url), folder)


def report(results: dict[str, Any]) -> str:
    return (
        f"indexed {results['node_events']:,} events of {results['blocks']:,} blocks into SQLite in "
        f"{results['seconds']:.2f} s: {results['events_per_s']:,} events/s (target 20,000)"
    )


def main() -> int:
    return run(_measure_on_own_anvil, report, write_results)


if __name__ == "__main__":
    sys.exit(main())
