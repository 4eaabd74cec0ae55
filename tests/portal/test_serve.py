"""The local stack `python -m carechain.dev.stacks portal` (`make portal`), which brings up a chain, the
contracts, a patient's story and the relayer, and stops them all on Ctrl-C. What needs no chain (the page
served read-only, one-line errors) is in tests/unit/test_portal_serve.py."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from eth_account import Account
from eth_utils.crypto import keccak

from carechain.dev.localnode import free_port

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
