"""ConsentGrants (ERC-8356) <-> HL7 FHIR Consent: a patient's grants, found from their key material, as a
Bundle; FHIR Consents as grant acts signed with the patient's per-grant keys, for a relayer to send.

The address-keyed mapping is `carechain.offchain.fhir`, whose codings, validation and time handling this
module shares. A grant names no patient, and neither does its Consent: `patient` is a reference to an
anonymous Patient contained in the Consent (`#subject`, no identifier, no name), or a local reference the
patient's own system resolves (`patient_reference`, e.g. `Patient/123`: CareChain only writes it into the
file). The grant is named by its on-chain reference, the subject commitment (a root grant's id).

    on chain (a root grant)           FHIR Consent
    (ConsentGrants, grant id)         identifier {https://carechain.example/consent-grant,
                                        eip155:<chainId>:<ConsentGrants>/0x<grant id>}; id: UUIDv5 of it
    effective status, isGrantActive   status: active when ACTIVE and in force (in its window, under its cap),
                                      else inactive; the ERC-8356 status name (ACTIVE, REVOKED_BY_SUBJECT,
                                      SUSPENDED, ...) in the extension STATUS_EXTENSION
    purposeCode                       provision.purpose: v3-ActReason|TREAT, obo/duo|DUO:0000006 or
                                      carechain.example/purpose|COMMERCIAL; scope research / treatment /
                                      patient-privacy as for the address-keyed consents; an unknown code:
                                      carechain.example/purpose-code|<number>, scope patient-privacy
    categories (salted scope leaves)  provision.class: carechain.example/scope|<category> and the FHIR
                                      resource types; securityLabel per sensitive category
    notBefore, expiresAt              provision.period start / end (past year 9999: no end, the period's
                                      END_EXTENSION, valueString a decimal unix time)
    grantee                           provision.actor (role IRCP): eip155:<chainId>:<address>
    ops                               provision.action: carechain.example/op|READ ... with the nearest
                                      consentaction code (READ, QUERY: access; DERIVE, TRAIN: use; EXPORT:
                                      disclose)

Import turns each Consent into one grant (one grantee, one purpose, one to three categories) and refuses,
with one line naming the Consent and the element, whatever the patient library cannot sign exactly: a
status other than active, a deny, nested provisions, data, dataPeriod or code, several actors or purposes, a
patient identifier, a purpose without a shipped consent template, a scope, policyRule or actor role other
than export writes, the zero grantee, more than three categories, a period without an end, a date without
a time and zone, a time not at 00:00 UTC where the grant would have to round it, an unknown extension, a
modifierExtension anywhere in the Consent or the Bundle. A Bundle is checked whole before anything is signed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.consent import Consent as FhirConsent

from carechain.core import grants, profiles
from carechain.core.acts import SubjectAct
from carechain.core.grants import Op, Status
from carechain.core.keys import GrantKeys
from carechain.core.purposes import SCOPES
from carechain.core.times import fhir_instant
from carechain.core.values import checksum
from carechain.errors import InputError
from carechain.offchain import fhir
from carechain.offchain.fhir import (
    ACT_CODE,
    CONSENT_ACTION,
    CONSENT_SCOPE,
    END_EXTENSION,
    LOINC,
    PARTICIPATION,
    RESOURCE_TYPES,
    SCOPE_SYSTEM,
)
from carechain.offchain.patient import (
    DAY,
    SEARCHED_SET_SIZE,
    Patient,
    PatientGrant,
    category_names,
    grant_window,
    template_pair,
)

__all__ = [
    "GRANT_SYSTEM",
    "OP_SYSTEM",
    "STATUS_EXTENSION",
    "ImportedGrant",
    "export_grants",
    "grant_reference",
    "grant_resource",
    "grants_bundle",
    "imported_grants",
    "local_reference",
    "sign_imported",
]

GRANT_SYSTEM: Final = "https://carechain.example/consent-grant"
OP_SYSTEM: Final = "https://carechain.example/op"
PURPOSE_CODE_SYSTEM: Final = "https://carechain.example/purpose-code"
STATUS_EXTENSION: Final = "https://carechain.example/StructureDefinition/erc8356-status"
USES_EXTENSION: Final = "https://carechain.example/StructureDefinition/erc8356-uses-max"
FLAGS_EXTENSION: Final = "https://carechain.example/StructureDefinition/erc8356-flags"
SUBJECT: Final = "subject"  # the contained anonymous Patient's id
# The consentaction code nearest each op: FHIR's actions are coarser than ERC-8356's ops.
_ACTION_OF_OP: Final = {
    Op.READ: "access",
    Op.QUERY: "access",
    Op.DERIVE: "use",
    Op.EXPORT: "disclose",
    Op.TRAIN: "use",
}
_OP_BY_NAME: Final = {op.name: op for op in Op if op.name}
_SCOPE_NAMES: Final = frozenset(info.name for info in SCOPES)
_OWN_EXTENSIONS: Final = frozenset({STATUS_EXTENSION})


# ---- export ------------------------------------------------------------------------------------


def export_grants(
    patient: Patient,
    *,
    active_only: bool = False,
    patient_reference: str | None = None,
    numbers: Iterable[int] | None = None,
    grantee: str | None = None,
) -> dict[str, Any]:
    """The patient's grants (found from their key material) as a validated FHIR Bundle, judged at the
    chain's time; numbers with a burnt nonce and no grant are left out. `numbers` (grant numbers) and
    `grantee` select; None: every grant. A Bundle links the grants it holds for whoever reads it: select."""
    if patient_reference is not None:
        local_reference(patient_reference)
    wanted = None if numbers is None else set(numbers)
    who = None if grantee is None else checksum(grantee, "grantee")
    found = [
        g
        for g in patient.grants()
        if g.grant is not None
        and (g.active or not active_only)
        and (wanted is None or g.index in wanted)
        and (who is None or checksum(g.grant.grantee, "grantee") == who)
    ]
    missing = sorted((wanted or set()) - {g.index for g in found})
    if missing:
        shown = ", ".join(f"#{n}" for n in missing)
        raise InputError(f"no grant {shown} to export (none found, another grantee's, or not in force)")
    contract = patient.contract
    return grants_bundle(
        found,
        chain_id=int(contract.w3.eth.chain_id),
        contract=contract.address,
        now=int(contract.w3.eth.get_block("latest")["timestamp"]),
        patient_reference=patient_reference,
    )


def grants_bundle(
    found: Iterable[PatientGrant],
    *,
    chain_id: int,
    contract: str,
    now: int,
    patient_reference: str | None = None,
) -> dict[str, Any]:
    """The Bundle (type collection) of these grants' Consents, validated by fhir.resources."""
    entries = []
    for one in found:
        resource = grant_resource(
            one, chain_id=chain_id, contract=contract, now=now, patient_reference=patient_reference
        )
        entries.append({"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource})
    document: dict[str, Any] = {"resourceType": "Bundle", "type": "collection"}
    document.update(fhir.present_elements(timestamp=fhir_instant(now)))
    if entries:  # FHIR JSON has no empty arrays
        document["entry"] = entries
    return fhir.validated(Bundle, document, "the exported Bundle")


def grant_reference(chain_id: int, contract: str, grant_id: bytes) -> str:
    """The grant's on-chain reference: CAIP-10 of the ConsentGrants deployment, then the grant id."""
    return f"eip155:{chain_id}:{checksum(contract, 'ConsentGrants address')}/0x{grant_id.hex()}"


def grant_resource(
    found: PatientGrant, *, chain_id: int, contract: str, now: int, patient_reference: str | None = None
) -> dict[str, Any]:
    """One grant as a FHIR Consent (a dict of its JSON form), validated by fhir.resources."""
    grant = found.grant
    if grant is None:
        raise InputError(f"grant number {found.index} has no grant on chain (a burnt nonce): no Consent")
    key = grant_reference(chain_id, contract, found.grant_id)
    entry = profiles.purpose_of_code(grant.purpose_code)
    purpose = entry.purpose if entry else None
    # a purpose CareChain does not know is not claimed as research (or treatment): patient-privacy is
    # the scope of any consent to share information
    scope = fhir.consent_scope_code(purpose) if purpose else "patient-privacy"
    categories = [fhir.codeable_concept(LOINC, "59284-0", "Patient Consent")]
    if scope == "research":
        categories.append(fhir.codeable_concept(ACT_CODE, "RESEARCH", "research information access"))
    provision: dict[str, Any] = {
        "type": "permit",
        "period": fhir.export_period(grant.not_before, grant.expires_at),
        "actor": [
            {
                "role": fhir.codeable_concept(PARTICIPATION, "IRCP", "information recipient"),
                "reference": fhir.account_reference(chain_id, grant.grantee),
            }
        ],
        "action": [
            {
                "coding": [
                    {"system": OP_SYSTEM, "code": op.name},
                    {"system": CONSENT_ACTION, "code": _ACTION_OF_OP[op]},
                ]
            }
            for op in Op
            if grant.ops & op
        ],
        "purpose": [
            fhir.purpose_coding(purpose.id, purpose)
            if purpose
            else {"system": PURPOSE_CODE_SYSTEM, "code": str(grant.purpose_code)}
        ],
    }
    if found.categories is not None:
        infos = [info for info in SCOPES if info.name in found.categories]
        types = dict.fromkeys(t for info in infos for t in info.fhir_resources)
        provision["class"] = [
            *({"system": SCOPE_SYSTEM, "code": info.name, "display": info.label} for info in infos),
            *({"system": RESOURCE_TYPES, "code": name} for name in types),
        ]
        labels = [{"system": ACT_CODE, "code": i.security_label} for i in infos if i.security_label]
        if labels:
            provision["securityLabel"] = labels
    extensions: list[dict[str, Any]] = [{"url": STATUS_EXTENSION, "valueCode": found.status.name}]
    if grant.uses_max:
        extensions.append({"url": USES_EXTENSION, "valueUnsignedInt": grant.uses_max})
    if grant.flags & ~grants.FLAG_SCOPE_IS_ROOT:
        extensions.append({"url": FLAGS_EXTENSION, "valueUnsignedInt": grant.flags})
    resource: dict[str, Any] = {
        "resourceType": "Consent",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, GRANT_SYSTEM + "/" + key)),
        "extension": extensions,
        "identifier": [{"system": GRANT_SYSTEM, "value": key}],
        "status": "active" if found.status is Status.ACTIVE and found.active else "inactive",
        "scope": fhir.codeable_concept(CONSENT_SCOPE, scope),
        "category": categories,
        "policyRule": fhir.codeable_concept(ACT_CODE, "OPTIN", "opt-in"),
        "provision": provision,
    }
    if patient_reference is None:
        resource["contained"] = [{"resourceType": "Patient", "id": SUBJECT}]
        resource["patient"] = {"reference": "#" + SUBJECT}
    else:
        resource["patient"] = {"reference": local_reference(patient_reference)}
    return fhir.validated(FhirConsent, resource, "the exported Consent")


