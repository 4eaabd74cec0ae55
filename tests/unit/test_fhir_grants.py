"""carechain.offchain.fhir_grants without a chain: grants (from GrantInput and Policy values) out as FHIR
Consents, and back as exactly the grants the patient library signs; what cannot map exactly, refused."""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest
from eth_account import Account
from fhir.resources.R4B.bundle import Bundle

from carechain.clients.grants import ConsentGrant
from carechain.core import keys, profiles
from carechain.core.grants import AgentKind, AgentStatus, GrantInput, Op, Policy, Status
from carechain.errors import InputError
from carechain.offchain import fhir, fhir_grants
from carechain.offchain.patient import PatientGrant, scope_of, template_pair

CHAIN_ID = 31337
DAY = 86_400
NOW = 1_800_000_000 // DAY * DAY + 3_600  # 01:00 UTC
CONTRACT = "0x3333333333333333333333333333333333333333"
GRANTEE = "0x2222222222222222222222222222222222222222"
WALLET = Account.from_key(bytes(range(1, 33)))
# The grant keys come from the wallet's derivation signature, as `consent grants` derives them: the wallet's
# address is an input of everything exported, so its absence from the file is a real check.
ROOT = keys.KeyRoot.from_signature(
    keys.check_deterministic(*[keys.sign_derivation(WALLET, CHAIN_ID, CONTRACT)] * 2)
)
PATIENT_WALLET = WALLET.address


def patient_grant(
    index: int = 0,
    purpose: str = "HMB",
    categories: tuple[str, ...] = ("labs", "genomics"),
    *,
    ops: int = Op.READ | Op.QUERY,
    status: Status = Status.ACTIVE,
    active: bool = True,
    lasts: int = 30 * DAY,
    uses_max: int = 0,
) -> PatientGrant:
    """A grant as `Patient.grants()` finds it, built from the GrantInput its subject key signed."""
    grant_keys = ROOT.grant_keys("subject", index)
    scope_ref, flags = scope_of(grant_keys.scope_salt, categories)
    profile_ref, terms_ref = template_pair(purpose)
    start = NOW // DAY * DAY
    signed = GrantInput(
        scope_ref,
        profile_ref,
        terms_ref,
        0,
        grant_keys.commitment,
        GRANTEE,
        "0x" + "00" * 20,
        Policy(start, start + lasts, ops, profiles.purpose_code(purpose), uses_max, flags=flags),
    )
    policy = signed.policy
    stored = ConsentGrant(
        grant_keys.commitment,
        signed.scope_ref,
        signed.purpose_profile_ref,
        signed.terms_ref,
        bytes(32),
        0,
        signed.subject_commit,
        signed.grantee,
        policy.not_before,
        policy.expires_at,
        signed.agent,
        policy.ops,
        policy.purpose_code,
        status,
        policy.flags,
        0,
        AgentKind.NONE,
        AgentStatus.NONE,
        0,
        0,
        policy.uses_max,
    )
    return PatientGrant(grant_keys, stored, status, active, categories)


def exported(*found: PatientGrant, **options) -> dict:
    document = fhir_grants.grants_bundle(found, chain_id=CHAIN_ID, contract=CONTRACT, now=NOW, **options)
    return json.loads(json.dumps(document))  # as a file holds it


def resource(found: PatientGrant | None = None) -> dict:
    return exported(found or patient_grant())["entry"][0]["resource"]


def imported(document: dict) -> list[fhir_grants.ImportedGrant]:
    return fhir_grants.imported_grants(document, chain_id=CHAIN_ID, now=NOW)


