"""carechain.dev.guard passes the exit status of the command it runs on (the chain side: tests/toolchain)."""

from __future__ import annotations

import subprocess
import sys


def test_exit_status_of_the_command_is_passed_on():
    assert subprocess.run([sys.executable, "-m", "carechain.dev.guard", "sh", "-c", "exit 7"]).returncode == 7
    assert subprocess.run([sys.executable, "-m", "carechain.dev.guard", "true"]).returncode == 0
