"""A manifest whose chain id differs from the node's is refused, clearly, and nothing is written or sent."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from web3 import Web3

from carechain.cli import cli
from carechain.clients import ConsentClient
from carechain.core.deployments import deploy
from carechain.core.sender import Sender
from carechain.errors import DeploymentError
from reliability.support import FAST, make_project, node, patient


@pytest.fixture
def copied(tmp_path):
    """A project whose deployments/31337.json was copied from a chain 1337 (a Ganache) deployment."""
    with node("--chain-id", "1337") as ganache_like:
        w3 = Web3(Web3.HTTPProvider(ganache_like.url))
        other = make_project(tmp_path / "other")
        deploy(w3, Sender(w3, patient(), retry=FAST), other)
    root = make_project(tmp_path / "project")
    (root / "deployments").mkdir()
    (root / "deployments" / "31337.json").write_bytes((other / "deployments" / "1337.json").read_bytes())
    return root


def _files(root):
    return {
        p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file() and "build" not in p.parts
    }


@pytest.mark.parametrize(
    "args",
    [
        ("deploy",),
        ("consent", "check", "0x" + "11" * 20, "0x" + "22" * 20, "-p", "HMB", "-s", "labs"),
        ("consent", "grant", "0x" + "22" * 20, "-p", "HMB", "-s", "labs"),
    ],
    ids=["deploy", "read", "send"],
)
def test_the_cli_refuses_a_manifest_of_another_chain(copied, args):
    before = _files(copied)
    with node() as anvil:
        w3 = Web3(Web3.HTTPProvider(anvil.url))
        result = CliRunner().invoke(
            cli,
            ["--rpc-url", anvil.url, "--root", str(copied), *args],
            env={"PRIVATE_KEY": patient().key.hex(), "KEYSTORE": ""},
        )
        assert (
            w3.eth.block_number == 0 and w3.eth.get_transaction_count(patient().address) == 0
        )  # nothing sent
    assert result.exit_code == 1
    path = copied / "deployments" / "31337.json"
    assert result.output == f"error: {path} is for chain 1337, not 31337\n"
    assert _files(copied) == before  # no abi/, manifest unchanged


def test_the_library_refuses_it_too(copied):
    with node() as anvil:
        w3 = Web3(Web3.HTTPProvider(anvil.url))
        with pytest.raises(DeploymentError, match=r"is for chain 1337, not 31337$"):
            deploy(w3, Sender(w3, patient(), retry=FAST), copied)
        with pytest.raises(DeploymentError, match=r"is for chain 1337, not 31337$"):
            ConsentClient.from_manifest(w3, copied)
    assert json.loads((copied / "deployments" / "31337.json").read_text())["chainId"] == 1337
