"""scripts/trial.py: each role's step through `brownie run`, end to end, with keys from PRIVATE_KEY."""

from __future__ import annotations

import json

import pytest
from brownie import accounts, project, web3
from eth_account import Account

from brownie_scripts.conftest import funded
from carechain.clients import CredentialClient, TrialClient, license_hash
from carechain.core.sender import Sender
from carechain.offchain.trialdata import subject_account

ENDPOINTS = {"primary": [{"id": "P1", "measure": "change in HbA1c"}]}

run = project.scripts.run  # `brownie run`'s runner (imported so: brownie hashes imported modules as text)


def test_sponsor_irb_subject_site_and_auditor_steps(project_root, act, capsys):
    sponsor, irb, site, master = funded(), funded(), funded(), Account.create()
    registry = CredentialClient.from_manifest(web3, project_root, Sender(web3, accounts[0].address))
    registry.add_registrar(accounts[0].address)
    registry.attest(irb.address, "IRB", license_hash("irb", b"x" * 16))
    registry.attest(site.address, "RESEARCHER", license_hash("site", b"x" * 16))
    (project_root / "endpoints.json").write_text(json.dumps(ENDPOINTS))

    act(sponsor)
    run(
        "scripts/trial.py",
        "register",
        ["0x" + "11" * 32, str(project_root / "endpoints.json"), "labs", irb.address],
    )
    assert f"trial 1 registered, IRB of record {irb.address}" in capsys.readouterr().out
    run("scripts/trial.py", "add_site", ["1", site.address])
    act(irb)
    run("scripts/trial.py", "approve", ["1"])
    act(master)
    run("scripts/trial.py", "consent", ["1", str(project_root / "consent.json")])
    trials = TrialClient.from_manifest(web3, project_root)
    subject = subject_account(bytes(master.key), web3.eth.chain_id, trials.address, 1).address

    act(site)
    run("scripts/trial.py", "submit", [str(project_root / "consent.json")])
    run("scripts/trial.py", "enroll", ["1", subject])
    (project_root / "rows.csv").write_text(f"subject,visit,field,value\n{subject},1,hba1c,7.9\n")
    run("scripts/trial.py", "commit", ["1", str(project_root / "rows.csv"), str(project_root / "batch.json")])
    run(
        "scripts/trial.py", "prove", [str(project_root / "batch.json"), "0", str(project_root / "proof.json")]
    )
    assert trials.is_enrolled(1, subject) and len(trials.batches(1)) == 1

    act(sponsor)
    run("scripts/trial.py", "lock", ["1"])
    (project_root / "results.json").write_text(json.dumps({"trialId": 1, "endpoints": ENDPOINTS, "p": 0.01}))
    run("scripts/trial.py", "report", ["1", str(project_root / "results.json")])
    capsys.readouterr()
    files = [str(project_root / name) for name in ("results.json", "proof.json", "batch.json")]
    run("scripts/trial.py", "verify", ["1", *files])
    verdict = capsys.readouterr().out
    assert verdict.count("PASS") == 3 and "FAIL" not in verdict


def test_a_refused_step_ends_the_script_with_the_commands_exit_code(project_root, act, capsys):
    act(funded())
    with pytest.raises(SystemExit) as ended:
        run("scripts/trial.py", "approve", ["1"])
    assert ended.value.code == 1
    assert "error: " in capsys.readouterr().err