def local_reference(reference: str) -> str:
    """A relative reference (Patient/<id>): one the patient's own FHIR server resolves, not an address."""
    kind, _, local = reference.partition("/")
    if kind != "Patient" or not local or "/" in local or ":" in local:
        raise InputError(f"patient reference {reference!r} is not a local reference Patient/<id>")
    return reference


# ---- import ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportedGrant:
    """What one Consent asks the patient to sign: the `Patient.sign_grant` arguments, checked."""

    where: str
    grantee: str
    purpose: str  # the purpose's code (HMB, TREAT)
    categories: tuple[str, ...]
    start: int | None  # None: from today
    end: int
    ops: int

    def window(self, now: int) -> tuple[int, int]:
        """(notBefore, expiresAt) as the grant will hold them (whole days)."""
        return grant_window(now if self.start is None else self.start, self.end, now)


def imported_grants(document: dict[str, Any], *, chain_id: int, now: int) -> list[ImportedGrant]:
    """The grants a FHIR Consent (or a Bundle of Consents) asks for, every one checked before any is
    signed; one InputError naming the Consent and the element otherwise."""
    located = fhir.located_consents(document)
    if document.get("resourceType") == "Bundle":
        outside = {name: value for name, value in document.items() if name != "entry"}
        outside["entry"] = [
            {name: value for name, value in entry.items() if name != "resource"}
            for entry in document.get("entry") or []
        ]
        _no_modifier(outside, "", lambda message: InputError(f"the Bundle: {message}"))
    return [_imported(resource, where, chain_id=chain_id, now=now) for where, resource in located]


