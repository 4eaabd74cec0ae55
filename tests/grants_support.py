"""ConsentGrants as the client library deploys and drives it, shared by the chain tests that need it
(tests/consent_grants, tests/privacy): a project folder with the private-consent contracts, the relayer,
hospital and lab clients, and the grant a patient's subject key signs.

A pytest plugin that tests/conftest.py loads only when brownie runs the tests (as chain_support.py): the
fixtures come by name, the helpers by `from grants_support import grant_input`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from brownie import accounts, web3

from carechain.clients import ConsentGrantsClient
from carechain.core import deployments, profiles
from carechain.core.grants import GrantInput, Op, Policy, category_scope, resource_hash
from carechain.core.keys import GrantKeys
from carechain.core.sender import Sender

REPO = Path(__file__).parents[1]
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
