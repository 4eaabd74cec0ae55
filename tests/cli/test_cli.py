"""`carechain` CLI on a real chain: every consent command, and one clear line for bad input."""

from __future__ import annotations

import json

import pytest
from brownie import accounts, web3
from cli_fixtures import funded, ok
from click.testing import CliRunner
from eth_account import Account

from carechain.cli import cli, parse_time

pytest_plugins = ["cli_fixtures"]


@pytest.fixture(autouse=True)
def deployed(run):
    ok(run("deploy"))


def test_deploy_json_reports_manifest(run, root):
    result = ok(run("--json", "deploy"))
    assert "reusing" in result.stderr  # progress on stderr, one JSON document on stdout
    data = json.loads(result.stdout)
    assert data["chainId"] == web3.eth.chain_id
    assert (
        data["contracts"]["ConsentRegistry"]["address"]
        == json.loads((root / "deployments" / f"{web3.eth.chain_id}.json").read_text())["contracts"][
            "ConsentRegistry"
        ]["address"]
    )


def test_grant_check_update_revoke(run, patient_key):
    grantee = accounts[2].address
    out = ok(
        run("consent", "grant", grantee, "-p", "HMB", "-s", "labs,genomics", "-e", "30d", key=patient_key)
    )
    assert "granted: tx 0x" in out.output
    check = run("consent", "check", patient_key.address, grantee, "-p", "DUO:0000006", "-s", "labs")
    assert check.exit_code == 0 and check.output.startswith("PERMITTED")
    denied = run("consent", "check", patient_key.address, grantee, "-p", "HMB", "-s", "imaging")
    assert denied.exit_code == 3 and denied.output.startswith("NOT PERMITTED")
    ok(run("consent", "update", grantee, "-p", "HMB", "-s", "imaging", key=patient_key))
    assert run("consent", "check", patient_key.address, grantee, "-p", "HMB", "-s", "imaging").exit_code == 0
    revoked = json.loads(ok(run("--json", "consent", "revoke", grantee, "-p", "HMB", key=patient_key)).output)
    assert revoked["action"] == "revoked" and revoked["gasUsed"] > 21_000
    data = json.loads(
        run("--json", "consent", "check", patient_key.address, grantee, "-p", "HMB", "-s", "imaging").output
    )
    assert data["permitted"] is False and data["consent"]["revokedAt"] > 0


def test_sign_then_submit_by_someone_else(run, tmp_path):
    patient = Account.create()  # no ether: signs only
    relayer = funded()
    grantee = accounts[2].address
    signed = tmp_path / "consent.json"
    ok(run("consent", "sign", grantee, "-p", "TREAT", "-s", "medications", "-o", str(signed), key=patient))
    assert json.loads(signed.read_text())["patient"] == patient.address
    ok(run("consent", "submit", str(signed), key=relayer))
    assert (
        run("consent", "check", patient.address, grantee, "-p", "TREAT", "-s", "medications").exit_code == 0
    )
    replay = run("consent", "submit", str(signed), key=relayer)
    assert replay.exit_code == 1
    assert replay.output.strip().splitlines() == [
        f"error: InvalidAccountNonce(account={patient.address}, currentNonce=1)"
    ]
    revocation = tmp_path / "revoke.json"
    ok(run("consent", "sign-revoke", grantee, "-p", "TREAT", "-o", str(revocation), key=patient))
    ok(run("consent", "submit", str(revocation), key=relayer))
    assert (
        run("consent", "check", patient.address, grantee, "-p", "TREAT", "-s", "medications").exit_code == 3
    )


def test_delegate_add_act_remove(run, patient_key):
    parent = funded()
    grantee = accounts[3].address
    ok(run("consent", "delegate", "add", parent.address, "-e", "365d", key=patient_key))
    ok(
        run(
            "consent", "grant", grantee, "-p", "TREAT", "-s", "labs", "--for", patient_key.address, key=parent
        )
    )
    assert run("consent", "check", patient_key.address, grantee, "-p", "TREAT", "-s", "labs").exit_code == 0
    ok(run("consent", "delegate", "remove", parent.address, key=patient_key))
    refused = run("consent", "revoke", grantee, "-p", "TREAT", "--for", patient_key.address, key=parent)
    assert refused.exit_code == 1 and refused.output.startswith("error: NotPatientOrDelegate(")


