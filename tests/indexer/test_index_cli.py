"""`carechain index` end to end: to the head, resume, PostgreSQL, confirmations, --follow, bad input."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from carechain.cli import cli
from carechain.clients.consent import ConsentClient
from carechain.core.purposes import purpose_id
from carechain.index.indexer import Indexer
from indexer.conftest import chain_counts, scripted_flow


@pytest.fixture
def run(w3, root):
    def invoke(*args: str):
        env = {"PRIVATE_KEY": "", "KEYSTORE": "", "RPC_URL": ""}
        return CliRunner().invoke(
            cli, ["--rpc-url", w3.provider.endpoint_uri, "--root", str(root), *args], env=env
        )

    return invoke


def _json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_index_to_the_head_then_resume(run, w3, root, tmp_path):
    scripted_flow(w3, root)
    db = str(tmp_path / "index.db")
    first = _json(run("--json", "index", "--db", db))
    index = Indexer(w3, root, db)
    assert first["events"] == sum(chain_counts(w3, index).values()) == first["indexedEvents"]
    assert (
        first["toBlock"] == w3.eth.block_number
        and first["blocks"] == first["toBlock"] - first["fromBlock"] + 1
    )

    again = run("index", "--db", f"sqlite:///{db}")
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith(f"indexed 0 events in 0 blocks (up to date at {w3.eth.block_number})")
    assert f"the index holds {first['events']} events" in again.stdout


def test_index_into_postgres_with_confirmations_and_a_first_block(run, w3, root, pg_url):
    scripted_flow(w3, root)
    head = w3.eth.block_number
    result = _json(
        run("--json", "index", "--db", pg_url, "--confirmations", "2", "--from-block", str(head - 6))
    )
    assert (result["fromBlock"], result["toBlock"]) == (head - 6, head - 2)
    index = Indexer(w3, root, pg_url)
    assert (
        result["events"] == len(index.events()) == len(index.events(from_block=head - 6, to_block=head - 2))
    )


def test_follow_indexes_new_blocks_until_ctrl_c(w3, root, tmp_path):
    scripted_flow(w3, root)
    db = tmp_path / "index.db"
    command = [
        str(Path(sys.executable).parent / "carechain"),
        "--rpc-url",
        w3.provider.endpoint_uri,
        "--root",
        str(root),
        "--json",
        "index",
        "--db",
        str(db),
        "--follow",
        "--poll",
        "0.2",
    ]
    follower = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        index = Indexer(w3, root, str(db))
        _wait_until(lambda: index.last_block() == w3.eth.block_number)
        before = len(index.events())
        ConsentClient.from_manifest(w3, root, _sender(w3, 1)).grant(w3.eth.accounts[4], purpose_id("HMB"), 1)
        _wait_until(lambda: len(index.events()) == before + 1)
    finally:
        follower.send_signal(signal.SIGINT)
        out, err = follower.communicate(timeout=30)
    assert follower.returncode == 0, err
    assert json.loads(out)["indexedEvents"] == before + 1


def test_a_bad_database_url_is_one_line_of_error(run, tmp_path):
    result = run("index", "--db", "postgresql://nobody:secret@127.0.0.1:1/none")
    assert result.exit_code == 1
    assert result.output.startswith("error: cannot open the index database postgresql+psycopg://nobody:***@")
    assert "secret" not in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def _sender(w3, index):
    from carechain.core.sender import Sender

    return Sender(w3, w3.eth.accounts[index])


def _wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except Exception:  # the follower may not have created the tables yet
            pass
        time.sleep(0.1)
    raise AssertionError("timed out")
