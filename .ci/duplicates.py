"""Repeated code in src/: pylint's duplicate-code check, printed, failing only on blocks not allowed.

`make duplicates` (and so `make lint`) runs it. The settings are pinned here and pylint in pyproject's dev
extra, so every machine gets the same report: blocks of at least 6 similar lines, imports, docstrings and
comments ignored. A block between modules listed in .ci/duplicates-allowed.txt passes (each entry says why
the repetition stays); any other fails. An entry no block needs any more is reported, to be removed.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = ROOT / ".ci" / "duplicates-allowed.txt"
PYLINT = [
    "--disable=all",
    "--enable=duplicate-code",
    "--min-similarity-lines=6",
    "--ignore-imports=y",
    "--ignore-docstrings=y",
    "--ignore-comments=y",
    "--persistent=n",  # no score history in ~/.cache: the same report on every run
    "--score=n",
    "--output-format=json2",
]
_PLACE = re.compile(r"^==(?P<module>[\w.]+):\[(?P<start>\d+):(?P<end>\d+)\]$")


@dataclass(frozen=True)
class Block:
    """One repeated block: where it stands in each module, and its text."""

    places: tuple[tuple[str, int, int], ...]  # (module, first line, line after the last), by module
    text: str

    @property
    def modules(self) -> tuple[str, ...]:
        return tuple(sorted({module for module, _, _ in self.places}))


def find_blocks(target: Path) -> list[Block]:
    """Runs pylint over `target` and reads its duplicate-code messages."""
    done = subprocess.run(
        [sys.executable, "-m", "pylint", *PYLINT, str(target)], capture_output=True, text=True, cwd=ROOT
    )
    if not done.stdout.strip():  # pylint itself failed (a usage error, a crash): nothing to read
        raise SystemExit(f"pylint gave no report (exit {done.returncode}):\n{done.stderr}")
    blocks = []
    for message in json.loads(done.stdout)["messages"]:
        if message["symbol"] != "duplicate-code":
            continue
        places, text = [], []
        for line in message["message"].splitlines()[1:]:  # the first line: "Similar lines in N files"
            if match := _PLACE.match(line):
                places.append((match["module"], int(match["start"]), int(match["end"])))
            else:
                text.append(line)
        blocks.append(Block(tuple(sorted(places)), "\n".join(text)))
    return blocks


def read_allowed(path: Path) -> Counter[tuple[str, ...]]:
    """How many blocks each set of modules may repeat: one line per block, `module module ...  reason`."""
    allowed: Counter[tuple[str, ...]] = Counter()
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        modules, _, reason = line.partition("  ")
        if not reason.strip() or len(modules.split()) < 2:
            raise SystemExit(f"{path.name}:{number}: write `module module  reason` (two spaces before why)")
        allowed[tuple(sorted(modules.split()))] += 1
    return allowed


def main() -> int:
    blocks = find_blocks(ROOT / "src" / "carechain")
    allowed = read_allowed(ALLOWED)
    found = Counter(block.modules for block in blocks)
    for block in blocks:
        where = ", ".join(f"{module}:{start + 1}-{end}" for module, start, end in block.places)
        verdict = "allowed" if found[block.modules] <= allowed[block.modules] else "NEW"
        print(f"{verdict}: {where}\n{block.text}\n")
    new = {modules for modules in found if found[modules] > allowed[modules]}
    gone = {modules for modules in allowed if found[modules] < allowed[modules]}
    for modules in sorted(gone):
        print(f"note: {' '.join(modules)} repeats {found[modules]} block(s), {ALLOWED.name} allows "
              f"{allowed[modules]}: remove the entries no block needs")
    print(f"{len(blocks)} repeated block(s) of 6+ lines in src/, {sum(allowed.values())} allowed, "
          f"{sum(found[m] - allowed[m] for m in new)} new")
    if new:
        print(f"Remove the repetition, or add a line to {ALLOWED.relative_to(ROOT)} saying why it stays.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
