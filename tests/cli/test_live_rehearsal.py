"""A "live" network rehearsed locally: a separate Anvil with a block time and a testnet chain id.

`carechain deploy` signs with PRIVATE_KEY (as on a testnet), waits for blocks, deploys nothing
the second time, redeploys after the node is reset, and says so clearly when the node is down. A
testnet's registrars are appointed through a timelock: without CARECHAIN_ADMIN the deploy is refused.
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
MULTISIG = (
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # Anvil's second account plays the operator's multisig
)


@pytest.fixture
def node() -> Iterator[LocalNode]:
    """An Anvil that mines a block every second, started and stopped by the test."""
    with local_node(chain_id=CHAIN_ID, block_time=1) as live:
        yield live


@pytest.fixture
def root(tmp_path):
    (tmp_path / "build").symlink_to(REPO / "build")
    (tmp_path / ".env").write_text(  # read from .env, as a user would
        f"PRIVATE_KEY={ANVIL_DEV_KEY}\nCARECHAIN_ADMIN={MULTISIG}\nCARECHAIN_TIMELOCK_DELAY=3600\n"
    )
    return tmp_path


def _deploy(root: Path, url: str):
    return CliRunner().invoke(
        cli,
        ["--rpc-url", url, "--root", str(root), "--json", "deploy"],
        env={
            "PRIVATE_KEY": None,
            "KEYSTORE": None,
            "CARECHAIN_ADMIN": None,
            "CARECHAIN_TIMELOCK_DELAY": None,
        },
    )


def test_deploy_refuses_to_leave_the_deployer_as_admin(node, root):
    """Finding A.6 on a node whose chain id is Sepolia's: no multisig named, nothing sent, one line."""
    (root / ".env").write_text(f"PRIVATE_KEY={ANVIL_DEV_KEY}\n")
    refused = _deploy(root, node.url)
    assert refused.exit_code == 1
    assert refused.output.startswith("error: chain 11155111 is not a local chain: the deployer 0xf39F")
    assert "CARECHAIN_ADMIN=<multisig address>" in refused.output
    assert len(refused.output.strip().splitlines()) == 1
    assert not (root / "deployments").exists()


def test_deploy_waits_for_blocks_reuses_and_survives_a_reset(node, root):
    first = _deploy(root, node.url)
    assert first.exit_code == 0, first.output
    manifest_path = root / "deployments" / f"{CHAIN_ID}.json"
    address = json.loads(manifest_path.read_text())["contracts"]["ConsentRegistry"]["address"]
    assert json.loads(first.stdout)["chainId"] == CHAIN_ID
    governance = json.loads(first.stdout)["governance"]
    assert governance["multisig"] == MULTISIG and governance["timelockDelay"] == 3600
    assert governance["credentialAdmin"] == governance["timelock"]
    assert governance["credentialAdminDelay"] == 2 * 24 * 3600
    assert f"warning: the admin {MULTISIG} has no contract code" in first.stderr  # a key, not a Safe

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
