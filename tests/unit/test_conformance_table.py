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


def test_no_per_access_event() -> None:
    """ERC-8356: no per-access event. ConsentGrants' reads are views, and its events are the standard's six
    (each a change of authorisation state) and CareChain's five, none of them emitted by a read."""
    import json

    abi = json.loads((ROOT / "abi" / "ConsentGrants.json").read_text())
    reads = {"checkAccess", "isGrantActive", "effectiveStatus", "subjectOf", "nonces", "getGrant"}
    functions = [e for e in abi if e["type"] == "function" and e["name"] in reads]
    mutability = {e["name"]: e["stateMutability"] for e in functions}
    assert mutability == dict.fromkeys(reads, "view")
    events = {e["name"] for e in abi if e["type"] == "event"}
    assert events - {"RoleAdminChanged", "RoleGranted", "RoleRevoked", "EIP712DomainChanged"} == {
        "ConsentGranted", "ConsentSubGranted", "ConsentRevoked", "AgentRevoked", "ScopeLeafRevoked",
        "UsageCommitted", "GrantFailed", "NonceBurned", "ConsentResumed", "AgentOperatorSet", "RefsInterned",
    }
