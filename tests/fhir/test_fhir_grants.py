"""carechain.offchain.fhir_grants on a chain: a patient's grants made through the patient library, exported
as FHIR, imported back as grants under other numbers with the same policy, purpose and scope; and the
`fhir export-grants` / `import-grants` commands over the same deployment."""

from __future__ import annotations

import json

from brownie import accounts, web3
from click.testing import CliRunner
from eth_account import Account
from fhir.resources.R4B.bundle import Bundle
from grants_support import client_of

from carechain.cli import cli
from carechain.cli import fhir as fhir_cli
from carechain.cli import grants as grants_cli
from carechain.clients import ConsentGrantsClient
from carechain.core import keys
from carechain.core.grants import Op, Status
from carechain.errors import TransactionFailed
from carechain.offchain import fhir_grants
from carechain.offchain.patient import DirectSubmitter, Patient

YEAR = 365 * 86_400


def test_grants_export_as_fhir_and_import_back_as_the_same_grants(project, relay):
    patient = Patient(
        keys.KeyRoot.from_secret(keys.create_secret()),
        ConsentGrantsClient.from_manifest(web3, project),
        DirectSubmitter(client_of(project, accounts[5])),
    )
    doctor, lab = accounts[2].address, accounts[3].address
    now = web3.eth.get_block("latest")["timestamp"]
    research, _ = patient.grant(doctor, "HMB", ["labs", "genomics"], None, now + YEAR, ops=Op.READ | Op.QUERY)
    care, _ = patient.grant(lab, "TREAT", ["allergies"], None, now + YEAR)
    patient.revoke(care.index)

    document = json.loads(json.dumps(fhir_grants.export_grants(patient)))

    Bundle.model_validate(document)
    consents = [entry["resource"] for entry in document["entry"]]
    reference = f"eip155:{web3.eth.chain_id}:{patient.contract.address}/0x"
    assert [c["identifier"][0]["value"] for c in consents] == [
        reference + research.commitment.hex(),
        reference + care.commitment.hex(),
    ]
    assert [(c["status"], c["extension"][0]["valueCode"]) for c in consents] == [
        ("active", "ACTIVE"),
        ("inactive", "REVOKED_BY_SUBJECT"),
    ]
    text = json.dumps(document).lower()
    assert all(k.address.lower()[2:] not in text and k.salt.hex() not in text for k in (research, care))

    active = fhir_grants.export_grants(patient, active_only=True)
    wanted = fhir_grants.imported_grants(active, chain_id=web3.eth.chain_id, now=now)
    ((again, act),) = fhir_grants.sign_imported(patient, wanted)
    assert again.index == care.index + 1 and act.grant is not None  # the next unused number, never chosen
    patient.submitter.submit(act)

    original, copied = patient.grant_of(research.index), patient.grant_of(again.index)
    assert original.grant is not None and copied.grant is not None
    assert copied.grant.policy == original.grant.policy
    assert copied.grant.grantee == doctor and copied.categories == original.categories == ("labs", "genomics")
    assert (copied.grant.purpose_profile_ref, copied.grant.terms_ref) == (
        original.grant.purpose_profile_ref,
        original.grant.terms_ref,
    )
    assert copied.status is Status.ACTIVE and copied.active
    found = patient.check(doctor, "HMB", "genomics", Op.QUERY)
    assert [g.index for g in found] == [research.index, again.index]


