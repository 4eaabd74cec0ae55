"""Reads through the record gateway (check + log + decrypt) per log mode, with and without block time.

`make bench` (`python -m benchmarks.gateway`) starts its own Anvil for each chain: one that mines at
once (the local-chain figure the issue asks for), and block-time rehearsal chains (a block every 1 s,
and every 2 s: `evm_setIntervalMining` after the set-up, which is then as `anvil --block-time N`).
On each it deploys CareChain, credentials a hospital and a GP, the patient grants the GP their labs,
the hospital ingests a lab result, and its gateway (a real uvicorn, HTTP) serves READS signed read
requests from CONCURRENCY clients at once, in each log mode:
- tx, with 0 and 1 confirmations: the read's own logAccess transaction, mined (and confirmed) before
  the record is served;
- receipts: a signed receipt before serving, the Merkle root of the pending receipts committed on
  chain every BATCH_INTERVAL seconds.
Per run: reads/s, read latency (request sent to record received) and log latency (request sent to
the read's log on chain: for tx mode the same, for receipts mode until its root is committed).
Writes benchmarks/results/gateway.json; its top-level reads, reads_per_s and latency_ms are the
default mode (tx, 0 confirmations) on the chain that mines at once.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from web3 import Web3
from web3.types import RPCEndpoint

from benchmarks import ROOT, run, write_json
from carechain import CareChainError, connect
from carechain.clients.records import category_bit
from carechain.core.purposes import purpose_id
from carechain.dev.localnode import find_anvil, local_node
from carechain.dev.stacks import LAB_RESULT, GatewayCast, chain_data, open_service, serving_gateway, stand_up
from carechain.services.gateway import crypto
from carechain.services.gateway.client import GatewayClient
from carechain.services.gateway.requests import ReadRequest
from carechain.services.gateway.store import Store

RESULTS = ROOT / "benchmarks" / "results" / "gateway.json"
READS = 60  # per run on a block-time chain
AUTOMINE_READS = 400  # per run on the chain that mines at once
CONCURRENCY = 8
BLOCK_TIMES = (1, 2)
CONFIRMATIONS = (0, 1)
BATCH_INTERVAL = 2.0
TREAT = purpose_id("TREAT")


def percentiles(values: list[float]) -> dict[str, float]:
    """p50, p95, p99 (nearest rank) and max, in milliseconds rounded to 0.1."""
    ordered = sorted(values)

    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    return {
        "p50": round(rank(50) * 1000, 1),
        "p95": round(rank(95) * 1000, 1),
        "p99": round(rank(99) * 1000, 1),
        "max": round(ordered[-1] * 1000, 1),
    }


@contextmanager
def rehearsal_chain(root: Path, block_time: int) -> Iterator[tuple[Web3, Path, GatewayCast, bytes]]:
    """A fresh Anvil with CareChain, the cast and one ingested lab result; then `block_time` s blocks
    (0: mined at once). Yields the node's Web3, the project folder, the cast and the record id."""
    with (
        local_node(find_anvil(root)) as node,
        tempfile.TemporaryDirectory(prefix="gateway-bench-") as folder,
    ):
        w3 = connect(node.url)
        data = chain_data(Path(folder), root)
        cast = GatewayCast.fresh()
        stand_up(w3, data, w3.eth.accounts[0], cast)
        key = crypto.new_key()
        service = open_service(w3, data, cast.hospital, _db(data), key)
        record = os.urandom(32)
        service.put(record, cast.patient.address, category_bit("labs"), LAB_RESULT, "application/fhir+json")
        (data / "custodian.key").write_text(key.hex())
        if block_time:
            w3.provider.make_request(RPCEndpoint("evm_setIntervalMining"), [block_time])
        yield w3, data, cast, record


def _db(data: Path) -> str:
    return f"sqlite:///{data / 'gateway.db'}"


def measure_run(
    w3: Web3,
    data: Path,
    cast: GatewayCast,
    record: bytes,
    reads: int,
    concurrency: int,
    mode: str,
    confirmations: int = 0,
    batch_interval: float = BATCH_INTERVAL,
) -> dict[str, Any]:
    """`reads` signed reads of `record` by the GP, `concurrency` at a time, through one gateway."""
    key = bytes.fromhex((data / "custodian.key").read_text())
    service = open_service(
        w3,
        data,
        cast.hospital,
        _db(data),
        key,
        log_mode=mode,
        confirmations=confirmations,
        batch_interval=batch_interval,
    )
    latencies: list[float] = []
    log_latencies: list[float] = []
    receipts: dict[bytes, float] = {}  # receipt id -> when its request was sent
    watcher = _Watcher(service.store, receipts)
    with serving_gateway(service, None) as url, GatewayClient(url, timeout=120) as gateway:
        signed = [gateway.sign_read(cast.gp, record, TREAT) for _ in range(reads)]

        def read(request: ReadRequest) -> None:
            started = time.perf_counter()
            served = gateway.read(request)  # a refusal raises, with its status and code
            elapsed = time.perf_counter() - started
            if served.content != LAB_RESULT:
                raise CareChainError(f"the gateway served {served.content[:200]!r}, not the lab result")
            latencies.append(elapsed)
            if mode == "receipts":
                receipts[bytes.fromhex(str(served.receipt_id)[2:])] = started
            else:
                log_latencies.append(elapsed)

        if mode == "receipts":
            watcher.start()
        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(read, signed))
        seconds = time.perf_counter() - started
        if mode == "receipts":
            log_latencies, roots = watcher.wait(timeout=batch_interval + 60)
    result: dict[str, Any] = {
        "mode": mode,
        "reads": reads,
        "concurrency": concurrency,
        "seconds": round(seconds, 2),
        "reads_per_s": round(reads / seconds, 1),
        "latency_ms": percentiles(latencies),
        "log_latency_ms": percentiles(log_latencies),
    }
    if mode == "tx":
        result["confirmations"] = confirmations
        result["log_transactions"] = reads
    else:
        result["batch_interval_s"] = batch_interval
        result["batches"] = len(roots)
    return result