def test_a_grant_exports_as_a_valid_consent_naming_its_commitment_and_no_patient():
    found = patient_grant()
    document = exported(found)
    Bundle.model_validate(document)
    consent = document["entry"][0]["resource"]

    assert consent["identifier"] == [
        {
            "system": fhir_grants.GRANT_SYSTEM,
            "value": f"eip155:{CHAIN_ID}:{CONTRACT}/0x{found.grant_id.hex()}",
        }
    ]
    assert consent["status"] == "active"
    assert consent["extension"] == [{"url": fhir_grants.STATUS_EXTENSION, "valueCode": "ACTIVE"}]
    assert consent["patient"] == {"reference": "#subject"}
    assert consent["contained"] == [{"resourceType": "Patient", "id": "subject"}]
    provision = consent["provision"]
    assert [(c["system"], c["code"]) for c in provision["purpose"]] == [(fhir.DUO, "DUO:0000006")]
    assert provision["period"] == {"start": "2027-01-15T00:00:00Z", "end": "2027-02-14T00:00:00Z"}
    assert provision["actor"][0]["reference"]["identifier"]["value"] == f"eip155:{CHAIN_ID}:{GRANTEE}"
    assert [c["code"] for c in provision["class"] if c["system"] == fhir.SCOPE_SYSTEM] == ["labs", "genomics"]
    assert [c["code"] for c in provision["securityLabel"]] == ["GDIS"]
    assert [[c["code"] for c in a["coding"]] for a in provision["action"]] == [
        ["READ", "access"],
        ["QUERY", "access"],
    ]
    text = json.dumps(document).lower()
    secrets = (PATIENT_WALLET, found.keys.address, found.keys.salt.hex(), found.keys.scope_salt.hex())
    for secret in secrets:
        assert secret.lower().removeprefix("0x") not in text
    assert GRANTEE.lower()[2:] in text  # the check does find an address that is there


@pytest.mark.parametrize(
    ("status", "active", "fhir_status"),
    [
        (Status.ACTIVE, True, "active"),
        (Status.ACTIVE, False, "inactive"),  # expired, not yet started, or at its cap
        (Status.REVOKED_BY_SUBJECT, False, "inactive"),
        (Status.RENOUNCED_BY_GRANTEE, False, "inactive"),
        (Status.TERMINATED_BY_ISSUER, False, "inactive"),
        (Status.SUSPENDED, False, "inactive"),
        (Status.EXHAUSTED, False, "inactive"),
        (Status.SUPERSEDED, False, "inactive"),
    ],
)
def test_status_maps_to_consent_state_and_keeps_the_erc_status(status, active, fhir_status):
    consent = resource(patient_grant(status=status, active=active))
    assert consent["status"] == fhir_status
    assert consent["extension"][0]["valueCode"] == status.name


def test_a_local_patient_reference_replaces_the_contained_subject():
    consent = exported(patient_grant(), patient_reference="Patient/123")["entry"][0]["resource"]
    assert consent["patient"] == {"reference": "Patient/123"} and "contained" not in consent
    with pytest.raises(InputError, match="not a local reference"):
        exported(patient_grant(), patient_reference=f"eip155:1:{PATIENT_WALLET}")


@pytest.mark.parametrize(
    ("purpose", "categories", "ops"),
    [
        ("HMB", ("labs", "genomics"), Op.READ | Op.QUERY),
        ("GRU", ("demographics",), Op.READ),
        ("TREAT", ("medications", "allergies", "imaging"), Op.READ | Op.EXPORT),
        ("CLINTRCH", ("labs",), Op.READ | Op.DERIVE | Op.TRAIN),
    ],
)
def test_round_trip_gives_the_same_policy_purpose_and_scope(purpose, categories, ops):
    found = patient_grant(purpose=purpose, categories=categories, ops=ops)
    (wanted,) = imported(exported(found))
    assert found.grant is not None
    assert wanted.grantee == GRANTEE and profiles.purpose_code(wanted.purpose) == found.grant.purpose_code
    assert set(wanted.categories) == set(categories) and wanted.ops == found.grant.ops
    assert wanted.window(NOW) == (found.grant.not_before, found.grant.expires_at)


def test_a_bundle_imports_each_consent_in_order():
    document = exported(patient_grant(0), patient_grant(1, "TREAT", ("allergies",)))
    assert [(w.purpose, w.categories) for w in imported(document)] == [
        ("HMB", ("labs", "genomics")),
        ("TREAT", ("allergies",)),
    ]


def test_consentaction_codes_alone_grant_read():
    consent = resource()
    consent["provision"]["action"] = [{"coding": [{"system": fhir.CONSENT_ACTION, "code": "access"}]}]
    assert imported(consent)[0].ops == Op.READ
    del consent["provision"]["action"]
    assert imported(consent)[0].ops == Op.READ


def test_a_future_whole_day_start_is_kept():
    consent = resource()
    consent["provision"]["period"] = {"start": "2027-02-01T00:00:00Z", "end": "2027-03-01T00:00:00Z"}
    (wanted,) = imported(consent)
    assert wanted.start == 1_801_440_000 and wanted.window(NOW)[0] == 1_801_440_000