def test_the_cli_exports_and_imports_grants_through_the_relayer(project, relay, tmp_path, monkeypatch):
    wallet = Account.create()  # signs the key derivation only; never funded, never a sender
    monkeypatch.setattr(grants_cli, "_relay_client", lambda url: DirectSubmitter(relay))
    doctor = accounts[2].address

    def run(*args: str):
        env = {"PRIVATE_KEY": wallet.key.hex(), "KEYSTORE": "", "RPC_URL": "", grants_cli.RELAYER_ENV: ""}
        base = ["--rpc-url", web3.provider.endpoint_uri, "--root", str(project)]
        return CliRunner().invoke(cli, [*base, *args], env=env)

    granted = run(
        "consent", "grants", "--relayer", "x", "grant", doctor, "-p", "TREAT", "-c", "labs", "--until", "30d"
    )
    assert granted.exit_code == 0, granted.output
    bundle_file = tmp_path / "grants.json"
    unselected = run("fhir", "export-grants", "-o", str(bundle_file))
    assert unselected.exit_code == 2 and "say which grants: --grant N" in unselected.output
    shown = run("fhir", "export-grants", "--help").output
    assert "--all" in shown and "WARNING" in shown
    assert run("fhir", "export-grants", "--grant", "5", "-o", str(bundle_file)).exit_code == 1
    assert not bundle_file.exists()

    def no_wallet(*args, **kwargs):
        raise AssertionError("the wallet was asked to sign")

    monkeypatch.setattr(fhir_cli, "open_patient", no_wallet)
    bad_reference = run("fhir", "export-grants", "--all", "--patient-reference", "eip155:1:" + wallet.address)
    assert bad_reference.exit_code == 1 and "is not a local reference Patient/<id>" in bad_reference.output
    monkeypatch.undo()
    monkeypatch.setattr(grants_cli, "_relay_client", lambda url: DirectSubmitter(relay))

    other = run("fhir", "export-grants", "--grantee", accounts[3].address, "-o", str(bundle_file))
    assert other.exit_code == 0 and other.output.strip() == f"0 grant(s) written to {bundle_file}"
    local = ("--patient-reference", "Patient/42")
    written = run("fhir", "export-grants", "--grantee", doctor, "-o", str(bundle_file), *local)
    assert written.exit_code == 0 and written.output.strip() == f"1 grant(s) written to {bundle_file}"
    (entry,) = json.loads(bundle_file.read_text())["entry"]
    assert entry["resource"]["patient"] == {"reference": "Patient/42"}
    contract = ConsentGrantsClient.from_manifest(web3, project).address
    signature = keys.sign_derivation(wallet, web3.eth.chain_id, contract)
    grant_keys = keys.KeyRoot.from_signature(keys.check_deterministic(signature, signature)).grant_keys(
        "subject", 0
    )
    text = bundle_file.read_text().lower()
    assert grant_keys.commitment.hex() in text  # the keys the command used, derived the same way
    for secret in (wallet.address, grant_keys.address, grant_keys.salt.hex(), grant_keys.scope_salt.hex()):
        assert secret.lower().removeprefix("0x") not in text
    assert run("fhir", "export-grants", "--grant", "0", "-o", str(tmp_path / "by-number.json")).exit_code == 0

    dry = run("fhir", "import-grants", str(bundle_file), "--dry-run")
    assert dry.exit_code == 0 and dry.output.startswith(f"would grant {doctor} TREAT over labs from ")
    no_relayer = run("fhir", "import-grants", str(bundle_file))
    assert no_relayer.exit_code == 1 and no_relayer.output.startswith("error: acts are sent by a relayer")
    imported = run("--json", "fhir", "import-grants", str(bundle_file), "--relayer", "x")
    assert imported.exit_code == 0, imported.output
    (row,) = json.loads(imported.output)["grants"]  # one JSON document
    assert row["index"] == 1 and row["status"] == "mined"

    two = tmp_path / "two.json"
    two.write_text(json.dumps({**json.loads(bundle_file.read_text()), "entry": [entry, entry]}))
    too_many = run("fhir", "import-grants", str(two), "--relayer", "x", "--max", "1")
    assert too_many.exit_code == 1 and "holds 2 Consents, more than --max 1" in too_many.output

    class SecondFails:
        def __init__(self) -> None:
            self.sent = 0

        def submit(self, act):
            self.sent += 1
            if self.sent > 1:
                raise TransactionFailed("the relayer refused: rate-limited")
            return DirectSubmitter(relay).submit(act)

    monkeypatch.setattr(grants_cli, "_relay_client", lambda url: SecondFails())
    partial = run("fhir", "import-grants", str(two), "--relayer", "x")
    assert partial.exit_code == 1 and partial.output.count("\n") == 1, partial.output
    assert partial.output.startswith("error: sending grant #3 failed: the relayer refused: rate-limited")
    assert "sent before it: #2 (act 0x" in partial.output and "signed but not sent: #3:" in partial.output
    assert "it may have reached the relayer: `consent grants list` shows it then" in partial.output
    assert "void each unsent one with `carechain consent grants burn N`" in partial.output

    entry["resource"]["provision"]["type"] = "deny"
    bundle_file.write_text(json.dumps(entry["resource"]))
    refused = run("fhir", "import-grants", str(bundle_file))  # checked before the relayer is asked for
    assert refused.exit_code == 1 and refused.output.count("\n") == 1
    assert refused.output.startswith("error: Consent ") and "provision.type is 'deny'" in refused.output
    chosen = run("fhir", "import-grants", str(bundle_file), "--index", "7")
    assert chosen.exit_code == 2 and "No such option '--index'" in chosen.output
