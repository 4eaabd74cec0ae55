"""Consent purposes (GA4GH DUO, HL7 purpose of use) as bytes32 codes, and data scopes as uint64 bits.

A purpose on chain is `keccak256(utf8(CURIE))`, so anyone holding this table can read a consent and
no one has to trust a registry of codes. Purposes that reveal a condition (DUO DS, HL7 DSRCH) are in
the table only so that such codes can be recognised; they must never be granted next to a patient's
address, because the purpose alone would disclose that the patient has some condition under study.
A trial uses its own opaque purpose instead: `trial_purpose(trial_id, version)`.

DUO data use modifiers (NCU, IRB, PUB, ...) are listed too, flagged `modifier=True`: DUO attaches them
to a permission (HMB + NCU), and granting one alone restricts nothing, because `isPermitted` checks a
single purpose; a client that honours them must check them alongside the permission.

Commercial use: DUO has no positive commercial-use term (commercial use is allowed unless NCU, NPU or
NPUNCU is present) and HL7 HMARKT means health-care marketing only, so neither can stand for "my data
may be used by companies". CareChain defines `carechain:COMMERCIAL` for that consent question and keeps
HMARKT for marketing; FHIR's extensible binding of Consent.provision.purpose allows such a local code.

Scope bit positions are permanent: a bit is stored in every consent granted with it, so a bit is
never renumbered or reused; new categories take the next free bit, up to 63.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntFlag
from pathlib import Path
from typing import Any, Final, Literal

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from carechain.errors import InputError

PurposeSystem = Literal["DUO", "HL7", "CARECHAIN"]

HL7_PREFIX: Final = "v3-ActReason"
ANY_GRANTEE: Final = "0xFFfFfFffFFfffFFfFFfFFFFFffFFFffffFfFFFfF"
TRIAL_PURPOSE_TAG: Final = "carechain.trial"
TRIAL_PURPOSE_FORMULA: Final = 'keccak256(abi.encode("carechain.trial", trialId, version))'
UINT64_MAX: Final = 2**64 - 1
_UINT256_LIMIT: Final = 2**256
_HEX32 = re.compile(r"0x[0-9a-fA-F]{64}")
_SEE_NAMES: Final = "valid names are in abi/purposes.json (carechain.core.purposes.PURPOSES / SCOPES)"


@dataclass(frozen=True)
class Purpose:
    """One consent purpose; its on-chain code is derived from the CURIE, never assigned."""

    curie: str
    code: str
    label: str
    system: PurposeSystem
    reveals_condition: bool = False
    modifier: bool = False

    @property
    def id(self) -> bytes:
        """The bytes32 stored on chain, so the table needs no registry to be trusted."""
        return keccak(text=self.curie)

    @property
    def hex(self) -> str:
        """The id as 0x-hex, the form JSON, CLIs and block explorers show."""
        return "0x" + self.id.hex()


def _duo(number: int, code: str, label: str, *, modifier: bool = False, reveals: bool = False) -> Purpose:
    return Purpose(f"DUO:{number:07d}", code, label, "DUO", reveals, modifier)


def _hl7(code: str, label: str, *, reveals: bool = False) -> Purpose:
    return Purpose(f"{HL7_PREFIX}:{code}", code, label, "HL7", reveals)


# Terms and labels as DUO publishes them (github.com/EBISPOT/DUO, duo.csv); abstract, obsolete terms left out.
_DUO: Final = (
    _duo(4, "NRES", "no restriction"),
    _duo(42, "GRU", "general research use"),
    _duo(6, "HMB", "health or medical or biomedical research"),
    _duo(7, "DS", "disease specific research", reveals=True),
    _duo(11, "POA", "population origins or ancestry research only"),
    _duo(43, "CC", "clinical care use", modifier=True),
    _duo(44, "NPOA", "population origins or ancestry research prohibited", modifier=True),
    _duo(15, "NMDS", "no general methods research", modifier=True),
    _duo(16, "GSO", "genetic studies only", modifier=True),
    _duo(12, "RS", "research specific restrictions", modifier=True),
    _duo(18, "NPUNCU", "not for profit, non commercial use only", modifier=True),
    _duo(45, "NPU", "not for profit organisation use only", modifier=True),
    _duo(46, "NCU", "non-commercial use only", modifier=True),
    _duo(19, "PUB", "publication required", modifier=True),
    _duo(20, "COL", "collaboration required", modifier=True),
    _duo(21, "IRB", "ethics approval required", modifier=True),
    _duo(22, "GS", "geographical restriction", modifier=True),
    _duo(24, "MOR", "publication moratorium", modifier=True),
    _duo(25, "TS", "time limit on use", modifier=True),
    _duo(26, "US", "user specific restriction", modifier=True),
    _duo(27, "PS", "project specific restriction", modifier=True),
    _duo(28, "IS", "institution specific restriction", modifier=True),
    _duo(29, "RTN", "return to database or resource", modifier=True),
)

# The FHIR R4 v3-PurposeOfUse value set (ActReason codes under _PurposeOfUse), in its hierarchy order.
_HL7: Final = (
    _hl7("HMARKT", "healthcare marketing"),
    _hl7("HOPERAT", "healthcare operations"),
    _hl7("CAREMGT", "care management"),
    _hl7("DONAT", "donation"),
    _hl7("FRAUD", "fraud"),
    _hl7("GOV", "government"),
    _hl7("HACCRED", "health accreditation"),
    _hl7("HCOMPL", "health compliance"),
    _hl7("HDECD", "decedent"),
    _hl7("HDIRECT", "directory"),
    _hl7("HDM", "healthcare delivery management"),
    _hl7("HLEGAL", "legal"),
    _hl7("HOUTCOMS", "health outcome measure"),
    _hl7("HPRGRP", "health program reporting"),
    _hl7("HQUALIMP", "health quality improvement"),
    _hl7("HSYSADMIN", "health system administration"),
    _hl7("LABELING", "labeling"),
    _hl7("METAMGT", "metadata management"),
    _hl7("MEMADMIN", "member administration"),
    _hl7("MILCDM", "military command"),
    _hl7("PATADMIN", "patient administration"),
    _hl7("PATSFTY", "patient safety"),
    _hl7("PERFMSR", "performance measure"),
    _hl7("RECORDMGT", "records management"),
    _hl7("SYSDEV", "system development"),
    _hl7("HTEST", "test health data"),
    _hl7("TRAIN", "training"),
    _hl7("HPAYMT", "healthcare payment"),
    _hl7("CLMATTCH", "claim attachment"),
    _hl7("COVAUTH", "coverage authorization"),
    _hl7("COVERAGE", "coverage under policy or program"),
    _hl7("ELIGDTRM", "eligibility determination"),
    _hl7("ELIGVER", "eligibility verification"),
    _hl7("ENROLLM", "enrollment"),
    _hl7("MILDCRG", "military discharge"),
    _hl7("REMITADV", "remittance advice"),
    _hl7("HRESCH", "healthcare research"),
    _hl7("BIORCH", "biomedical research"),
    _hl7("CLINTRCH", "clinical trial research"),
    _hl7("CLINTRCHNPC", "clinical trial research without patient care"),
    _hl7("CLINTRCHPC", "clinical trial research with patient care"),
    _hl7("PRECLINTRCH", "preclinical trial research"),
    _hl7("DSRCH", "disease specific healthcare research", reveals=True),
    _hl7("POARCH", "population origins or ancestry healthcare research"),
    _hl7("TRANSRCH", "translational healthcare research"),
    _hl7("PATRQT", "patient requested"),
    _hl7("FAMRQT", "family requested"),
    _hl7("PWATRNY", "power of attorney"),
    _hl7("SUPNWK", "support network"),
    _hl7("PUBHLTH", "public health"),
    _hl7("DISASTER", "disaster"),
    _hl7("THREAT", "threat"),
    _hl7("TREAT", "treatment"),
    _hl7("CLINTRL", "clinical trial"),
    _hl7("COC", "coordination of care"),
    _hl7("ETREAT", "emergency treatment"),
    _hl7("BTG", "break the glass"),
    _hl7("ERTREAT", "emergency room treatment"),
    _hl7("POPHLTH", "population health"),
)

COMMERCIAL: Final = Purpose(
    "carechain:COMMERCIAL",
    "COMMERCIAL",
    "commercial use (for-profit research and product development)",
    "CARECHAIN",
)

PURPOSES: Final[tuple[Purpose, ...]] = (*_DUO, *_HL7, COMMERCIAL)

_BY_NAME: Final[dict[str, Purpose]] = {
    key: purpose for purpose in PURPOSES for key in (purpose.code.upper(), purpose.curie.upper())
}
_BY_ID: Final[dict[bytes, Purpose]] = {purpose.id: purpose for purpose in PURPOSES}


def purpose_id(name: str) -> bytes:
    """Resolve what a user typed (code, CURIE, or opaque 0x bytes32 of a trial) to the on-chain purpose."""
    if not isinstance(name, str):
        raise InputError(f"a purpose is a code (HMB, TREAT), a CURIE or a 0x bytes32, got {name!r}")
    text = name.strip()
    if _HEX32.fullmatch(text):
        return bytes.fromhex(text[2:])
    purpose = _BY_NAME.get(text.upper())
    if purpose is None:
        raise InputError(
            f"unknown purpose {name!r}: give a code (HMB, TREAT), a CURIE (DUO:0000006) "
            f"or a 0x-prefixed 32-byte hex; {_SEE_NAMES}"
        )
    return purpose.id


def purpose_by_id(purpose: bytes) -> Purpose | None:
    """Name an on-chain purpose for display; None means opaque (a trial) or not in this table."""
    if not isinstance(purpose, bytes | bytearray):
        raise InputError(f"a purpose is 32 bytes, got {purpose!r}")
    if len(purpose) != 32:
        raise InputError(f"a purpose is 32 bytes, got {len(purpose)}: 0x{bytes(purpose).hex()}")
    return _BY_ID.get(bytes(purpose))


def check_grantable(purpose: bytes) -> bytes:
    """Refuse to put the all-zero purpose, a condition-revealing purpose, or a bare DUO modifier, into a
    new consent. (Reads and revocations take any 32 bytes, so a consent made elsewhere stays revocable.)"""
    known = purpose_by_id(purpose)
    if not any(purpose):
        raise InputError(
            "the all-zero purpose names no purpose (it is what an unset bytes32 holds): a consent needs a "
            f"purpose code (HMB, TREAT), a CURIE or a trial's purpose; {_SEE_NAMES}"
        )
    if known is not None and known.reveals_condition:
        raise InputError(
            f"purpose {known.code} ({known.curie}) reveals a condition and must not stand next to a patient "
            "on chain; use a trial's opaque purpose (carechain.core.purposes.trial_purpose) instead"
        )
    if known is not None and known.modifier:
        raise InputError(
            f"{known.code} ({known.curie}) is a DUO modifier: it restricts a permission such as HMB or GRU "
            "and grants nothing on its own"
        )
    return bytes(purpose)


def trial_purpose(trial_id: int, version: int) -> bytes:
    """The opaque purpose a trial's consents use, so the trial's topic never sits next to a patient."""
    for field, value in (("trial_id", trial_id), ("version", version)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _UINT256_LIMIT:
            raise InputError(f"{field} must be a uint256, got {value!r}")
    return keccak(encode(["string", "uint256", "uint256"], [TRIAL_PURPOSE_TAG, trial_id, version]))


class Scope(IntFlag):
    """Data categories as uint64 bits; positions are permanent, since consents on chain store them."""

    DEMOGRAPHICS = 1 << 0
    ENCOUNTERS = 1 << 1
    CONDITIONS = 1 << 2
    ALLERGIES = 1 << 3
    MEDICATIONS = 1 << 4
    IMMUNIZATIONS = 1 << 5
    VITALS = 1 << 6
    LABS = 1 << 7
    IMAGING = 1 << 8
    PROCEDURES = 1 << 9
    CLINICAL_NOTES = 1 << 10
    CARE_PLANS = 1 << 11
    DEVICES = 1 << 12
    FAMILY_HISTORY = 1 << 13
    SOCIAL_DETERMINANTS = 1 << 14
    BILLING = 1 << 15
    GENOMICS = 1 << 16
    MENTAL_HEALTH = 1 << 17
    PSYCHOTHERAPY_NOTES = 1 << 18
    SUBSTANCE_USE = 1 << 19
    SEXUAL_REPRODUCTIVE_HEALTH = 1 << 20
    HIV = 1 << 21
    STI = 1 << 22
    VIOLENCE_ABUSE = 1 << 23


@dataclass(frozen=True)
class ScopeInfo:
    """What a scope bit covers, with the FHIR R4 hints a FHIR export needs to build a Consent."""

    scope: Scope
    label: str
    fhir_resources: tuple[str, ...]
    security_label: str | None = None  # HL7 v3-ActCode information sensitivity code

    @property
    def name(self) -> str:
        """The kebab-case name users type and JSON carries."""
        return str(self.scope.name).lower().replace("_", "-")

    @property
    def bit(self) -> int:
        """The bit position, the permanent identity of the scope."""
        return int(self.scope).bit_length() - 1

    @property
    def mask(self) -> int:
        """The single-bit mask the contract stores."""
        return int(self.scope)


_OBSERVATION_REPORT: Final = ("Observation", "DiagnosticReport")

SCOPES: Final[tuple[ScopeInfo, ...]] = (
    ScopeInfo(Scope.DEMOGRAPHICS, "demographics", ("Patient", "RelatedPerson")),
    ScopeInfo(Scope.ENCOUNTERS, "encounters and admissions", ("Encounter", "EpisodeOfCare")),
    ScopeInfo(Scope.CONDITIONS, "problems and conditions", ("Condition",)),
    ScopeInfo(Scope.ALLERGIES, "allergies and intolerances", ("AllergyIntolerance",)),
    ScopeInfo(
        Scope.MEDICATIONS,
        "medications",
        ("MedicationRequest", "MedicationStatement", "MedicationAdministration", "MedicationDispense"),
    ),
    ScopeInfo(Scope.IMMUNIZATIONS, "immunizations", ("Immunization",)),
    ScopeInfo(Scope.VITALS, "vital signs", ("Observation",)),
    ScopeInfo(Scope.LABS, "laboratory results", (*_OBSERVATION_REPORT, "Specimen")),
    ScopeInfo(Scope.IMAGING, "imaging", ("ImagingStudy", "DiagnosticReport", "Media")),
    ScopeInfo(Scope.PROCEDURES, "procedures", ("Procedure",)),
    ScopeInfo(Scope.CLINICAL_NOTES, "clinical notes and documents", ("DocumentReference", "Composition")),
    ScopeInfo(Scope.CARE_PLANS, "care plans and goals", ("CarePlan", "CareTeam", "Goal")),
    ScopeInfo(Scope.DEVICES, "devices and implants", ("Device", "DeviceUseStatement")),
    ScopeInfo(Scope.FAMILY_HISTORY, "family history", ("FamilyMemberHistory",)),
    ScopeInfo(Scope.SOCIAL_DETERMINANTS, "social determinants of health", ("Observation", "Condition")),
    ScopeInfo(
        Scope.BILLING,
        "billing, claims and coverage",
        ("Claim", "ExplanationOfBenefit", "Coverage", "Account"),
    ),
    ScopeInfo(
        Scope.GENOMICS,
        "genomics and genetic testing",
        (*_OBSERVATION_REPORT, "MolecularSequence"),
        "GDIS",
    ),
    ScopeInfo(Scope.MENTAL_HEALTH, "mental health", ("Condition", *_OBSERVATION_REPORT), "PSY"),
    ScopeInfo(Scope.PSYCHOTHERAPY_NOTES, "psychotherapy notes", ("DocumentReference",), "PSYTHPN"),
    ScopeInfo(
        Scope.SUBSTANCE_USE,
        "substance use disorder (42 CFR Part 2)",
        ("Condition", *_OBSERVATION_REPORT, "MedicationRequest", "Procedure"),
        "ETH",
    ),
    ScopeInfo(
        Scope.SEXUAL_REPRODUCTIVE_HEALTH,
        "sexual and reproductive health",
        ("Condition", "Observation", "Procedure", "MedicationRequest"),
        "SEX",
    ),
    ScopeInfo(Scope.HIV, "HIV/AIDS", ("Condition", *_OBSERVATION_REPORT, "MedicationRequest"), "HIV"),
    ScopeInfo(Scope.STI, "sexually transmitted infections", ("Condition", *_OBSERVATION_REPORT), "STD"),
    ScopeInfo(
        Scope.VIOLENCE_ABUSE,
        "sexual assault, abuse or domestic violence",
        ("Condition", "Observation", "DocumentReference"),
        "SDV",
    ),
)

ALL_SCOPES: Final = sum(info.mask for info in SCOPES)
_SCOPE_BY_NAME: Final[dict[str, ScopeInfo]] = {info.name: info for info in SCOPES}


def scopes_mask(names: Iterable[str]) -> int:
    """Turn scope names (or one comma-separated string; "all" for every scope) into the uint64 mask."""
    if isinstance(names, str):
        items: Iterable[object] = names.split(",")
    elif isinstance(names, Iterable) and not isinstance(names, bytes | bytearray | Mapping):
        items = names
    else:
        raise InputError(f"scopes are names (labs, genomics) or one comma-separated string, got {names!r}")
    mask = 0
    for raw in items:
        if not isinstance(raw, str):
            raise InputError(f"a scope is a name (labs, genomics), got {raw!r}")
        key = raw.strip().lower().replace("_", "-")
        if key == "all":
            mask |= ALL_SCOPES
            continue
        info = _SCOPE_BY_NAME.get(key)
        if info is None:
            raise InputError(f"unknown scope {raw!r}: {_SEE_NAMES}")
        mask |= info.mask
    if mask == 0:
        raise InputError(f"no scope given: a consent covers at least one; {_SEE_NAMES}")
    return mask


def scope_names(mask: int) -> list[str]:
    """Name the bits of an on-chain mask, refusing bits this table does not define."""
    if isinstance(mask, bool) or not isinstance(mask, int) or not 0 < mask <= UINT64_MAX:
        raise InputError(f"a scopes mask is a non-zero uint64, got {mask!r}")
    undefined = mask & ~ALL_SCOPES
    if undefined:
        raise InputError(f"scopes mask {mask:#x} has undefined bits {undefined:#x}; {_SEE_NAMES}")
    return [info.name for info in SCOPES if mask & info.mask]


def export_table() -> dict[str, Any]:
    """The table as the JSON frontends load (abi/purposes.json), so they never recompute hashes."""
    return {
        "purposes": [
            {
                "curie": p.curie,
                "code": p.code,
                "label": p.label,
                "system": p.system,
                "id": p.hex,
                "revealsCondition": p.reveals_condition,
                "modifier": p.modifier,
            }
            for p in PURPOSES
        ],
        "scopes": [
            {
                "name": s.name,
                "bit": s.bit,
                "mask": s.mask,
                "label": s.label,
                "fhirResources": list(s.fhir_resources),
                "securityLabel": s.security_label,
            }
            for s in SCOPES
        ],
        "trialPurpose": TRIAL_PURPOSE_FORMULA,
        "anyGrantee": ANY_GRANTEE,
    }


def write_table(path: str | Path) -> Path:
    """Write abi/purposes.json deterministically, so a regenerated table diffs only when it changed."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(export_table(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return target
