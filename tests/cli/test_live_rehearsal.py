"""A "live" network rehearsed locally: a separate Anvil with a block time and a testnet chain id.

`carechain deploy` signs with PRIVATE_KEY (as on a testnet), waits for blocks, deploys nothing
the second time, redeploys after the node is reset, and says so clearly when the node is down.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from carechain.cli import cli
from carechain.dev.localnode import LocalNode, local_node

REPO = Path(__file__).parents[2]
CHAIN_ID = 11155111  # Sepolia's id: a public network, so its manifest is one that would be committed
ANVIL_DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # Anvil's first dev key


@pytest.fixture
def node() -> Iterator[LocalNode]:
    """An Anvil that mines a block every second, started and stopped by the test."""
    with local_node(chain_id=CHAIN_ID, block_time=1) as live:
        yield live


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