def test_purposes_json_lists_duo_and_hl7(run):
    data = json.loads(ok(run("--json", "purposes")).output)
    codes = {p["code"] for p in data["purposes"]}
    assert {"HMB", "GRU", "TREAT", "HRESCH"} <= codes
    assert any(s["name"] == "labs" for s in data["scopes"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("consent", "grant", "0x12", "-p", "HMB", "-s", "labs"), "is not an Ethereum address"),
        (("consent", "grant", "0x" + "22" * 20, "-p", "NOPE", "-s", "labs"), "unknown purpose"),
        (("consent", "grant", "0x" + "22" * 20, "-p", "HMB", "-s", "x-rays"), "unknown"),
        (("consent", "grant", "0x" + "22" * 20, "-p", "HMB", "-s", "labs", "-e", "soon"), "cannot read time"),
        (
            ("consent", "grant", "0x" + "22" * 20, "-p", "HMB", "-s", "labs", "-e", "2001-01-01"),
            "InvalidExpiry(",
        ),
        (("consent", "submit", "/nonexistent.json"), "cannot read /nonexistent.json"),
        (("consent", "grant", "0x" + "22" * 20, "-p", "DS", "-s", "labs"), "reveals a condition"),
    ],
)
def test_bad_input_is_one_line_and_nonzero(run, patient_key, args, message):
    result = run(*args, key=patient_key)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message.lower() in lines[0].lower()
    assert "Traceback" not in result.output


def test_node_down_is_one_clear_line(root):
    result = CliRunner().invoke(
        cli,
        [
            "--rpc-url",
            "http://127.0.0.1:9",
            "--root",
            str(root),
            "consent",
            "check",
            "0x" + "11" * 20,
            "0x" + "22" * 20,
            "-p",
            "HMB",
            "-s",
            "labs",
        ],
    )
    assert result.exit_code == 1
    assert result.output.strip() == "error: no Ethereum node answers at http://127.0.0.1:9 (ConnectionError)"


def test_not_deployed_says_how_to_fix(rpc, tmp_path):
    result = CliRunner().invoke(
        cli,
        [
            "--rpc-url",
            rpc,
            "--root",
            str(tmp_path),
            "consent",
            "check",
            "0x" + "11" * 20,
            "0x" + "22" * 20,
            "-p",
            "HMB",
            "-s",
            "labs",
        ],
    )
    assert result.exit_code == 1 and "run `carechain deploy`" in result.output


def test_signing_without_a_key_is_refused(run, tmp_path):
    result = run(
        "consent", "sign", "0x" + "22" * 20, "-p", "HMB", "-s", "labs", "-o", str(tmp_path / "c.json")
    )
    assert result.exit_code == 1 and "signing needs a key" in result.output


def test_keystore_with_hidden_prompt(run, root, rpc, tmp_path):
    account = funded()
    keystore = tmp_path / "key.json"
    keystore.write_text(json.dumps(Account.encrypt(account.key, "correct horse")))
    args = [
        "--rpc-url",
        rpc,
        "--root",
        str(root),
        "--keystore",
        str(keystore),
        "consent",
        "grant",
        accounts[4].address,
        "-p",
        "HMB",
        "-s",
        "labs",
    ]
    wrong = CliRunner().invoke(cli, args, env={"PRIVATE_KEY": ""}, input="wrong\n")
    assert wrong.exit_code == 1 and "wrong password for keystore" in wrong.output
    right = CliRunner().invoke(cli, args, env={"PRIVATE_KEY": ""}, input="correct horse\n")
    assert right.exit_code == 0, right.output
    assert "correct horse" not in right.output  # the prompt does not echo
    assert (
        run("consent", "check", account.address, accounts[4].address, "-p", "HMB", "-s", "labs").exit_code
        == 0
    )


def test_parse_time_forms():
    assert parse_time("never") == 0
    assert parse_time("30d", now=1_000) == 1_000 + 30 * 86_400
    assert parse_time("12h", now=0) == 43_200
    assert parse_time("2027-01-31") == 1_801_353_600
    assert parse_time("1801353600") == 1_801_353_600


def test_an_expiry_past_year_9999_never_blocks_a_patients_reads(run, patient_key, tmp_path):
    """The chain holds any uint64 expiry; check, FHIR export and audit history show it, never crash on it."""
    grantee, expires = accounts[2].address, 2**64 - 1
    ok(run("consent", "grant", grantee, "-p", "HMB", "-s", "labs", "-e", str(expires), key=patient_key))

    check = ok(run("consent", "check", patient_key.address, grantee, "-p", "HMB", "-s", "labs"))
    assert (
        check.output.startswith("PERMITTED")
        and f"expires after 9999-12-31 (unix time {expires})" in check.output
    )
    data = json.loads(
        ok(run("--json", "consent", "check", patient_key.address, grantee, "-p", "HMB", "-s", "labs")).output
    )
    assert data["consent"]["expiresAt"] == expires

    bundle = json.loads(ok(run("fhir", "export", patient_key.address)).output)
    period = bundle["entry"][0]["resource"]["provision"]["period"]
    assert "end" not in period and period["extension"][0]["valueString"] == str(expires)

    history = ok(run("audit", "history", patient_key.address, "--db", str(tmp_path / "audit.db")))
    assert history.output.startswith(f"History of {patient_key.address}") and "1 events;" in history.output
    entries = json.loads(
        ok(run("--json", "audit", "history", patient_key.address, "--db", str(tmp_path / "audit.db"))).stdout
    )["entries"]
    assert [e["detail"]["expiresAt"] for e in entries if e["event"] == "ConsentGranted"] == [expires]
    for result in (check, history):
        assert "Traceback" not in result.output