def _no_modifier(node: Any, path: str, fail: Any) -> None:
    """Refuse a modifierExtension anywhere under `node` (a resource's JSON): it may change the meaning of
    the element holding it, and the patient library could not sign what it means."""
    if isinstance(node, dict):
        for name, value in node.items():
            here = f"{path}.{name}" if path else name
            if name == "modifierExtension":
                raise fail(f"{here} is not supported (it may change what the Consent means)")
            _no_modifier(value, here, fail)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _no_modifier(value, f"{path}[{i}]", fail)


def sign_imported(patient: Patient, wanted: Sequence[ImportedGrant]) -> list[tuple[GrantKeys, SubjectAct]]:
    """Sign each grant with the patient's keys under the next unused numbers, one after the other (never a
    chosen number: one past the gap limit, or already used, the wallet would not find again); nothing is
    sent: the caller hands the acts to the relayer, in order."""
    return [
        patient.sign_grant(one.grantee, one.purpose, one.categories, one.start, one.end, ops=one.ops)
        for one in wanted
    ]


def _imported(resource: dict[str, Any], where: str, *, chain_id: int, now: int) -> ImportedGrant:
    def fail(message: str) -> InputError:
        return InputError(f"{where}: {message}")

    _no_modifier(resource, "", fail)
    consent = fhir.validated_input(FhirConsent, resource, where)

    if consent.status != "active":
        raise fail(f"status is {consent.status!r}: only an active Consent becomes a grant")
    for extension in consent.extension or []:
        if extension.url not in _OWN_EXTENSIONS:
            raise fail(f"extension {extension.url} is not supported (the patient library cannot sign it)")
        if extension.valueCode != Status.ACTIVE.name:
            raise fail(f"extension {extension.url} is {extension.valueCode!r}: only an ACTIVE grant imports")
    if consent.patient is not None and consent.patient.identifier is not None:
        raise fail("patient carries an identifier: a grant names no patient (give a local reference or none)")
    provision = fhir.permit_provision(consent, fail)
    if not provision.actor or len(provision.actor) != 1:
        raise fail("provision.actor must name exactly one grantee (make one Consent per grantee)")
    grantee = fhir.reference_address(provision.actor[0].reference, "provision.actor[0]", chain_id, fail)
    if int(grantee, 16) == 0:  # the chain reverts it (InvalidGrantee): refused before anything is signed
        raise fail("provision.actor[0] is the zero address: a grant needs a grantee who can use it")
    if not provision.purpose or len(provision.purpose) != 1:
        raise fail("provision.purpose must hold exactly one purpose (make one Consent per purpose)")
    known = _purpose(provision.purpose[0], fail)
    purpose = known.code
    _expected(consent.scope, "scope", {(CONSENT_SCOPE, fhir.consent_scope_code(known))}, fail)
    _expected(consent.policyRule, "policyRule", {(ACT_CODE, "OPTIN")}, fail)
    _expected(provision.actor[0].role, "provision.actor[0].role", {(PARTICIPATION, "IRCP")}, fail)
    categories = _categories(provision, fail)
    start, end = _window(provision.period, now, fail)
    wanted = ImportedGrant(where, grantee, purpose, categories, start, end, _ops(provision.action, fail))
    try:
        wanted.window(now)
    except InputError as err:
        raise fail(f"provision.period: {err}") from None
    return wanted


