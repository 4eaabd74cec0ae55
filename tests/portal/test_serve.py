"""`python -m carechain.dev.portal`: the page and what it reads served read-only; and the local stack
`python -m carechain.dev.stacks portal` (`make portal`), which brings up a chain, the contracts, a
patient's story and the relayer, and stops them all on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from eth_utils.crypto import keccak

from carechain.dev.localnode import free_port
from carechain.dev.portal import Site, serving

ROOT = Path(__file__).resolve().parents[2]


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def local_portal(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "carechain.dev.stacks", "portal", *args],
        cwd=ROOT,
        env={**os.environ, "CARECHAIN_ROOT": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A chain's manifest and ABIs, as `carechain deploy` writes them."""
    (tmp_path / "deployments").mkdir()
    (tmp_path / "deployments" / "31337.json").write_text(json.dumps({"chainId": 31337, "contracts": {}}))
    (tmp_path / "abi").mkdir()
    (tmp_path / "abi" / "purposes.json").write_text((ROOT / "abi" / "purposes.json").read_text())
    (tmp_path / "secret.txt").write_text("not served")
    return tmp_path


def test_serves_the_page_manifests_abis_and_ethers_read_only(data: Path) -> None:
    with serving(Site(ROOT, data, "http://127.0.0.1:9"), port=free_port()) as url:
        page = httpx.get(url)
        assert page.status_code == 200 and page.headers["content-type"] == "text/html"
        assert '<script type="module" src="/app.js"></script>' in page.text
        assert httpx.get(url + "app.js").headers["content-type"] == "text/javascript"
        ethers = httpx.get(url + "vendor/ethers.min.js")
        assert ethers.status_code == 200 and "BrowserProvider" in ethers.text
        assert httpx.get(url + "deployments/31337.json").json()["chainId"] == 31337
        assert httpx.get(url + "abi/purposes.json").json()["anyGrantee"].startswith("0x")
        assert httpx.get(url + "config.json").json() == {"relay": "http://127.0.0.1:9"}
        assert httpx.head(url + "style.css").status_code == 200
        for outside in ("deployments/../secret.txt", "abi/%2e%2e/secret.txt", "../pyproject.toml", "nope.js"):
            assert httpx.get(url + outside).status_code == 404, outside
        assert httpx.post(url + "config.json").status_code == 501  # read-only: GET and HEAD only


def test_bad_patient_is_one_line_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "carechain.dev.stacks", "portal", "--patient", "0x1234"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: patient '0x1234' is not an Ethereum address (0x followed by 40 hex digits)"
    ]


def test_busy_port_is_one_line_error(data: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "carechain.dev.portal", "--port", str(port), "--data", str(data)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


def rpc(port: int, method: str, *params: object) -> object:
    answer = httpx.post(
        f"http://127.0.0.1:{port}", json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    )
    return answer.json()["result"]


def test_local_stack_serves_everything_and_stops_on_ctrl_c() -> None:
    """What `make portal PATIENT=…` runs: the URL is printed, the page, its chain and the relayer answer,
    the story is the wallet's own account's; SIGINT (Ctrl-C) stops the page, the relayer and the Anvil."""
    port, chain_port = free_port(), free_port()
    wallet = Account.create().address
    process = local_portal("--port", str(port), "--chain-port", str(chain_port), "--patient", wallet)
    try:
        assert process.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 120
        while not any(line.startswith("Ctrl-C stops") for line in lines):  # the last line it prints
            assert time.monotonic() < deadline and process.poll() is None, "".join(lines)
            lines.append(process.stdout.readline())
        url = next(line for line in lines if line.startswith("patient portal: ")).split(": ", 1)[1].strip()
        assert url == f"http://127.0.0.1:{port}/"
        relay = httpx.get(url + "config.json").json()["relay"]
        info = httpx.get(relay + "/info", headers={"Origin": url.rstrip("/")})
        assert info.json()["chainId"] == 31337
        assert info.headers["access-control-allow-origin"] == url.rstrip("/")  # the page may call it
        manifest = httpx.get(url + "deployments/31337.json").json()
        assert info.json()["consentRegistry"] == manifest["contracts"]["ConsentRegistry"]["address"]
        assert f"account {wallet}" in "".join(lines)
        access = manifest["contracts"]["AccessGrants"]["address"]
        opened = keccak(text="BreakGlassOpened(uint256,address,address,bytes32,uint64,uint256)")
        patient_topic = "0x" + bytes(12).hex() + wallet[2:].lower()
        logs = rpc(
            chain_port,
            "eth_getLogs",
            {"fromBlock": "0x0", "address": access, "topics": ["0x" + opened.hex(), None, patient_topic]},
        )
        assert isinstance(logs, list) and len(logs) == 1  # the story's break-glass is the wallet's
        assert int(str(rpc(chain_port, "eth_getBalance", wallet, "latest")), 16) > 99 * 10**18
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert not listening(port) and not listening(chain_port)
