"""carechain.dev.guard: a chain started under the guard never outlives it, however the guard is stopped.

(That the command's exit status is passed on needs no chain: tests/unit/test_guard_status.py.)"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from carechain.dev.localnode import find_anvil, free_port


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait_for(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def _guarded_shell_starting_anvil(port: int) -> subprocess.Popen[bytes]:
    """A stand-in for brownie: a shell that starts a node in the background and keeps running."""
    script = f"'{find_anvil()}' --port {port} >/dev/null 2>&1 & sleep 600"
    # The stand-in ignores the forwarded SIGINT, so this also covers the kill after the grace period.
    env = {**os.environ, "CARECHAIN_GUARD_GRACE": "1"}
    return subprocess.Popen([sys.executable, "-m", "carechain.dev.guard", "sh", "-c", script], env=env)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_stopping_the_guard_stops_the_node(sig):
    port = free_port()
    guard = _guarded_shell_starting_anvil(port)
    try:
        assert _wait_for(lambda: _listening(port)), "anvil did not start"
        guard.send_signal(sig)
        assert guard.wait(timeout=30) != 0
        assert _wait_for(lambda: not _listening(port)), "the node outlived the guard"
    finally:
        guard.kill()


def test_a_node_left_behind_by_a_finished_command_is_ended():
    port = free_port()
    script = f"'{find_anvil()}' --port {port} >/dev/null 2>&1 & sleep 2"  # exits, leaving anvil behind
    assert (
        subprocess.run(
            [sys.executable, "-m", "carechain.dev.guard", "sh", "-c", script], timeout=60
        ).returncode
        == 0
    )
    assert _wait_for(lambda: not _listening(port)), "the orphaned node was left running"
