"""docs/conformance.md cites a test for each ERC-8356 rule: every cited test must exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "docs" / "conformance.md"
CITED = re.compile(r"`(?:[\w/.]+::)?((?:test|invariant)_\w+\*?)`")


DEFINED = re.compile(r"\bfunction ((?:test|invariant)_\w+)|\bdef (test_\w+)")


def _defined_tests() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "tests").rglob("*"):
        if path.suffix in (".py", ".sol"):
            names.update(a or b for a, b in DEFINED.findall(path.read_text()))
    return names


def test_every_cited_test_exists() -> None:
    cited = set(CITED.findall(TABLE.read_text()))
    assert len(cited) > 30, "the table cites its tests"
    defined = _defined_tests()
    missing = sorted(
        name
        for name in cited
        if not (name.endswith("*") and any(d.startswith(name[:-1]) for d in defined)) and name not in defined
    )
    assert not missing, f"docs/conformance.md cites tests that do not exist: {missing}"
