"""`carechain relay serve`: its help, a bad option as one line, and the relayer in its own process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from brownie import accounts, web3
from click.testing import CliRunner
from eth_account import Account

from carechain.cli import cli
from carechain.dev.localnode import free_port
from carechain.services.relay.service import DB_ENV

from .conftest import soon

REPO = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    folder = tmp_path_factory.mktemp("project")
    (folder / "build").symlink_to(REPO / "build")
    return folder


def run(root, *args: str, env=None):
    base = {"PRIVATE_KEY": "", "KEYSTORE": "", "RPC_URL": "", DB_ENV: ""}
    return CliRunner().invoke(
        cli,
        ["--rpc-url", web3.provider.endpoint_uri, "--root", str(root), *args],
        env={**base, **(env or {})},
    )


def one_line_error(result, fragment: str) -> None:
    assert result.exit_code != 0, result.output
    text = result.output.strip()
    assert text.startswith("error: ") and "\n" not in text and "Traceback" not in text, text
    assert fragment in text, text


def test_serve_help_names_its_options(root):
    result = run(root, "relay", "serve", "--help")
    assert result.exit_code == 0, result.output
    for option in ("--host", "--port", "--db", "--rate", "--poll"):
        assert option in result.output


@pytest.mark.parametrize("rate", ["fast", "0/h", "10/y"])
def test_a_bad_rate_is_one_line(root, rate):
    one_line_error(run(root, "relay", "serve", "--rate", rate), "cannot read rate")


def test_a_bad_database_url_is_one_line(root, tmp_path):
    deployed = run(root, "deploy")
    assert deployed.exit_code == 0, deployed.output
    one_line_error(
        run(root, "relay", "serve", "--db", "nosuchdb://x"), "not a database URL the relayer can use"
    )


def test_no_deployment_is_one_line(tmp_path):
    one_line_error(run(tmp_path, "relay", "serve"), "ConsentRegistry is not deployed on chain")


def test_a_bad_port_is_one_line(root):
    one_line_error(run(root, "relay", "serve", "--port", "0"), "Invalid value for '--port'")


def test_serve_relays_a_signed_consent_from_the_cli(root, tmp_path):
    """`consent sign -o` by the patient; `relay serve` in its own process, its own key; the file posted."""
    assert run(root, "deploy").exit_code == 0
    relayer = Account.create()
    accounts[0].transfer(relayer.address, "1 ether", silent=True)
    patient = Account.create()  # no ether: signs only
    grantee = Account.create().address
    file = tmp_path / "consent.json"
    signed = run(
        root,
        "consent",
        "sign",
        grantee,
        "-p",
        "HMB",
        "-s",
        "labs",
        "--deadline",
        str(soon()),
        "-o",
        str(file),
        env={"PRIVATE_KEY": patient.key.hex()},
    )
    assert signed.exit_code == 0, signed.output
    port = free_port()
    env = {
        **os.environ,
        "PRIVATE_KEY": relayer.key.hex(),
        "RPC_URL": web3.provider.endpoint_uri,
        DB_ENV: f"sqlite:///{tmp_path / 'relay.db'}",
    }
    carechain = str(Path(sys.executable).parent / "carechain")
    command = [carechain, "--root", str(root), "relay", "serve", "--port", str(port), "--rate", "5/m"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                info = httpx.get(f"http://127.0.0.1:{port}/info", timeout=2).json()
                break
            except httpx.HTTPError:
                assert server.poll() is None, server.stdout.read().decode() if server.stdout else ""
                assert time.monotonic() < deadline, "the relayer did not start"
                time.sleep(0.2)
        assert info["relayer"] == relayer.address and info["rate"] == {"requests": 5, "periodSeconds": 60}
        sent = httpx.post(f"http://127.0.0.1:{port}/consents", json=json.loads(file.read_text()), timeout=60)
        assert sent.status_code == 202, sent.text
        deadline = time.monotonic() + 20
        while (status := httpx.get(f"http://127.0.0.1:{port}/submissions/{sent.json()['id']}").json())[
            "status"
        ] != "mined":
            assert time.monotonic() < deadline, status
            time.sleep(0.2)
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode()
    checked = run(root, "consent", "check", patient.address, grantee, "-p", "HMB", "-s", "labs")
    assert checked.exit_code == 0, checked.output  # PERMITTED
    assert f"relayer {relayer.address} for ConsentRegistry {info['consentRegistry']}" in output
    assert relayer.key.hex() not in output


def test_serve_writes_no_access_log(root, monkeypatch):
    """uvicorn's access log would write each client's IP beside /subjects/0x<commitment>/nonce."""
    from types import SimpleNamespace

    import uvicorn

    from carechain.cli import relay as relay_cli
    from carechain.services.relay import acts, app

    rate = SimpleNamespace(count=10, period=3600)
    service = SimpleNamespace(
        relayer="0x" + "11" * 20,
        client=SimpleNamespace(address="0x" + "22" * 20),
        chain_id=1,
        limiter=SimpleNamespace(rate=rate),
    )
    served: dict = {}
    monkeypatch.setattr(relay_cli, "open_relay", lambda *args: service)
    monkeypatch.setattr(acts, "open_subject_acts", lambda *args: None)
    monkeypatch.setattr(app, "create_app", lambda *args: "app")
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(options))
    result = run(root, "relay", "serve")
    assert result.exit_code == 0, result.output
    assert served["access_log"] is False
