"""`carechain trial`: a sponsor, an IRB, a site, subjects and an auditor, end to end through the CLI."""

from __future__ import annotations

import json

import pytest
from brownie import accounts
from cli_fixtures import funded, ok
from eth_account import Account

pytest_plugins = ["cli_fixtures"]

IRB = "0x" + "1a" * 20  # a well-formed address
ENDPOINTS = {
    "primary": [{"id": "P1", "measure": "change in HbA1c", "timeFrame": "24 weeks"}],
    "secondary": [{"id": "S1", "measure": "change in weight", "timeFrame": "24 weeks"}],
}


@pytest.fixture(autouse=True)
def deployed(run):
    ok(run("deploy"))


@pytest.fixture
def cast(run):
    """Sponsor, IRB and site (RESEARCHER), attested by the deployer as registrar; subjects' master keys."""
    people = {name: funded() for name in ("sponsor", "irb", "site")}
    ok(run("credential", "add-registrar", accounts[0].address))
    for name, role in (("irb", "IRB"), ("site", "RESEARCHER")):
        ok(run("credential", "attest", people[name].address, "-r", role, "--license-hash", "0x" + "ab" * 32))
    people["carol"], people["erin"] = Account.create(), Account.create()  # subjects: keys, no ether
    return people


@pytest.fixture
def files(tmp_path):
    (tmp_path / "protocol.txt").write_text("Protocol NVP-204 v1\n")
    (tmp_path / "endpoints.json").write_text(json.dumps(ENDPOINTS))
    return tmp_path


def _json(result):
    return json.loads(ok(result).output)


def _register(run, cast, files, *extra, protocol=None, scopes="labs,vitals"):
    """The sponsor registers a trial from the test's files, under the cast's IRB; returns its id."""
    protocol = protocol or str(files / "protocol.txt")
    args = ("--protocol", protocol, "--endpoints", str(files / "endpoints.json"), "-s", scopes, *extra)
    args += ("--irb", cast["irb"].address)
    return _json(run("--json", "trial", "register", *args, key=cast["sponsor"]))["trialId"]


@pytest.fixture
def trial(run, cast, files):
    """Trial registered by the sponsor, approved by the IRB, with the site added; returns its id."""
    trial_id = _register(run, cast, files)
    ok(run("trial", "approve", str(trial_id), key=cast["irb"]))
    ok(run("trial", "add-site", str(trial_id), cast["site"].address, key=cast["sponsor"]))
    return trial_id


def _subject_address(run, trial_id, key):
    return _json(run("--json", "trial", "subject", str(trial_id), key=key))["subject"]


def _consent(run, cast, files, trial_id, who):
    """The subject signs with their per-trial key; the site submits it and pays."""
    signed = files / f"consent-{who}.json"
    ok(run("trial", "consent", str(trial_id), "-o", str(signed), key=cast[who]))
    ok(run("consent", "submit", str(signed), key=cast["site"]))
    return _subject_address(run, trial_id, cast[who])


def test_subject_address_is_per_trial_and_not_the_key_address(run, cast, trial, files):
    first = _subject_address(run, trial, cast["carol"])
    assert first == _subject_address(run, trial, cast["carol"])
    assert first != cast["carol"].address
    second = _register(run, cast, files, protocol="0x" + "11" * 32, scopes="labs")
    assert _subject_address(run, second, cast["carol"]) != first


