"""`carechain gateway put|get|rotate-key|erase|serve`: a hospital, a GP and a specialist, through the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from brownie import accounts, web3
from click.testing import CliRunner
from eth_account import Account
from web3 import Web3

from carechain.cli import cli
from carechain.core.config import load_settings
from carechain.dev.localnode import free_port
from carechain.index.indexer import Indexer
from carechain.services.gateway import crypto
from carechain.services.gateway.app import TOKEN_ENV, create_app
from carechain.services.gateway.service import DB_ENV, open_gateway

from .conftest import LAB_RESULT, TOKEN

REPO = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    folder = tmp_path_factory.mktemp("project")
    (folder / "build").symlink_to(REPO / "build")
    return folder


@pytest.fixture
def db_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'gateway.db'}"


@pytest.fixture
def run(root, db_url):
    """The CLI in-process; `key` becomes PRIVATE_KEY, the custodian key is the environment's."""
    rpc = web3.provider.endpoint_uri

    def invoke(*args: str, key=None, env=None, input=None):
        base = {"PRIVATE_KEY": key.key.hex() if key else "", "KEYSTORE": "", "RPC_URL": "", DB_ENV: db_url}
        return CliRunner().invoke(
            cli, ["--rpc-url", rpc, "--root", str(root), *args], env={**base, **(env or {})}, input=input
        )

    return invoke


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def one_line_error(result, *fragments: str) -> str:
    """A failure: non-zero exit, one `error:` line, no traceback."""
    assert result.exit_code != 0, result.output
    text = result.output.strip()
    assert text.startswith("error: ") and "\n" not in text and "Traceback" not in text, text
    for fragment in fragments:
        assert fragment in text, text
    return text


def funded():
    account = Account.create()
    accounts[0].transfer(account.address, "1 ether", silent=True)
    return account


@pytest.fixture
def people(run):
    ok(run("deploy"))
    cast = {name: funded() for name in ("patient", "hospital", "gp", "specialist")}
    ok(run("credential", "add-registrar", accounts[0].address))
    for name, role in (("hospital", "CUSTODIAN"), ("gp", "PROVIDER"), ("specialist", "PROVIDER")):
        ok(run("credential", "attest", cast[name].address, "-r", role, "--license-hash", "0x" + "ab" * 32))
    ok(run("access", "grant", cast["gp"].address, "-c", "labs", "-e", "30d", key=cast["patient"]))
    return cast


@pytest.fixture
def lab(run, people, tmp_path):
    """The hospital ingests a lab result (a FHIR Observation) with `gateway put`."""
    file = tmp_path / "glucose.json"
    file.write_bytes(LAB_RESULT)
    record_id = "0x" + os.urandom(32).hex()
    result = ok(
        run(
            "--json",
            "gateway",
            "put",
            str(file),
            "-p",
            people["patient"].address,
            "-c",
            "labs",
            "--record-id",
            record_id,
            "--media-type",
            "application/fhir+json",
            key=people["hospital"],
        )
    )
    answer = json.loads(result.output)
    assert answer["recordId"] == record_id and answer["version"] == 0 and answer["txHash"]
    return record_id, file


@pytest.fixture
def serving(http_server, root, db_url, people, monkeypatch):
    """The hospital's gateway, built as `serve` builds it, on a real uvicorn; `start()` gives its URL."""

    def start(**env: str) -> str:
        monkeypatch.setenv("PRIVATE_KEY", people["hospital"].key.hex())
        monkeypatch.setenv(DB_ENV, db_url)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        service = open_gateway(load_settings(root, web3.provider.endpoint_uri))
        return http_server(create_app(service, TOKEN))

    return start


def test_put_twice_anchors_once(run, people, lab):
    record_id, file = lab
    again = ok(
        run(
            "gateway",
            "put",
            str(file),
            "-p",
            people["patient"].address,
            "-c",
            "labs",
            "--record-id",
            record_id,
            key=people["hospital"],
        )
    )
    assert "version 0: unchanged, nothing anchored" in again.output
    history = json.loads(ok(run("--json", "record", "history", record_id)).output)
    assert len(history["versions"]) == 1 and history["custodian"] == people["hospital"].address


def test_the_gp_gets_the_record_and_the_specialist_is_refused(run, people, lab, serving, tmp_path):
    record_id, _ = lab
    url = serving()
    out = tmp_path / "fetched.json"
    got = ok(run("--json", "gateway", "get", record_id, "--url", url, "-o", str(out), key=people["gp"]))
    assert out.read_bytes() == LAB_RESULT
    answer = json.loads(got.output)
    assert answer["basis"] == "CATEGORY_GRANT" and answer["logTx"].startswith("0x")
    to_stdout = ok(run("gateway", "get", record_id, "--url", url, "--purpose", "TREAT", key=people["gp"]))
    assert to_stdout.output.encode() == LAB_RESULT
    one_line_error(
        run("gateway", "get", record_id, "--url", url, key=people["specialist"]),
        "refused the read (403 denied)",
    )
    patient_view = json.loads(
        ok(run("--json", "access", "reads", "--patient", people["patient"].address)).output
    )
    assert [(r["recordId"], r["provider"], r["purpose"]) for r in patient_view["reads"]] == [
        (record_id, people["gp"].address, "TREAT")
    ] * 2
    assert patient_view["reads"][0]["txHash"] == answer["logTx"]


