"""Relayer fixtures: tests/conftest.py's ConsentRegistry, a relayer on it (accounts[4] pays the gas), patients
who only sign (fresh keys with no ether), and the relayer's HTTP API through FastAPI's TestClient.

The relayer is the library's, on its own Web3 connection to brownie's Anvil. Each test gets a fresh
database, since the chain is rolled back after each test.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from brownie import chain, web3
from conftest import HMB, LABS
from eth_account import Account
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient
from web3 import Web3

from carechain.clients.consent import ConsentClient
from carechain.core.sender import Sender
from carechain.dev.localnode import free_port
from carechain.services.relay.app import create_app
from carechain.services.relay.service import Rate, RelayService
from carechain.services.relay.store import Store


def soon(seconds: int = 3600) -> int:
    """A deadline `seconds` ahead of the relayer's "now": the later of the wall clock, brownie's clock
    (behind after a revert to an older snapshot) and the latest block (minutes old when none was mined)."""
    return max(int(time.time()), chain.time(), web3.eth.get_block("latest")["timestamp"]) + seconds


class Clock:
    """A monotonic clock the test moves by hand (the rate limiter's)."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def w3() -> Web3:
    return Web3(Web3.HTTPProvider(web3.provider.endpoint_uri))


@pytest.fixture
def consents(w3: Web3, registry: Any, relayer: Any) -> ConsentClient:
    """The relayer's ConsentRegistry client: brownie's unlocked accounts[4] pays the gas."""
    return ConsentClient(w3, registry.address, registry.abi, Sender(w3, str(relayer)))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_service(consents: ConsentClient, clock: Clock, tmp_path: Path) -> Callable[..., RelayService]:
    """A relayer on the test's SQLite database (or `db_url`), paying `rate` requests per patient."""
    url = f"sqlite:///{tmp_path / 'relay.db'}"

    def make(rate: str = "100/h", db_url: str = url) -> RelayService:
        return RelayService(Store(db_url), consents, Rate.parse(rate), clock)

    return make


@pytest.fixture
def service(make_service: Callable[..., RelayService]) -> RelayService:
    return make_service()


@pytest.fixture
def api(service: RelayService) -> Iterator[TestClient]:
    """The relayer's HTTP API in-process (no background follower: statuses move when read)."""
    with TestClient(create_app(service, poll=0)) as client:
        yield client


@pytest.fixture
def patient_key() -> LocalAccount:
    """A patient who only signs: a fresh key with no ether."""
    account: LocalAccount = Account.create()
    return account


def grantee_address() -> str:
    return str(Account.create().address)


def signed_grant(
    consents: ConsentClient,
    patient: LocalAccount,
    grantee: str | None = None,
    *,
    purpose: bytes = HMB,
    scopes: int = LABS,
    expires_at: int = 0,
    nonce: int | None = None,
    deadline: int | None = None,
) -> dict[str, Any]:
    """A signed consent as `carechain consent sign -o` writes it, parsed: the body a client posts."""
    signed = consents.sign_grant(
        patient,
        grantee or grantee_address(),
        purpose,
        scopes,
        expires_at,
        deadline=soon() if deadline is None else deadline,
        nonce=nonce,
    )
    return dict(json.loads(signed.to_json()))


def signed_revoke(
    consents: ConsentClient,
    patient: LocalAccount,
    grantee: str,
    *,
    purpose: bytes = HMB,
    nonce: int | None = None,
    deadline: int | None = None,
) -> dict[str, Any]:
    """A signed revocation as `carechain consent sign-revoke -o` writes it, parsed."""
    signed = consents.sign_revoke(
        patient, grantee, purpose, deadline=soon() if deadline is None else deadline, nonce=nonce
    )
    return dict(json.loads(signed.to_json()))


def relayer_state(w3: Web3, relayer: Any) -> tuple[int, int]:
    """What a transaction would change: the relayer's balance and its nonce."""
    address = Web3.to_checksum_address(str(relayer))
    return int(w3.eth.get_balance(address)), int(w3.eth.get_transaction_count(address))


def refused(response: Any, status: int, error: str) -> str:
    """A refusal: the status, the error code, a one-sentence detail."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error, body
    detail = str(body["detail"])
    assert detail.endswith((".", "?")) and "\n" not in detail, detail
    return detail


@pytest.fixture
def no_automine(w3: Web3) -> Iterator[None]:
    """Anvil holds transactions in its pool until `mine()`: a submission stays in flight."""
    w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    try:
        yield
    finally:  # what is still in the pool goes into a block, so no later test inherits it
        mine(w3)
        w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]


def mine(w3: Web3) -> None:
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


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
