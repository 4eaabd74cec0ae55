"""Fixtures of the script tests: a project folder of its own, deployed; keys that act through PRIVATE_KEY."""

from __future__ import annotations

from pathlib import Path

import pytest
from brownie import accounts, project
from eth_account import Account

REPO = Path(__file__).parents[2]


@pytest.fixture
def project_root(tmp_path, monkeypatch):
    """A project folder of its own (CARECHAIN_ROOT), deployed by the node's first account."""
    (tmp_path / "build").symlink_to(REPO / "build")
    monkeypatch.setenv("CARECHAIN_ROOT", str(tmp_path))
    monkeypatch.delenv("PRIVATE_KEY", raising=False)
    monkeypatch.delenv("KEYSTORE", raising=False)
    # (brownie hashes the modules a conftest imports, and its compiled `brownie.project.scripts` is no text)
    project.scripts.run("scripts/deploy.py")
    return tmp_path


@pytest.fixture
def act(monkeypatch):
    """act(key): the next script steps sign with this key (PRIVATE_KEY), as a user would set it."""

    def use(key):
        monkeypatch.setenv("PRIVATE_KEY", key.key.hex())

    return use


def funded():
    key = Account.create()
    accounts[0].transfer(key.address, "1 ether", silent=True)
    return key