def edit(path: str, value):
    """A change to the exported Consent: `path` is dotted, ending in the element to set (None: delete)."""

    def apply(consent: dict) -> dict:
        changed = copy.deepcopy(consent)
        *parents, last = path.split(".")
        node = changed
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is None:
            del node[last]
        elif last.isdigit():
            node[int(last) : int(last) + 1] = [value]  # one past the end appends
        else:
            node[last] = value
        return changed

    return apply


SECOND_ACTOR = {"role": {"text": "x"}, "reference": {"display": "x"}}
NEVER_GRANTED = {"system": fhir.ACT_REASON, "code": "HMARKT"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (edit("status", "inactive"), "status is 'inactive': only an active Consent"),
        (edit("extension.0.valueCode", "SUSPENDED"), "only an ACTIVE grant imports"),
        (
            edit("extension.0.url", "https://example.org/x"),
            "extension https://example.org/x is not supported",
        ),
        (edit("provision.type", "deny"), "provision.type is 'deny'"),
        (edit("provision.provision", [{"type": "deny"}]), "provision.provision is not supported"),
        (edit("provision.dataPeriod", {"start": "2020-01-01"}), "provision.dataPeriod is not supported"),
        (
            edit("patient", {"identifier": {"system": fhir.RFC3986, "value": f"eip155:1:{PATIENT_WALLET}"}}),
            "patient carries an identifier",
        ),
        (
            edit("provision.purpose.0", {"system": "https://example.org", "code": "X"}),
            "not a purpose CareChain knows",
        ),
        (edit("provision.purpose.0", NEVER_GRANTED), "no consent template ships for purpose 'HMARKT'"),
        (edit("provision.purpose.1", NEVER_GRANTED), "exactly one purpose"),
        (edit("provision.actor.1", SECOND_ACTOR), "exactly one grantee"),
        (
            edit("provision.actor.0.reference.identifier.value", f"eip155:1:{GRANTEE}"),
            "is on chain 1, not on this chain (31337)",
        ),
        (
            edit(
                "provision.class",
                [
                    {"system": fhir.SCOPE_SYSTEM, "code": name}
                    for name in ("labs", "genomics", "imaging", "vitals")
                ],
            ),
            "names 4 categories: a grant holds at most 3",
        ),
        (
            edit("provision.class", [{"system": fhir.RESOURCE_TYPES, "code": "Observation"}]),
            "names no data category",
        ),
        (
            edit("provision.class.0", {"system": fhir.SCOPE_SYSTEM, "code": "x-rays"}),
            "not one of CareChain's categories",
        ),
        (
            edit("provision.class.2", {"system": fhir.RESOURCE_TYPES, "code": "Immunization"}),
            "Immunization is outside the categories",
        ),
        (edit("provision.securityLabel.0.code", "PSY"), "is not a label of the categories"),
        (edit("provision.period.end", None), "provision.period.end is missing"),
        (edit("provision.period.end", "2027-02-14T12:00:00Z"), "is not at 00:00 UTC: a grant ends"),
        (edit("provision.period.start", "2027-02-01T12:00:00Z"), "is not at 00:00 UTC: a grant starts"),
        (
            edit("provision.period.end", "2027-01-15T00:00:00Z"),
            "provision.period: the grant's window is empty",
        ),
        (
            edit("provision.action.0", {"coding": [{"system": fhir_grants.OP_SYSTEM, "code": "WRITE"}]}),
            "not an ERC-8356 op",
        ),
        (
            edit("provision.action.0", {"coding": [{"system": fhir.CONSENT_ACTION, "code": "correct"}]}),
            "provision.action[0]",
        ),
    ],
)
def test_what_cannot_map_exactly_is_one_error_naming_the_element(change, message):
    consent = change(resource())
    with pytest.raises(InputError) as raised:
        imported(consent)
    assert message in str(raised.value) and str(raised.value).startswith("Consent ")
    assert "\n" not in str(raised.value)


def test_a_bundle_with_one_bad_consent_yields_nothing():
    document = exported(patient_grant(0), patient_grant(1))
    document["entry"][1]["resource"]["provision"]["type"] = "deny"
    with pytest.raises(InputError, match=r"Bundle entry 2 .*provision.type"):
        imported(document)


def test_a_burnt_number_has_no_consent():
    burnt = PatientGrant(ROOT.grant_keys("subject", 3), None, Status.NONE, False, None)
    with pytest.raises(InputError, match="grant number 3 has no grant on chain"):
        resource(burnt)


def test_unknown_categories_export_without_class_and_do_not_import():
    found = patient_grant()
    unknown = PatientGrant(found.keys, found.grant, found.status, found.active, None)
    consent = resource(unknown)
    assert "class" not in consent["provision"]
    with pytest.raises(InputError, match="names no data category"):
        imported(consent)


