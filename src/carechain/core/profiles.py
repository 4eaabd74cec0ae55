"""What an ERC-8356 grant points at off chain: purpose codes, purpose profiles and consent templates.

- **Purpose codes** (`purposeCode`, uint32) index the PurposeRegistry contract. A DUO term's code is its
  DUO number (DUO:0000006, HMB, is 6); an HL7 purpose of use and CareChain's own terms have codes from
  the fixed tables below. Codes are permanent: a grant names its code for good. Each code is pinned to
  the ontology release it was taken from, and `registry_entries()` is what a deployment registers,
  narrowing relations included (HMB narrows GRU, CLINTRCH narrows HRESCH).
- **Purpose profiles** (`purposeProfileRef`): the RFC 8785 canonical JSON of a sorted array of
  `{term, value}` pairs, hashed with keccak256 (ERC-8356, "Why purpose is a registry code"). A profile is
  a template shared by many patients: a term that reveals a condition (DUO DS, HL7 DSRCH) takes no value
  here, because a hash over an enumerable disease list reveals the disease; the disease stays in the
  off-chain instrument.
- **Consent templates** (`termsRef`): versioned texts shipped with the package
  (`carechain/templates/consent/*.md`), hashed byte for byte; never a patient's own copy.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

import rfc8785
from eth_utils.crypto import keccak

from carechain.core.purposes import PURPOSES, Purpose
from carechain.errors import InputError

DUO_RELEASE: Final = "http://purl.obolibrary.org/obo/duo/releases/2021-02-23/duo.owl"
HL7_RELEASE: Final = "http://terminology.hl7.org/CodeSystem/v3-ActReason|3.0.0"
CARECHAIN_RELEASE: Final = "urn:carechain:purposes:v1"
UINT32_MAX: Final = 2**32 - 1


def _names(text: str) -> list[str]:
    return text.split()


# HL7 purposes of use: code = 10_000 + the number below (never renumbered; new codes take new numbers).
_HL7_NUMBERS: Final[dict[str, int]] = {
    name: 10_000 + number
    for number, name in enumerate(
        _names(
            "HMARKT HOPERAT CAREMGT DONAT FRAUD GOV HACCRED HCOMPL HDECD HDIRECT HDM HLEGAL HOUTCOMS HPRGRP "
            "HQUALIMP HSYSADMIN LABELING METAMGT MEMADMIN MILCDM PATADMIN PATSFTY PERFMSR RECORDMGT SYSDEV "
            "HTEST TRAIN HPAYMT CLMATTCH COVAUTH COVERAGE ELIGDTRM ELIGVER ENROLLM MILDCRG REMITADV HRESCH "
            "BIORCH CLINTRCH CLINTRCHNPC CLINTRCHPC PRECLINTRCH DSRCH POARCH TRANSRCH PATRQT FAMRQT PWATRNY "
            "SUPNWK PUBHLTH DISASTER THREAT TREAT CLINTRL COC ETREAT BTG ERTREAT POPHLTH"
        ),
        start=1,
    )
}
_CARECHAIN_NUMBERS: Final[dict[str, int]] = {"COMMERCIAL": 20_001}

# Which code narrows which (child -> parent), as DUO's and HL7's hierarchies have them.
_NARROWS: Final[dict[str, str]] = {
    "GRU": "NRES",
    "HMB": "GRU",
    "DS": "HMB",
    "POA": "GRU",
    **{
        child: "HOPERAT"
        for child in _names(
            "CAREMGT DONAT FRAUD GOV HACCRED HCOMPL HDECD HDIRECT HDM HLEGAL HOUTCOMS HPRGRP HQUALIMP "
            "HSYSADMIN LABELING METAMGT MEMADMIN MILCDM PATADMIN PATSFTY PERFMSR RECORDMGT SYSDEV HTEST TRAIN"
        )
    },
    **{child: "HPAYMT" for child in _names("CLMATTCH COVAUTH COVERAGE ELIGDTRM ELIGVER ENROLLM MILDCRG")},
    "REMITADV": "HPAYMT",
    **{child: "HRESCH" for child in _names("BIORCH CLINTRCH PRECLINTRCH DSRCH POARCH TRANSRCH")},
    "CLINTRCHNPC": "CLINTRCH",
    "CLINTRCHPC": "CLINTRCH",
    **{child: "PATRQT" for child in _names("FAMRQT PWATRNY SUPNWK")},
    **{child: "PUBHLTH" for child in _names("DISASTER THREAT")},
    **{child: "TREAT" for child in _names("CLINTRL COC ETREAT POPHLTH")},
    "BTG": "ETREAT",
    "ERTREAT": "ETREAT",
}


_PAIR_KEYS: Final = frozenset({"term", "value"})


@dataclass(frozen=True)
class PurposeCode:
    """One registered purpose: its uint32 code, the term, its pinned release, and the code it narrows."""

    code: int
    purpose: Purpose
    release: str
    narrows: int

    @property
    def term(self) -> bytes:
        """keccak256 of the term's CURIE, as the registry stores it."""
        return self.purpose.id

    @property
    def release_hash(self) -> bytes:
        return keccak(text=self.release)


def _code_of(purpose: Purpose) -> tuple[int, str]:
    if purpose.system == "DUO":
        return int(purpose.curie.split(":")[1]), DUO_RELEASE
    if purpose.system == "HL7":
        return _HL7_NUMBERS[purpose.code], HL7_RELEASE
    return _CARECHAIN_NUMBERS[purpose.code], CARECHAIN_RELEASE