class _Watcher(threading.Thread):
    """While the reads run, polls the gateway's store every 20 ms: when each receipt got its root."""

    def __init__(self, store: Store, sent: dict[bytes, float]) -> None:
        super().__init__(name="bench-receipt-watcher", daemon=True)
        self.store, self.sent = store, sent
        self.committed: dict[bytes, float] = {}
        self.roots: set[bytes] = set()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            for receipt_id in [r for r in list(self.sent) if r not in self.committed]:
                stored = self.store.receipt(receipt_id)
                if stored is not None and stored.batch_root is not None:
                    self.committed[receipt_id] = time.perf_counter()
                    self.roots.add(stored.batch_root)
            time.sleep(0.02)

    def wait(self, timeout: float) -> tuple[list[float], set[bytes]]:
        """Once every receipt is committed: (request-to-root seconds per receipt, the roots)."""
        deadline = time.monotonic() + timeout
        while len(self.committed) < len(self.sent):
            if time.monotonic() > deadline:
                self.done.set()
                missing = len(self.sent) - len(self.committed)
                raise CareChainError(f"{missing} read receipts not committed within {timeout:.0f}s")
            time.sleep(0.02)
        self.done.set()
        self.join()
        return [self.committed[r] - sent for r, sent in self.sent.items()], self.roots


def measure(
    reads: int = READS,
    automine_reads: int = AUTOMINE_READS,
    concurrency: int = CONCURRENCY,
    block_times: tuple[int, ...] = BLOCK_TIMES,
    confirmations: tuple[int, ...] = CONFIRMATIONS,
    batch_interval: float = BATCH_INTERVAL,
    root: Path = ROOT,
) -> dict[str, Any]:
    """Every chain (0 = mines at once, then `block_times`), every mode; see the module's docstring."""
    runs: list[dict[str, Any]] = []
    for block_time in (0, *block_times):
        count = automine_reads if block_time == 0 else reads
        with rehearsal_chain(root, block_time) as (w3, data, cast, record):
            # On the chain that mines at once no block follows the last log: only 0 confirmations there.
            waits = confirmations if block_time else (0,)
            for mode, confirmed in [*(("tx", c) for c in waits), ("receipts", 0)]:
                result = measure_run(
                    w3, data, cast, record, count, concurrency, mode, confirmed, batch_interval
                )
                runs.append({"block_time_s": block_time, **result})
    default = next(
        r for r in runs if r["block_time_s"] == 0 and r["mode"] == "tx" and r["confirmations"] == 0
    )
    return {
        "reads": default["reads"],
        "reads_per_s": default["reads_per_s"],
        "latency_ms": default["latency_ms"],
        "mode": "tx",
        "confirmations": 0,
        "block_time_s": 0,
        "concurrency": concurrency,
        "runs": runs,
    }


def report(results: dict[str, Any]) -> str:
    lines = [
        f"Gateway reads, {results['concurrency']} clients at once "
        "(HTTP, EIP-712 request, canAccess, log, decrypt)",
        f"{'chain':>10} {'mode':>16} {'reads':>6} {'reads/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'log p50':>8} {'log p95':>8}",
    ]
    for r in results["runs"]:
        chain = "at once" if r["block_time_s"] == 0 else f"{r['block_time_s']} s blocks"
        mode = (
            f"tx, {r['confirmations']} conf" if r["mode"] == "tx" else f"receipts {r['batch_interval_s']:g}s"
        )
        lines.append(
            f"{chain:>10} {mode:>16} {r['reads']:>6} {r['reads_per_s']:>8} {r['latency_ms']['p50']:>8} "
            f"{r['latency_ms']['p95']:>8} {r['log_latency_ms']['p50']:>8} {r['log_latency_ms']['p95']:>8}"
        )
    return "\n".join(lines)


def write_results(results: dict[str, Any], path: Path = RESULTS) -> Path:
    return write_json(results, path, sort_keys=False)


if __name__ == "__main__":
    sys.exit(run(measure, report, write_results))
