"""A local Anvil this process starts on a free port and stops afterwards, also when something fails.

The live rehearsal test and the gas bench each need a node of their own, beside brownie's.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from carechain.errors import ToolchainError


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def find_anvil(root: Path | None = None) -> str:
    """Foundry's real anvil binary: `<root>/.tools/bin/anvil` when provisioned, else `anvil` on PATH."""
    if root is not None and (root / ".tools" / "bin" / "anvil").is_file():
        return str(root / ".tools" / "bin" / "anvil")
    found = shutil.which("anvil")
    if not found:
        raise ToolchainError("anvil not found: run `make setup` (it installs npm @foundry-rs/anvil)")
    return found


class LocalNode:
    """One Anvil on one port; `stop()` then `start()` gives a fresh chain on the same URL."""

    def __init__(
        self,
        anvil: str | None = None,
        *,
        chain_id: int | None = None,
        block_time: int | None = None,
        gas_limit: int | None = None,
        port: int | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        self.anvil = anvil or find_anvil()
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = ["--port", str(self.port)]
        for flag, value in (
            ("--chain-id", chain_id),
            ("--block-time", block_time),
            ("--gas-limit", gas_limit),
        ):
            if value is not None:
                self.args += [flag, str(value)]
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the node and wait until it accepts connections."""
        self.process = subprocess.Popen(
            [self.anvil, *self.args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                self.process = None
                raise ToolchainError(f"anvil exited with code {code} on start ({' '.join(self.args)})")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        self.stop()
        raise ToolchainError(
            f"anvil did not accept connections on port {self.port} within {self.startup_timeout:.0f}s"
        )

    def stop(self) -> None:
        """Stop the node (killed if it does not exit within ten seconds); a no-op when stopped."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@contextmanager
def local_node(
    anvil: str | None = None,
    *,
    chain_id: int | None = None,
    block_time: int | None = None,
    gas_limit: int | None = None,
    port: int | None = None,
) -> Iterator[LocalNode]:
    """A started LocalNode (on `port`, else a free one), stopped when the block exits, however it exits."""
    node = LocalNode(anvil, chain_id=chain_id, block_time=block_time, gas_limit=gas_limit, port=port)
    node.start()
    try:
        yield node
    finally:
        node.stop()
