"""What the client tests share: ConsentGrants deployed by `carechain deploy`'s library into a project folder,
a patient's wallet (a published dev key the tests never send from), its per-grant keys, and a check that the
wallet's address reaches the chain nowhere."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from brownie import accounts, web3
from eth_account import Account
from eth_account.signers.local import LocalAccount

from carechain.clients import ConsentGrantsClient
from carechain.core import deployments, keys, profiles
from carechain.core.grants import GrantInput, Op, Policy, category_scope, resource_hash
from carechain.core.keys import GrantKeys, KeyRoot
from carechain.core.sender import Sender

REPO = Path(__file__).parents[2]
# Anvil's dev account 1 (a published test key) as the patient's wallet: it only signs KeyDerivation, once.
WALLET_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
ZERO_ADDRESS = "0x" + "00" * 20
HMB = profiles.purpose_code("HMB")
PROFILE = profiles.profile_ref([{"term": "DUO:0000006"}])  # shipped with research-broad-v1
TERMS = profiles.terms_ref("research-broad-v1")
YEAR = 365 * 24 * 3600


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A project folder (build/ linked to the repository's) where the node's first account deployed the
    private-consent contracts, their purpose codes and template pairs."""
    folder = tmp_path_factory.mktemp("grants")
    (folder / "build").symlink_to(REPO / "build")
    deployments.deploy(
        web3, Sender(web3, accounts[0].address), folder, names=("PurposeRegistry", "ConsentGrants")
    )
    return folder


def client_of(project: Path, account) -> ConsentGrantsClient:
    """ConsentGrants from the project's manifest, sending as `account` (a brownie account)."""
    return ConsentGrantsClient.from_manifest(web3, project, Sender(web3, account.address))


@pytest.fixture(scope="module")
def relay(project) -> ConsentGrantsClient:
    """The relayer: it pays for every subject act and is nobody's subject key."""
    return client_of(project, accounts[4])


@pytest.fixture(scope="module")
def hospital(project) -> ConsentGrantsClient:
    """The grantee, acting from its own account."""
    return client_of(project, accounts[2])


@pytest.fixture(scope="module")
def lab(project) -> ConsentGrantsClient:
    """A sub-grantee the hospital delegates to."""
    return client_of(project, accounts[3])


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


def grant_input(
    subject: GrantKeys,
    grantee: str,
    *,
    ops: int = Op.READ | Op.QUERY,
    flags: int = 0,
    lead: int = 0,
    lasts: int = YEAR,
) -> GrantInput:
    """The subject's grant of its labs to `grantee` for health research (HMB), from `lead` seconds before
    the latest block for `lasts` seconds, scoped to the labs category under the grant's own scope salt."""
    now = web3.eth.get_block("latest")["timestamp"]
    return GrantInput(
        scope_ref=resource_hash(subject.scope_salt, category_scope("labs")),
        purpose_profile_ref=PROFILE,
        terms_ref=TERMS,
        asset_token_id=0,
        subject_commit=subject.commitment,
        grantee=grantee,
        agent=ZERO_ADDRESS,
        policy=Policy(now - lead, now - lead + lasts, ops, HMB, flags=flags),
    )


def wallet_traces(address: str, first_block: int) -> tuple[int, list[str]]:
    """How many transactions were mined from `first_block` on, and where `address` shows in them: as sender
    or recipient, in calldata, or in a log's emitter, topics or data (20 bytes, or 32 padded)."""
    raw = bytes.fromhex(address[2:])
    found: list[str] = []
    count = 0
    for number in range(first_block, web3.eth.block_number + 1):
        for tx in web3.eth.get_block(number, full_transactions=True)["transactions"]:
            count += 1
            where = f"block {number} tx {bytes(tx['hash']).hex()}"
            if address in (tx["from"], tx.get("to")):
                found.append(f"{where}: sender or recipient")
            if raw in bytes(tx["input"]):
                found.append(f"{where}: calldata")
            for log in web3.eth.get_transaction_receipt(tx["hash"])["logs"]:
                words = [bytes(topic) for topic in log["topics"]]
                if (
                    log["address"] == address
                    or any(raw in word for word in words)
                    or raw in bytes(log["data"])
                ):
                    found.append(f"{where}: log {log['logIndex']}")
    return count, found


@pytest.fixture
def wallet_never_on_chain(isolation, wallet) -> Iterator[None]:
    """After the test (before its blocks are rolled back): the patient's wallet is in none of them."""
    first = web3.eth.block_number + 1
    yield
    count, found = wallet_traces(wallet.address, first)
    assert not found, (
        f"the patient's wallet {wallet.address} reached the chain in {count} transactions: {found}"
    )
