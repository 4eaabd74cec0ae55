"""`python -m carechain.dev.portal`: serve the patient portal (web/) and what it reads, read-only, locally.

The page is plain ES modules with no build step. Besides web/ it needs the deployment manifests
(deployments/<chainId>.json), the ABIs and EIP-712 types (abi/), ethers' ESM build from
node_modules, and `/config.json`, which tells it where the relayer listens (or that there is none).
Manifests are read at every request, so a redeploy shows without a restart. Only GET and HEAD.

`--local` (what `make portal` runs) brings up all a person needs to try it with a browser wallet:
an Anvil of its own, the contracts deployed into a throwaway folder (the chain goes when it stops),
a patient's story (`seed_story`), the relayer and the page; Ctrl-C stops them all.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import os
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import unquote, urlsplit

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import RPCEndpoint

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
from carechain.dev.localnode import find_anvil, free_port, local_node
from carechain.errors import CareChainError, ConfigError, ToolchainError

DEFAULT_PORT = 8800
ETHERS = Path("node_modules") / "ethers" / "dist" / "ethers.min.js"
TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".json": "application/json", ".css": "text/css"}
DAY = 86400

# ---- the static site ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """What the portal serves: the page from `root`/web, manifests and ABIs from `data` (default `root`)."""

    root: Path
    data: Path
    relay_url: str | None = None

    def check(self) -> None:
        """One clear error before serving anything the page could not run without."""
        if not (self.root / "web" / "index.html").is_file():
            raise ConfigError(f"no portal page at {self.root / 'web' / 'index.html'}")
        if not (self.root / ETHERS).is_file():
            raise ToolchainError(f"ethers is missing ({self.root / ETHERS}): run `npm ci` (or `make portal`)")

    def resolve(self, url_path: str) -> Path | None:
        """The file a request path names, or None (outside the served folders, or missing)."""
        path = unquote(url_path)
        if path == "/vendor/ethers.min.js":
            return self.root / ETHERS
        for prefix, folder in (("/deployments/", self.data / "deployments"), ("/abi/", self.data / "abi")):
            if path.startswith(prefix):
                return _inside(folder, path.removeprefix(prefix))
        return _inside(self.root / "web", "index.html" if path == "/" else path.lstrip("/"))

    def config(self) -> bytes:
        return json.dumps({"relay": self.relay_url}).encode()


def _inside(folder: Path, relative: str) -> Path | None:
    """`folder/relative` if it is a file inside `folder` (no `..` or symlink escapes)."""
    base = folder.resolve()
    candidate = (base / relative).resolve()
    if not candidate.is_relative_to(base) or not candidate.is_file():
        return None
    return candidate


def handler_for(site: Site) -> type[BaseHTTPRequestHandler]:
    class PortalHandler(BaseHTTPRequestHandler):
        server_version = "CareChainPortal"

        def do_GET(self) -> None:
            self._serve(with_body=True)

        def do_HEAD(self) -> None:
            self._serve(with_body=False)

        def _serve(self, with_body: bool) -> None:
            path = urlsplit(self.path).path
            if path == "/config.json":
                body, kind = site.config(), "application/json"
            else:
                file = site.resolve(path)
                if file is None:
                    self.send_error(HTTPStatus.NOT_FOUND, "not found")
                    return
                body = file.read_bytes()
                kind = (
                    TYPES.get(file.suffix) or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
                )
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")  # a redeploy rewrites the manifest
            self.end_headers()
            if with_body:
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: a page load is a dozen requests."""

    return PortalHandler


