"""`carechain audit ...`: tables and JSON from the index, exit 3 on disagreement, one-line errors."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from audit.conftest import make_project
from carechain.cli import cli
from carechain.clients.consent import ConsentClient
from carechain.core.purposes import purpose_id
from carechain.core.sender import Sender
from carechain.dev.localnode import free_port


@pytest.fixture
def run(w3, root, tmp_path):
    """The CLI in-process against this module's deployment, with a fresh index file per test."""

    def invoke(*args: str, rpc: str | None = None, project=None, db: bool = True):
        env = {"PRIVATE_KEY": "", "KEYSTORE": "", "RPC_URL": "", "COLUMNS": "300"}  # whole addresses
        command = ["--rpc-url", rpc or w3.provider.endpoint_uri, "--root", str(project or root), *args]
        if db:
            command += ["--db", str(tmp_path / "audit.db")]
        return CliRunner().invoke(cli, command, env=env)

    return invoke


def _json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_access_as_json_and_as_a_table(run, story):
    data = _json(run("--json", "audit", "access", story.patient, "--scopes", "labs"))
    live = {(row["party"], row["kind"]) for row in data["permissions"] if row["index_live"]}
    assert (story.researcher, "consent") in live and (story.gp, "category-grant") in live
    assert data["agrees"] and data["scopes"] == ["labs"] and data["indexed_block"] == data["head"]
    table = run("audit", "access", story.patient, "--scopes", "labs", "--purpose", "HMB", "--no-sync")
    assert table.exit_code == 0, table.output
    assert story.researcher in table.stdout and story.gp not in table.stdout
    assert "1 live; index at block" in table.stdout


def test_a_disagreement_is_shown_and_exits_3(run, w3, root, story):
    _json(run("--json", "audit", "history", story.patient))  # indexes the story
    ConsentClient.from_manifest(w3, root, Sender(w3, story.patient)).revoke(
        story.researcher, purpose_id("HMB")
    )
    stale = run("audit", "access", story.patient, "--scopes", "labs", "--no-sync")
    assert stale.exit_code == 3
    assert "THE CHAIN DISAGREES" in stale.stdout and "1 block behind the head" in stale.stdout
    data = json.loads(run("--json", "audit", "access", story.patient, "-s", "labs", "--no-sync").stdout)
    assert not data["agrees"]
    assert [r["chain_live"] for r in data["permissions"] if r["party"] == story.researcher] == [False]
    assert _json(run("--json", "audit", "access", story.patient, "--scopes", "labs"))["agrees"]


def test_history_reads_break_glass_and_trial(run, story):
    history = _json(run("--json", "audit", "history", story.patient))
    assert [e["event"] for e in history["entries"]][:2] == ["ConsentGranted", "ConsentGranted"]
    table = run("audit", "history", story.patient, "--no-sync")
    assert table.exit_code == 0 and "ConsentRevoked" in table.stdout and "DelegateSet" in table.stdout

    reads = _json(run("--json", "audit", "reads", "0x" + story.lab_record.hex(), "--no-sync"))
    assert [r["basis"] for r in reads["reads"]] == ["category_grant", "break_glass"] and reads["agrees"]
    shown = run("audit", "reads", "0x" + story.lab_record.hex(), "--no-sync")
    assert f"episode {story.episode}" in shown.stdout and "2 reads in the index, 2 on chain" in shown.stdout

    episodes = _json(run("--json", "audit", "break-glass", "--no-sync"))
    assert [e["episode_id"] for e in episodes["episodes"]] == [story.episode]
    shown = run("audit", "break-glass", "--patient", story.patient, "--no-sync")
    assert shown.exit_code == 0 and story.er in shown.stdout and "1 open" in shown.stdout

    trial = _json(run("--json", "audit", "trial", str(story.trial_id), "--no-sync"))
    assert trial["agrees"] and len(trial["commitments"]) == 2 and trial["locked"]["lockedAt"] > 0
    shown = run("audit", "trial", str(story.trial_id), "--no-sync")
    assert shown.exit_code == 0 and "0x" + story.roots[1].hex() in shown.stdout
    assert "locked " in shown.stdout and "results 0x" in shown.stdout


def test_help_shows_examples(run):
    result = run("audit", "--help", db=False)
    assert result.exit_code == 0 and "carechain audit access 0xPatient --scopes labs" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("access", "0x1234", "--scopes", "labs"), "error: patient '0x1234' is not an Ethereum address"),
        (("access", "{patient}", "--scopes", "lab"), "error: unknown scope 'lab'"),
        (("access", "{patient}", "--scopes", "labs", "--purpose", "NOPE"), "error: unknown purpose 'NOPE'"),
        (("history", "patient-1"), "error: patient 'patient-1' is not an Ethereum address"),
        (("reads", "0x" + "ab" * 32), "error: unknown record 0x" + "ab" * 32),
        (("reads", "record-1"), "error: a record id is 0x followed by 64 hex digits"),
        (("reads", "0xabcd"), "error: a record id is 32 bytes, got 2"),
        (("trial", "99"), "error: unknown trial 99: chain"),
        (("trial", "one"), "error: trial id 'one' is not a valid integer"),
        (
            ("trial", str(2**256)),
            f"error: trial id {2**256} is out of range: a whole number from 1 to 2^256 - 1",
        ),
        (("break-glass", "--patient", "0xnope"), "error: patient '0xnope' is not an Ethereum address"),
    ],
)
def test_bad_input_is_one_line_of_error(run, story, args, message):
    result = run("audit", *(a.format(patient=story.patient) for a in args))
    _one_line_error(result, message)


def test_node_down_is_one_line_of_error(run, story):
    result = run("audit", "history", story.patient, rpc=f"http://127.0.0.1:{free_port()}")
    _one_line_error(result, "error: no Ethereum node answers at http://127.0.0.1:")


def test_a_manifest_of_another_chain_is_one_line_of_error(run, w3, root, story, tmp_path):
    other = make_project(tmp_path / "other")
    (other / "deployments").mkdir()
    manifest = json.loads((root / "deployments" / f"{w3.eth.chain_id}.json").read_text())
    manifest["chainId"] = 1
    (other / "deployments" / f"{w3.eth.chain_id}.json").write_text(json.dumps(manifest))
    shutil.copytree(root / "abi", other / "abi")
    result = run("audit", "access", story.patient, "--scopes", "labs", project=other)
    _one_line_error(result, f"is for chain 1, not {w3.eth.chain_id}")


def test_a_bad_index_database_is_one_line_of_error(run, story):
    result = run(
        "audit", "history", story.patient, "--db", "postgresql://nobody:secret@127.0.0.1:1/none", db=False
    )
    _one_line_error(result, "error: cannot open the index database postgresql+psycopg://nobody:***@")


def _one_line_error(result, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert message in result.output and result.output.startswith("error: "), result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_purpose_filter_takes_a_curie(run, story):
    data = _json(run("--json", "audit", "access", story.patient, "-s", "labs", "-p", "DUO:0000006"))
    assert [(row["party"], row["purpose_label"]) for row in data["permissions"]] == [
        (story.researcher, "HMB")
    ]
