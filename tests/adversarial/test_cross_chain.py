"""A signature made for one deployment fails on another chain, even where the contract sits at the
same address: a second Anvil with another chain id, the registry deployed there by the same key at
the same nonce. Only the domain's chain id tells the two apart, and it is enough. (A second
deployment on the same chain and a forged chain id are in tests/consent/test_grant_by_sig.py.)"""

from __future__ import annotations

import pytest
from brownie import chain
from conftest import HMB, LABS, reverts, sign_grant
from eth_abi import encode
from eth_account import Account
from eth_utils.crypto import keccak
from web3 import HTTPProvider, Web3
from web3.exceptions import ContractCustomError

from carechain.dev.localnode import local_node

OTHER_CHAIN_ID = 31_338_001


@pytest.fixture(scope="module")
def twins(ConsentRegistry, accounts):
    """(registry here, the same registry on a second chain): one fresh key deploys both at nonce 0."""
    deployer = accounts.add(Account.create().key)
    accounts[0].transfer(deployer, "1 ether")
    here = ConsentRegistry.deploy({"from": deployer})
    with local_node(chain_id=OTHER_CHAIN_ID) as node:
        w3 = Web3(HTTPProvider(node.url))
        funder = w3.eth.accounts[0]
        w3.eth.wait_for_transaction_receipt(
            w3.eth.send_transaction({"from": funder, "to": deployer.address, "value": 10**18})
        )
        factory = w3.eth.contract(abi=ConsentRegistry.abi, bytecode=ConsentRegistry.bytecode)
        deploy = factory.constructor().build_transaction(
            {
                "from": deployer.address,
                "nonce": 0,
                "chainId": OTHER_CHAIN_ID,
                "gas": 3_000_000,
                "gasPrice": w3.eth.gas_price,
            }
        )
        signed = Account.sign_transaction(deploy, deployer.private_key)
        receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction))
        there = w3.eth.contract(address=receipt["contractAddress"], abi=ConsentRegistry.abi)
        yield here, there, w3


def invalid_signature(patient: str) -> str:
    return "0x" + (keccak(text="InvalidSignature(address)")[:4] + encode(["address"], [patient])).hex()


def submit(w3: Web3, registry, signed: tuple) -> None:
    w3.eth.wait_for_transaction_receipt(
        registry.functions.grantBySig(signed).transact({"from": w3.eth.accounts[1]})
    )


def test_twins_share_an_address_but_not_a_chain(twins):
    here, there, w3 = twins
    assert there.address == here.address
    assert w3.eth.chain_id == OTHER_CHAIN_ID != chain.id
    assert there.functions.DOMAIN_SEPARATOR().call() != bytes(here.DOMAIN_SEPARATOR())


def test_signature_for_this_chain_fails_on_the_other(twins, signer, grantee, relayer):
    here, there, w3 = twins
    signed = sign_grant(here, signer, grantee)
    with pytest.raises(ContractCustomError) as refused:
        there.functions.grantBySig(signed).call({"from": w3.eth.accounts[1]})
    assert refused.value.data == invalid_signature(signer.address)
    assert there.functions.nonces(signer.address).call() == 0

    here.grantBySig(signed, {"from": relayer})  # where it was meant for, it works
    assert here.isPermitted(signer.address, grantee, HMB, LABS)
    assert not there.functions.isPermitted(signer.address, str(grantee), HMB, LABS).call()


def test_signature_for_the_other_chain_works_there_only(twins, signer, grantee, relayer):
    here, there, w3 = twins
    signed = sign_grant(here, signer, grantee, chain_id=OTHER_CHAIN_ID)
    with reverts("InvalidSignature", signer.address):
        here.grantBySig(signed, {"from": relayer})
    submit(w3, there, signed)
    assert there.functions.isPermitted(signer.address, str(grantee), HMB, LABS).call()
    assert not here.isPermitted(signer.address, grantee, HMB, LABS)
