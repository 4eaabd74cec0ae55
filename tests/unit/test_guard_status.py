"""carechain.dev.guard passes the exit status of the command it runs on (the chain side: tests/toolchain)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time


def test_exit_status_of_the_command_is_passed_on():
    assert subprocess.run([sys.executable, "-m", "carechain.dev.guard", "sh", "-c", "exit 7"]).returncode == 7
    assert subprocess.run([sys.executable, "-m", "carechain.dev.guard", "true"]).returncode == 0


def test_sigint_is_passed_on_and_the_guard_ends_with_its_command():
    """C.17: the guard sat out its whole 10 s grace after every Ctrl-C, however fast the command stopped
    (twice for `make gateway`: 20 s), then killed what was still cleaning up."""
    command = "trap 'exit 5' INT; echo ready; sleep 30 & wait"
    guard = subprocess.Popen(
        [sys.executable, "-m", "carechain.dev.guard", "sh", "-c", command], stdout=subprocess.PIPE, text=True
    )
    assert guard.stdout is not None and guard.stdout.readline() == "ready\n"
    time.sleep(0.5)  # the guard set its handlers as it started the command
    sent = time.monotonic()
    guard.send_signal(signal.SIGINT)
    assert guard.wait(timeout=20) == 5
    assert time.monotonic() - sent < 3


def test_a_command_can_trap_sigint_when_the_guard_was_started_with_it_ignored():
    """A shell's background job starts with SIGINT ignored; the guard's command must not inherit that, or a
    shell command could not trap the Ctrl-C the guard forwards (seen when `.ci/run` was started with `&`)."""
    command = "trap 'exit 5' INT; echo ready; sleep 30 & wait"
    guard = subprocess.Popen(
        [sys.executable, "-m", "carechain.dev.guard", "sh", "-c", command],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # as `cmd &` in a script does
    )
    assert guard.stdout is not None and guard.stdout.readline() == "ready\n"
    time.sleep(0.5)
    guard.send_signal(signal.SIGINT)
    assert guard.wait(timeout=20) == 5
