"""Benchmarks run by `make bench`; results in benchmarks/results/. What every bench shares is here."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from carechain import CareChainError

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T", bound=dict[str, Any])


def write_json(data: dict[str, Any], path: Path, sort_keys: bool = True) -> Path:
    """A results file: indented JSON with a trailing newline, its folder made if missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, sort_keys=sort_keys, indent=2) + "\n")
    return path


def run(measure: Callable[[], T], report: Callable[[T], str], write: Callable[[T], Path]) -> int:
    """A bench's main: measure, print the report, write the results; a CareChainError is one line, exit 1."""
    try:
        results = measure()
    except CareChainError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(report(results))
    print(f"\nwrote {write(results).relative_to(ROOT)}")
    return 0