def make_server(site: Site, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> ThreadingHTTPServer:
    site.check()
    try:
        return ThreadingHTTPServer((host, port), handler_for(site))
    except OSError as err:
        raise ConfigError(f"cannot listen on {host}:{port}: {err.strerror}") from err


@contextmanager
def serving(site: Site, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> Iterator[str]:
    """The portal served from a thread for the duration of the block; yields its URL."""
    server = make_server(site, host, port)
    thread = threading.Thread(target=server.serve_forever, name="portal", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# ---- the relayer beside it ----------------------------------------------------------------------


@contextmanager
def serving_relay(
    w3: Web3, data: Path, relayer: str | LocalAccount, db_url: str, rate: str = "60/h", port: int = 0
) -> Iterator[str]:
    """The relayer (`carechain.services.relay`) for the deployment in `data`, paying from `relayer`, served by
    a real uvicorn from a thread for the duration of the block; yields its URL."""
    import uvicorn

    from carechain.services.relay.app import create_app
    from carechain.services.relay.service import Rate, RelayService
    from carechain.services.relay.store import Store

    client = ConsentClient.from_manifest(w3, data, Sender(w3, relayer))
    service = RelayService(Store(db_url), client, Rate.parse(rate))
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(service, poll=0.5), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="relay", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise ConfigError(f"the relayer did not start on 127.0.0.1:{port}")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def _check_free(port: int) -> None:
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", port)) == 0:
            raise ConfigError(f"port {port} is in use: stop what listens there, or choose another port")


# ---- a patient's story to look at ---------------------------------------------------------------


@dataclass(frozen=True)
class Cast:
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


def seed_story(w3: Web3, data: Path, patient: str | LocalAccount, cast: Cast) -> Story:
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


def chain_data(folder: Path, root: Path) -> Path:
    """A throwaway project folder for one chain: `root`'s build artifacts, its own manifests and ABIs."""
    (folder / "build").mkdir(parents=True, exist_ok=True)
    link = folder / "build" / "contracts"
    if not link.exists():
        link.symlink_to(root / "build" / "contracts", target_is_directory=True)
    return folder


# ---- python -m carechain.dev.portal -----------------------------------------------------------------


def _stop(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _run_local(root: Path, host: str, port: int, chain_port: int, patient: str | None) -> None:
    """Anvil, deploy, story (of `patient`, else Anvil's account 1), relayer, page; returns on Ctrl-C,
    having stopped them all."""
    if patient is not None:
        patient = checksum(patient, "patient")
    for busy in (chain_port, port):
        _check_free(busy)
    signal.signal(signal.SIGTERM, _stop)  # a plain `kill` stops everything as Ctrl-C does
    with ExitStack() as stack:
        node = stack.enter_context(local_node(find_anvil(root), port=chain_port))
        w3 = connect(node.url)
        dev = list(w3.eth.accounts)  # Anvil's ten test accounts, unlocked on the node
        data = chain_data(Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="portal-"))), root)
        print(f"Anvil on {node.url} (chain {w3.eth.chain_id}); deploying…", flush=True)
        deploy(w3, Sender(w3, dev[0]), data)
        cast = Cast(dev[0], dev[2], dev[3], dev[4], dev[5], dev[6])
        if patient is not None:  # a browser wallet's own account: the node acts for it, with ether to spend
            w3.provider.make_request(RPCEndpoint("anvil_impersonateAccount"), [patient])
            w3.provider.make_request(RPCEndpoint("anvil_setBalance"), [patient, hex(100 * 10**18)])
        story = seed_story(w3, data, patient or dev[1], cast)
        relay = stack.enter_context(serving_relay(w3, data, dev[9], f"sqlite:///{data / 'relay.db'}"))
        url = stack.enter_context(serving(Site(root, data, relay), host, port))
        whose = "the patient" if patient else "the patient, Anvil's account 1"
        print(
            f"\npatient portal: {url}\n"
            f"  relayer {relay} (pays the gas of signed consents)\n"
            f"  in your wallet: network {node.url}, chain id {w3.eth.chain_id}, account {story.patient}\n"
            f"  ({whose}: a GP's grant and read, a break-glass, a delegate)\n"
            f"  researcher to consent to: {dev[7]}\n"
            "Ctrl-C stops the page, the relayer and the chain.",
            flush=True,
        )
        while True:
            time.sleep(3600)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m carechain.dev.portal", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface (default: loopback only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--root", type=Path, help="project folder (default: found from the working folder)")
    parser.add_argument("--data", type=Path, help="folder with deployments/ and abi/ (default: the project)")
    parser.add_argument("--relay", metavar="URL", help="the relayer's base URL, for signed consents")
    parser.add_argument("--local", action="store_true", help="start a chain, deploy, a story, the relayer")
    parser.add_argument("--chain-port", type=int, default=8545, help="--local: Anvil's port (default 8545)")
    parser.add_argument(
        "--patient", metavar="ADDRESS", help="--local: whose story (default: Anvil's account 1)"
    )
    args = parser.parse_args(argv)
    try:
        root = (args.root or project_root()).resolve()
        if args.local:
            _run_local(root, args.host, args.port, args.chain_port, args.patient)
            return 0
        site = Site(root, (args.data or root).resolve(), args.relay.rstrip("/") if args.relay else None)
        server = make_server(site, args.host, args.port)
        print(f"patient portal: http://{args.host}:{server.server_address[1]}/", flush=True)
        try:
            server.serve_forever()
        finally:
            server.server_close()
    except CareChainError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
