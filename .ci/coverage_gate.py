"""Fail unless forge's contract coverage (an lcov file) reaches the floors, and print it per contract.

`make test` runs the forge suite once, under `forge coverage`, and this reads what it wrote.
"""

from __future__ import annotations

import sys
from pathlib import Path

FLOORS = {"lines": 95.0, "branches": 95.0}  # issue 10: contracts at least 95% of lines and branches


def read(path: Path) -> dict[str, dict[str, int]]:
    """Per source file: lines and branches found (LF, BRF) and hit (LH, BRH)."""
    files: dict[str, dict[str, int]] = {}
    current: dict[str, int] = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition(":")
        if key == "SF":
            current = files.setdefault(value, {"LF": 0, "LH": 0, "BRF": 0, "BRH": 0})
        elif key in ("LF", "LH", "BRF", "BRH"):
            current[key] += int(value)
    return files


def percent(hit: int, found: int) -> float:
    return 100.0 if found == 0 else 100.0 * hit / found


def main(path: str) -> int:
    files = read(Path(path))
    if not files:
        print(f"coverage: no data in {path}", file=sys.stderr)
        return 1
    totals = {key: sum(f[key] for f in files.values()) for key in ("LF", "LH", "BRF", "BRH")}
    for name, f in sorted({**files, "total": totals}.items()):
        print(
            f"{name:40} lines {percent(f['LH'], f['LF']):6.2f}% ({f['LH']}/{f['LF']})  "
            f"branches {percent(f['BRH'], f['BRF']):6.2f}% ({f['BRH']}/{f['BRF']})"
        )
    measured = {
        "lines": percent(totals["LH"], totals["LF"]),
        "branches": percent(totals["BRH"], totals["BRF"]),
    }
    short = [
        f"{kind} {measured[kind]:.2f}% < {floor}%" for kind, floor in FLOORS.items() if measured[kind] < floor
    ]
    if short:
        print("coverage below the floor: " + "; ".join(short), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build/coverage/lcov.info"))
