"""Writes the transcripts and measured tables of README.md and docs/*.md, so none of them is typed.

Each sits between `<!-- transcript:NAME -->` and `<!-- /transcript -->`. NAME is the output of a real run
(`make demo` on a local Anvil, the CLI session of docs/cli-session.sh on a throwaway Anvil), cut to the
lines a page needs, or a table of benchmarks/results/*.json as `make bench` last wrote it.

    python docs/transcripts.py             # run everything, rewrite the blocks (make docs; about a minute)
    python docs/transcripts.py --check     # no chain: every marker known and closed, every `carechain`,
                                           # `make` and `python -m` command and every path resolves
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"(<!-- transcript:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /transcript -->)", re.DOTALL)
OPENING = re.compile(r"<!-- transcript:([\w-]+) -->")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# brownie's `--network` for the demo: `development` (Anvil on 8545) on a fresh clone; DOCS_NETWORK moves it.
NETWORK = os.environ.get("DOCS_NETWORK", "development")
TIMES = "\N{MULTIPLICATION SIGN}"  # as the docs write ratios


@dataclass(frozen=True)
class Cut:
    """Lines of a run's output from the first starting with `start` up to (not including) `stop`."""

    run: str
    start: str | None = None
    stop: str | None = None


def demo() -> str:
    """`make demo`'s story, without brownie's banner; temporary folders named as such."""
    out = _run(
        [
            sys.executable,
            "-m",
            "carechain.dev.guard",
            "brownie",
            "run",
            "scripts/demo.py",
            "--network",
            NETWORK,
        ]
    )
    lines = out.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("== "))
    last = next(i for i, line in enumerate(lines) if line.startswith("Done:"))
    text = "\n".join(line for line in lines[first : last + 1] if line.strip())
    return re.sub(r"/tmp/[\w.-]+", "/tmp/…", text)


def cli_session() -> str:
    """docs/cli-session.sh on its own Anvil; the progress bar's empty line dropped."""
    out = _run(["bash", str(ROOT / "docs" / "cli-session.sh")])
    return "\n".join(line for line in out.splitlines() if line.strip())


RUNS: dict[str, Callable[[], str]] = {"demo": demo, "cli-session": cli_session}


def _run(command: list[str]) -> str:
    env = {**os.environ, "COLUMNS": "118", "NO_COLOR": "1", "CARECHAIN_ROOT": str(ROOT)}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return ANSI.sub("", done.stdout)


