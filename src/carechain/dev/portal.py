"""`python -m carechain.dev.portal`: serve the patient portal (web/) and what it reads, read-only, locally.

The page is plain ES modules with no build step. Besides web/ it needs the deployment manifests
(deployments/<chainId>.json), the ABIs and EIP-712 types (abi/), ethers' ESM build from
node_modules, and `/config.json`, which tells it where the relayer listens (or that there is none).
Manifests are read at every request, so a redeploy shows without a restart. Only GET and HEAD.

`make portal` serves it with all a person needs to try it with a browser wallet (a chain, a
patient's story, the relayer): `carechain.dev.stacks`.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from carechain.core.config import project_root
from carechain.errors import CareChainError, ConfigError, ToolchainError

DEFAULT_PORT = 8800
ETHERS = Path("node_modules") / "ethers" / "dist" / "ethers.min.js"
TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".json": "application/json", ".css": "text/css"}

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


# ---- python -m carechain.dev.portal --------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m carechain.dev.portal", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface (default: loopback only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--root", type=Path, help="project folder (default: found from the working folder)")
    parser.add_argument("--data", type=Path, help="folder with deployments/ and abi/ (default: the project)")
    parser.add_argument("--relay", metavar="URL", help="the relayer's base URL, for signed consents")
    args = parser.parse_args(argv)
    try:
        root = (args.root or project_root()).resolve()
        site = Site(root, (args.data or root).resolve(), args.relay.rstrip("/") if args.relay else None)
        server = make_server(site, args.host, args.port)
    except CareChainError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"patient portal: http://{args.host}:{server.server_address[1]}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
