"""A hospital's gateway on a throwaway local chain, for a person to try with curl (`make gateway`).

`python -m carechain.dev.gateway_local` starts Anvil, deploys CareChain, attests credentials (the
hospital as CUSTODIAN, a GP and a specialist as PROVIDER, an ER physician as EMERGENCY), lets the
patient grant the GP their labs, ingests a lab result through the gateway and serves it; it prints
the URL and curl lines. Ctrl-C (or SIGTERM) stops the gateway and the chain. The benchmark
(`benchmarks/gateway.py`) stands up the same cast.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import Wei

from carechain.clients.access import AccessClient
from carechain.clients.credentials import CredentialClient
from carechain.clients.records import RecordClient, category_bit
from carechain.core.config import project_root
from carechain.core.deployments import deploy
from carechain.core.purposes import Scope
from carechain.core.sender import Sender
from carechain.core.transport import connect
from carechain.dev.localnode import find_anvil, free_port, local_node
from carechain.dev.portal import chain_data
from carechain.errors import CareChainError, ToolchainError
from carechain.services.gateway import crypto
from carechain.services.gateway.app import create_app
from carechain.services.gateway.receipts import DEFAULT_BATCH_INTERVAL, LOG_MODES
from carechain.services.gateway.service import GatewayService
from carechain.services.gateway.store import Store

DEFAULT_PORT = 8600
DEFAULT_CHAIN_PORT = 8545
DAY = 86_400
LAB_RESULT = json.dumps(
    {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7", "display": "Glucose"}]},
        "valueQuantity": {"value": 5.4, "unit": "mmol/L"},
    }
).encode()


@dataclass(frozen=True)
class Cast:
    """Fresh keys for one run: the hospital (custodian), the patient, a GP, a specialist, an ER physician."""

    hospital: LocalAccount
    patient: LocalAccount
    gp: LocalAccount
    specialist: LocalAccount
    er: LocalAccount

    @classmethod
    def fresh(cls) -> Cast:
        return cls(*(Account.create() for _ in range(5)))


def stand_up(w3: Web3, data: Path, deployer: str, cast: Cast) -> None:
    """Deploy on `w3` into the project folder `data`, fund and credential the cast, grant the GP the labs.

    `deployer` is a node-unlocked account with ether (Anvil's first): admin and registrar.
    """
    admin = Sender(w3, deployer)
    deploy(w3, admin, data)
    for account in (cast.hospital, cast.patient, cast.er):
        w3.eth.wait_for_transaction_receipt(
            w3.eth.send_transaction({"from": deployer, "to": account.address, "value": Wei(10**19)})
        )
    registry = CredentialClient.from_manifest(w3, data, admin)
    registry.add_registrar(deployer)
    for account, role in (
        (cast.hospital, "CUSTODIAN"),
        (cast.gp, "PROVIDER"),
        (cast.specialist, "PROVIDER"),
        (cast.er, "PROVIDER"),
        (cast.er, "EMERGENCY"),
    ):
        registry.attest(account.address, role, os.urandom(32))
    patient = AccessClient.from_manifest(w3, data, Sender(w3, cast.patient))
    now = int(w3.eth.get_block("latest")["timestamp"])
    patient.grant_access(cast.patient.address, cast.gp.address, int(Scope.LABS), now + 30 * DAY)


def open_service(
    w3: Web3, data: Path, hospital: LocalAccount, db_url: str, key: bytes, **options: Any
) -> GatewayService:
    """The hospital's gateway on `w3`: its chain key, custodian key `key`, database `db_url`;
    `options` are GatewayService's (log_mode, confirmations, batch_interval)."""
    sender = Sender(w3, hospital)
    return GatewayService(
        Store(db_url),
        crypto.Keyring((key,)),
        RecordClient.from_manifest(w3, data, sender),
        AccessClient.from_manifest(w3, data, sender),
        **options,
    )


@contextmanager
def serving(
    service: GatewayService, token: str | None, host: str = "127.0.0.1", port: int | None = None
) -> Iterator[str]:
    """The gateway's app on a real uvicorn in a thread (its batcher runs in receipts mode); yields its URL."""
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(service, token), host=host, port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="carechain-gateway", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise ToolchainError(f"the gateway did not start on {host}:{port}")
        time.sleep(0.05)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


# ---- python -m carechain.dev.gateway_local ----------------------------------------------------------


def _stop(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _check_free(port: int) -> None:
    import socket

    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", port)) == 0:
            raise CareChainError(f"port {port} is in use: stop what listens there or pick another port")


def run_local(
    root: Path,
    host: str,
    port: int,
    chain_port: int,
    log_mode: str,
    confirmations: int,
    batch_interval: float,
    block_time: int | None,
) -> None:
    """Anvil, deploy, credentials, a lab result, the gateway; returns on Ctrl-C, having stopped them."""
    for busy in (chain_port, port):
        _check_free(busy)
    signal.signal(signal.SIGTERM, _stop)  # a plain `kill` stops everything as Ctrl-C does
    with ExitStack() as stack:
        node = stack.enter_context(local_node(find_anvil(root), port=chain_port))
        w3 = connect(node.url)
        data = chain_data(Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gateway-"))), root)
        print(f"Anvil on {node.url} (chain {w3.eth.chain_id}); deploying…", flush=True)
        cast = Cast.fresh()
        stand_up(w3, data, w3.eth.accounts[0], cast)
        if block_time:  # from now on a block every `block_time` seconds, as on a public chain
            w3.provider.make_request("evm_setIntervalMining", [block_time])  # type: ignore[arg-type]
        token = os.urandom(16).hex()
        service = open_service(
            w3,
            data,
            cast.hospital,
            f"sqlite:///{data / 'gateway.db'}",
            crypto.new_key(),
            log_mode=log_mode,
            confirmations=confirmations,
            batch_interval=batch_interval,
        )
        lab = os.urandom(32)
        service.put(lab, cast.patient.address, category_bit("labs"), LAB_RESULT, "application/fhir+json")
        url = stack.enter_context(serving(service, token, host, port))
        print(_instructions(url, node.url, data, cast, token, lab, service), flush=True)
        while True:
            time.sleep(3600)


def _instructions(
    url: str, rpc: str, data: Path, cast: Cast, token: str, lab: bytes, service: GatewayService
) -> str:
    rid = "0x" + lab.hex()
    cc = f"carechain --rpc-url {rpc} --root {data}"
    mode = (
        f"reads logged by transaction ({service.confirmations} confirmations)"
        if service.log_mode == "tx"
        else f"reads logged by signed receipts, their root committed every {service.batch_interval:g}s"
    )
    content = "eyJyZXNvdXJjZVR5cGUiOiAiT2JzZXJ2YXRpb24ifQ=="  # {"resourceType": "Observation"}
    return f"""
record gateway: {url}   (OpenAPI: {url}/docs; {mode})
  the hospital (custodian)  {cast.hospital.address}
  the patient               {cast.patient.address}   granted the GP their labs for 30 days
  the GP                    {cast.gp.address}   key 0x{bytes(cast.gp.key).hex()}
  the specialist (no grant) {cast.specialist.address}   key 0x{bytes(cast.specialist.key).hex()}
  a lab result (FHIR Observation) is stored as record {rid}

  curl -s {url}/info
  curl -s -X POST {url}/records -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' \\
    -d '{{"patient": "{cast.patient.address}", "category": "labs", "content": "{content}"}}'
  # the GP signs a read request (EIP-712) and posts it; the specialist gets 403:
  curl -s -X POST {url}/records/{rid}/read -H 'Content-Type: application/json' \\
    -d "$(PRIVATE_KEY=0x{bytes(cast.gp.key).hex()} carechain gateway sign-read {rid} --url {url})"
  PRIVATE_KEY=0x{bytes(cast.specialist.key).hex()} carechain gateway get {rid} --url {url}
  # the patient lists who read what:
  {cc} access reads --patient {cast.patient.address}
Ctrl-C stops the gateway and the chain."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m carechain.dev.gateway_local", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface (default: loopback only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument(
        "--chain-port",
        type=int,
        default=DEFAULT_CHAIN_PORT,
        help=f"Anvil's port (default {DEFAULT_CHAIN_PORT})",
    )
    parser.add_argument("--root", type=Path, help="project folder (default: found from the working folder)")
    parser.add_argument("--log-mode", choices=LOG_MODES, default="tx", help="tx (default) or receipts")
    parser.add_argument(
        "--confirmations", type=int, default=0, help="tx mode: blocks on top of a log (default 0)"
    )
    parser.add_argument(
        "--batch-interval",
        type=float,
        default=DEFAULT_BATCH_INTERVAL,
        help=f"receipts mode: seconds between commits (default {DEFAULT_BATCH_INTERVAL:g})",
    )
    parser.add_argument(
        "--block-time", type=int, help="after the set-up, mine a block every N seconds (default: at once)"
    )
    args = parser.parse_args(argv)
    try:
        if (
            args.confirmations < 0
            or args.batch_interval <= 0
            or (args.block_time is not None and args.block_time < 1)
        ):
            raise CareChainError(
                "--confirmations is 0 or more, --batch-interval above 0, --block-time 1 or more"
            )
        root = (args.root or project_root()).resolve()
        run_local(
            root,
            args.host,
            args.port,
            args.chain_port,
            args.log_mode,
            args.confirmations,
            args.batch_interval,
            args.block_time,
        )
    except CareChainError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
