"""Audit fixtures: a deployment made through the library and a history of every kind built on it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from carechain.clients.access import AccessClient
from carechain.clients.consent import ANY_GRANTEE, ConsentClient
from carechain.clients.credentials import CredentialClient
from carechain.clients.records import RecordClient
from carechain.clients.trials import TrialClient
from carechain.core.deployments import deploy
from carechain.core.purposes import Scope, purpose_id, trial_purpose
from carechain.core.sender import Sender
from carechain.index.indexer import Indexer

REPO = Path(__file__).parents[2]
LABS = int(Scope.LABS)
IMAGING = int(Scope.IMAGING)
GENOMICS = int(Scope.GENOMICS)
DAY = 86_400
PRIMARY = Web3.keccak(text="primary: HbA1c at 26 weeks")
SECONDARY = Web3.keccak(text="secondary: body weight at 26 weeks")


def make_project(folder: Path) -> Path:
    """A project folder holding the compiled contracts; a deploy writes its deployments/ and abi/."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "build").symlink_to(REPO / "build")
    return folder


def as_(kind: Any, w3: Web3, root: Path, account: str | LocalAccount) -> Any:
    """A client of `kind` acting as `account` (one of the node's unlocked accounts, or a local key)."""
    return kind.from_manifest(w3, root, Sender(w3, account))


def latest_time(w3: Web3) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


def mine_at(w3: Web3, timestamp: int) -> None:
    """Mine one block at `timestamp` (Anvil), so views and the audit see that time."""
    for method, params in (("evm_setNextBlockTimestamp", [timestamp]), ("evm_mine", [])):
        response = w3.provider.make_request(method, params)  # type: ignore[arg-type]
        assert "error" not in response, response


@dataclass
class Story:
    """Who did what in `build_story`: the accounts, records, episodes and trial the tests ask about."""

    patient: str
    gp: str
    specialist: str
    custodian: str
    er: str
    er2: str
    reviewer: str
    researcher: str
    vendor: str
    former: str
    delegate: str
    sponsor: str
    site: str
    subject: str
    dropout: str
    lab_record: bytes
    scan_record: bytes
    episode: int
    reviewed_episode: int
    trial_id: int
    vendor_expiry: int
    gp_grant_tx: str
    scan_grant_tx: str
    roots: list[bytes]