BEYOND_9999 = {"url": fhir.END_EXTENSION, "valueString": str(300_000_000_000 // DAY * DAY)}


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ({"start": "2027-01-15T00:00:00Z", "end": "2027-03"}, "provision.period.end 2027-03 needs a time"),
        ({"start": "2027", "end": "2027-03-01T00:00:00Z"}, "provision.period.start 2027 needs a time"),
        (
            {"extension": [{"url": fhir.END_EXTENSION, "valueString": "soon"}]},
            f"provision.period extension {fhir.END_EXTENSION} is not a unix time",
        ),
        (
            {"extension": [{"url": fhir.END_EXTENSION, "valueInteger": 5}]},
            f"provision.period extension {fhir.END_EXTENSION} is not a unix time",
        ),
        (
            {"extension": [{"url": "https://example.org/x", "valueString": "1"}]},
            "provision.period.end is missing",
        ),
    ],
)
def test_bad_period_values_are_one_input_error(period, message):
    consent = resource()
    consent["provision"]["period"] = period
    with pytest.raises(InputError) as raised:
        imported(consent)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_an_end_past_9999_round_trips_through_the_extension():
    consent = resource()
    consent["provision"]["period"] = {"extension": [BEYOND_9999]}
    (wanted,) = imported(consent)
    assert wanted.end == 300_000_000_000 // DAY * DAY


MODIFIER = [{"url": "https://example.org/not-really", "valueBoolean": True}]


@pytest.mark.parametrize(
    ("path", "where"),
    [
        ("modifierExtension", "modifierExtension"),
        ("provision.modifierExtension", "provision.modifierExtension"),
        ("provision.actor.0.modifierExtension", "provision.actor[0].modifierExtension"),
        ("provision.action.0.modifierExtension", "provision.action[0].modifierExtension"),
        ("contained.0.modifierExtension", "contained[0].modifierExtension"),
    ],
)
def test_a_modifier_extension_anywhere_is_refused(path, where):
    consent = edit(path, MODIFIER)(resource())
    with pytest.raises(InputError) as raised:
        imported(consent)
    assert f"{where} is not supported" in str(raised.value) and "\n" not in str(raised.value)


def test_a_modifier_extension_in_the_bundle_is_refused():
    document = exported(patient_grant())
    document["entry"][0]["modifierExtension"] = MODIFIER
    with pytest.raises(InputError, match=r"^the Bundle: entry\[0\].modifierExtension is not supported"):
        imported(document)


ZERO_GRANTEE = f"eip155:{CHAIN_ID}:0x{'00' * 20}"
BEYOND_UINT48 = {"extension": [{"url": fhir.END_EXTENSION, "valueString": str(2**48 // DAY * DAY + DAY)}]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (edit("provision.actor.0.reference.identifier.value", ZERO_GRANTEE), "actor[0] is the zero"),
        (edit("provision.period", BEYOND_UINT48), "is out of range: a whole number from 0 to 2^48 - 1"),
    ],
)
def test_what_the_chain_would_revert_is_refused_before_signing(change, message):
    with pytest.raises(InputError) as raised:
        imported(change(resource()))
    assert message in str(raised.value) and "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (edit("scope.coding.0.code", "treatment"), "scope consentscope|treatment is not what the grant"),
        (
            edit("scope.coding.1", {"system": "https://example.org", "code": "x"}),
            "scope consentscope|research, example.org|x is not what the grant means (only consentscope|rese",
        ),
        (edit("policyRule.coding.0.code", "OPTOUT"), "policyRule"),
        (edit("provision.actor.0.role.coding.0.code", "PRCP"), "provision.actor[0].role"),
    ],
)
def test_unexpected_scope_policy_and_role_are_refused(change, message):
    with pytest.raises(InputError) as raised:
        imported(change(resource()))
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_an_unknown_purpose_code_does_not_export_as_research():
    found = patient_grant()
    assert found.grant is not None
    unknown = PatientGrant(
        found.keys, dataclasses.replace(found.grant, purpose_code=4_000_000), found.status, True, None
    )
    consent = resource(unknown)
    assert consent["scope"]["coding"][0]["code"] == "patient-privacy"
    assert [c["coding"][0]["code"] for c in consent["category"]] == ["59284-0"]
    assert consent["provision"]["purpose"][0]["code"] == "4000000"