def test_rotate_key_then_the_gateway_serves_with_the_new_key_only(
    run, people, lab, serving, tmp_path, custodian_key
):
    record_id, _ = lab
    new_key = crypto.new_key()
    key_file = tmp_path / "new.key"
    key_file.write_text(f"# the hospital's 2027 key\n{new_key.hex()}\n")
    rotated = ok(run("gateway", "rotate-key", "--new-key-file", str(key_file), key=people["hospital"]))
    assert f"1 data keys re-wrapped under custodian key {crypto.key_id(new_key)}" in rotated.output
    assert new_key.hex() not in rotated.output and custodian_key.hex() not in rotated.output
    url = serving(**{crypto.KEY_ENV: new_key.hex()})
    out = tmp_path / "fetched.json"
    ok(run("gateway", "get", record_id, "--url", url, "-o", str(out), key=people["gp"]))
    assert out.read_bytes() == LAB_RESULT
    stale = serving(**{crypto.KEY_ENV: custodian_key.hex()})
    one_line_error(run("gateway", "get", record_id, "--url", stale, key=people["gp"]), "500 key-unavailable")


def test_rotate_key_from_the_environment(run, people, lab):
    new_key = crypto.new_key()
    rotated = ok(
        run(
            "--json",
            "gateway",
            "rotate-key",
            env={"CARECHAIN_GATEWAY_NEW_KEY": new_key.hex()},
            key=people["hospital"],
        )
    )
    assert json.loads(rotated.output) == {"rewrapped": 1, "keyId": crypto.key_id(new_key)}


def test_erase_then_reads_are_410(run, people, lab, serving):
    record_id, _ = lab
    declined = run("gateway", "erase", record_id, key=people["hospital"], input="n\n")
    assert declined.exit_code == 1 and "Traceback" not in declined.output
    assert declined.output.splitlines()[-1] == "error: erasure not confirmed"
    erased = ok(run("gateway", "erase", record_id, "--yes", key=people["hospital"]))
    assert "data keys destroyed, erasure anchored in tx 0x" in erased.output
    one_line_error(run("gateway", "get", record_id, "--url", serving(), key=people["gp"]), "410 erased")


def test_serve_runs_the_gateway(root, db_url, people, lab):
    """`carechain gateway serve` in its own process: it answers /info and the custodian's ingest."""
    port = free_port()
    env = {
        **os.environ,
        "PRIVATE_KEY": people["hospital"].key.hex(),
        DB_ENV: db_url,
        TOKEN_ENV: TOKEN,
        "RPC_URL": web3.provider.endpoint_uri,
    }
    carechain = str(Path(sys.executable).parent / "carechain")
    command = [carechain, "--root", str(root), "gateway", "serve", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                info = httpx.get(f"http://127.0.0.1:{port}/info", timeout=2).json()
                break
            except httpx.HTTPError:
                assert server.poll() is None, server.stdout.read().decode() if server.stdout else ""
                assert time.monotonic() < deadline, "the gateway did not start"
                time.sleep(0.2)
        assert info["gateway"] == people["hospital"].address
        made = httpx.post(
            f"http://127.0.0.1:{port}/records",
            json={"patient": people["patient"].address, "category": "labs", "content": "eA=="},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=60,
        )
        assert made.status_code == 201 and made.json()["txHash"]
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode()
    assert f"gateway {people['hospital'].address} on chain" in output
    assert os.environ[crypto.KEY_ENV] not in output


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("put", "missing.json", "-p", "0x" + "11" * 20, "-c", "labs"), ["cannot read missing.json"]),
        (("put", __file__, "-p", "nobody", "-c", "labs"), ["patient 'nobody' is not an Ethereum address"]),
        (("put", __file__, "-p", "0x" + "11" * 20, "-c", "vibes"), ["unknown record category"]),
        (("put", os.devnull, "-p", "0x" + "11" * 20, "-c", "labs"), ["the record is empty"]),
        (("get", "0x12", "--url", "http://127.0.0.1:9"), ["a record id is 32 bytes"]),
        (("erase", "0x" + "12" * 32, "--yes"), ["no record 0x" + "12" * 32 + " at this gateway"]),
        (("rotate-key",), ["give the new custodian key"]),
    ],
    ids=[
        "missing-file",
        "bad-patient",
        "bad-category",
        "empty-record",
        "bad-record-id",
        "unknown-erase",
        "no-new-key",
    ],
)
def test_bad_input_is_one_line(run, people, args, fragments):
    one_line_error(run("gateway", *args, key=people["hospital"]), *fragments)


def test_get_from_no_gateway_is_one_line(run, people):
    url = f"http://127.0.0.1:{free_port()}"
    one_line_error(
        run("gateway", "get", "0x" + "12" * 32, "--url", url, key=people["gp"]), "no gateway answers"
    )