def build_story(w3: Web3, root: Path) -> Story:
    """Consents granted, revoked and about to expire, a delegate, category and one-record access grants
    (one revoked), reads under a grant and under break-glass, an open and a reviewed episode, and a
    trial amended, approved, enrolled, withdrawn from, committed to, locked and reported."""
    a = w3.eth.accounts
    admin, patient, gp, custodian, irb, sponsor, site, subject, er, reviewer = a[:10]
    # Signers of their own, beyond the node's ten: a second ER doctor, a trial dropout, the sponsor's new key.
    er2_key, dropout_key, new_sponsor_key = Account.create(), Account.create(), Account.create()
    er2, dropout = er2_key.address, dropout_key.address
    for key in (er2, dropout, new_sponsor_key.address):
        w3.eth.send_transaction({"from": admin, "to": key, "value": 10**18})
    specialist = Account.create().address
    researcher, vendor, former, delegate = (Account.create().address for _ in range(4))
    registrar = as_(CredentialClient, w3, root, admin)
    registrar.add_registrar(admin)
    for account, role in (
        (gp, "PROVIDER"),
        (specialist, "PROVIDER"),
        (custodian, "CUSTODIAN"),
        (irb, "IRB"),
        (site, "RESEARCHER"),
        (er, "EMERGENCY"),
        (er2, "EMERGENCY"),
        (reviewer, "REVIEWER"),
    ):
        registrar.attest(account, role, Web3.keccak(text=f"licence {account} {role}"))
    now = latest_time(w3)

    consents = as_(ConsentClient, w3, root, patient)
    consents.grant(researcher, purpose_id("HMB"), LABS | GENOMICS)
    consents.grant(ANY_GRANTEE, purpose_id("GRU"), LABS)
    consents.grant(vendor, purpose_id("TREAT"), LABS, now + 600)
    consents.grant(former, purpose_id("HMB"), LABS)
    consents.revoke(former, purpose_id("HMB"))
    consents.set_delegate(delegate)

    lab_record, scan_record = Web3.keccak(text="lab 1"), Web3.keccak(text="scan 1")
    records = as_(RecordClient, w3, root, custodian)
    records.anchor(lab_record, patient, 7, Web3.keccak(text="lab 1 v0"))
    records.anchor(scan_record, patient, 8, Web3.keccak(text="scan 1 v0"))

    access = as_(AccessClient, w3, root, patient)
    gp_grant = access.grant_access(patient, gp, LABS, now + DAY)
    scan_grant = access.grant_record_access(gp, scan_record, now + DAY)
    access.grant_access(patient, specialist, LABS | IMAGING, now + DAY)
    access.revoke_access(patient, specialist)
    gateway = as_(AccessClient, w3, root, custodian)
    gateway.log_access(gp, lab_record, purpose_id("TREAT"))
    gateway.log_access(gp, scan_record, purpose_id("TREAT"))

    _, episode = as_(AccessClient, w3, root, er).break_glass(patient, purpose_id("ETREAT"), 3600)
    gateway.log_access(er, lab_record, purpose_id("ETREAT"))
    _, reviewed = as_(AccessClient, w3, root, er2_key).break_glass(patient, purpose_id("ETREAT"), 3600)
    as_(AccessClient, w3, root, reviewer).review(reviewed, True)

    trials = as_(TrialClient, w3, root, sponsor)
    _, trial_id = trials.register(Web3.keccak(text="protocol v1"), LABS, irb, PRIMARY, SECONDARY)
    trials.add_site(trial_id, site)
    as_(TrialClient, w3, root, irb).approve(trial_id, 1)
    trials.amend(trial_id, Web3.keccak(text="protocol v2"), False)
    as_(TrialClient, w3, root, irb).approve(trial_id, 2)
    at_site = as_(TrialClient, w3, root, site)
    for person in (subject, dropout_key):
        as_(ConsentClient, w3, root, person).grant(trials.address, trial_purpose(trial_id, 1), LABS)
        at_site.enroll(trial_id, dropout if person is dropout_key else subject)
    at_site.withdraw(trial_id, dropout)
    roots = [Web3.keccak(text=f"batch {n}") for n in range(2)]
    for n, batch_root in enumerate(roots):
        at_site.commit_batch(trial_id, batch_root, 10 + n)
    trials.lock(trial_id)
    trials.report_results(trial_id, Web3.keccak(text="results"), PRIMARY, SECONDARY)
    trials.transfer_sponsor(trial_id, new_sponsor_key.address)  # the sponsor rotates its key
    as_(TrialClient, w3, root, new_sponsor_key).accept_sponsor(trial_id)
    return Story(
        patient, gp, specialist, custodian, er, er2, reviewer, researcher, vendor, former, delegate,
        sponsor, site, subject, dropout, lab_record, scan_record, episode, reviewed, trial_id, now + 600,
        gp_grant.tx_hash, scan_grant.tx_hash, roots,
    )  # fmt: skip


@pytest.fixture
def w3() -> Web3:
    from brownie import web3

    return Web3(Web3.HTTPProvider(web3.provider.endpoint_uri))


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project folder whose manifest gets the contracts brownie's chain holds for this module."""
    from brownie import web3

    folder = make_project(tmp_path_factory.mktemp("project"))
    node = Web3(Web3.HTTPProvider(web3.provider.endpoint_uri))
    deploy(node, Sender(node, node.eth.accounts[0]), folder)
    return folder


@pytest.fixture
def story(w3: Web3, root: Path) -> Story:
    return build_story(w3, root)


@pytest.fixture
def index(w3: Web3, root: Path, tmp_path: Path, story: Story) -> Indexer:
    """The story indexed into a fresh SQLite file."""
    indexer = Indexer(w3, root, str(tmp_path / "index.db"))
    indexer.sync()
    return indexer
