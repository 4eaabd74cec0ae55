"""`python -m carechain.dev.guard CMD...`: run CMD so that the chains it starts never outlive it.

brownie stops the Anvil or Ganache it launched when it exits normally or on Ctrl-C, but a SIGTERM
(a CI timeout, `kill`) ends it before its clean-up runs and leaves the node running. The guard runs
CMD in a process group of its own, passes SIGTERM/SIGHUP/SIGINT on as SIGINT (which brownie turns
into a clean stop), and when CMD is gone it ends whatever is left in that group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from types import FrameType


def _grace_seconds() -> float:
    """How long CMD gets to stop cleanly after SIGINT before its group is killed ($CARECHAIN_GUARD_GRACE)."""
    return float(os.environ.get("CARECHAIN_GUARD_GRACE", "10"))


def _end_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def run(command: list[str]) -> int:
    """Run `command` in its own process group; return its exit status (128+signal if killed)."""
    deadline: list[threading.Timer] = []
    started: list[subprocess.Popen[bytes]] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        # The main thread's child.wait() sees CMD exit; a wait in here could not reap it (the main
        # thread holds the wait lock) and always sat out the whole grace.
        if not started:
            return
        _end_group(started[0].pid, signal.SIGINT)
        if not deadline:
            deadline.append(threading.Timer(_grace_seconds(), _end_group, (started[0].pid, signal.SIGKILL)))
            deadline[0].daemon = True
            deadline[0].start()

    # Handlers first: CMD then starts with SIGINT at its default (a caught signal is reset by exec), even
    # when the guard itself was started in the background of a shell, which ignores SIGINT for it; an
    # ignored SIGINT would be inherited, and a shell CMD can then not trap it.
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, forward)
    child = subprocess.Popen(command, start_new_session=True)
    started.append(child)
    status = child.wait()
    for timer in deadline:
        timer.cancel()
    _end_group(child.pid, signal.SIGTERM)  # a node CMD started and did not stop
    return status if status >= 0 else 128 - status


def main() -> int:
    if len(sys.argv) < 2:
        print("usage: python -m carechain.dev.guard COMMAND [ARGS...]", file=sys.stderr)
        return 2
    return run(sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
