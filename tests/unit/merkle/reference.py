"""The tests' reference: @openzeppelin/merkle-tree itself, run through tests/unit/merkle/js_tree.mjs.

One node process answers a whole batch of operations, so a test sends all its trees at once.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HELPER = Path(__file__).with_name("js_tree.mjs")


def js(*ops: dict[str, Any]) -> list[dict[str, Any]]:
    """The JS library's answer to each op (see js_tree.mjs); an op that throws gives {error, name}."""
    node = shutil.which("node")
    assert node, "node is not on PATH: `make` installs Node.js"
    done = subprocess.run(
        [node, str(HELPER)], input=json.dumps({"ops": list(ops)}), capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    results: list[dict[str, Any]] = json.loads(done.stdout)["results"]
    assert len(results) == len(ops)
    return results


def as_json(value: Any) -> Any:
    """A value as a JS user writes it in JSON: ints as decimal strings, bytes as 0x-hex, tuples as lists."""
    if isinstance(value, bool | str | dict):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return [as_json(item) for item in value]