def test_consent_gated_enrolment_commit_prove_lock_report_verify(run, cast, trial, files):
    carol = _consent(run, cast, files, trial, "carol")
    ok(run("trial", "enroll", str(trial), carol, key=cast["site"]))
    erin = _subject_address(run, trial, cast["erin"])
    refused = run("trial", "enroll", str(trial), erin, key=cast["site"])
    assert refused.exit_code == 1 and "NoConsent" in refused.output

    rows = files / "visit1.csv"
    rows.write_text(f"subject,visit,field,value\n{carol},1,hba1c,7.9\n{carol},1,weight,88.2\n")
    batch = files / "batch-1.json"
    committed = _json(
        run("--json", "trial", "commit", str(trial), "--rows", str(rows), "-o", str(batch), key=cast["site"])
    )
    assert committed["sequence"] == 0
    again = _json(
        run("--json", "trial", "commit", str(trial), "--rows", str(rows), "-o", str(batch), key=cast["site"])
    )
    assert again == {"root": committed["root"], "sequence": 0, "alreadyCommitted": True}

    proof = files / "proof.json"
    ok(
        run(
            "trial",
            "prove",
            str(batch),
            "--subject",
            carol,
            "--visit",
            "1",
            "--field",
            "hba1c",
            "-o",
            str(proof),
        )
    )
    verified = run("trial", "verify", str(trial), "--proof", str(proof), "--batch", str(batch))
    assert verified.exit_code == 0 and verified.output.startswith("PASS"), verified.output

    ok(run("trial", "lock", str(trial), key=cast["sponsor"]))
    late = files / "late.csv"
    late.write_text(f"subject,visit,field,value\n{carol},2,hba1c,6.1\n")
    refused = run(
        "trial", "commit", str(trial), "--rows", str(late), "-o", str(files / "late.json"), key=cast["site"]
    )
    assert refused.exit_code == 1 and "TrialLocked" in refused.output
    caught = run("trial", "verify", str(trial), "--batch", str(files / "late.json"))
    assert caught.exit_code == 3 and "NOT COMMITTED" in caught.output

    results = files / "results.json"
    results.write_text(json.dumps({"trialId": trial, "endpoints": ENDPOINTS, "results": {"P1": -1.1}}))
    ok(run("trial", "report", str(trial), "--results", str(results), key=cast["sponsor"]))
    passed = _json(run("--json", "trial", "verify", str(trial), "--results", str(results)))
    assert passed["verdict"] == "PASS"

    switched = files / "switched.json"
    other = {**ENDPOINTS, "primary": [{"id": "P1", "measure": "fasting glucose", "timeFrame": "12 weeks"}]}
    switched.write_text(json.dumps({"trialId": trial, "endpoints": other, "results": {"P1": -1.1}}))
    failed = run("trial", "verify", str(trial), "--results", str(switched))
    assert failed.exit_code == 3 and "outcome switching" in failed.output

    shown = _json(run("--json", "trial", "show", str(trial)))
    assert shown["status"] == "REPORTED" and shown["enrolled"] == 1 and len(shown["batches"]) == 1


def test_blinded_plan_is_revealed_with_its_salt(run, cast, files):
    salt = files / "plan.salt.json"
    trial_id = _register(run, cast, files, "--blinded", "--salt-out", str(salt), scopes="labs")
    assert oct(salt.stat().st_mode & 0o777) == "0o600"
    hidden = _json(run("--json", "trial", "show", str(trial_id)))
    assert hidden["blinded"] and hidden["primaryEndpoints"] == "0x" + "00" * 32
    ok(
        run(
            "trial",
            "reveal",
            str(trial_id),
            "--endpoints",
            str(files / "endpoints.json"),
            "--salt-file",
            str(salt),
            key=cast["sponsor"],
        )
    )
    assert _json(run("--json", "trial", "show", str(trial_id)))["primaryEndpoints"] != "0x" + "00" * 32
    reused = run(
        "trial",
        "register",
        "--protocol",
        "0x" + "22" * 32,
        "--endpoints",
        str(files / "endpoints.json"),
        "-s",
        "labs",
        "--irb",
        cast["irb"].address,
        "--blinded",
        "--salt-out",
        str(salt),
        key=cast["sponsor"],
    )
    assert reused.exit_code == 1 and "exists" in reused.output


def test_amendment_with_reconsent_moves_the_consent_version(run, cast, trial, files):
    carol = _consent(run, cast, files, trial, "carol")
    ok(run("trial", "enroll", str(trial), carol, key=cast["site"]))
    amended = _json(
        run(
            "--json",
            "trial",
            "amend",
            str(trial),
            "--protocol",
            "0x" + "33" * 32,
            "--reconsent",
            key=cast["sponsor"],
        )
    )
    assert amended["version"] == 2
    ok(run("trial", "approve", str(trial), key=cast["irb"]))
    _consent(run, cast, files, trial, "carol")
    ok(run("trial", "reconsent", str(trial), carol, key=cast["site"]))
    shown = _json(run("--json", "trial", "show", str(trial)))
    assert shown["consentVersion"] == 2 and [v["requiresReconsent"] for v in shown["versions"]] == [
        False,
        True,
    ]
    ok(run("trial", "withdraw", str(trial), carol, key=cast["site"]))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("subject,visit,field\n", "needs the columns"),
        ("subject,visit,field,value\n0x12,1,a,b\n", "visit.csv:2: subject '0x12' is not an address"),
        (
            "subject,visit,field,value\n" + "0x" + "ab" * 20 + ",one,a,b\n",
            "visit 'one' is not a visit number",
        ),
        ("subject,visit,field,value\n", "holds no rows"),
    ],
)
def test_bad_rows_get_one_line_and_nothing_is_written(run, cast, trial, files, content, message):
    rows = files / "visit.csv"
    rows.write_text(content)
    result = run(
        "trial", "commit", str(trial), "--rows", str(rows), "-o", str(files / "out.json"), key=cast["site"]
    )
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output
    assert not (files / "out.json").exists()


