"""ConsentRegistry <-> HL7 FHIR Consent: export a patient's consents as a Bundle, import Consents as grants.

Resources are built and validated with `fhir.resources.R4B` (FHIR 4.3.0, whose Consent is the R4 4.0.1
Consent unchanged, so R4 servers read it). Nothing but addresses, codes, bitmasks and times goes into a
resource, as on chain: patient and grantee are CAIP-10 account ids, never names.

    on chain                          FHIR Consent
    (registry, patient, grantee,      identifier {https://carechain.example/consent,
     purpose)                           eip155:<chainId>:<registry>/<patient>/<grantee>/<purpose hex>}
    live / expired / revoked          status active / inactive / rejected
    purpose                           scope (consentscope): research for DUO, HL7 research codes and opaque
                                      (trial) purposes; treatment for TREAT and its children; else
                                      patient-privacy. provision.purpose: one Coding, v3-ActReason|TREAT,
                                      obo/duo|DUO:0000006, or https://carechain.example/purpose|COMMERCIAL
                                      or |0x<bytes32> for an opaque purpose
    patient, grantee                  patient, provision.actor (role IRCP).reference: Reference.identifier
                                      {urn:ietf:rfc:3986, eip155:<chainId>:<address>}
    grantedAt, expiresAt, revokedAt   dateTime = provision.period.start = grantedAt; period.end =
                                      expiresAt, or revokedAt if earlier; no end: no expiry. An expiry
                                      past 9999-12-31T23:59:59Z (a dateTime's last second) has no
                                      period.end: the period's extension END_EXTENSION holds it as a
                                      decimal unix time string, and import reads it as no expiry
    scopes                            provision.class: https://carechain.example/scope|<name> per scope, and
                                      the FHIR resource types it covers (hl7.org/fhir/resource-types);
                                      securityLabel: v3-ActCode GDIS, PSY, ETH... per sensitive scope
    (constant)                        category LOINC 59284-0 (+ v3-ActCode RESEARCH), policyRule
                                      v3-ActCode OPTIN, provision.type permit, provision.action use

Import reads scopes from scope classes and security labels; a resource-type class must fall under one of
them, or name exactly one scope (Immunization -> immunizations). It refuses, with one line naming the
Consent and the element, whatever it cannot turn into grants exactly: a status other than active, a deny,
nested provisions, data, dataPeriod or code, an actor or patient without an address on this chain, an
unknown or condition-revealing purpose, a start in the future, a past end, an unknown class or label. A
Consent becomes one grant per actor and purpose; a Bundle is imported whole or not at all.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from fhir.resources.R4B import __fhir_version__ as FHIR_VERSION
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.consent import Consent as FhirConsent
from pydantic import ValidationError

from carechain.clients.base import checksum
from carechain.clients.consent import Consent, ConsentClient, GrantRequest
from carechain.core import purposes
from carechain.core.files import read_json
from carechain.core.purposes import PURPOSES, SCOPES, Purpose, ScopeInfo
from carechain.core.times import fhir_instant
from carechain.errors import InputError

# Public, and the helpers carechain.offchain.fhir_grants shares (it keeps them when the address-keyed
# mapping goes).
__all__ = [
    "FHIR_VERSION",
    "PURPOSE_BY_CODING",
    "ConsentRecord",
    "account_reference",
    "bundle",
    "codeable_concept",
    "consent_resource",
    "consent_scope_code",
    "consents_to_grants",
    "export_bundle",
    "export_period",
    "list_consents",
    "load_document",
    "located_consents",
    "permit_provision",
    "present_elements",
    "purpose_coding",
    "reference_address",
    "unix_moment",
    "validated",
    "validated_input",
]

RFC3986: Final = "urn:ietf:rfc:3986"
CONSENT_SCOPE: Final = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_ACTION: Final = "http://terminology.hl7.org/CodeSystem/consentaction"
ACT_REASON: Final = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
ACT_CODE: Final = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION: Final = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
RESOURCE_TYPES: Final = "http://hl7.org/fhir/resource-types"
LOINC: Final = "http://loinc.org"
DUO: Final = "http://purl.obolibrary.org/obo/duo"
PURPOSE_SYSTEM: Final = "https://carechain.example/purpose"
SCOPE_SYSTEM: Final = "https://carechain.example/scope"
CONSENT_SYSTEM: Final = "https://carechain.example/consent"
END_EXTENSION: Final = "https://carechain.example/StructureDefinition/period-end-unix-time"

# HL7 purposes of use under HRESCH (research) and TREAT (treatment) in the v3 ActReason hierarchy.
_RESEARCH: Final = frozenset(
    [
        "HRESCH",
        "BIORCH",
        "CLINTRCH",
        "CLINTRCHNPC",
        "CLINTRCHPC",
        "PRECLINTRCH",
        "DSRCH",
        "POARCH",
        "TRANSRCH",
    ]
)
_TREATMENT: Final = frozenset({"TREAT", "CLINTRL", "COC", "ETREAT", "BTG", "ERTREAT", "POPHLTH"})
_IMPORTED_SCOPES: Final = frozenset({"research", "patient-privacy", "treatment"})
_ACTIONS: Final = frozenset({"access", "use"})
_ACCOUNT = re.compile(r"eip155:(\d+):(0x[0-9a-fA-F]{40})")
_KEY = re.compile(
    r"eip155:(\d+):(0x[0-9a-fA-F]{40})/(0x[0-9a-fA-F]{40})/(0x[0-9a-fA-F]{40})/(0x[0-9a-fA-F]{64})"
)
_SCOPE_BY_NAME: Final[dict[str, ScopeInfo]] = {info.name: info for info in SCOPES}
_SCOPE_BY_LABEL: Final[dict[str, ScopeInfo]] = {
    info.security_label: info for info in SCOPES if info.security_label
}


def _coding_of(purpose: Purpose) -> tuple[str, str]:
    """A purpose's (system, code) in FHIR: HL7 v3 ActReason, the DUO ontology, or CareChain's own."""
    if purpose.system == "HL7":
        return ACT_REASON, purpose.code
    if purpose.system == "DUO":
        return DUO, purpose.curie
    return PURPOSE_SYSTEM, purpose.code


PURPOSE_BY_CODING: Final = {_coding_of(purpose): purpose for purpose in PURPOSES}


@dataclass(frozen=True)
class ConsentRecord:
    """One consent key of a patient and its current state on chain."""

    patient: str
    grantee: str
    purpose: bytes
    consent: Consent


# ---- export ------------------------------------------------------------------------------------


def list_consents(client: ConsentClient, patient: str, from_block: int = 0) -> list[ConsentRecord]:
    """Every (grantee, purpose) the patient ever consented to, from the events, with today's state."""
    patient = checksum(patient, "patient")
    keys: dict[tuple[str, bytes], None] = {}
    for event in (client.contract.events.ConsentGranted, client.contract.events.ConsentUpdated):
        for log in event().get_logs(argument_filters={"patient": patient}, from_block=from_block):
            keys.setdefault((str(log["args"]["grantee"]), bytes(log["args"]["purpose"])), None)
    return [
        ConsentRecord(patient, grantee, purpose, client.get_consent(patient, grantee, purpose))
        for grantee, purpose in keys
    ]


