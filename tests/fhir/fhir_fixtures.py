"""Fixtures of the FHIR tests, loaded by `pytest_plugins`: a ConsentClient on the module's registry and
the CLI in-process against a project folder of its own. A plugin's fixtures are global, so their names
carry `fhir_` (tests/cli's plugin has a `run` and a `root` of its own).

tests/fhir has no __init__.py: a test package named `fhir` would shadow the `fhir.resources` package.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from brownie import web3
from click.testing import CliRunner

from carechain.cli import cli
from carechain.clients.consent import ConsentClient
from carechain.core.sender import Sender

REPO = Path(__file__).parents[2]


@pytest.fixture
def fhir_client(registry):
    """Read-only client of the module's registry."""
    return ConsentClient(web3, registry.address, registry.abi)


@pytest.fixture
def fhir_as(fhir_client):
    """A client that sends as a given (node-unlocked) brownie account."""
    return lambda account: fhir_client.with_sender(Sender(web3, account.address))


@pytest.fixture(scope="module")
def fhir_root(tmp_path_factory):
    folder = tmp_path_factory.mktemp("project")
    (folder / "build").symlink_to(REPO / "build")
    return folder


@pytest.fixture
def fhir_run(fhir_root):
    """Invoke the CLI in-process; `key` becomes PRIVATE_KEY (never an argument)."""
    rpc = web3.provider.endpoint_uri

    def invoke(*args: str, key=None):
        env = {"PRIVATE_KEY": key.key.hex() if key else "", "KEYSTORE": "", "RPC_URL": ""}
        return CliRunner().invoke(cli, ["--rpc-url", rpc, "--root", str(fhir_root), *args], env=env)

    return invoke
