"""README.md and docs/ against the code: `docs/transcripts.py --check` resolves every transcript marker,
`carechain`/`make`/`python -m` command, repository path and module name the pages give."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_documented_command_path_and_module_resolves() -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "transcripts.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "markers and commands check out" in run.stdout


def test_the_readme_stays_a_ten_minute_read() -> None:
    assert len((ROOT / "README.md").read_text().splitlines()) <= 350