def _expected(concept: Any, what: str, wanted: set[tuple[str, str]], fail: Any) -> None:
    """A CodeableConcept the grant fixes (absent, or exactly the codings an export writes): another value
    would say something the grant does not."""
    if concept is None:
        return
    found = {(str(c.system), str(c.code)) for c in concept.coding or []}
    if found != wanted:
        shown = ", ".join(f"{s.rsplit('/', 1)[-1]}|{c}" for s, c in sorted(found)) or "(no coding)"
        expected = ", ".join(f"{s.rsplit('/', 1)[-1]}|{c}" for s, c in sorted(wanted))
        raise fail(f"{what} {shown} is not what the grant means (only {expected})")


def _purpose(coding: Any, fail: Any) -> Any:
    system, code = str(coding.system), str(coding.code)
    if system == fhir.DUO:
        code = code.replace("_", ":")
    known = fhir.PURPOSE_BY_CODING.get((system, code))
    if known is None:
        raise fail(f"provision.purpose {system}|{code} is not a purpose CareChain knows")
    try:
        template_pair(known.code)
    except InputError as err:
        raise fail(f"provision.purpose {system}|{code}: {err}") from None
    return known


def _categories(provision: Any, fail: Any) -> tuple[str, ...]:
    """The categories named by CareChain scope classes; resource types and labels must follow from them."""
    named: list[str] = []
    types: set[str] = set()
    for coding in provision.class_fhir or []:
        if coding.system == SCOPE_SYSTEM and str(coding.code) in _SCOPE_NAMES:
            named.append(str(coding.code))
        elif coding.system == RESOURCE_TYPES:
            types.add(str(coding.code))
        else:
            raise fail(f"provision.class {coding.system}|{coding.code} is not one of CareChain's categories")
    if not named:
        raise fail(f"provision.class names no data category ({SCOPE_SYSTEM}|<category>)")
    if len(set(named)) > SEARCHED_SET_SIZE:
        raise fail(
            f"provision.class names {len(set(named))} categories: a grant holds at most {SEARCHED_SET_SIZE} "
            "(make one Consent per group)"
        )
    try:
        names = category_names(named)
    except InputError as err:
        raise fail(f"provision.class: {err}") from None
    infos = [info for info in SCOPES if info.name in names]
    covered = {t for info in infos for t in info.fhir_resources}
    if types - covered:
        raise fail(
            f"provision.class {', '.join(sorted(types - covered))} is outside the categories "
            f"{', '.join(names)}: a grant covers whole categories"
        )
    labels = {(str(c.system), str(c.code)) for c in provision.securityLabel or []}
    expected = {(ACT_CODE, i.security_label) for i in infos if i.security_label}
    if labels - expected:
        shown = ", ".join(f"{s}|{c}" for s, c in sorted(labels - expected))
        raise fail(f"provision.securityLabel {shown} is not a label of the categories {', '.join(names)}")
    return names


