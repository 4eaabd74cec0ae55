"""What the client tests share besides tests/grants_support.py's deployment and clients: a patient's wallet
(a published dev key the tests never send from), its per-grant keys, and a check that the wallet's address
reaches the chain nowhere."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from brownie import web3
from eth_account import Account
from eth_account.signers.local import LocalAccount

from carechain.core import keys
from carechain.core.keys import KeyRoot
from carechain.dev.privacy_scan import Patient, address_findings, read_chain, sender_findings

# Anvil's dev account 1 (a published test key) as the patient's wallet: it only signs KeyDerivation, once.
WALLET_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"


@pytest.fixture(scope="module")
def wallet() -> LocalAccount:
    account: LocalAccount = Account.from_key(WALLET_KEY)
    return account


@pytest.fixture(scope="module")
def key_root(wallet, relay) -> KeyRoot:
    """The patient's keys on this deployment, from one KeyDerivation signature (checked to repeat)."""
    first = keys.sign_derivation(wallet, web3.eth.chain_id, relay.address)
    second = keys.sign_derivation(wallet, web3.eth.chain_id, relay.address)
    return KeyRoot.from_signature(keys.check_deterministic(first, second))


def wallet_traces(address: str, first_block: int) -> tuple[int, list[str]]:
    """How many transactions were mined from `first_block` on, and where `address` shows in them, by the
    privacy scan's address and sender rules (carechain.dev.privacy_scan): every form of the address in
    envelopes, calldata and logs, and on a node with the prestateTracer (Anvil, not Ganache) in the storage
    the transactions touched."""
    traces = "ganache" not in web3.client_version.lower()
    transactions = read_chain(web3, first_block, traces=traces)
    patients = [Patient.of(address)]
    found = address_findings(transactions, patients) + sender_findings(transactions, patients)
    return len(transactions), [str(finding) for finding in found]


@pytest.fixture
def wallet_never_on_chain(isolation, wallet) -> Iterator[None]:
    """After the test (before its blocks are rolled back): the patient's wallet is in none of them."""
    first = web3.eth.block_number + 1
    yield
    count, found = wallet_traces(wallet.address, first)
    assert not found, (
        f"the patient's wallet {wallet.address} reached the chain in {count} transactions: {found}"
    )
