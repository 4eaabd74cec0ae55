"""What both smoke flows share: a project folder with CareChain deployed by the node's first account."""

from __future__ import annotations

from pathlib import Path

import pytest
from brownie import accounts, web3

from carechain.core.deployments import deploy
from carechain.core.sender import Sender

REPO = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    folder = tmp_path_factory.mktemp("smoke")
    (folder / "build").symlink_to(REPO / "build")
    deploy(web3, Sender(web3, accounts[0].address), folder)
    return folder


def as_(kind, root, account):
    """A client of `kind` acting as `account` (a brownie account)."""
    return kind.from_manifest(web3, root, Sender(web3, account.address))
