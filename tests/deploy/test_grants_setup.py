"""carechain deploy's set-up of the private-consent contracts: purpose codes, shipped template pairs, the
trial registry as ConsentGrants' issuer, and the admin handed over; each step skipped once done."""

from __future__ import annotations

from pathlib import Path

import pytest
from brownie import accounts, web3

from carechain.core import deployments, profiles
from carechain.core.sender import Sender

REPO = Path(__file__).parents[2]
ADMIN_ROLE = bytes(32)


@pytest.fixture
def root(tmp_path):
    (tmp_path / "build").symlink_to(REPO / "build")
    return tmp_path


@pytest.fixture
def sender():
    return Sender(web3, accounts[0].address)


def _at(root: Path, manifest: deployments.Manifest, name: str):
    return web3.eth.contract(address=manifest.address(name), abi=deployments.load_abi(root, name))


def test_deploy_registers_every_purpose_code_and_template_pair(root, sender):
    manifest = deployments.deploy(web3, sender, root)
    purposes, grants = _at(root, manifest, "PurposeRegistry"), _at(root, manifest, "ConsentGrants")
    trials = _at(root, manifest, "TrialRegistry")
    for entry in profiles.registry_entries():
        term, release, narrows = purposes.functions.purposeOf(entry.code).call()
        assert (term, release, narrows) == (entry.term, entry.release_hash, entry.narrows), entry
    assert purposes.functions.isNarrowing(profiles.purpose_code("HMB"), profiles.purpose_code("GRU")).call()
    indexes = [grants.functions.refsIndex(p, t).call() for p, t in profiles.shipped_pairs()]
    assert sorted(indexes) == list(range(1, len(indexes) + 1))
    assert grants.functions.purposeRegistry().call() == purposes.address
    assert trials.functions.consentGrants().call() == grants.address
    assert grants.functions.hasRole(deployments.ISSUER_ROLE, trials.address).call()
    assert trials.functions.TRIAL_PURPOSE_CODE().call() == profiles.purpose_code("CLINTRCH")
    # A local chain without an admin setting: the deployer administers both.
    assert grants.functions.hasRole(ADMIN_ROLE, accounts[0].address).call()
    assert purposes.functions.hasRole(ADMIN_ROLE, accounts[0].address).call()


def test_a_re_run_sends_nothing(root, sender):
    deployments.deploy(web3, sender, root)
    nonce = web3.eth.get_transaction_count(accounts[0].address)
    logged: list[str] = []
    deployments.deploy(web3, sender, root, log=logged.append)
    assert web3.eth.get_transaction_count(accounts[0].address) == nonce
    assert not any("registered" in line or "stored" in line or "ISSUER" in line for line in logged), logged


def test_an_interrupted_registration_carries_on_where_it_stopped(root, sender, monkeypatch):
    every = profiles.registry_entries()
    # A first run that stopped after registering the first codes (a batch lands whole or not at all).
    monkeypatch.setattr(deployments.profiles, "registry_entries", lambda: every[:5])
    manifest = deployments.deploy(web3, sender, root, names=("PurposeRegistry",))
    purposes = _at(root, manifest, "PurposeRegistry")
    assert purposes.functions.isRegistered(every[4].code).call()
    assert not purposes.functions.isRegistered(every[5].code).call()
    monkeypatch.undo()
    logged: list[str] = []
    deployments.deploy(web3, sender, root, log=logged.append)
    assert all(purposes.functions.isRegistered(e.code).call() for e in every)
    assert any("registered purpose codes" in line for line in logged)
    assert not any(f"codes {every[0].code}.." in line for line in logged), "the first batch is not resent"


def test_an_admin_setting_takes_both_admin_roles_from_the_deployer(root, sender):
    admin = accounts[7].address
    manifest = deployments.deploy(web3, sender, root, admin=admin)
    for name in ("PurposeRegistry", "ConsentGrants"):
        contract = _at(root, manifest, name)
        assert contract.functions.hasRole(ADMIN_ROLE, admin).call(), name
        assert not contract.functions.hasRole(ADMIN_ROLE, accounts[0].address).call(), name
    # The set-up was done before the hand-over.
    grants = _at(root, manifest, "ConsentGrants")
    assert grants.functions.hasRole(deployments.ISSUER_ROLE, manifest.address("TrialRegistry")).call()
