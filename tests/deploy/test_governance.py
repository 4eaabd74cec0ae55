"""Who appoints registrars on a public chain (finding A.6): a deployment made the way a public-chain
deploy is made, then one block in which a registrar is appointed, attests EMERGENCY and breaks glass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from brownie import accounts, web3
from conftest import EMERGENCY, REGISTRAR_ROLE, license_hash
from eth_utils.crypto import keccak

from carechain.core import deployments
from carechain.core.sender import Sender

REPO = Path(__file__).parents[2]
UNCONSCIOUS = keccak(text="carechain.break-glass.UNCONSCIOUS")
GAS = 500_000  # given, not estimated: with automining off each estimate would run before the others land


@pytest.fixture
def root(tmp_path):
    (tmp_path / "build").symlink_to(REPO / "build")
    return tmp_path


@pytest.fixture
def public_chain(monkeypatch):
    """Deploy as on Sepolia or mainnet: the chain id is not a local one."""
    monkeypatch.setattr(deployments, "is_local_chain", lambda chain_id: False)


def _contract(manifest: deployments.Manifest, root: Path, name: str) -> Any:
    return web3.eth.contract(manifest.address(name), abi=deployments.load_abi(root, name))


def _one_block(*calls: tuple[Any, str]) -> list[Any]:
    """Send each (contract function, sender) with automining off, then mine them all in one block."""
    web3.provider.make_request("evm_setAutomine", [False])
    try:
        hashes = [
            web3.eth.send_transaction(function.build_transaction({"from": sender, "gas": GAS}))
            for function, sender in calls
        ]
        web3.provider.make_request("evm_mine", [])
    finally:
        web3.provider.make_request("evm_setAutomine", [True])
    return [web3.eth.get_transaction_receipt(tx_hash) for tx_hash in hashes]


@pytest.mark.usefixtures("public_chain")
def test_review_A6_deployer_appoints_a_registrar_who_breaks_glass_in_one_block(root):
    """Finding A.6 (exploit, passes before the fix): the deployer's own key, admin by default, appoints a
    registrar who attests an accomplice EMERGENCY, who breaks glass on a patient, all in one block."""
    deployer, registrar, er_doctor, patient = accounts[0], accounts[7], accounts[8], accounts[9]
    manifest = deployments.deploy(web3, Sender(web3, deployer.address), root)
    credentials = _contract(manifest, root, "CredentialRegistry")
    access = _contract(manifest, root, "AccessGrants")
    assert credentials.functions.defaultAdmin().call() == deployer.address

    receipts = _one_block(
        (credentials.functions.grantRole(REGISTRAR_ROLE, registrar.address), deployer.address),
        (
            credentials.functions.attest(
                er_doctor.address, EMERGENCY, license_hash(er_doctor, EMERGENCY), 0, 0
            ),
            registrar.address,
        ),
        (access.functions.breakGlass(patient.address, UNCONSCIOUS, 3600), er_doctor.address),
    )
    assert [receipt["status"] for receipt in receipts] == [1, 1, 1]
    assert len({receipt["blockNumber"] for receipt in receipts}) == 1
    assert access.functions.getEpisode(1).call()[0] == er_doctor.address
