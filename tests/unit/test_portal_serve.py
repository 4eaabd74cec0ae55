"""`python -m carechain.dev.portal`: the page and what it reads served read-only, and the one-line errors of
it and of `python -m carechain.dev.stacks portal` before any chain starts (the local stack itself:
tests/portal/test_serve.py)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from carechain.dev.localnode import free_port
from carechain.dev.portal import Site, serving

ROOT = Path(__file__).resolve().parents[2]


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