def export_bundle(
    client: ConsentClient, patient: str, *, active_only: bool = False, from_block: int = 0
) -> dict[str, Any]:
    """A patient's consents as a validated FHIR Bundle (type collection), judged at the chain's time."""
    now = int(client.w3.eth.get_block("latest")["timestamp"])
    records = list_consents(client, patient, from_block)
    if active_only:
        records = [r for r in records if r.consent.is_live(now)]
    return bundle(records, chain_id=client.w3.eth.chain_id, registry=client.address, now=now)


def bundle(records: Iterable[ConsentRecord], *, chain_id: int, registry: str, now: int) -> dict[str, Any]:
    """The Bundle of Consent resources for these records, validated by fhir.resources."""
    entries = []
    for record in records:
        resource = consent_resource(record, chain_id=chain_id, registry=registry, now=now)
        entries.append({"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource})
    document: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "collection",
        **present_elements(timestamp=fhir_instant(now)),
    }
    if entries:  # FHIR JSON has no empty arrays
        document["entry"] = entries
    return validated(Bundle, document, "the exported Bundle")


def consent_resource(record: ConsentRecord, *, chain_id: int, registry: str, now: int) -> dict[str, Any]:
    """One consent as a FHIR Consent (a dict of its JSON form), validated by fhir.resources."""
    consent = record.consent
    if consent.granted_at == 0:
        raise InputError(f"no consent of {record.patient} for {record.grantee}: never granted")
    key = "/".join(
        (
            f"eip155:{chain_id}:{checksum(registry)}",
            record.patient,
            record.grantee,
            "0x" + record.purpose.hex(),
        )
    )
    known = purposes.purpose_by_id(record.purpose)
    end = consent.expires_at
    if consent.revoked_at and (end == 0 or consent.revoked_at < end):
        end = consent.revoked_at
    period = export_period(consent.granted_at, end)
    scope = consent_scope_code(known)
    categories = [codeable_concept(LOINC, "59284-0", "Patient Consent")]
    if scope == "research":
        categories.append(codeable_concept(ACT_CODE, "RESEARCH", "research information access"))
    infos = [info for info in SCOPES if consent.scopes & info.mask]
    resource_types = dict.fromkeys(t for info in infos for t in info.fhir_resources)
    provision: dict[str, Any] = {
        "type": "permit",
        "period": period,
        "actor": [
            {
                "role": codeable_concept(PARTICIPATION, "IRCP", "information recipient"),
                "reference": account_reference(chain_id, record.grantee),
            }
        ],
        "action": [codeable_concept(CONSENT_ACTION, "use", "Use")],
        "purpose": [purpose_coding(record.purpose, known)],
        "class": [
            *({"system": SCOPE_SYSTEM, "code": info.name, "display": info.label} for info in infos),
            *({"system": RESOURCE_TYPES, "code": name} for name in resource_types),
        ],
    }
    labels = [{"system": ACT_CODE, "code": info.security_label} for info in infos if info.security_label]
    if labels:
        provision["securityLabel"] = labels
    resource = {
        "resourceType": "Consent",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, CONSENT_SYSTEM + "/" + key)),
        "identifier": [{"system": CONSENT_SYSTEM, "value": key}],
        "status": "rejected" if consent.revoked_at else "active" if consent.is_live(now) else "inactive",
        "scope": codeable_concept(CONSENT_SCOPE, scope),
        "category": categories,
        "patient": account_reference(chain_id, record.patient),
        **present_elements(dateTime=fhir_instant(consent.granted_at)),
        "policyRule": codeable_concept(ACT_CODE, "OPTIN", "opt-in"),
        "provision": provision,
    }
    return validated(FhirConsent, resource, "the exported Consent")