def _window(period: Any, now: int, fail: Any) -> tuple[int | None, int]:
    """(start or None, end): a grant ends, and its times are whole days, so a time the grant would round
    (a future start or an end not at 00:00 UTC) is refused rather than moved."""
    if period is None:
        raise fail("provision.period is missing: a grant needs an end")
    start = fhir.unix_moment(period.start, "provision.period.start", fail)
    end = fhir.unix_moment(period.end, "provision.period.end", fail)
    if end is None:
        beyond = [e for e in period.extension or [] if e.url == END_EXTENSION]
        if not beyond:
            raise fail("provision.period.end is missing: a grant needs an end")
        text = beyond[0].valueString
        if not isinstance(text, str) or not text.isascii() or not text.isdigit():
            raise fail(
                f"provision.period extension {END_EXTENSION} is not a unix time "
                "(valueString of decimal digits)"
            )
        end = int(text)
    if end % DAY:
        raise fail(f"provision.period.end {_shown(end)} is not at 00:00 UTC: a grant ends on a whole day")
    if start is not None and start > now and start % DAY:
        raise fail(
            f"provision.period.start {_shown(start)} is not at 00:00 UTC: a grant starts on a whole day"
        )
    return (None if start is None or start <= now else start), end


def _shown(timestamp: int) -> str:
    return fhir_instant(timestamp) or f"{timestamp} (unix time)"


def _ops(actions: Sequence[Any] | None, fail: Any) -> int:
    """The ops of CareChain op codings; a Consent with consentaction codes only (access, use) grants READ."""
    ops = 0
    for i, concept in enumerate(actions or []):
        codings = {(str(c.system), str(c.code)) for c in concept.coding or []}
        own = [code for system, code in codings if system == OP_SYSTEM]
        if own:
            for code in own:
                if code not in _OP_BY_NAME:
                    raise fail(f"provision.action[{i}] {OP_SYSTEM}|{code} is not an ERC-8356 op")
                ops |= _OP_BY_NAME[code]
        elif codings <= {(CONSENT_ACTION, "access"), (CONSENT_ACTION, "use")} and codings:
            ops |= Op.READ
        else:
            shown = ", ".join(f"{s}|{c}" for s, c in sorted(codings)) or "(none)"
            raise fail(f"provision.action[{i}] {shown} is not supported (ERC-8356 ops, or access, use)")
    return ops or int(Op.READ)
