"""Helpers of the fault tests: nodes of their own, a provider that races or loses answers, a silent server."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_account.typed_transactions import TypedTransaction
from hexbytes import HexBytes
from web3 import Web3

from carechain.core.deployments import load_artifact
from carechain.core.purposes import Scope, purpose_id
from carechain.core.sender import Sender
from carechain.core.transport import RetryPolicy
from carechain.dev.localnode import LocalNode

REPO = Path(__file__).parents[2]
# Anvil's second dev account (mnemonic "test test ... junk"): a funded key on every fresh LocalNode.
PATIENT_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
FAST = RetryPolicy(attempts=3, backoff=0.05, timeout=5.0)  # small in tests
HMB = purpose_id("HMB")
LABS = int(Scope.LABS)
GWEI = 10**9


def make_project(folder: Path) -> Path:
    """A project folder holding the compiled contracts; deploys write its deployments/ and abi/."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "build").symlink_to(REPO / "build")
    return folder


@contextmanager
def node(*extra: str) -> Iterator[LocalNode]:
    """A LocalNode of the test's own, with extra anvil flags; stopped however the test ends."""
    local = LocalNode()
    local.args += list(extra)
    local.start()
    try:
        yield local
    finally:
        local.stop()


def rpc(w3: Web3, method: str, *params: Any) -> Any:
    response = w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    assert "error" not in response, response
    return response["result"]


class HookedProvider(Web3.HTTPProvider):
    """Forwards to a node, counting requests; `before[method]` runs once just before the next such request
    goes out (another sender racing this one), `after[method]` once on its answer (and may lose it)."""

    def __init__(self, url: str) -> None:
        super().__init__(url, request_kwargs={"timeout": 10}, exception_retry_configuration=None)
        self.before: dict[str, Callable[[list[Any]], None]] = {}
        self.after: dict[str, Callable[[Any], None]] = {}
        self.counts: Counter[str] = Counter()

    def make_request(self, method: Any, params: Any) -> Any:
        self.counts[method] += 1
        if hook := self.before.pop(method, None):
            hook(params)
        response = super().make_request(method, params)
        if hook := self.after.pop(method, None):
            hook(response)
        return response


def lose_answer(_: Any) -> None:
    """The node got the request and answered, but the answer never arrived."""
    raise requests.exceptions.ReadTimeout("read timed out (answer lost on the way back)")


def decode_raw(raw: Any) -> dict[str, Any]:
    """The fields of a signed EIP-1559 transaction as eth_sendRawTransaction carries it."""
    fields = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
    return {k: v for k, v in fields.items() if k not in {"v", "r", "s", "type"}}


def sign(account: LocalAccount, tx: dict[str, Any]) -> Any:
    return account.sign_transaction(tx)  # type: ignore[arg-type]


def transfer(w3: Web3, account: LocalAccount, nonce: int, fee: int = 100 * GWEI, tip: int = 10 * GWEI) -> str:
    """A plain transfer from `account` at `nonce`, sent straight to the node (behind the Sender's back)."""
    signed = sign(
        account,
        {
            "to": "0x" + "11" * 20,
            "value": 1,
            "gas": 21_000,
            "nonce": nonce,
            "chainId": w3.eth.chain_id,
            "maxFeePerGas": fee,
            "maxPriorityFeePerGas": tip,
        },
    )
    return "0x" + bytes(w3.eth.send_raw_transaction(signed.raw_transaction)).hex()


def consent_registry(w3: Web3) -> Any:
    """A ConsentRegistry deployed by the node's first unlocked account."""
    artifact = load_artifact(REPO, "ConsentRegistry")
    deployer = Sender(w3, w3.eth.accounts[0], retry=FAST)
    result = deployer.transact(deployer.constructor(artifact.abi, artifact.bytecode), artifact.abi)
    return w3.eth.contract(result.contract_address, abi=artifact.abi)


def patient() -> LocalAccount:
    key: LocalAccount = Account.from_key(PATIENT_KEY)
    return key


def mined_from(w3: Web3, address: str, since: int = 0) -> list[dict[str, Any]]:
    """Every mined transaction sent by `address`, in chain order."""
    found = []
    for number in range(since, w3.eth.block_number + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            if tx["from"] == address:  # type: ignore[index]
                found.append(dict(tx))  # type: ignore[arg-type]
    return found


class SilentServer:
    """Accepts TCP connections and never answers: a node that hangs. Records when each connection came."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(32)
        self.socket.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.accepted: list[float] = []
        self.connections: list[socket.socket] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(time.monotonic())
            self.connections.append(connection)

    def gaps(self) -> list[float]:
        return [b - a for a, b in zip(self.accepted, self.accepted[1:], strict=False)]

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=2)
        for connection in self.connections:
            connection.close()
        self.socket.close()


@contextmanager
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    try:
        yield server
    finally:
        server.close()
