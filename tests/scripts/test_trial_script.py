"""scripts/trial.py: each role's step through `brownie run`, end to end, with keys from PRIVATE_KEY."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from brownie import accounts, web3
from brownie.project.scripts import run
from eth_account import Account

from carechain.chain import Sender
from carechain.clients import CredentialClient, TrialClient, license_hash
from carechain.trialdata import subject_account

REPO = Path(__file__).parents[2]
ENDPOINTS = {"primary": [{"id": "P1", "measure": "change in HbA1c"}]}


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder of its own (CARECHAIN_ROOT), deployed by the node's first account."""
    (tmp_path / "build").symlink_to(REPO / "build")
    monkeypatch.setenv("CARECHAIN_ROOT", str(tmp_path))
    monkeypatch.delenv("PRIVATE_KEY", raising=False)
    monkeypatch.delenv("KEYSTORE", raising=False)
    run("scripts/deploy.py")
    return tmp_path


def _as(monkeypatch, key):
    monkeypatch.setenv("PRIVATE_KEY", key.key.hex())


def _funded():
    key = Account.create()
    accounts[0].transfer(key.address, "1 ether", silent=True)
    return key


def test_sponsor_irb_subject_site_and_auditor_steps(project, monkeypatch, capsys):
    sponsor, irb, site, master = _funded(), _funded(), _funded(), Account.create()
    registry = CredentialClient.from_manifest(web3, project, Sender(web3, accounts[0].address))
    registry.add_registrar(accounts[0].address)
    registry.attest(irb.address, "IRB", license_hash("irb", b"x" * 16))
    registry.attest(site.address, "RESEARCHER", license_hash("site", b"x" * 16))
    (project / "endpoints.json").write_text(json.dumps(ENDPOINTS))

    _as(monkeypatch, sponsor)
    run("scripts/trial.py", "register", ["0x" + "11" * 32, str(project / "endpoints.json"), "labs"])
    assert "trial 1 registered" in capsys.readouterr().out
    run("scripts/trial.py", "add_site", ["1", site.address])
    _as(monkeypatch, irb)
    run("scripts/trial.py", "approve", ["1"])
    _as(monkeypatch, master)
    run("scripts/trial.py", "consent", ["1", str(project / "consent.json")])
    trials = TrialClient.from_manifest(web3, project)
    subject = subject_account(bytes(master.key), web3.eth.chain_id, trials.address, 1).address

    _as(monkeypatch, site)
    run("scripts/trial.py", "submit", [str(project / "consent.json")])
    run("scripts/trial.py", "enroll", ["1", subject])
    (project / "rows.csv").write_text(f"subject,visit,field,value\n{subject},1,hba1c,7.9\n")
    run("scripts/trial.py", "commit", ["1", str(project / "rows.csv"), str(project / "batch.json")])
    run("scripts/trial.py", "prove", [str(project / "batch.json"), "0", str(project / "proof.json")])
    assert trials.is_enrolled(1, subject) and len(trials.batches(1)) == 1

    _as(monkeypatch, sponsor)
    run("scripts/trial.py", "lock", ["1"])
    (project / "results.json").write_text(json.dumps({"trialId": 1, "endpoints": ENDPOINTS, "p": 0.01}))
    run("scripts/trial.py", "report", ["1", str(project / "results.json")])
    capsys.readouterr()
    files = [str(project / name) for name in ("results.json", "proof.json", "batch.json")]
    run("scripts/trial.py", "verify", ["1", *files])
    verdict = capsys.readouterr().out
    assert verdict.count("PASS") == 3 and "FAIL" not in verdict


def test_a_refused_step_ends_the_script_with_the_commands_exit_code(project, monkeypatch, capsys):
    _as(monkeypatch, _funded())
    with pytest.raises(SystemExit) as ended:
        run("scripts/trial.py", "approve", ["1"])
    assert ended.value.code == 1
    assert "error: " in capsys.readouterr().err
