"""Runs `make test`'s phases in order and prints how long each took at the end, also when one fails.

Usage: python3 .ci/phases.py TARGET...  Each target is a `make` run of its own; the first that fails stops
the rest, as make would, and the exit status is its. Standard library only: it runs before the venv exists.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time


def clock(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m {rest:02d}s" if minutes else f"{rest}s"


def main(targets: list[str]) -> int:
    make = os.environ.get("MAKE", "make")
    ran: list[tuple[str, float, str]] = []
    status = 0
    try:
        for target in targets:
            start = time.monotonic()
            try:
                status = subprocess.call([make, "--no-print-directory", target])
            except KeyboardInterrupt:
                ran.append((target, time.monotonic() - start, "interrupted"))
                status = 130
                break
            ran.append((target, time.monotonic() - start, "ok" if status == 0 else f"FAILED ({status})"))
            if status:
                break
    finally:
        width = max(len(target) for target in [*targets, "total"])
        print(f"\nmake test phases\n  {'phase':<{width}}  {'time':>8}  result")
        for target, seconds, result in ran:
            print(f"  {target:<{width}}  {clock(seconds):>8}  {result}")
        for target in targets[len(ran):]:
            print(f"  {target:<{width}}  {'':>8}  not run")
        total = sum(seconds for _, seconds, _ in ran)
        print(f"  {'total':<{width}}  {clock(total):>8}", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