def test_get_needs_the_providers_key(run, people, serving):
    one_line_error(run("gateway", "get", "0x" + "12" * 32, "--url", serving()), "signing needs a key")


def test_put_needs_the_custodian_key(run, people, tmp_path):
    file = tmp_path / "x.txt"
    file.write_bytes(b"x")
    result = run(
        "gateway",
        "put",
        str(file),
        "-p",
        people["patient"].address,
        "-c",
        "labs",
        key=people["hospital"],
        env={crypto.KEY_ENV: "", crypto.KEY_FILE_ENV: ""},
    )
    one_line_error(result, "no custodian key")


def test_a_malformed_custodian_key_is_named_not_shown(run, people, tmp_path):
    file = tmp_path / "x.txt"
    file.write_bytes(b"x")
    result = run(
        "gateway",
        "put",
        str(file),
        "-p",
        people["patient"].address,
        "-c",
        "labs",
        key=people["hospital"],
        env={crypto.KEY_ENV: "secret-but-not-a-key"},
    )
    assert "secret-but-not-a-key" not in one_line_error(result, "CARECHAIN_GATEWAY_KEY is not a 32-byte key")


def test_a_gateway_on_a_key_file_serves_throughout_a_rotation(
    run, people, lab, serving, tmp_path, custodian_key
):
    """The operator's procedure, gateway running: new key on the file's first line, rotate, drop the old."""
    record_id, _ = lab
    key_file, out = tmp_path / "custodian.key", tmp_path / "fetched.json"
    key_file.write_text(custodian_key.hex() + "\n")
    on_file = {crypto.KEY_ENV: "", crypto.KEY_FILE_ENV: str(key_file)}
    url = serving(**on_file)

    def fetch() -> bytes:
        out.unlink(missing_ok=True)
        ok(run("gateway", "get", record_id, "--url", url, "-o", str(out), key=people["gp"]))
        return out.read_bytes()

    assert fetch() == LAB_RESULT
    new_key = crypto.new_key()
    key_file.write_text(f"{new_key.hex()}\n{custodian_key.hex()}\n")
    assert fetch() == LAB_RESULT
    ok(run("gateway", "rotate-key", "--new-key-file", str(key_file), key=people["hospital"], env=on_file))
    assert fetch() == LAB_RESULT
    key_file.write_text(new_key.hex() + "\n")
    assert fetch() == LAB_RESULT
    url = serving(**on_file)  # a restart on the new key alone
    assert fetch() == LAB_RESULT


def test_receipts_mode_get_then_the_receipt_is_checked_and_indexed(
    run, root, people, lab, http_server, db_url, monkeypatch, tmp_path
):
    """A gateway serving with signed receipts: `get` gives the receipt id, `receipt` checks it against the
    chain once its root is committed, and the indexer picks up the AccessBatchLogged event."""
    record_id, _ = lab
    monkeypatch.setenv("PRIVATE_KEY", people["hospital"].key.hex())
    monkeypatch.setenv(DB_ENV, db_url)
    settings = load_settings(root, web3.provider.endpoint_uri)
    service = open_gateway(settings, log_mode="receipts", batch_interval=0.3)
    url = http_server(create_app(service, TOKEN))
    out = str(tmp_path / "fetched.json")
    got = json.loads(
        ok(run("--json", "gateway", "get", record_id, "--url", url, "-o", out, key=people["gp"])).output
    )
    assert got["logTx"] is None and got["receipt"].startswith("0x") and got["basis"] == "CATEGORY_GRANT"
    deadline = time.monotonic() + 15
    while (checked := run("--json", "gateway", "receipt", got["receipt"], "--url", url)).exit_code != 0:
        one_line_error(checked, "not committed on chain yet")
        assert time.monotonic() < deadline, "the receipt was never committed"
        time.sleep(0.2)
    answer = json.loads(checked.output)
    assert answer["verified"] is True and answer["receipt"]["provider"] == people["gp"].address
    assert "proven under root" in ok(run("gateway", "receipt", got["receipt"], "--url", url)).output
    one_line_error(run("gateway", "receipt", "0x" + "ab" * 32, "--url", url), "404 unknown-receipt")

    index = Indexer(Web3(Web3.HTTPProvider(web3.provider.endpoint_uri)), root, str(tmp_path / "index.db"))
    index.sync()
    (batch,) = index.events(event="AccessBatchLogged")
    assert batch["contract"] == "AccessGrants" and batch["tx_hash"] == answer["txHash"]


def test_sign_read_prints_a_body_curl_can_post(run, people, lab, serving):
    record_id, _ = lab
    url = serving()
    body = json.loads(ok(run("gateway", "sign-read", record_id, "--url", url, key=people["gp"])).output)
    assert body["provider"] == people["gp"].address and set(body) >= {"signature", "nonce", "issuedAt"}
    answer = httpx.post(f"{url}/records/{record_id}/read", json=body, timeout=60)
    assert answer.status_code == 200 and answer.content == LAB_RESULT
    again = httpx.post(f"{url}/records/{record_id}/read", json=body, timeout=60)
    assert again.status_code == 409
