"""`python -m carechain.dev.stacks gateway` (`make gateway`): a hospital's gateway on a chain of its own,
serving a lab result to the GP it prints and refusing the specialist; a plain `kill` stops it all."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from eth_account import Account

from carechain.core.purposes import purpose_id
from carechain.dev.localnode import free_port
from carechain.services.gateway import requests

ROOT = Path(__file__).resolve().parents[2]


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def stack(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "carechain.dev.stacks", "gateway", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_bad_options_are_one_line_error() -> None:
    done = stack("--confirmations", "-1")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: --confirmations is 0 or more, --batch-interval above 0, --block-time 1 or more"
    ]


def test_busy_chain_port_is_one_line_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = stack("--port", str(free_port()), "--chain-port", str(port))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"error: port {port} is in use: stop what listens there, or choose another port"
    ]


def start(port: int, chain_port: int, *args: str) -> tuple[subprocess.Popen[str], str]:
    """The stack on these ports, once it has printed all it prints (its last line "Ctrl-C stops ...")."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "carechain.dev.stacks",
            "gateway",
            "--port",
            str(port),
            "--chain-port",
            str(chain_port),
            *args,
        ],
        cwd=ROOT,
        env={**os.environ, "CARECHAIN_ROOT": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 120
    while not any(line.startswith("Ctrl-C stops") for line in lines):
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise AssertionError("".join(lines) + process.communicate()[1])
        lines.append(process.stdout.readline())
    return process, "".join(lines)


def stopped_within(process: subprocess.Popen[str], sig: signal.Signals) -> float:
    """Seconds from `sig` until the stack has exited (status 0)."""
    sent = time.monotonic()
    process.send_signal(sig)
    assert process.wait(timeout=30) == 0
    return time.monotonic() - sent


def test_local_gateway_serves_the_gp_refuses_the_specialist_and_stops_on_kill() -> None:
    port, chain_port = free_port(), free_port()
    process, printed = start(port, chain_port)
    try:
        url = re.search(r"record gateway: (\S+)", printed)
        record = re.search(r"stored as record (0x[0-9a-f]{64})", printed)
        gp_key = re.search(r"the GP .* key (0x[0-9a-f]{64})", printed)
        specialist_key = re.search(r"the specialist .* key (0x[0-9a-f]{64})", printed)
        folder = re.search(r"--root (\S+)", printed)
        assert url and record and gp_key and specialist_key and folder, printed
        assert url[1] == f"http://127.0.0.1:{port}" and Path(folder[1]).is_dir()
        info = httpx.get(url[1] + "/info").json()
        assert info["chainId"] == 31337 and info["logMode"] == "tx"

        def read(key: str) -> httpx.Response:
            request = requests.sign(
                Account.from_key(key),
                bytes.fromhex(record[1][2:]),
                purpose_id("TREAT"),
                info["gateway"],
                info["chainId"],
                info["accessGrants"],
            )
            return httpx.post(f"{url[1]}/records/{record[1]}/read", json=request.body(), timeout=60)

        served = read(gp_key[1])
        assert served.status_code == 200 and served.json()["code"]["coding"][0]["display"] == "Glucose"
        assert read(specialist_key[1]).status_code == 403
        assert stopped_within(process, signal.SIGTERM) < 5
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert not listening(port) and not listening(chain_port)
    assert not Path(folder[1]).exists()


def test_ctrl_c_stops_the_receipts_stack_in_seconds_with_a_browser_connected() -> None:
    """C.17: Ctrl-C took 20-28 s and left the throwaway folder behind; a kept-alive connection (a
    browser on /docs) and the receipts batcher must not hold the stop up."""
    port, chain_port = free_port(), free_port()
    process, printed = start(port, chain_port, "--log-mode", "receipts", "--batch-interval", "60")
    folder = re.search(r"--root (\S+)", printed)
    try:
        assert folder and Path(folder[1]).is_dir(), printed
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as browser:  # keeps its connection open
            assert browser.get("/info").json()["logMode"] == "receipts"
            assert stopped_within(process, signal.SIGINT) < 5
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert not listening(port) and not listening(chain_port)
    assert not Path(folder[1]).exists()
