"""The local stacks behind `make portal` and `make gateway`: CareChain on a throwaway Anvil, to try.

Each stack starts an Anvil of its own, deploys into a throwaway folder (the chain goes when it stops),
gives a cast credentials, serves what there is to try from threads, prints how, and stops it all on
Ctrl-C (or SIGTERM).

- `python -m carechain.dev.stacks portal` (`make portal`): a patient's story (`seed_story`), the
  relayer and the page (`carechain.dev.portal`), for a browser wallet; `--patient` makes the wallet's
  own account the patient.
- `python -m carechain.dev.stacks gateway` (`make gateway`): the hospital as CUSTODIAN, a GP and a
  specialist as PROVIDER, an ER physician as EMERGENCY, the patient's grant of their labs to the GP,
  a lab result ingested through the hospital's gateway, which is served; it prints curl lines. The
  benchmark (`benchmarks/gateway.py`) stands up the same cast.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import RPCEndpoint, Wei

from carechain.clients.access import AccessClient
from carechain.clients.base import checksum
from carechain.clients.consent import ConsentClient
from carechain.clients.credentials import CredentialClient, license_hash
from carechain.clients.records import RecordClient, category_bit, content_hash, record_id
from carechain.core import purposes
from carechain.core.config import project_root
from carechain.core.deployments import deploy
from carechain.core.sender import Sender
from carechain.core.transport import connect
from carechain.dev import portal
from carechain.dev.localnode import find_anvil, free_port, local_node
from carechain.errors import CareChainError, ConfigError, InputError
from carechain.services.gateway import crypto
from carechain.services.gateway.app import create_app as gateway_app
from carechain.services.gateway.receipts import DEFAULT_BATCH_INTERVAL, LOG_MODES
from carechain.services.gateway.service import GatewayService
from carechain.services.gateway.store import Store as GatewayStore
from carechain.services.relay.app import create_app as relay_app
from carechain.services.relay.service import Rate, RelayService
from carechain.services.relay.store import Store as RelayStore

CHAIN_PORT = 8545  # where browser wallets look for a local chain
GATEWAY_PORT = 8600
DAY = 86_400
SHUTDOWN_GRACE = 2  # seconds a served app gets to finish what it answers once asked to stop

# ---- what both stacks stand on ------------------------------------------------------------------


def chain_data(folder: Path, root: Path) -> Path:
    """A throwaway project folder for one chain: `root`'s build artifacts, its own manifests and ABIs."""
    (folder / "build").mkdir(parents=True, exist_ok=True)
    link = folder / "build" / "contracts"
    if not link.exists():
        link.symlink_to(root / "build" / "contracts", target_is_directory=True)
    return folder


def _check_free(port: int) -> None:
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", port)) == 0:
            raise ConfigError(f"port {port} is in use: stop what listens there, or choose another port")


@contextmanager
def local_chain(root: Path, chain_port: int, port: int, name: str) -> Iterator[tuple[str, Web3, Path]]:
    """An Anvil on `chain_port` and a throwaway project folder for it, if that port and the stack's own
    `port` are free (one clear error before anything starts); yields the node's URL, Web3 and folder."""
    for busy in (chain_port, port):
        _check_free(busy)
    with (
        local_node(find_anvil(root), port=chain_port) as node,
        tempfile.TemporaryDirectory(prefix=f"{name}-") as folder,
    ):
        w3 = connect(node.url)
        print(f"Anvil on {node.url} (chain {w3.eth.chain_id}); deploying…", flush=True)
        yield node.url, w3, chain_data(Path(folder), root)