@pytest.mark.parametrize(
    "args",
    [
        ("trial", "verify", "1"),
        ("trial", "verify", "1", "--proof", "missing.json"),
        ("trial", "show", "99"),
        ("trial", "approve", "0"),
        ("trial", "register", "--protocol", "0x12", "--endpoints", "none.json", "-s", "labs", "--irb", IRB),
        ("trial", "register", "--protocol", "0x12", "--endpoints", "e.json", "-s", "labs", "--irb", "0x1a8"),
        ("trial", "register", "--protocol", "0x12", "--endpoints", "e.json", "-s", "labs"),  # no --irb
        ("trial", "change-irb", "1", "not-an-address"),
        ("trial", "prove", "missing.json", "--row", "0", "-o", "p.json"),
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(run, cast, args):
    result = run(*args, key=cast["sponsor"])
    assert result.exit_code != 0 and "Traceback" not in result.output
    last = result.output.strip().splitlines()[-1]  # click's usage errors come after two lines of usage
    assert last.startswith(("error: ", "Error: ")), result.output


def test_site_needs_a_research_credential(run, cast, trial):
    stranger = funded()
    result = run("trial", "add-site", str(trial), stranger.address, key=cast["sponsor"])
    assert result.exit_code == 1 and "NotResearcher" in result.output


def test_sponsor_transfer_takes_a_proposal_and_an_acceptance(run, cast, trial):
    new_key = funded()
    ok(run("trial", "transfer-sponsor", str(trial), new_key.address, key=cast["sponsor"]))
    shown = _json(run("--json", "trial", "show", str(trial)))
    assert (shown["sponsor"], shown["pendingSponsor"]) == (cast["sponsor"].address, new_key.address)
    refused = run("trial", "accept-sponsor", str(trial), key=cast["irb"])
    assert refused.exit_code == 1 and "NotPendingSponsor" in refused.output
    ok(run("trial", "accept-sponsor", str(trial), key=new_key))
    shown = _json(run("--json", "trial", "show", str(trial)))
    assert (shown["sponsor"], shown["pendingSponsor"]) == (new_key.address, None)
    ok(run("trial", "lock", str(trial), key=new_key))


def test_the_irb_of_record_is_shown_approves_and_can_be_changed(run, cast, files):
    """Finding A.4: `trial show` names the IRB of record; another IRB is refused in one line until the
    sponsor names it with `trial change-irb`, which version 1 awaiting a live IRB of record refuses in
    one line (`IrbReviewPending`) until that IRB's credential is suspended."""
    trial_id = _register(run, cast, files)
    shown = run("trial", "show", str(trial_id))
    assert f"IRB of record {cast['irb'].address}" in ok(shown).output
    other = funded()
    ok(run("credential", "attest", other.address, "-r", "IRB", "--license-hash", "0x" + "cd" * 32))
    refused = run("trial", "approve", str(trial_id), key=other)
    assert refused.exit_code == 1 and "NotIrbOfRecord" in refused.output and "Traceback" not in refused.output
    assert len(refused.output.strip().splitlines()) == 1

    # Version 1 awaits the IRB of record, which can still act: no swap (issue 15, A.4 review), in one
    # line naming the error; once its credential is suspended (the IRB closes), the sponsor may.
    pending = run("trial", "change-irb", str(trial_id), other.address, key=cast["sponsor"])
    assert pending.exit_code == 1 and "IrbReviewPending" in pending.output
    assert "Traceback" not in pending.output
    assert len(pending.output.strip().splitlines()) == 1
    ok(run("credential", "suspend", cast["irb"].address, "-r", "IRB"))
    changed = _json(run("--json", "trial", "change-irb", str(trial_id), other.address, key=cast["sponsor"]))
    assert changed["irb"] == other.address
    assert _json(run("--json", "trial", "show", str(trial_id)))["irb"] == other.address
    ok(run("trial", "approve", str(trial_id), key=other))
    versions = _json(run("--json", "trial", "show", str(trial_id)))["versions"]
    assert [v["irb"] for v in versions] == [other.address]


def test_an_irb_without_a_credential_cannot_be_named(run, cast, files):
    args = ("--protocol", str(files / "protocol.txt"), "--endpoints", str(files / "endpoints.json"))
    refused = run("trial", "register", *args, "-s", "labs", "--irb", funded().address, key=cast["sponsor"])
    assert refused.exit_code == 1 and "NotIrb" in refused.output and "Traceback" not in refused.output