def _results(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((ROOT / "benchmarks" / "results" / f"{name}.json").read_text())  # type: ignore[no-any-return]


def gas_table() -> str:
    """benchmarks/results/gas.json: CareChain's operations beside the EAS reference of the same run."""
    gas = _results("gas")
    # The EAS operation each ratio is taken against: make bench's own table.
    sys.path.insert(0, str(ROOT))
    from benchmarks.gas import PRIVATE, REFERENCES

    rows = ["| operation | gas | EAS reference (same run) | ratio |", "|---|---:|---|---:|"]
    for op, used in gas.items():
        if op.startswith("eas.") or op == PRIVATE:
            continue
        ref = REFERENCES.get(op)
        eas = f"`{ref}` {gas[ref]:,}" if ref else ""
        ratio = f"{used / gas[ref]:.2f}{TIMES}" if ref else ""
        rows.append(f"| `{op}` | {used:,} | {eas} | {ratio} |")
    return "\n".join(rows)


def private_gas_table() -> str:
    """gas.json's private_grants: ConsentGrants beside ERC-8356's printed layout and EAS, ceilings."""
    sys.path.insert(0, str(ROOT))
    from benchmarks.gas import EAS_SIGNED, PRIVATE

    section = _results("gas")[PRIVATE]
    eas = section["eas"][EAS_SIGNED]
    rows = [
        f"| operation | CareChain | reference | ÷ reference | ÷ `{EAS_SIGNED}` {eas:,} | issue 16 |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for op, row in section["operations"].items():
        vs_eas = f"{row['carechain_over_eas']:.2f}{TIMES}" if "carechain_over_eas" in row else ""
        verdict = "met" if row.get("ceiling_met") else "**missed**"
        bound = f"≤ {row['ceiling']:,}: {verdict}" if "ceiling" in row else ""
        reference = f"{row['reference']:,}" if "reference" in row else "-"
        ratio = f"{row['carechain_over_reference']:.2f}{TIMES}" if "reference" in row else ""
        rows.append(f"| `{op}` | {row['carechain']:,} | {reference} | {ratio} | {vs_eas} | {bound} |")
    return "\n".join(rows)


def merkle_table() -> str:
    """benchmarks/results/merkle.json: build and proof speed beside @openzeppelin/merkle-tree."""
    m = _results("merkle")
    py, js = m["build_s"]["python"], m["build_s"]["js"]
    node = m["machine"]["node"]
    rows = [
        f"| | `carechain.offchain.merkle` | `@openzeppelin/merkle-tree` (node {node}) | speedup |",
        "|---|---:|---:|---:|",
    ]
    for leaves in py:
        speedup = m["speedup"][leaves]
        rows.append(f"| build, {int(leaves):,} leaves | {py[leaves]} s | {js[leaves]} s | {speedup}{TIMES} |")
    p, j = m["proofs_per_s"]["python"], m["proofs_per_s"]["js"]
    rows.append(
        f"| `get_proof`, {m['proofs']['leaves']:,}-leaf tree | {p:,} /s | {j:,} /s | {p / j:.0f}{TIMES} |"
    )
    machine = m["machine"]
    rows.append(
        f"\nRoots equal: {m['roots_match']}. Machine: {machine['cores']}-core {machine['cpu']}, "
        f"Python {machine['python']}."
    )
    return "\n".join(rows)


def indexer_table() -> str:
    """benchmarks/results/indexer.json: Indexer.sync() of every event into a fresh database."""
    ix = _results("indexer")
    rows = ["| database | events/s (median of runs) | runs | wall s | CPU s |", "|---|---:|---|---:|---:|"]
    for db in ("sqlite", "postgres"):
        r = ix[db]
        runs = ", ".join(f"{v:,}" for v in r["runs_events_per_s"])
        rows.append(f"| {db} | {r['events_per_s']:,} | {runs} | {r['seconds']} | {r['cpu_seconds']} |")
    target = ix["target_sqlite"]
    rows.append(
        f"\n{ix['node_events']:,} events in {ix['blocks']} blocks; SQLite target {target:,} events/s."
    )
    return "\n".join(rows)


def onboarding_table() -> str:
    """benchmarks/results/onboarding.json: one `consent import` of a 10,000-patient cohort."""
    o = _results("onboarding")
    return "\n".join(
        [
            "| patients | signing | import | consents/s | transactions | gas a consent | re-run |",
            "|---:|---:|---:|---:|---:|---:|---:|",
            f"| {o['patients']:,} | {o['sign_s']} s | {o['import_s']} s | {o['consents_per_s']:,} | "
            f"{o['transactions']} of up to {o['batch_size']} | {o['gas_per_consent']:,} | {o['rerun_s']} s |",
        ]
    )


def gateway_table() -> str:
    """benchmarks/results/gateway.json: reads through a real gateway, per chain and log mode."""
    g = _results("gateway")
    rows = [
        "| chain | mode | reads | reads/s | read p50 ms | read p95 ms | log p50 ms | log p95 ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in g["runs"]:
        chain = "mines at once" if r["block_time_s"] == 0 else f"{r['block_time_s']} s blocks"
        if r["mode"] == "tx":
            n = r["confirmations"]
            mode = f"tx, {n} confirmation{'' if n == 1 else 's'}"
        else:
            mode = f"receipts, every {r['batch_interval_s']:g} s ({r['batches']} batches)"
        lat, log = r["latency_ms"], r["log_latency_ms"]
        rows.append(
            f"| {chain} | {mode} | {r['reads']} | {r['reads_per_s']} | {lat['p50']:,} | {lat['p95']:,} | "
            f"{log['p50']:,} | {log['p95']:,} |"
        )
    rows.append(f"\n{g['concurrency']} clients at once.")
    return "\n".join(rows)


TABLES: dict[str, Callable[[], str]] = {
    "gas-table": gas_table,
    "private-gas-table": private_gas_table,
    "merkle-table": merkle_table,
    "indexer-table": indexer_table,
    "onboarding-table": onboarding_table,
    "gateway-table": gateway_table,
}

TRANSCRIPTS: dict[str, Cut] = {
    "demo-consent": Cut("demo", start="== Alice grants", stop="== The health authority"),
    "demo-access": Cut("demo", start="== The health authority", stop="== St Mary's runs its record gateway"),
    "demo-gateway": Cut("demo", start="== St Mary's runs its record gateway", stop="== Novara Pharma"),
    "demo-trial": Cut("demo", start="== Novara Pharma"),
    "cli-session": Cut("cli-session"),
    "cli-index-audit": Cut("cli-session", start="$ carechain index", stop="$ carechain consent grant 0x12"),
    "cli-import": Cut("cli-session", start="$ carechain consent sign"),
}


def cut(text: str, spec: Cut) -> str:
    lines = text.splitlines()
    begin = 0
    if spec.start is not None:
        begin = next(i for i, line in enumerate(lines) if line.startswith(spec.start))
    end = len(lines)
    if spec.stop is not None:
        end = next(i for i, line in enumerate(lines) if i > begin and line.startswith(spec.stop))
    return "\n".join(lines[begin:end])


def render(name: str, outputs: dict[str, str]) -> str:
    if name in TABLES:
        return TABLES[name]() + "\n"
    spec = TRANSCRIPTS[name]
    if spec.run not in outputs:
        outputs[spec.run] = RUNS[spec.run]()
    return f"```text\n{cut(outputs[spec.run], spec)}\n```\n"


def write() -> None:
    outputs: dict[str, str] = {}
    for page in PAGES:
        text = page.read_text()
        new = BLOCK.sub(lambda m: m.group(1) + render(m.group("name"), outputs) + m.group(4), text)
        if new != text:
            page.write_text(new)
            print(f"rewrote {page.relative_to(ROOT)}")


def shell_lines(text: str) -> Iterator[str]:
    """The command lines of the ```sh blocks, continuation lines joined."""
    for block in re.findall(r"```sh\n(.*?)```", text, re.DOTALL):
        yield from block.replace("\\\n", " ").splitlines()


def commands(line: str) -> Iterator[list[str]]:
    """Each command of a shell line (split at &&, ;, |, &), without its comment and env assignments."""
    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        return
    current: list[str] = []
    for word in [*words, "&&"]:
        if word in {"&&", ";", "|", "&", "||"}:
            while current and re.match(r"^[A-Z_]+=", current[0]):
                current.pop(0)
            if current:
                yield current
            current = []
        else:
            current.append(word)


def check() -> list[str]:
    import click

    from carechain.cli import cli

    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.MULTILINE))
    problems = []
    for page in PAGES:
        text = page.read_text()
        where = page.relative_to(ROOT)
        names = OPENING.findall(text)
        closed = [m.group("name") for m in BLOCK.finditer(text)]
        for name in names:
            if name not in TABLES and name not in TRANSCRIPTS:
                problems.append(f"{where}: unknown transcript {name!r}")
        if names != closed:
            problems.append(f"{where}: a transcript marker is not closed")
        for path in re.findall(
            r"`((?:src|tests|contracts|scripts|benchmarks|docs|web|\.ci)/[\w./-]+)`", text
        ):
            if not (ROOT / path).exists():
                problems.append(f"{where}: `{path}`: no such file")
        for dotted in re.findall(r"`(carechain(?:\.\w+)+)", text):
            if not _resolves(dotted):
                problems.append(f"{where}: `{dotted}`: no such module or name")
        for target in re.findall(r"`make ([\w-]+)", text):
            if target not in targets:
                problems.append(f"{where}: `make {target}`: no such target")
        for module in re.findall(r"`python -m ([\w.]+)", text):
            if not _module_exists(module):
                problems.append(f"{where}: `python -m {module}`: no such module")
        for line in shell_lines(text):
            for words in commands(line):
                if words[0] == "carechain":
                    try:
                        with click.Context(cli) as ctx:
                            _parse(cli, words[1:], ctx)
                    except click.UsageError as err:
                        problems.append(f"{where}: `{' '.join(words)}`: {err.format_message()}")
                elif words[0] == "make":
                    for target in (w for w in words[1:] if "=" not in w and not w.startswith("-")):
                        if target not in targets:
                            problems.append(f"{where}: `make {target}`: no such target")
                elif words[:2] == ["python", "-m"] and not _module_exists(words[2]):
                    problems.append(f"{where}: `python -m {words[2]}`: no such module")
    return problems


def _parse(command: object, args: list[str], parent: object) -> None:
    """Parse like click does, down to the leaf command; a wrong command, option or argument count raises."""
    import click

    from carechain.errors import CareChainError

    assert isinstance(command, click.Command) and isinstance(parent, click.Context)
    if isinstance(command, click.Group):
        ctx = command.make_context(command.name, list(args), parent=parent)
        rest = [*ctx._protected_args, *ctx.args]
        if rest:
            _, sub, tail = command.resolve_command(ctx, rest)
            _parse(sub, tail, ctx)
        return
    try:
        command.make_context(command.name, list(args), parent=parent)
    except click.MissingParameter:
        raise
    except (click.BadParameter, CareChainError):
        pass  # placeholders (0xGP, files that exist only in the story) are not the docs' concern


def _resolves(dotted: str) -> bool:
    """carechain.a.b.name: the longest importable module, then attributes."""
    import importlib

    parts = dotted.split(".")
    for cut_at in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut_at]))
        except ImportError:
            continue
        for name in parts[cut_at:]:
            if not hasattr(found, name):
                return False
            found = getattr(found, name)
        return True
    return False


def _module_exists(name: str) -> bool:
    import importlib.util

    sys.path.insert(0, str(ROOT))
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="check markers and commands; run nothing")
    if parser.parse_args().check:
        problems = check()
        print("\n".join(problems) or "docs: markers and commands check out")
        raise SystemExit(1 if problems else 0)
    write()


if __name__ == "__main__":
    main()