@contextmanager
def serving_app(app: Any, name: str, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """An ASGI app on a real uvicorn in a thread for the duration of the block (so its lifespan tasks,
    the relayer's poller and the gateway's batcher, run as in production); yields its URL. On the way
    out, a request still open (a browser's kept-alive connection) gets SHUTDOWN_GRACE seconds."""
    port = port or free_port()
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=SHUTDOWN_GRACE
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise ConfigError(f"the {name} did not start on {host}:{port}")
        time.sleep(0.05)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


# ---- the portal: a patient's story, the relayer, the page ---------------------------------------


@dataclass(frozen=True)
class StoryCast:
    """Who acts in `seed_story` besides the patient: node-unlocked accounts (or keys) with ether."""

    admin: str
    custodian: str
    gp: str
    er_doctor: str
    reviewer: str
    parent: str


@dataclass(frozen=True)
class Story:
    patient: str
    record: bytes
    episode: int


def seed_story(w3: Web3, data: Path, patient: str | LocalAccount, cast: StoryCast) -> Story:
    """What a patient's page has to show: St Mary's anchors the patient's lab result, the patient grants
    their GP labs for 30 days and the GP's read is logged, an ER doctor breaks the glass (4 h), reads
    it and is approved by a reviewer, and the patient appoints a delegate for a year."""

    def as_(kind: type[Any], who: str | LocalAccount) -> Any:
        return kind.from_manifest(w3, data, Sender(w3, who))

    address = patient if isinstance(patient, str) else str(patient.address)
    now = int(w3.eth.get_block("latest")["timestamp"])
    salt = os.urandom(16)
    registrar = as_(CredentialClient, cast.admin)
    if not registrar.is_registrar(cast.admin):
        registrar.add_registrar(cast.admin)
    for who, role in (
        (cast.custodian, "CUSTODIAN"),
        (cast.gp, "PROVIDER"),
        (cast.er_doctor, "PROVIDER"),
        (cast.er_doctor, "EMERGENCY"),
        (cast.reviewer, "REVIEWER"),
    ):
        registrar.attest(who, role, license_hash(f"{who}/{role}", salt), 0, now + 365 * DAY)
    record = record_id(salt, "LAB-2026-0042")
    as_(RecordClient, cast.custodian).anchor(
        record, address, category_bit("labs"), content_hash(os.urandom(256))
    )
    as_(AccessClient, patient).grant_access(address, cast.gp, int(purposes.Scope.LABS), now + 30 * DAY)
    hospital = as_(AccessClient, cast.custodian)
    hospital.log_access(cast.gp, record, purposes.purpose_id("TREAT"))
    _, episode = as_(AccessClient, cast.er_doctor).break_glass(
        address, purposes.purpose_id("ETREAT"), 4 * 3600
    )
    hospital.log_access(cast.er_doctor, record, purposes.purpose_id("ETREAT"))
    as_(AccessClient, cast.reviewer).review(episode, True)
    as_(ConsentClient, patient).set_delegate(cast.parent, now + 365 * DAY)
    return Story(address, record, episode)


def serving_relay(
    w3: Web3, data: Path, relayer: str | LocalAccount, db_url: str, rate: str = "60/h", port: int = 0
) -> AbstractContextManager[str]:
    """The relayer (`carechain.services.relay`) for the deployment in `data`, paying from `relayer`;
    yields its URL."""
    client = ConsentClient.from_manifest(w3, data, Sender(w3, relayer))
    service = RelayService(RelayStore(db_url), client, Rate.parse(rate))
    return serving_app(relay_app(service, poll=0.5), "relayer", port=port)


@contextmanager
def portal_stack(root: Path, host: str, port: int, chain_port: int, patient: str | None) -> Iterator[str]:
    """The chain, the story (of `patient`, else Anvil's account 1), the relayer and the page; yields
    what to tell the person."""
    if patient is not None:
        patient = checksum(patient, "patient")
    with ExitStack() as stack:
        rpc, w3, data = stack.enter_context(local_chain(root, chain_port, port, "portal"))
        dev = list(w3.eth.accounts)  # Anvil's ten test accounts, unlocked on the node
        deploy(w3, Sender(w3, dev[0]), data)
        cast = StoryCast(dev[0], dev[2], dev[3], dev[4], dev[5], dev[6])
        if patient is not None:  # a browser wallet's own account: the node acts for it, with ether to spend
            w3.provider.make_request(RPCEndpoint("anvil_impersonateAccount"), [patient])
            w3.provider.make_request(RPCEndpoint("anvil_setBalance"), [patient, hex(100 * 10**18)])
        story = seed_story(w3, data, patient or dev[1], cast)
        relay_url = stack.enter_context(serving_relay(w3, data, dev[9], f"sqlite:///{data / 'relay.db'}"))
        url = stack.enter_context(portal.serving(portal.Site(root, data, relay_url), host, port))
        whose = "the patient" if patient else "the patient, Anvil's account 1"
        yield (
            f"\npatient portal: {url}\n"
            f"  relayer {relay_url} (pays the gas of signed consents)\n"
            f"  in your wallet: network {rpc}, chain id {w3.eth.chain_id}, account {story.patient}\n"
            f"  ({whose}: a GP's grant and read, a break-glass, a delegate)\n"
            f"  researcher to consent to: {dev[7]}\n"
            "Ctrl-C stops the page, the relayer and the chain."
        )


# ---- the gateway: a hospital, its clinicians, a lab result --------------------------------------

LAB_RESULT = json.dumps(
    {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7", "display": "Glucose"}]},
        "valueQuantity": {"value": 5.4, "unit": "mmol/L"},
    }
).encode()


@dataclass(frozen=True)
class GatewayCast:
    """Fresh keys for one run: the hospital (custodian), the patient, a GP, a specialist, an ER physician."""

    hospital: LocalAccount
    patient: LocalAccount
    gp: LocalAccount
    specialist: LocalAccount
    er: LocalAccount

    @classmethod
    def fresh(cls) -> GatewayCast:
        return cls(*(Account.create() for _ in range(5)))


def stand_up(w3: Web3, data: Path, deployer: str, cast: GatewayCast) -> None:
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
    patient.grant_access(cast.patient.address, cast.gp.address, int(purposes.Scope.LABS), now + 30 * DAY)


def open_service(
    w3: Web3, data: Path, hospital: LocalAccount, db_url: str, key: bytes, **options: Any
) -> GatewayService:
    """The hospital's gateway on `w3`: its chain key, custodian key `key`, database `db_url`;
    `options` are GatewayService's (log_mode, confirmations, batch_interval)."""
    sender = Sender(w3, hospital)
    return GatewayService(
        GatewayStore(db_url),
        crypto.Keyring((key,)),
        RecordClient.from_manifest(w3, data, sender),
        AccessClient.from_manifest(w3, data, sender),
        **options,
    )


def serving_gateway(
    service: GatewayService, token: str | None, host: str = "127.0.0.1", port: int = 0
) -> AbstractContextManager[str]:
    """The gateway's app (its batcher runs in receipts mode), ingest guarded by `token`; yields its URL."""
    return serving_app(gateway_app(service, token), "gateway", host, port)


@contextmanager
def gateway_stack(
    root: Path,
    host: str,
    port: int,
    chain_port: int,
    log_mode: str,
    confirmations: int,
    batch_interval: float,
    block_time: int | None,
) -> Iterator[str]:
    """The chain, the credentials, a lab result and the gateway; yields what to tell the person."""
    if confirmations < 0 or batch_interval <= 0 or (block_time is not None and block_time < 1):
        raise InputError("--confirmations is 0 or more, --batch-interval above 0, --block-time 1 or more")
    with ExitStack() as stack:
        rpc, w3, data = stack.enter_context(local_chain(root, chain_port, port, "gateway"))
        cast = GatewayCast.fresh()
        stand_up(w3, data, w3.eth.accounts[0], cast)
        if block_time:  # from now on a block every `block_time` seconds, as on a public chain
            w3.provider.make_request(RPCEndpoint("evm_setIntervalMining"), [block_time])
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
        url = stack.enter_context(serving_gateway(service, token, host, port))
        yield _gateway_instructions(url, rpc, data, cast, token, lab, service)


def _gateway_instructions(
    url: str, rpc: str, data: Path, cast: GatewayCast, token: str, lab: bytes, service: GatewayService
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


# ---- python -m carechain.dev.stacks portal|gateway ----------------------------------------------


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--host", default="127.0.0.1", help="interface (default: loopback only)")
    common.add_argument(
        "--chain-port", type=int, default=CHAIN_PORT, help=f"Anvil's port (default {CHAIN_PORT})"
    )
    common.add_argument("--root", type=Path, help="project folder (default: found from the working folder)")
    parser = argparse.ArgumentParser(
        prog="python -m carechain.dev.stacks", description=__doc__.splitlines()[0]
    )
    stacks = parser.add_subparsers(dest="stack", required=True, metavar="{portal,gateway}")
    page = stacks.add_parser(
        "portal", parents=[common], help="the patient portal, its relayer and a patient's story (make portal)"
    )
    page.add_argument(
        "--port", type=int, default=portal.DEFAULT_PORT, help=f"port (default {portal.DEFAULT_PORT})"
    )
    page.add_argument("--patient", metavar="ADDRESS", help="whose story (default: Anvil's account 1)")
    gateway = stacks.add_parser(
        "gateway", parents=[common], help="a hospital's record gateway with a lab result (make gateway)"
    )
    gateway.add_argument("--port", type=int, default=GATEWAY_PORT, help=f"port (default {GATEWAY_PORT})")
    gateway.add_argument("--log-mode", choices=LOG_MODES, default="tx", help="tx (default) or receipts")
    gateway.add_argument(
        "--confirmations", type=int, default=0, help="tx mode: blocks on top of a log (default 0)"
    )
    gateway.add_argument(
        "--batch-interval",
        type=float,
        default=DEFAULT_BATCH_INTERVAL,
        help=f"receipts mode: seconds between commits (default {DEFAULT_BATCH_INTERVAL:g})",
    )
    gateway.add_argument(
        "--block-time", type=int, help="after the set-up, mine a block every N seconds (default: at once)"
    )
    return parser


def _stop(signum: int, _frame: FrameType | None) -> None:
    """The first Ctrl-C or SIGTERM stops the stack; later ones are ignored, so that the clean-up (the
    server, the chain, the throwaway folder) runs to its end."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    for sig in (signal.SIGINT, signal.SIGTERM):  # a plain `kill` stops everything as Ctrl-C does
        signal.signal(sig, _stop)
    try:
        root = (args.root or project_root()).resolve()
        stack = (
            portal_stack(root, args.host, args.port, args.chain_port, args.patient)
            if args.stack == "portal"
            else gateway_stack(
                root,
                args.host,
                args.port,
                args.chain_port,
                args.log_mode,
                args.confirmations,
                args.batch_interval,
                args.block_time,
            )
        )
        with stack as instructions:
            print(instructions, flush=True)
            while True:
                time.sleep(3600)
    except CareChainError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