def consent_scope_code(known: Purpose | None) -> str:
    if known is None or known.system == "DUO" or known.code in _RESEARCH:
        return "research"  # an opaque purpose is a trial's
    return "treatment" if known.code in _TREATMENT else "patient-privacy"


def purpose_coding(purpose: bytes, known: Purpose | None) -> dict[str, str]:
    if known is None:
        return {
            "system": PURPOSE_SYSTEM,
            "code": "0x" + purpose.hex(),
            "display": "opaque purpose (a trial's)",
        }
    system, code = _coding_of(known)
    return {"system": system, "code": code, "display": known.label}


def codeable_concept(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": system, "code": code} | ({"display": display} if display else {})
    return {"coding": [coding]}


def account_reference(chain_id: int, address: str) -> dict[str, Any]:
    return {"identifier": {"system": RFC3986, "value": f"eip155:{chain_id}:{checksum(address)}"}}


def export_period(start: int, end: int) -> dict[str, Any]:
    """provision.period; an end past year 9999, which a FHIR dateTime cannot hold, is left out (the
    consent outlives any date FHIR can write) and kept exactly in the END_EXTENSION extension."""
    period = present_elements(start=fhir_instant(start), end=fhir_instant(end) if end else None)
    if end and "end" not in period:
        period["extension"] = [{"url": END_EXTENSION, "valueString": str(end)}]
    return period


def present_elements(**elements: Any) -> dict[str, Any]:
    """The elements that have a value: FHIR JSON has no nulls (a time past 9999 has no dateTime)."""
    return {name: value for name, value in elements.items() if value is not None}


def validated(
    model: type[Bundle] | type[FhirConsent], document: dict[str, Any], what: str
) -> dict[str, Any]:
    try:
        model.model_validate(document)
    except ValidationError as err:
        raise InputError(f"{what} is not valid FHIR: {_first_error(err)}") from None
    return document


def _first_error(err: ValidationError) -> str:
    errors = err.errors()
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top)"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first['msg']}{more}"


# ---- import ------------------------------------------------------------------------------------


def load_document(path: Path) -> dict[str, Any]:
    """A FHIR JSON file (a Consent or a Bundle of them), or one InputError saying what is wrong."""
    document = read_json(path, "FHIR JSON file")
    if not isinstance(document, dict):
        raise InputError(f"{path} is not a FHIR resource: a JSON object with a resourceType")
    return document