def _build() -> dict[str, PurposeCode]:
    by_name = {purpose.code: purpose for purpose in PURPOSES}
    codes = {name: _code_of(purpose) for name, purpose in by_name.items()}
    return {
        name: PurposeCode(code, by_name[name], release, codes[_NARROWS[name]][0] if name in _NARROWS else 0)
        for name, (code, release) in codes.items()
    }


PURPOSE_CODES: Final[dict[str, PurposeCode]] = _build()
_BY_CODE: Final[dict[int, PurposeCode]] = {entry.code: entry for entry in PURPOSE_CODES.values()}


def purpose_code(name: str) -> int:
    """The registry code of a purpose given by its code (HMB, TREAT) or CURIE (DUO:0000006)."""
    if not isinstance(name, str):
        raise InputError(f"a purpose is a code (HMB, TREAT) or a CURIE, got {name!r}")
    text = name.strip().upper()
    for entry in PURPOSE_CODES.values():
        if text in (entry.purpose.code.upper(), entry.purpose.curie.upper()):
            return entry.code
    raise InputError(f"unknown purpose {name!r}: give a code (HMB, TREAT) or a CURIE (DUO:0000006)")


def purpose_of_code(code: int) -> PurposeCode | None:
    """The registered purpose a code stands for (None: not one of CareChain's codes)."""
    return _BY_CODE.get(code)


def registry_entries() -> list[PurposeCode]:
    """Every code, parents before the codes that narrow them: the order PurposeRegistry.register takes."""
    done: set[int] = set()
    ordered: list[PurposeCode] = []

    def add(entry: PurposeCode) -> None:
        if entry.code in done:
            return
        if entry.narrows:
            add(_BY_CODE[entry.narrows])
        done.add(entry.code)
        ordered.append(entry)

    for entry in sorted(PURPOSE_CODES.values(), key=lambda e: e.code):
        add(entry)
    return ordered


def registration(entries: Sequence[PurposeCode]) -> tuple[list[int], list[tuple[bytes, bytes, int]]]:
    """PurposeRegistry.register's two arguments for `entries`: the codes, and each one's (term, release,
    narrows)."""
    return [entry.code for entry in entries], [
        (entry.term, entry.release_hash, entry.narrows) for entry in entries
    ]


def canonical_profile(pairs: Sequence[Mapping[str, Any]]) -> bytes:
    """RFC 8785 bytes of a purpose profile: `{term, value?}` pairs, sorted by term (UTF-8 byte order).

    Refuses an unsorted or duplicated array (ERC-8356 says to reject rather than sort), a pair with other
    keys, and a value on a term that reveals a condition (that parameter belongs to the off-chain instrument).
    """
    if not isinstance(pairs, Sequence) or isinstance(pairs, (str, bytes)) or not pairs:
        raise InputError("a purpose profile is a non-empty array of {term, value} objects")
    terms: list[bytes] = []
    for pair in pairs:
        if not isinstance(pair, Mapping) or not isinstance(pair.get("term"), str) or set(pair) - _PAIR_KEYS:
            raise InputError(f'a profile entry is {{"term": IRI or CURIE, "value": optional}}, got {pair!r}')
        term = pair["term"]
        if "value" in pair and _reveals_condition(term):
            raise InputError(f"{term} reveals a condition: its parameter stays in the off-chain instrument")
        terms.append(term.encode())
    if any(a >= b for a, b in itertools.pairwise(terms)):
        raise InputError("a purpose profile's entries must be sorted by term (UTF-8 byte order), each once")
    try:
        return rfc8785.dumps(list(pairs))
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise InputError(f"a purpose profile must be plain JSON: {exc}") from exc


def profile_ref(pairs: Sequence[Mapping[str, Any]]) -> bytes:
    """`purposeProfileRef`: keccak256 of the canonical profile."""
    return keccak(canonical_profile(pairs))


def _reveals_condition(term: str) -> bool:
    text = term.strip().upper()
    return any(text in (p.curie.upper(), p.code.upper()) and p.reveals_condition for p in PURPOSES)


def template_names() -> list[str]:
    """The consent templates shipped with the package (file names without .md)."""
    folder = resources.files("carechain") / "templates" / "consent"
    return sorted(item.name[:-3] for item in folder.iterdir() if item.name.endswith(".md"))


def template_bytes(name: str) -> bytes:
    """A shipped consent template's bytes, exactly as hashed."""
    if name not in template_names():
        raise InputError(f"unknown consent template {name!r}; shipped: {', '.join(template_names())}")
    return (resources.files("carechain") / "templates" / "consent" / f"{name}.md").read_bytes()


def terms_ref(name: str) -> bytes:
    """`termsRef`: keccak256 of a shipped, versioned consent template."""
    return keccak(template_bytes(name))


# The (purpose profile, consent template) pairs CareChain ships: a deployment stores each in ConsentGrants
# once (internRefs), so no patient's grant pays for storing it.
SHIPPED_PAIRS: Final[tuple[tuple[str, str], ...]] = (
    ("DUO:0000042", "research-broad-v1"),
    ("DUO:0000006", "research-broad-v1"),
    ("v3-ActReason:TREAT", "treatment-v1"),
    ("v3-ActReason:CLINTRCH", "trial-v1"),
)


def shipped_pairs() -> list[tuple[bytes, bytes]]:
    """(purposeProfileRef, termsRef) of each shipped pair: the purpose's one-term profile and its template."""
    return [(profile_ref([{"term": term}]), terms_ref(template)) for term, template in SHIPPED_PAIRS]
