"""`carechain credential|record|access`: a hospital, a GP, a specialist, the ER and a reviewer, end to end."""

from __future__ import annotations

import json
import os

import pytest
from brownie import accounts
from cli_fixtures import funded, ok
from eth_utils.crypto import keccak

pytest_plugins = ["cli_fixtures"]


@pytest.fixture(autouse=True)
def deployed(run):
    ok(run("deploy"))


@pytest.fixture
def people(run):
    """Credentialed actors; the node's first account (the deployer) is the admin and registrar."""
    cast = {name: funded() for name in ("patient", "hospital", "gp", "specialist", "er", "reviewer")}
    ok(run("credential", "add-registrar", accounts[0].address))
    for name, role in (
        ("hospital", "CUSTODIAN"),
        ("gp", "PROVIDER"),
        ("specialist", "PROVIDER"),
        ("er", "EMERGENCY"),
        ("reviewer", "REVIEWER"),
    ):
        ok(
            run(
                "credential",
                "attest",
                cast[name].address,
                "-r",
                role,
                "--license-hash",
                "0x" + os.urandom(32).hex(),
            )
        )
    return cast


@pytest.fixture
def lab(run, people, tmp_path):
    """A lab result of the patient, anchored by the hospital from its encrypted file."""
    blob = tmp_path / "lab.enc"
    blob.write_bytes(os.urandom(300))
    record_id = "0x" + os.urandom(32).hex()
    ok(
        run(
            "record",
            "anchor",
            record_id,
            people["patient"].address,
            "-c",
            "labs",
            "--file",
            str(blob),
            key=people["hospital"],
        )
    )
    return record_id, blob


def test_grant_read_log_and_deny(run, people, lab):
    record_id, _ = lab
    p = people
    ok(run("access", "grant", p["gp"].address, "-c", "labs", "-e", "30d", key=p["patient"]))
    allowed = run("access", "check", p["gp"].address, record_id)
    assert (
        allowed.exit_code == 0 and allowed.output.startswith("ALLOWED") and "category grant" in allowed.output
    )
    ok(run("access", "log", p["gp"].address, record_id, "-p", "TREAT", key=p["hospital"]))
    denied = run("access", "check", p["specialist"].address, record_id)
    assert denied.exit_code == 3 and denied.output.startswith("DENIED")
    refused = run("access", "log", p["specialist"].address, record_id, key=p["hospital"])
    assert refused.exit_code == 1
    assert refused.output.strip() == (
        f"error: AccessDenied(provider={p['specialist'].address}, recordId={record_id})"
    )
    reads = json.loads(ok(run("--json", "access", "reads", "--patient", p["patient"].address)).output)[
        "reads"
    ]
    assert [(r["provider"], r["purpose"], r["basis"]) for r in reads] == [
        (p["gp"].address, "TREAT", "CATEGORY_GRANT")
    ]


def test_a_revert_inside_a_called_registry_is_named(run, people):
    """logAccess on a record nobody anchored reverts in RecordRegistry: its error is decoded too."""
    unknown = "0x" + os.urandom(32).hex()
    refused = run("access", "log", people["gp"].address, unknown, "-p", "TREAT", key=people["hospital"])
    assert refused.exit_code == 1
    assert refused.output.strip() == f"error: UnknownRecord(recordId={unknown})"


def test_break_glass_review_and_episodes(run, people, lab):
    record_id, _ = lab
    p = people
    opened = json.loads(
        ok(run("--json", "access", "break-glass", p["patient"].address, "-d", "2h", key=p["er"])).output
    )
    episode = opened["episodeId"]
    ok(run("access", "log", p["er"].address, record_id, "-p", "ETREAT", key=p["hospital"]))
    self_review = run("access", "review", str(episode), "--approve", key=p["er"])
    assert self_review.exit_code == 1 and "NotReviewer" in self_review.output
    ok(run("access", "review", str(episode), "--flag", key=p["reviewer"]))
    assert run("access", "check", p["er"].address, record_id).exit_code == 3  # flagged: access ended
    episodes = json.loads(ok(run("--json", "access", "episodes", "--patient", p["patient"].address)).output)
    assert episodes["episodes"] == [
        {
            "episodeId": episode,
            "patient": p["patient"].address,
            "provider": p["er"].address,
            "openedAt": episodes["episodes"][0]["openedAt"],
            "expiresAt": episodes["episodes"][0]["expiresAt"],
            "review": "FLAGGED",
            "reviewer": p["reviewer"].address,
            "reason": "ETREAT",
        }
    ]
    reads = json.loads(ok(run("--json", "access", "reads", "--record", record_id)).output)["reads"]
    assert [(r["basis"], r["episodeId"]) for r in reads] == [("BREAK_GLASS", episode)]


def test_signed_grant_submitted_by_clinic_and_revoke(run, people, lab, tmp_path):
    record_id, _ = lab
    p = people
    signed = tmp_path / "grant.json"
    ok(run("access", "sign", p["gp"].address, "-c", "labs", "-e", "7d", "-o", str(signed), key=p["patient"]))
    ok(run("access", "submit", str(signed), key=p["hospital"]))
    assert run("access", "check", p["gp"].address, record_id).exit_code == 0
    replay = run("access", "submit", str(signed), key=p["hospital"])
    assert replay.exit_code == 1 and "InvalidAccountNonce" in replay.output
    ok(run("access", "revoke", p["gp"].address, key=p["patient"]))
    assert run("access", "check", p["gp"].address, record_id).exit_code == 3


