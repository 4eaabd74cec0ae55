"""Indexer fixtures: a deployment made through the library, a scripted flow, a throwaway PostgreSQL."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from eth_utils.abi import event_abi_to_log_topic
from web3 import Web3

from carechain.clients.access import AccessClient
from carechain.clients.consent import ConsentClient
from carechain.clients.credentials import CredentialClient
from carechain.clients.records import RecordClient
from carechain.clients.trials import TrialClient
from carechain.core.deployments import deploy, load_abi
from carechain.core.purposes import Scope, purpose_id, trial_purpose
from carechain.core.sender import Sender
from carechain.dev.localpg import pg_server
from carechain.index.indexer import Indexer, events_table

REPO = Path(__file__).parents[2]
LABS = int(Scope.LABS)


def make_project(folder: Path) -> Path:
    """A project folder holding the compiled contracts; deploys write its deployments/ and abi/."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "build").symlink_to(REPO / "build")
    return folder


def deploy_on(w3: Web3, root: Path) -> None:
    deploy(w3, Sender(w3, w3.eth.accounts[0]), root)


def as_(kind: Any, w3: Web3, root: Path, index: int) -> Any:
    """A client of `kind` acting as the node's unlocked account `index`."""
    return kind.from_manifest(w3, root, Sender(w3, w3.eth.accounts[index]))


def scripted_flow(w3: Web3, root: Path, salt: str = "") -> None:
    """Consents granted and revoked, credentials, a record anchored and read, a trial with an enrolment.

    `salt` changes record ids and hashes, so two runs at the same heights make different blocks.
    """
    admin, patient, gp, custodian, irb, sponsor, site, subject = w3.eth.accounts[:8]
    label = salt.encode()
    credentials = as_(CredentialClient, w3, root, 0)
    credentials.add_registrar(admin)
    for account, role in ((gp, "PROVIDER"), (custodian, "CUSTODIAN"), (irb, "IRB"), (site, "RESEARCHER")):
        credentials.attest(account, role, Web3.keccak(text=f"licence {account} {salt}"))
    consents = as_(ConsentClient, w3, root, 1)
    consents.grant(gp, purpose_id("HMB"), LABS)
    consents.grant(sponsor, purpose_id("GRU"), LABS)
    consents.revoke(gp, purpose_id("HMB"))
    record = Web3.keccak(b"record" + label)
    as_(RecordClient, w3, root, 3).anchor(record, patient, 7, Web3.keccak(b"v0" + label))
    as_(AccessClient, w3, root, 1).grant_access(patient, gp, LABS, 2**40)
    as_(AccessClient, w3, root, 3).log_access(gp, record, purpose_id("TREAT"))
    trials = as_(TrialClient, w3, root, 5)
    _, trial_id = trials.register(
        Web3.keccak(b"protocol" + label), LABS, irb, Web3.keccak(b"primary"), Web3.keccak(b"secondary")
    )
    trials.add_site(trial_id, site)
    as_(TrialClient, w3, root, 4).approve(trial_id, 1)
    as_(ConsentClient, w3, root, 7).grant(trials.address, trial_purpose(trial_id, 1), LABS)
    as_(TrialClient, w3, root, 6).enroll(trial_id, subject)


def chain_counts(w3: Web3, indexer: Indexer) -> Counter[str]:
    """Events per name, straight from one eth_getLogs over the whole chain, decoded by web3."""
    names = {}
    for contract, address in indexer.addresses.items():
        for entry in load_abi(indexer.root, contract):
            if entry["type"] == "event":
                names[(address, event_abi_to_log_topic(entry))] = entry["name"]
    logs = w3.eth.get_logs(
        {
            "address": list(indexer.addresses.values()),
            "fromBlock": 0,
            "toBlock": w3.eth.block_number,
        }
    )
    return Counter(names[(log["address"], bytes(log["topics"][0]))] for log in logs)


@pytest.fixture
def w3() -> Web3:
    from brownie import web3

    return Web3(Web3.HTTPProvider(web3.provider.endpoint_uri))


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project folder whose manifest gets the contracts brownie's chain holds for this module."""
    from brownie import web3

    folder = make_project(tmp_path_factory.mktemp("project"))
    deploy_on(Web3(Web3.HTTPProvider(web3.provider.endpoint_uri)), folder)
    return folder


# ---- PostgreSQL ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    started = time.monotonic()
    with pg_server() as url:
        print(f"PostgreSQL started in {time.monotonic() - started:.1f}s")
        yield url


_databases = iter(range(1, 1_000_000))


@pytest.fixture
def pg_url(postgres: str) -> str:
    """A fresh, empty database on the throwaway server."""
    return create_database(postgres, f"index_{next(_databases)}")


def create_database(postgres: str, name: str) -> str:
    """The URL of a new, empty database `name` on the throwaway server."""
    engine = sa.create_engine(
        postgres.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as db:
        db.execute(sa.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return postgres.replace("/postgres?", f"/{name}?")


def without_ids(indexer: Indexer) -> list[tuple[Any, ...]]:
    """The index's rows as comparable tuples, in chain order."""
    return [tuple(row[c.name] for c in events_table.c if c.name != "id") for row in indexer.events()]
