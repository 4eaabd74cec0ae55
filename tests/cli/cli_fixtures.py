"""Fixtures shared by the CLI tests (loaded by `pytest_plugins`): a project, the CLI in-process, keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from brownie import accounts, web3
from click.testing import CliRunner
from eth_account import Account

from carechain.cli import cli

REPO = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    folder = tmp_path_factory.mktemp("project")
    (folder / "build").symlink_to(REPO / "build")
    return folder


@pytest.fixture(scope="module")
def rpc():
    return web3.provider.endpoint_uri


def funded():
    """A fresh key holding 1 ether: the CLI signs with it through PRIVATE_KEY."""
    account = Account.create()
    accounts[0].transfer(account.address, "1 ether", silent=True)
    return account


@pytest.fixture
def patient_key():
    return funded()


@pytest.fixture
def run(root, rpc):
    """Invoke the CLI in-process; `key` becomes PRIVATE_KEY (never an argument)."""

    def invoke(*args: str, key=None, input=None):
        env = {"PRIVATE_KEY": key.key.hex() if key else "", "KEYSTORE": "", "RPC_URL": ""}
        return CliRunner().invoke(cli, ["--rpc-url", rpc, "--root", str(root), *args], env=env, input=input)

    return invoke


def ok(result):
    assert result.exit_code == 0, result.output
    return result
