"""Gateway fixtures: tests/conftest.py's contracts, a hospital's gateway on them, a GP, a specialist, the ER.

The gateway is the library's, on its own Web3 connection to brownie's Anvil; its custodian key
comes from the environment (CARECHAIN_GATEWAY_KEY), as in production. Each test gets a fresh
database, since the chain is rolled back after each test.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from brownie import accounts, chain, web3
from conftest import CREDENTIAL_ROLES, attest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from carechain.clients.access import AccessClient, Read
from carechain.clients.records import RecordClient
from carechain.core.purposes import Scope, purpose_id
from carechain.core.sender import Sender
from carechain.dev.localnode import free_port
from carechain.errors import ChainUnreachable
from carechain.services.gateway import crypto, requests
from carechain.services.gateway.app import create_app
from carechain.services.gateway.requests import ReadRequest
from carechain.services.gateway.service import GatewayService
from carechain.services.gateway.store import Store

LABS_BIT = int(Scope.LABS).bit_length() - 1
TREAT = purpose_id("TREAT")
ETREAT = purpose_id("ETREAT")
TOKEN = "custodian-token-for-tests"
LAB_RESULT = json.dumps(
    {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7", "display": "Glucose"}]},
        "valueQuantity": {"value": 5.4, "unit": "mmol/L"},
    }
).encode()


def credential(credentials: Any, registrar: Any, holder: str, role: str) -> None:
    attest(credentials, registrar, holder, CREDENTIAL_ROLES[role])


@pytest.fixture(autouse=True)
def custodian_key(monkeypatch: pytest.MonkeyPatch) -> bytes:
    """A fresh custodian key per test, in the environment only."""
    key = crypto.new_key()
    monkeypatch.setenv(crypto.KEY_ENV, key.hex())
    monkeypatch.delenv(crypto.KEY_FILE_ENV, raising=False)
    return key


@pytest.fixture(scope="module")
def gp(credentials: Any, registrar: Any) -> LocalAccount:
    """A GP's key (signs requests only; holds no ether) with a PROVIDER credential."""
    account: LocalAccount = Account.create()
    credential(credentials, registrar, account.address, "PROVIDER")
    return account


@pytest.fixture(scope="module")
def specialist(credentials: Any, registrar: Any) -> LocalAccount:
    """A credentialed provider the patient never granted anything."""
    account: LocalAccount = Account.create()
    credential(credentials, registrar, account.address, "PROVIDER")
    return account


@pytest.fixture(scope="module")
def er(credentials: Any, registrar: Any) -> LocalAccount:
    """An emergency physician: EMERGENCY and PROVIDER credentials, ether to open break-glass."""
    account: LocalAccount = Account.create()
    credential(credentials, registrar, account.address, "EMERGENCY")
    credential(credentials, registrar, account.address, "PROVIDER")
    accounts[0].transfer(account.address, "1 ether", silent=True)
    return account


@pytest.fixture
def w3() -> Web3:
    return Web3(Web3.HTTPProvider(web3.provider.endpoint_uri))


def clients(w3: Web3, records: Any, access: Any, custodian: Any) -> tuple[RecordClient, AccessClient]:
    sender = Sender(w3, str(custodian))
    return (
        RecordClient(w3, records.address, records.abi, sender),
        AccessClient(w3, access.address, access.abi, sender),
    )


@pytest.fixture
def make_service(
    w3: Web3, records: Any, access: Any, custodian: Any, tmp_path: Path
) -> Callable[..., GatewayService]:
    """A gateway on the test's SQLite database (or `db_url`), with the environment's keys (or `keyring`);
    `options` are GatewayService's (log_mode, confirmations, batch_interval)."""
    url = f"sqlite:///{tmp_path / 'gateway.db'}"

    def make(
        window: int = 60, keyring: crypto.Keyring | None = None, db_url: str = url, **options: Any
    ) -> GatewayService:
        record_client, access_client = clients(w3, records, access, custodian)
        return GatewayService(
            Store(db_url),
            keyring or crypto.load_keyring(),
            record_client,
            access_client,
            window,
            **options,
        )

    return make


@pytest.fixture
def service(make_service: Callable[..., GatewayService]) -> GatewayService:
    return make_service()


@pytest.fixture
def lab(service: GatewayService, patient: Any) -> bytes:
    """The hospital has ingested one lab result of the patient (an Observation) through its gateway."""
    record_id = os.urandom(32)
    service.put(record_id, str(patient), LABS_BIT, LAB_RESULT, "application/fhir+json")
    return record_id


@pytest.fixture
def gp_granted(access: Any, patient: Any, gp: LocalAccount) -> LocalAccount:
    """The patient granted the GP their labs for a day."""
    access.grantAccess(patient, gp.address, int(Scope.LABS), chain.time() + 86400, {"from": patient})
    return gp


@pytest.fixture
def er_in_glass(access: Any, patient: Any, er: LocalAccount) -> LocalAccount:
    """The ER physician opened break-glass on the patient (their key sends it)."""
    doctor = accounts.add("0x" + bytes(er.key).hex())
    access.breakGlass(patient, ETREAT, 3600, {"from": doctor})
    return er


def unreachable() -> Web3:
    """A connection to a port nothing listens on: a node that is down."""
    return Web3(Web3.HTTPProvider(f"http://127.0.0.1:{free_port()}"))


@pytest.fixture
def node_down_for(service: GatewayService) -> Callable[..., None]:
    """Run a put while the node does not answer (the anchor fails; the version stays stored, pending)."""

    def put(*args: Any) -> None:
        live = service.records
        service.records = RecordClient(unreachable(), live.address, live.abi, live.sender)
        try:
            with pytest.raises(ChainUnreachable):
                service.put(*args)
        finally:
            service.records = live

    return put


def ask(service: GatewayService, provider: LocalAccount, record_id: bytes, **overrides: Any) -> ReadRequest:
    """A read request signed by `provider` for `service`, fields overridable (forgeries, old requests)."""
    fields = {
        "record_id": record_id,
        "purpose": TREAT,
        "gateway": service.gateway,
        "chain_id": service.chain_id,
        "access_grants": service.access.address,
        **overrides,
    }
    return requests.sign(provider, **fields)


def logged(service: GatewayService, record_id: bytes) -> list[Read]:
    """The RecordAccessed events of one record: what the chain says was read."""
    return service.access.reads(record=record_id)


@pytest.fixture
def http_server() -> Iterator[Callable[[Any], str]]:
    """Serve an ASGI app with a real uvicorn on a free port, in a thread; returns its URL."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def serve(app: Any) -> str:
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        servers.append((server, thread))
        return f"http://127.0.0.1:{port}"

    yield serve
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=20)


@pytest.fixture
def app(service: GatewayService) -> Any:
    return create_app(service, TOKEN)
