"""A "live" network rehearsed locally: a separate Anvil with a block time and a testnet chain id.

`carechain deploy` signs with PRIVATE_KEY (as on a testnet), waits for blocks, deploys nothing
the second time, redeploys after the node is reset, and says so clearly when the node is down.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from carechain.cli import cli

REPO = Path(__file__).parents[2]
CHAIN_ID = 11155111  # Sepolia's id: a public network, so its manifest is one that would be committed
ANVIL_DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # Anvil's first dev key


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveNode:
    """An Anvil that mines a block every second, started and stopped by the test."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        anvil = shutil.which("anvil")
        assert anvil, "anvil (npm @foundry-rs/anvil) must be on PATH"
        self.process = subprocess.Popen(
            [anvil, "--port", str(self.port), "--chain-id", str(CHAIN_ID), "--block-time", "1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError("anvil did not start")

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def node() -> Iterator[LiveNode]:
    live = LiveNode()
    live.start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
def root(tmp_path):
    (tmp_path / "build").symlink_to(REPO / "build")
    (tmp_path / ".env").write_text(f"PRIVATE_KEY={ANVIL_DEV_KEY}\n")  # read from .env, as a user would
    return tmp_path


def _deploy(root: Path, url: str):
    return CliRunner().invoke(
        cli,
        ["--rpc-url", url, "--root", str(root), "--json", "deploy"],
        env={"PRIVATE_KEY": None, "KEYSTORE": None},
    )


def test_deploy_waits_for_blocks_reuses_and_survives_a_reset(node, root):
    first = _deploy(root, node.url)
    assert first.exit_code == 0, first.output
    manifest_path = root / "deployments" / f"{CHAIN_ID}.json"
    address = json.loads(manifest_path.read_text())["contracts"]["ConsentRegistry"]["address"]
    assert json.loads(first.stdout)["chainId"] == CHAIN_ID

    again = _deploy(root, node.url)
    assert again.exit_code == 0, again.output
    assert json.loads(manifest_path.read_text())["contracts"]["ConsentRegistry"]["address"] == address

    node.stop()
    down = _deploy(root, node.url)
    assert down.exit_code == 1
    assert down.output.strip().startswith("error: no Ethereum node answers at")

    node.start()  # a fresh chain with the same id: the manifest's contract is gone
    redeployed = _deploy(root, node.url)
    assert redeployed.exit_code == 0, redeployed.output
    entry = json.loads(manifest_path.read_text())["contracts"]["ConsentRegistry"]
    assert entry["block"] >= 1
    assert ANVIL_DEV_KEY[2:] not in manifest_path.read_text()