def consents_to_grants(
    document: dict[str, Any], *, chain_id: int, patient: str, now: int
) -> list[GrantRequest]:
    """The grants a FHIR Consent (or a Bundle of Consents) of `patient` asks for, all or none."""
    patient = checksum(patient, "patient")
    grants: list[GrantRequest] = []
    seen: dict[tuple[str, bytes], str] = {}
    for where, resource in located_consents(document):
        for grant in _grants(resource, where, chain_id=chain_id, patient=patient, now=now):
            key = (grant.grantee, grant.purpose)
            if key in seen:
                raise InputError(f"{where}: grants {grant.grantee} the same purpose as {seen[key]}")
            seen[key] = where
            grants.append(grant)
    return grants


def located_consents(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The Consents of a Consent or a Bundle of them, each with where it is (for error messages)."""
    kind = document.get("resourceType")
    if kind == "Consent":
        return [(f"Consent {document.get('id', 'without id')}", document)]
    if kind != "Bundle":
        raise InputError(f"not a FHIR Consent or Bundle (resourceType is {kind!r})")
    validated_input(Bundle, document, "the Bundle")
    located = []
    for number, entry in enumerate(document.get("entry") or [], start=1):
        resource = entry.get("resource") or {}
        if resource.get("resourceType") != "Consent":
            found = resource.get("resourceType") or "entry without a resource"
            raise InputError(f"Bundle entry {number} is a {found}, not a Consent")
        located.append((f"Bundle entry {number} (Consent {resource.get('id', 'without id')})", resource))
    if not located:
        raise InputError("the Bundle holds no Consent")
    return located


def validated_input(model: type[Bundle] | type[FhirConsent], document: dict[str, Any], where: str) -> Any:
    try:
        return model.model_validate(document)
    except ValidationError as err:
        raise InputError(f"{where} is not valid FHIR {model.__name__}: {_first_error(err)}") from None


def _grants(
    resource: dict[str, Any], where: str, *, chain_id: int, patient: str, now: int
) -> list[GrantRequest]:
    consent = validated_input(FhirConsent, resource, where)

    def fail(message: str) -> InputError:
        return InputError(f"{where}: {message}")

    if consent.status != "active":
        raise fail(f"status is {consent.status!r}: only an active Consent becomes a grant")
    scope = _codes(consent.scope.coding if consent.scope else None)
    if not scope & {(CONSENT_SCOPE, code) for code in _IMPORTED_SCOPES}:
        raise fail(f"scope {_show(scope)} is not research, patient-privacy or treatment")
    if consent.patient is None:
        raise fail("names no patient")
    if reference_address(consent.patient, "patient", chain_id, fail) != patient:
        raise fail(f"is a consent of another patient, not of {patient}")
    provision = permit_provision(consent, fail)
    for action in _codes(c for concept in provision.action or [] for c in concept.coding or []):
        if action[0] != CONSENT_ACTION or action[1] not in _ACTIONS:
            raise fail(f"provision.action {_show({action})} is not supported (only access, use)")
    expires_at = _period(provision.period, now, fail)
    if not provision.actor:
        raise fail("provision.actor is missing: a grant needs a grantee")
    grantees = [
        reference_address(actor.reference, f"provision.actor[{i}]", chain_id, fail)
        for i, actor in enumerate(provision.actor)
    ]
    if not provision.purpose:
        raise fail("provision.purpose is missing: a grant needs a purpose")
    purpose_ids = [_purpose(coding, fail) for coding in provision.purpose]
    mask = _scopes(provision, fail)
    _check_identifier(consent, patient, grantees, purpose_ids, fail)
    return [
        GrantRequest(grantee, purpose, mask, expires_at) for grantee in grantees for purpose in purpose_ids
    ]


def permit_provision(consent: Any, fail: Any) -> Any:
    """The Consent's provision, if it is one flat permit (no nested rules, no data references); what a
    grant cannot hold raises `fail(message)`."""
    provision = consent.provision
    if provision is None:
        raise fail("has no provision: nothing to grant")
    if provision.type not in (None, "permit"):
        raise fail(f"provision.type is {provision.type!r}: only permit provisions become grants")
    for name in ("provision", "data", "dataPeriod", "code"):
        if getattr(provision, name):
            raise fail(
                f"provision.{name} is not supported (nested rules and data references cannot be granted)"
            )
    return provision


def _codes(codings: Iterable[Any] | None) -> set[tuple[str, str]]:
    return {(str(c.system), str(c.code)) for c in codings or []}


def _show(codes: set[tuple[str, str]]) -> str:
    return ", ".join(f"{system}|{code}" for system, code in sorted(codes)) or "(none)"


def reference_address(reference: Any, what: str, chain_id: int, fail: Any) -> str:
    identifier = getattr(reference, "identifier", None)
    value = str(identifier.value) if identifier is not None and identifier.value else ""
    match = _ACCOUNT.fullmatch(value)
    if identifier is None or identifier.system != RFC3986 or match is None:
        raise fail(
            f"{what} has no Ethereum address identifier (system {RFC3986}, value eip155:<chainId>:<address>)"
        )
    if int(match.group(1)) != chain_id:
        raise fail(f"{what} {value} is on chain {match.group(1)}, not on this chain ({chain_id})")
    return checksum(match.group(2), what)


def _period(period: Any, now: int, fail: Any) -> int:
    if period is None:
        return 0
    start, end = (
        unix_moment(getattr(period, edge), f"provision.period.{edge}", fail) for edge in ("start", "end")
    )
    if start is not None and start > now:
        raise fail(f"provision.period.start {period.start.isoformat()} is in the future: a grant starts now")
    if end is None:
        return 0
    if end <= now:
        raise fail(f"provision.period.end {period.end.isoformat()} is past: the consent has expired")
    return end


def unix_moment(value: Any, what: str, fail: Any) -> int | None:
    """A unix time from a FHIR dateTime; a bare date or a time without zone is too vague for the chain."""
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        shown = value.isoformat() if hasattr(value, "isoformat") else str(value)  # "2027-03" stays a str
        raise fail(f"{what} {shown} needs a time and a time zone (2027-01-31T00:00:00Z)")
    return int(value.timestamp())


def _purpose(coding: Any, fail: Any) -> bytes:
    system, code = str(coding.system), str(coding.code)
    if system == DUO:
        code = code.replace("_", ":")
    if system == PURPOSE_SYSTEM and re.fullmatch(r"0x[0-9a-fA-F]{64}", code):
        purpose = bytes.fromhex(code[2:])
    elif (known := PURPOSE_BY_CODING.get((system, code))) is not None:
        purpose = known.id
    else:
        raise fail(f"provision.purpose {system}|{code} is not a purpose CareChain knows")
    try:
        return purposes.check_grantable(purpose)
    except InputError as err:
        raise fail(str(err)) from None


def _scopes(provision: Any, fail: Any) -> int:
    explicit = 0
    for coding in provision.securityLabel or []:
        info = _SCOPE_BY_LABEL.get(str(coding.code)) if coding.system == ACT_CODE else None
        if info is None:
            raise fail(
                f"provision.securityLabel {coding.system}|{coding.code} is not one of CareChain's scopes"
            )
        explicit |= info.mask
    resource_types: list[str] = []
    for coding in provision.class_fhir or []:
        if coding.system == SCOPE_SYSTEM and str(coding.code) in _SCOPE_BY_NAME:
            explicit |= _SCOPE_BY_NAME[str(coding.code)].mask
        elif coding.system == RESOURCE_TYPES:
            resource_types.append(str(coding.code))
        else:
            raise fail(f"provision.class {coding.system}|{coding.code} is not one of CareChain's scopes")
    mask = explicit
    for name in resource_types:
        covering = [info for info in SCOPES if name in info.fhir_resources]
        if any(explicit & info.mask for info in covering):
            continue
        if len(covering) != 1:
            found = ", ".join(info.name for info in covering) or "none"
            raise fail(
                f"provision.class {name} is not one CareChain scope (it matches: {found}); "
                f"name the scope with a {SCOPE_SYSTEM} class"
            )
        mask |= covering[0].mask
    if mask == 0:
        raise fail("provision names no data class: a grant covers at least one scope")
    return mask


def _check_identifier(
    consent: Any, patient: str, grantees: Sequence[str], purpose_ids: Sequence[bytes], fail: Any
) -> None:
    """Our own identifier, if the Consent carries one, must name the same consent as its content."""
    for identifier in consent.identifier or []:
        if identifier.system != CONSENT_SYSTEM:
            continue
        match = _KEY.fullmatch(str(identifier.value))
        if match is None:
            raise fail(f"identifier {identifier.value!r} is not a CareChain consent key")
        _, _, key_patient, key_grantee, key_purpose = match.groups()
        if (
            checksum(key_patient) != patient
            or [checksum(key_grantee)] != list(grantees)
            or [bytes.fromhex(key_purpose[2:])] != list(purpose_ids)
        ):
            raise fail(f"identifier {identifier.value} names another patient, grantee or purpose")
