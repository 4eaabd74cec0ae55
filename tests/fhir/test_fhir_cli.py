"""`carechain fhir export|import` in-process against Anvil: a patient's consents out and back in."""

from __future__ import annotations

import json

import pytest
from eth_account import Account
from fhir.resources.R4B.bundle import Bundle
from fhir_support import funded, ok

pytest_plugins = ["fhir_fixtures"]


@pytest.fixture(autouse=True)
def deployed(fhir_run):
    ok(fhir_run("deploy"))


def test_export_revoke_and_import_back(fhir_run, tmp_path):
    patient = funded()
    researcher, clinic = Account.create().address, Account.create().address
    ok(fhir_run("consent", "grant", researcher, "-p", "HMB", "-s", "labs,genomics", "-e", "30d", key=patient))
    ok(fhir_run("consent", "grant", clinic, "-p", "TREAT", "-s", "medications,allergies", key=patient))
    bundle_file = tmp_path / "consents.json"

    written = ok(fhir_run("fhir", "export", patient.address, "-o", str(bundle_file)))

    assert written.output.strip() == f"2 consent(s) written to {bundle_file}"
    document = json.loads(bundle_file.read_text())
    Bundle.model_validate(document)
    assert [e["resource"]["status"] for e in document["entry"]] == ["active", "active"]
    assert json.loads(ok(fhir_run("fhir", "export", patient.address)).stdout)["entry"] == document["entry"]

    dry = ok(fhir_run("fhir", "import", str(bundle_file), "--dry-run", key=patient)).output.splitlines()
    assert [line.split(" until ")[0] for line in dry] == [
        f"would grant {researcher} HMB over labs,genomics",
        f"would grant {clinic} TREAT over allergies,medications",
    ]
    assert dry[1].endswith("until never")
    assert fhir_run("consent", "check", patient.address, researcher, "-p", "HMB", "-s", "labs").exit_code == 0

    for grantee, purpose in ((researcher, "HMB"), (clinic, "TREAT")):
        ok(fhir_run("consent", "revoke", grantee, "-p", purpose, key=patient))
    assert fhir_run("consent", "check", patient.address, researcher, "-p", "HMB", "-s", "labs").exit_code == 3

    imported = json.loads(ok(fhir_run("--json", "fhir", "import", str(bundle_file), key=patient)).output)

    assert imported["action"] == "granted batch" and imported["count"] == 2
    check = ("consent", "check", patient.address)
    assert fhir_run(*check, researcher, "-p", "HMB", "-s", "labs,genomics").exit_code == 0
    assert fhir_run(*check, clinic, "-p", "TREAT", "-s", "allergies,medications").exit_code == 0
    again = json.loads(ok(fhir_run("fhir", "export", patient.address, "--active-only")).stdout)
    assert [e["resource"]["provision"] | {"period": None} for e in again["entry"]] == [
        e["resource"]["provision"] | {"period": None} for e in document["entry"]
    ]


def test_delegate_imports_one_consent_for_the_patient(fhir_run, tmp_path):
    patient, parent = funded(), funded()
    researcher = Account.create().address
    ok(fhir_run("consent", "delegate", "add", parent.address, key=patient))
    ok(fhir_run("consent", "grant", researcher, "-p", "GRU", "-s", "demographics", "-e", "90d", key=patient))
    (entry,) = json.loads(ok(fhir_run("fhir", "export", patient.address)).stdout)["entry"]
    consent_file = tmp_path / "consent.json"
    consent_file.write_text(json.dumps(entry["resource"]))
    ok(fhir_run("consent", "revoke", researcher, "-p", "GRU", key=patient))

    not_theirs = fhir_run("fhir", "import", str(consent_file), key=parent)
    assert not_theirs.exit_code == 1 and "is a consent of another patient" in not_theirs.output
    granted = json.loads(
        ok(
            fhir_run("--json", "fhir", "import", str(consent_file), "--for", patient.address, key=parent)
        ).output
    )

    assert granted["action"] == "granted" and granted["purpose"] == "GRU"
    assert granted["scopes"] == ["demographics"]
    assert (
        fhir_run("consent", "check", patient.address, researcher, "-p", "GRU", "-s", "demographics").exit_code
        == 0
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("{not json", "is not valid JSON: Expecting property name enclosed in double quotes at line 1"),
        ("[1, 2]", "is not a FHIR resource"),
        (
            '{"resourceType": "Patient", "id": "p1"}',
            "not a FHIR Consent or Bundle (resourceType is 'Patient')",
        ),
        (
            '{"resourceType": "Consent", "status": "active"}',
            "is not valid FHIR Consent: category: Field required",
        ),
    ],
)
def test_bad_file_is_one_line(fhir_run, tmp_path, content, message):
    path = tmp_path / "input.json"
    if content is not None:
        path.write_text(content)
    result = fhir_run("fhir", "import", str(path))
    assert result.exit_code == 1, result.output
    assert result.output.startswith("error: ") and message in result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output


def test_bad_patient_address_is_one_line(fhir_run):
    result = fhir_run("fhir", "export", "0x1234")
    assert result.exit_code == 1
    assert (
        result.output == "error: patient '0x1234' is not an Ethereum address (0x followed by 40 hex digits)\n"
    )
