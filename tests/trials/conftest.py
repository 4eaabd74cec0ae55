"""TrialRegistry fixtures: a sponsor, an IRB, two research sites, subjects under per-trial keys."""

from enum import IntEnum
from typing import Any

import pytest
from conftest import GENOMICS, IRB, ISSUER_ROLE, LABS, NEVER, RESEARCHER, attest
from eth_abi import encode
from eth_utils.crypto import keccak

from carechain.core.purposes import trial_purpose

SCOPES = LABS | GENOMICS  # the data scopes a subject's consent must cover
NO_HASH = bytes(32)
PROTOCOL_V1 = keccak(text="protocol v1 (pdf)")
PROTOCOL_V2 = keccak(text="protocol v2 (pdf)")
PROTOCOL_V3 = keccak(text="protocol v3 (pdf)")
PRIMARY = keccak(text="endpoint-salt|primary: HbA1c change from baseline at 26 weeks")
SECONDARY = keccak(text="endpoint-salt|secondary: fasting glucose, body weight at 26 weeks")
PLAN_SALT = keccak(text="the sponsor's secret salt of the blinded analysis plan")
RESULTS = keccak(text="results report (pdf)")


class Status(IntEnum):
    """ITrialRegistry.Status as the ABI returns it."""

    NONE = 0
    REGISTERED = 1
    APPROVED = 2
    LOCKED = 3
    REPORTED = 4


def endpoints_commitment(sponsor: Any, primary: bytes, secondary: bytes, salt: bytes) -> bytes:
    """A blinded analysis plan's commitment, as the contract recomputes it at reveal."""
    return keccak(
        encode(["address", "bytes32", "bytes32", "bytes32"], [str(sponsor), primary, secondary, salt])
    )


IRB_ACCOUNT = 3  # accounts[3]: the `irb` fixture, the IRB of record of the trials registered here


def register(
    trials: Any,
    sponsor: Any,
    protocol: bytes = PROTOCOL_V1,
    scopes: int = SCOPES,
    primary: bytes = PRIMARY,
    secondary: bytes = SECONDARY,
    commitment: bytes = NO_HASH,
    irb: Any = None,
) -> Any:
    """The sponsor registers a trial (plain endpoints unless told otherwise) under `irb` (default: the
    `irb` fixture's account, which must hold its credential); returns the transaction."""
    from brownie import accounts

    irb = accounts[IRB_ACCOUNT] if irb is None else irb
    return trials.register(protocol, scopes, irb, primary, secondary, commitment, {"from": sponsor})


def consent(
    registry: Any,
    trials: Any,
    subject: Any,
    trial_id: int,
    version: int = 1,
    scopes: int = SCOPES,
    expires_at: int = NEVER,
    grantee: Any = None,
) -> Any:
    """The subject consents, from their own key, to the trial's purpose for `version` (to the registry)."""
    purpose = trial_purpose(trial_id, version)
    return registry.grant(grantee or trials, purpose, scopes, expires_at, {"from": subject})


def deploy_trials(
    TrialRegistry: Any, registry: Any, credentials: Any, consent_grants: Any, deployer: Any
) -> Any:
    """A TrialRegistry holding ISSUER_ROLE in ConsentGrants (it terminates the trial grants it stops using);
    `deployer` is ConsentGrants' admin."""
    trials = TrialRegistry.deploy(registry, credentials, consent_grants, {"from": deployer})
    consent_grants.grantRole(ISSUER_ROLE, trials, {"from": deployer})
    return trials


def funded_key(accounts: Any) -> Any:
    """A fresh key holding ether: the address a subject derives for this one trial."""
    account = accounts.add()
    accounts[0].transfer(account, "1 ether")
    return account


@pytest.fixture(scope="module")
def trials(TrialRegistry, registry, credentials, consent_grants, accounts, irb):
    """The registry, with `irb` credentialed first: every trial here names it its IRB of record."""
    return deploy_trials(TrialRegistry, registry, credentials, consent_grants, accounts[0])


@pytest.fixture(scope="module")
def sponsor(accounts):
    """The trial's sponsor: registers, amends, adds sites, locks and reports. No credential needed."""
    return accounts[2]


@pytest.fixture(scope="module")
def irb(accounts, credentials, registrar):
    """An institutional review board holding a live IRB credential."""
    attest(credentials, registrar, accounts[IRB_ACCOUNT], IRB)
    return accounts[IRB_ACCOUNT]


@pytest.fixture(scope="module")
def site(accounts, credentials, registrar):
    """A trial site's investigator, holding a live RESEARCHER credential."""
    attest(credentials, registrar, accounts[8], RESEARCHER)
    return accounts[8]


@pytest.fixture(scope="module")
def site2(accounts, credentials, registrar):
    """A second site, also RESEARCHER-credentialed."""
    attest(credentials, registrar, accounts[6], RESEARCHER)
    return accounts[6]


@pytest.fixture(scope="module")
def subject(accounts):
    return funded_key(accounts)


@pytest.fixture(scope="module")
def subject2(accounts):
    return funded_key(accounts)


@pytest.fixture
def registered(trials, sponsor):
    """Trial 1, registered with plain endpoints: protocol version 1 awaits the IRB."""
    return register(trials, sponsor).return_value


@pytest.fixture
def approved(trials, registered, sponsor, irb, site):
    """Trial 1 with `site` added and protocol version 1 approved by its IRB of record: it may enrol."""
    trials.addSite(registered, site, {"from": sponsor})
    trials.approve(registered, 1, {"from": irb})
    return registered


@pytest.fixture
def enrolled(trials, registry, approved, site, subject):
    """Trial 1 with `subject` consented (version 1, no expiry) and enrolled by `site`."""
    consent(registry, trials, subject, approved)
    trials.enroll(approved, subject, {"from": site})
    return approved


@pytest.fixture
def blinded(trials, sponsor):
    """Trial 1, registered with a blinded analysis plan: only the endpoints' commitment is on chain."""
    commitment = endpoints_commitment(sponsor, PRIMARY, SECONDARY, PLAN_SALT)
    return register(trials, sponsor, primary=NO_HASH, secondary=NO_HASH, commitment=commitment).return_value
