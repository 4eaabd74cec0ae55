"""Build time and proof rate of carechain.offchain.merkle beside @openzeppelin/merkle-tree, on one machine.

`make bench` (`python -m benchmarks.merkle`) builds ["address", "uint256"] StandardMerkleTrees of
100,000 and 1,000,000 leaves in Python and in the JS library (benchmarks/merkle_js.mjs, which makes the
same values by the same rule and times only `StandardMerkleTree.of`), checks that both give the same
root (and fails if not), measures get_proof calls per second on the 1M-leaf tree, prints a table and
writes benchmarks/results/merkle.json.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import ROOT, run, write_json
from carechain import CareChainError, ToolchainError
from carechain.offchain.merkle import StandardMerkleTree

RESULTS = ROOT / "benchmarks" / "results" / "merkle.json"
JS_BENCH = ROOT / "benchmarks" / "merkle_js.mjs"
ENCODING = ["address", "uint256"]
SIZES = (100_000, 1_000_000)
PYTHON_PROOFS = 10_000
JS_PROOFS = 2_000  # the JS library re-hashes the leaf and re-verifies every proof it makes: slower
NODE_HEAP_MB = 8192  # a 1M-leaf JS tree holds ~2M hex strings and the values

# Keep in step with benchmarks/merkle_js.mjs: the values and proof indices both sides use.
ADDRESS_MULTIPLIER = 0x9E3779B97F4A7C15F39CC0605CEDC8341082276B  # spreads i over the 160-bit space
PROOF_STRIDE = 2_654_435_761


def account(i: int) -> str:
    return f"0x{(i + 1) * ADDRESS_MULTIPLIER % 2**160:040x}"


def amount(i: int) -> int:
    return i


def proof_index(k: int, count: int) -> int:
    return k * PROOF_STRIDE % count


@dataclass(frozen=True)
class Run:
    """One tree built on one side: seconds to build, its root, get_proof calls per second (if asked)."""

    build_s: float
    root: str
    proofs_per_s: float | None


def python_run(count: int, proofs: int = 0) -> Run:
    values = [[account(i), amount(i)] for i in range(count)]
    start = time.perf_counter()
    tree = StandardMerkleTree.of(values, ENCODING)
    build = time.perf_counter() - start
    if not proofs:
        return Run(build, tree.root, None)
    start = time.perf_counter()
    for k in range(proofs):
        tree.get_proof(proof_index(k, count))
    return Run(build, tree.root, proofs / (time.perf_counter() - start))


def js_run(count: int, proofs: int = 0) -> Run:
    node = shutil.which("node")
    if node is None:
        raise ToolchainError("node is not on PATH: `make` installs Node.js and the JS Merkle tree library")
    done = subprocess.run(
        [node, f"--max-old-space-size={NODE_HEAP_MB}", str(JS_BENCH), str(count), str(proofs)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise ToolchainError(f"{JS_BENCH.name} failed (run `npm ci`?): {done.stderr.strip()[-2000:]}")
    result = json.loads(done.stdout)
    return Run(result["build_s"], result["root"], result["proofs_per_s"])


def measure(
    sizes: tuple[int, ...] = SIZES, python_proofs: int = PYTHON_PROOFS, js_proofs: int = JS_PROOFS
) -> dict[str, Any]:
    """Both sides on each size, proofs on the largest; CareChainError if any root differs."""
    build: dict[str, dict[str, float]] = {"python": {}, "js": {}}
    proofs_per_s: dict[str, float | None] = {}
    for count in sizes:
        largest = count == max(sizes)
        ours = python_run(count, python_proofs if largest else 0)
        theirs = js_run(count, js_proofs if largest else 0)
        if ours.root != theirs.root:
            raise CareChainError(f"{count:,} leaves: Python root {ours.root} != JS root {theirs.root}")
        build["python"][str(count)] = round(ours.build_s, 3)
        build["js"][str(count)] = round(theirs.build_s, 3)
        if largest:
            proofs_per_s = {"python": ours.proofs_per_s, "js": theirs.proofs_per_s}
    return {
        "build_s": build,
        "proofs_per_s": {side: round(rate) if rate else None for side, rate in proofs_per_s.items()},
        "roots_match": True,
        "speedup": {size: round(build["js"][size] / build["python"][size], 1) for size in build["python"]},
        "proofs": {"python": python_proofs, "js": js_proofs, "leaves": max(sizes)},
        "encoding": ENCODING,
        "machine": _machine(),
    }


def _machine() -> dict[str, Any]:
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    cpu = next(
        (line.split(":", 1)[1].strip() for line in _cpuinfo() if line.startswith("model name")),
        platform.processor(),
    )
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "node": node}


def _cpuinfo() -> list[str]:
    path = Path("/proc/cpuinfo")
    return path.read_text().splitlines() if path.is_file() else []


def write_results(results: dict[str, Any], path: Path = RESULTS) -> Path:
    return write_json(results, path, sort_keys=False)  # the key order: build_s, then proofs_per_s


def format_table(results: dict[str, Any]) -> str:
    build = results["build_s"]
    lines = [f"{'leaves':>10}{'Python s':>12}{'JS s':>12}{'speedup':>10}"]
    for size, seconds in build["python"].items():
        lines.append(
            f"{int(size):>10,}{seconds:>12.2f}{build['js'][size]:>12.2f}{results['speedup'][size]:>9.1f}x"
        )
    rates = results["proofs_per_s"]
    lines.append(
        f"\nget_proof per second on {results['proofs']['leaves']:,} leaves: "
        f"Python {rates['python']:,}, JS {rates['js']:,}"
    )
    return "\n".join(lines)


def main() -> int:
    return run(measure, format_table, write_results)


if __name__ == "__main__":
    sys.exit(main())