def test_record_grant_and_credential_suspension(run, people, lab):
    record_id, _ = lab
    p = people
    ok(run("access", "grant-record", p["specialist"].address, record_id, "-e", "1d", key=p["patient"]))
    assert "record grant" in ok(run("access", "check", p["specialist"].address, record_id)).output
    ok(run("credential", "suspend", p["specialist"].address, "-r", "PROVIDER"))
    live = run("credential", "check", p["specialist"].address, "-r", "provider")
    assert live.exit_code == 3 and "suspended" in live.output
    assert (
        run("access", "check", p["specialist"].address, record_id).exit_code == 3
    )  # re-checked at read time
    ok(run("credential", "reinstate", p["specialist"].address, "-r", "PROVIDER"))
    assert run("access", "check", p["specialist"].address, record_id).exit_code == 0
    ok(run("access", "revoke", p["specialist"].address, "--record", record_id, key=p["patient"]))
    assert run("access", "check", p["specialist"].address, record_id).exit_code == 3


def test_revoking_a_suspended_credential_keeps_the_suspension(run, people):
    """Finding A.7 from the CLI: a re-attestation is refused until `reinstate` lifts the suspension."""
    holder = people["specialist"].address
    ok(run("credential", "suspend", holder, "-r", "PROVIDER"))
    ok(run("credential", "revoke", holder, "-r", "PROVIDER"))
    shown = run("credential", "check", holder, "-r", "PROVIDER")
    assert shown.exit_code == 3 and "revoked while suspended" in shown.output
    refused = run("credential", "attest", holder, "-r", "PROVIDER", "--license-hash", "0x" + "11" * 32)
    assert refused.exit_code != 0 and "InvalidCredentialStatus" in refused.output
    assert "Traceback" not in refused.output


def test_record_history_after_amend(run, people, lab, tmp_path):
    record_id, blob = lab
    new_hash = "0x" + keccak(b"version two ciphertext").hex()
    ok(run("record", "amend", record_id, "--content-hash", new_hash, key=people["hospital"]))
    history = json.loads(ok(run("--json", "record", "history", record_id)).output)
    assert history["category"] == "labs" and history["patient"] == people["patient"].address
    assert [v["contentHash"] for v in history["versions"]] == [
        "0x" + keccak(blob.read_bytes()).hex(),
        new_hash,
    ]
    other = run("record", "amend", record_id, "--content-hash", new_hash, key=funded())
    assert other.exit_code == 1 and "NotRecordCustodian" in other.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("credential", "attest", "0x" + "11" * 20, "-r", "SURGEON", "--license-hash", "0x" + "22" * 32),
            "unknown credential role",
        ),
        (
            ("record", "anchor", "0x12", "0x" + "11" * 20, "-c", "labs", "--content-hash", "0x" + "22" * 32),
            "record id",
        ),
        (
            (
                "record",
                "anchor",
                "0x" + "33" * 32,
                "0x" + "11" * 20,
                "-c",
                "x-rays",
                "--content-hash",
                "0x" + "22" * 32,
            ),
            "unknown record category",
        ),
        (("record", "anchor", "0x" + "33" * 32, "0x" + "11" * 20, "-c", "labs"), "exactly one of"),
        (("access", "break-glass", "0x" + "11" * 20, "-d", "soon"), "cannot read duration"),
        (("access", "grant", "0x" + "11" * 20, "-c", "labs", "-e", "never"), "cannot be 'never'"),
        (("access", "submit", "/nonexistent.json"), "cannot read"),
    ],
)
def test_bad_input_is_one_line(run, args, message):
    result = run(*args, key=funded())
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1
    assert lines[0].startswith("error: ") and message in lines[0]


def test_signed_record_grant_and_signed_revocation(run, people, lab, tmp_path):
    record_id, _ = lab
    p = people
    grant, revoke = tmp_path / "record-grant.json", tmp_path / "record-revoke.json"
    ok(
        run(
            "access",
            "sign",
            p["specialist"].address,
            "--record",
            record_id,
            "-e",
            "1d",
            "-o",
            str(grant),
            key=p["patient"],
        )
    )
    ok(run("access", "submit", str(grant), key=p["hospital"]))
    assert "record grant" in ok(run("access", "check", p["specialist"].address, record_id)).output
    ok(
        run(
            "access",
            "sign",
            p["specialist"].address,
            "--record",
            record_id,
            "--revoke",
            "-o",
            str(revoke),
            key=p["patient"],
        )
    )
    ok(run("access", "submit", str(revoke), key=p["hospital"]))
    assert run("access", "check", p["specialist"].address, record_id).exit_code == 3


def test_sign_needs_exactly_one_kind_of_grant(run, people, tmp_path):
    result = run(
        "access",
        "sign",
        people["gp"].address,
        "-e",
        "1d",
        "-o",
        str(tmp_path / "x.json"),
        key=people["patient"],
    )
    assert result.exit_code == 1 and "one of --categories / --record" in result.output
