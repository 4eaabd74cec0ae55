"""scripts/consent.py and scripts/access.py: a patient, a clinic, a hospital, a GP and the ER, in steps."""

from __future__ import annotations

import os

import pytest
from brownie import accounts, project, web3
from eth_account import Account

from brownie_scripts.conftest import funded
from carechain.clients import AccessClient, ConsentClient, CredentialClient, license_hash
from carechain.core.purposes import purpose_id, scopes_mask
from carechain.core.sender import Sender

run = project.scripts.run  # `brownie run`'s runner (imported so: brownie hashes imported modules as text)


def test_grant_check_sign_submit_revoke(project_root, act, capsys):
    patient, clinic, researcher, bob = funded(), funded(), Account.create(), Account.create()
    act(patient)
    run("scripts/consent.py", "grant", [researcher.address, "HMB", "labs,genomics", "90d"])
    run("scripts/consent.py", "check", [patient.address, researcher.address, "HMB", "labs"])
    assert "PERMITTED" in capsys.readouterr().out
    act(bob)  # signs only: no ether
    run(
        "scripts/consent.py",
        "sign",
        [researcher.address, "TREAT", "medications", str(project_root / "bob.json")],
    )
    act(clinic)
    run("scripts/consent.py", "submit", [str(project_root / "bob.json")])
    consents = ConsentClient.from_manifest(web3, project_root)
    assert consents.is_permitted(
        bob.address, researcher.address, purpose_id("TREAT"), scopes_mask(["medications"])
    )
    act(patient)
    run("scripts/consent.py", "revoke", [researcher.address, "HMB"])
    with pytest.raises(SystemExit) as refused:
        run("scripts/consent.py", "check", [patient.address, researcher.address, "HMB", "labs"])
    assert refused.value.code == 3  # NOT PERMITTED


def test_anchor_grant_log_break_glass_review_reads(project_root, act, capsys):
    patient, hospital, gp, er, reviewer = (funded() for _ in range(5))
    registry = CredentialClient.from_manifest(web3, project_root, Sender(web3, accounts[0].address))
    registry.add_registrar(accounts[0].address)
    for key, role in (
        (hospital, "CUSTODIAN"),
        (gp, "PROVIDER"),
        (er, "EMERGENCY"),
        (er, "PROVIDER"),
        (reviewer, "REVIEWER"),
    ):
        registry.attest(key.address, role, license_hash(f"{key.address}{role}", b"s" * 16))
    record, blob = "0x" + os.urandom(32).hex(), project_root / "lab.enc"
    blob.write_bytes(os.urandom(128))

    act(hospital)
    run("scripts/access.py", "anchor", [record, patient.address, "labs", str(blob)])
    act(patient)
    run("scripts/access.py", "grant", [gp.address, "labs", "30d"])
    run("scripts/access.py", "check", [gp.address, record])
    act(hospital)
    run("scripts/access.py", "log", [gp.address, record])
    act(er)
    run("scripts/access.py", "break_glass", [patient.address])
    act(reviewer)
    run("scripts/access.py", "review", ["1", "approve"])
    capsys.readouterr()
    run("scripts/access.py", "reads", [patient.address])
    assert "category grant" in capsys.readouterr().out.lower().replace("_", " ")
    access = AccessClient.from_manifest(web3, project_root)
    assert [r.provider for r in access.reads(patient=patient.address)] == [gp.address]
    with pytest.raises(SystemExit) as usage:
        run("scripts/access.py", "review", ["1", "maybe"])
    assert usage.value.code == 2
