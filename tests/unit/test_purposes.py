"""carechain.core.purposes: purpose codes, trial purposes, scope bits and the exported table."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from Crypto.Hash import keccak as pycryptodome_keccak
from eth_utils.address import to_checksum_address

from carechain.core.purposes import (
    ALL_SCOPES,
    ANY_GRANTEE,
    COMMERCIAL,
    PURPOSES,
    SCOPES,
    UINT64_MAX,
    Purpose,
    Scope,
    check_grantable,
    export_table,
    purpose_by_id,
    purpose_id,
    scope_names,
    scopes_mask,
    trial_purpose,
    write_table,
)
from carechain.errors import InputError


def keccak256(data: bytes) -> bytes:
    """Keccak-256 through pycryptodome, independent of eth_utils/eth_hash."""
    return pycryptodome_keccak.new(digest_bits=256, data=data).digest()


def word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def by_code(code: str) -> Purpose:
    (purpose,) = (p for p in PURPOSES if p.code == code)
    return purpose


# ---- purpose codes ----


def test_hmb_id_is_keccak_of_its_curie() -> None:
    expected = keccak256(b"DUO:0000006")
    assert purpose_id("HMB") == expected
    assert by_code("HMB").id == expected
    assert by_code("HMB").hex == "0x" + expected.hex()


def test_hmb_known_vector() -> None:
    assert purpose_id("HMB").hex() == "ee5f31cecba83224710146f60002cc82b810776432040bc099eed5f586ca4fd8"


def test_every_purpose_id_is_keccak_of_its_utf8_curie() -> None:
    for purpose in PURPOSES:
        assert purpose.id == keccak256(purpose.curie.encode("utf-8")), purpose.code
        assert len(purpose.id) == 32


@pytest.mark.parametrize(
    ("curie", "code"),
    [
        ("DUO:0000004", "NRES"),
        ("DUO:0000042", "GRU"),
        ("DUO:0000006", "HMB"),
        ("DUO:0000007", "DS"),
        ("DUO:0000011", "POA"),
        ("DUO:0000043", "CC"),
        ("DUO:0000018", "NPUNCU"),
        ("DUO:0000045", "NPU"),
        ("DUO:0000046", "NCU"),
        ("DUO:0000019", "PUB"),
        ("DUO:0000021", "IRB"),
        ("DUO:0000024", "MOR"),
        ("DUO:0000015", "NMDS"),
        ("DUO:0000016", "GSO"),
        ("DUO:0000012", "RS"),
        ("DUO:0000026", "US"),
        ("DUO:0000027", "PS"),
        ("DUO:0000028", "IS"),
        ("DUO:0000029", "RTN"),
        ("v3-ActReason:TREAT", "TREAT"),
        ("v3-ActReason:ETREAT", "ETREAT"),
        ("v3-ActReason:BTG", "BTG"),
        ("v3-ActReason:HRESCH", "HRESCH"),
        ("v3-ActReason:CLINTRCH", "CLINTRCH"),
        ("v3-ActReason:HMARKT", "HMARKT"),
        ("v3-ActReason:PUBHLTH", "PUBHLTH"),
        ("v3-ActReason:COVERAGE", "COVERAGE"),
    ],
)
def test_curie_and_code_pairs(curie: str, code: str) -> None:
    purpose = by_code(code)
    assert purpose.curie == curie
    assert purpose.system == ("DUO" if curie.startswith("DUO:") else "HL7")


@pytest.mark.parametrize(
    ("text", "curie"),
    [
        ("HMB", "DUO:0000006"),
        ("hmb", "DUO:0000006"),
        ("  Hmb ", "DUO:0000006"),
        ("DUO:0000006", "DUO:0000006"),
        ("duo:0000006", "DUO:0000006"),
        ("TREAT", "v3-ActReason:TREAT"),
        ("treat", "v3-ActReason:TREAT"),
        ("v3-ActReason:TREAT", "v3-ActReason:TREAT"),
        ("V3-ACTREASON:treat", "v3-ActReason:TREAT"),
        ("commercial", "carechain:COMMERCIAL"),
    ],
)
def test_purpose_id_lookup_forms(text: str, curie: str) -> None:
    assert purpose_id(text) == keccak256(curie.encode())


def test_purpose_id_passes_opaque_hex_through() -> None:
    opaque = bytes(range(32))
    assert purpose_id("0x" + opaque.hex()) == opaque
    assert purpose_id("0x" + opaque.hex().upper()) == opaque
    assert purpose_by_id(opaque) is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "HMBX",
        "DUO:0000099",
        "DUO:6",
        "v3-ActReason:NOPE",
        "ActReason:TREAT",
        "0x1234",
        "0x" + "00" * 33,
        "0x" + "zz" * 32,
        "00" * 32,
    ],
)
def test_purpose_id_rejects_unknown_input(text: str) -> None:
    with pytest.raises(InputError, match="unknown purpose") as raised:
        purpose_id(text)
    message = str(raised.value)
    assert "\n" not in message
    assert "abi/purposes.json" in message


def test_purpose_by_id_round_trips_every_purpose() -> None:
    for purpose in PURPOSES:
        assert purpose_by_id(purpose.id) is purpose
        assert purpose_by_id(purpose_id(purpose.code)) is purpose
        assert purpose_by_id(purpose_id(purpose.curie)) is purpose


@pytest.mark.parametrize("length", [0, 20, 31, 33])
def test_purpose_by_id_rejects_wrong_length(length: int) -> None:
    with pytest.raises(InputError, match="32 bytes"):
        purpose_by_id(b"\x01" * length)


def test_codes_and_curies_are_unique_across_systems() -> None:
    names = [p.code.upper() for p in PURPOSES] + [p.curie.upper() for p in PURPOSES]
    assert [name for name, count in Counter(names).items() if count > 1] == []
    assert len({p.id for p in PURPOSES}) == len(PURPOSES)


def test_curies_have_their_system_prefix() -> None:
    prefixes = {"DUO": "DUO:", "HL7": "v3-ActReason:", "CARECHAIN": "carechain:"}
    for purpose in PURPOSES:
        assert purpose.curie == prefixes[purpose.system] + purpose.curie.split(":", 1)[1]
        if purpose.system != "DUO":
            assert purpose.curie.endswith(":" + purpose.code)


def test_only_disease_specific_purposes_reveal_a_condition() -> None:
    assert {p.code for p in PURPOSES if p.reveals_condition} == {"DS", "DSRCH"}


def test_duo_permissions_are_not_modifiers_and_restrictions_are() -> None:
    for code in ("NRES", "GRU", "HMB", "DS", "POA"):
        assert not by_code(code).modifier
    for code in ("NCU", "NPU", "NPUNCU", "IRB", "PUB", "MOR", "NMDS", "GSO", "RTN"):
        assert by_code(code).modifier
    assert not any(p.modifier for p in PURPOSES if p.system != "DUO")


def test_commercial_use_is_not_marketing() -> None:
    assert COMMERCIAL.system == "CARECHAIN"
    assert purpose_id("COMMERCIAL") != purpose_id("HMARKT")
    assert by_code("HMARKT").label == "healthcare marketing"


def test_purpose_is_frozen() -> None:
    with pytest.raises(AttributeError):
        by_code("HMB").curie = "DUO:0000042"  # type: ignore[misc]


# ---- trial purposes ----


def test_trial_purpose_matches_independent_abi_encoding() -> None:
    tag = b"carechain.trial"
    encoded = (
        word(0x60)  # offset of the string's tail: after three head words
        + word(7)
        + word(3)
        + word(len(tag))
        + tag.ljust(32, b"\x00")
    )
    assert trial_purpose(7, 3) == keccak256(encoded)


def test_trial_purpose_known_vector() -> None:
    assert trial_purpose(1, 1).hex() == "779ee9810fc1b343007e95d714cce7beb7490df8d4b9985310aa0e7dfe0520df"


def test_trial_purpose_changes_with_version_and_trial() -> None:
    assert len({trial_purpose(1, 1), trial_purpose(1, 2), trial_purpose(2, 1)}) == 3
    assert trial_purpose(1, 1) not in {p.id for p in PURPOSES}


def test_trial_purpose_accepts_uint256_bounds() -> None:
    top = 2**256 - 1
    expected = keccak256(word(0x60) + word(top) + word(0) + word(15) + b"carechain.trial".ljust(32, b"\x00"))
    assert trial_purpose(top, 0) == expected


@pytest.mark.parametrize(
    ("trial_id", "version"),
    [(-1, 1), (1, -1), (2**256, 1), (1, 2**256), (True, 1), (1, "1"), (1.0, 1)],
)
def test_trial_purpose_rejects_non_uint256(trial_id: object, version: object) -> None:
    with pytest.raises(InputError, match="must be a uint256"):
        trial_purpose(trial_id, version)  # type: ignore[arg-type]


def test_trial_purpose_is_usable_as_opaque_purpose_input() -> None:
    opaque = trial_purpose(42, 2)
    assert purpose_id("0x" + opaque.hex()) == opaque


# ---- scopes ----


def test_scope_bits_are_unique_single_and_fit_uint64() -> None:
    bits = [info.bit for info in SCOPES]
    assert len(set(bits)) == len(bits)
    assert all(0 <= bit < 64 for bit in bits)
    for info in SCOPES:
        assert info.mask == 1 << info.bit
    assert len({info.name for info in SCOPES}) == len(SCOPES)


def test_every_scope_flag_has_exactly_one_entry() -> None:
    assert [info.scope for info in SCOPES] == list(Scope)


def test_scope_bit_positions_are_permanent() -> None:
    # These positions are stored in consents on chain: this test changes only by appending.
    assert {info.name: info.bit for info in SCOPES} == {
        "demographics": 0,
        "encounters": 1,
        "conditions": 2,
        "allergies": 3,
        "medications": 4,
        "immunizations": 5,
        "vitals": 6,
        "labs": 7,
        "imaging": 8,
        "procedures": 9,
        "clinical-notes": 10,
        "care-plans": 11,
        "devices": 12,
        "family-history": 13,
        "social-determinants": 14,
        "billing": 15,
        "genomics": 16,
        "mental-health": 17,
        "psychotherapy-notes": 18,
        "substance-use": 19,
        "sexual-reproductive-health": 20,
        "hiv": 21,
        "sti": 22,
        "violence-abuse": 23,
    }


def test_sensitive_scopes_carry_v3_actcode_labels() -> None:
    labels = {info.name: info.security_label for info in SCOPES if info.security_label}
    assert labels == {
        "genomics": "GDIS",
        "mental-health": "PSY",
        "psychotherapy-notes": "PSYTHPN",
        "substance-use": "ETH",
        "sexual-reproductive-health": "SEX",
        "hiv": "HIV",
        "sti": "STD",
        "violence-abuse": "SDV",
    }


def test_scopes_mask_known_values() -> None:
    assert scopes_mask(["labs"]) == 1 << 7
    assert scopes_mask(["labs", "genomics"]) == (1 << 7) | (1 << 16)
    assert scopes_mask(["LABS", "Clinical_Notes", " clinical-notes "]) == (1 << 7) | (1 << 10)
    assert scopes_mask("labs, genomics") == (1 << 7) | (1 << 16)
    assert scopes_mask(["all"]) == ALL_SCOPES == (1 << len(SCOPES)) - 1
    assert scopes_mask(["ALL", "labs"]) == ALL_SCOPES
    assert scopes_mask(["labs"]) == Scope.LABS


def test_mask_names_round_trip() -> None:
    for info in SCOPES:
        assert scope_names(scopes_mask([info.name])) == [info.name]
    names = ["substance-use", "demographics", "hiv"]
    assert scope_names(scopes_mask(names)) == ["demographics", "substance-use", "hiv"]
    assert scope_names(ALL_SCOPES) == [info.name for info in SCOPES]
    assert scopes_mask(scope_names(ALL_SCOPES)) == ALL_SCOPES


@pytest.mark.parametrize("names", [["lab"], ["labs", "x-rays"], ["mental health"], [""], []])
def test_scopes_mask_rejects_unknown_or_empty(names: list[str]) -> None:
    with pytest.raises(InputError) as raised:
        scopes_mask(names)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("mask", "match"),
    [
        (0, "non-zero uint64"),
        (-1, "non-zero uint64"),
        (UINT64_MAX + 1, "non-zero uint64"),
        (True, "non-zero uint64"),
        (1 << len(SCOPES), "undefined bits"),
        (1 << 63, "undefined bits"),
        (UINT64_MAX, "undefined bits"),
    ],
)
def test_scope_names_rejects_bad_masks(mask: int, match: str) -> None:
    with pytest.raises(InputError, match=match):
        scope_names(mask)


# ---- exported table ----


def test_export_table_schema() -> None:
    table = export_table()
    assert set(table) == {"purposes", "scopes", "trialPurpose", "anyGrantee"}
    assert table["trialPurpose"] == 'keccak256(abi.encode("carechain.trial", trialId, version))'
    assert len(table["purposes"]) == len(PURPOSES)
    for row, purpose in zip(table["purposes"], PURPOSES, strict=True):
        assert set(row) == {"curie", "code", "label", "system", "id", "revealsCondition", "modifier"}
        assert row["curie"] == purpose.curie
        assert row["code"] == purpose.code
        assert row["system"] in {"DUO", "HL7", "CARECHAIN"}
        assert row["id"] == "0x" + keccak256(purpose.curie.encode()).hex()
        assert row["revealsCondition"] is purpose.reveals_condition
    assert len(table["scopes"]) == len(SCOPES)
    for row in table["scopes"]:
        assert set(row) == {"name", "bit", "mask", "label", "fhirResources", "securityLabel"}
        assert row["mask"] == 1 << row["bit"]
        assert row["fhirResources"] and all(isinstance(r, str) for r in row["fhirResources"])
        assert row["securityLabel"] is None or isinstance(row["securityLabel"], str)


def test_any_grantee_is_max_address_checksummed() -> None:
    assert to_checksum_address((2**160 - 1).to_bytes(20, "big")) == ANY_GRANTEE
    assert export_table()["anyGrantee"] == "0xFFfFfFffFFfffFFfFFfFFFFFffFFFffffFfFFFfF"


def test_write_table_writes_loadable_deterministic_json(tmp_path: Path) -> None:
    target = tmp_path / "abi" / "purposes.json"
    assert write_table(target) == target
    first = target.read_text(encoding="utf-8")
    assert json.loads(first) == export_table()
    assert first.endswith("\n")
    write_table(str(target))
    assert target.read_text(encoding="utf-8") == first


@pytest.mark.parametrize("code", ["DS", "DSRCH"])
def test_condition_revealing_purpose_is_not_grantable(code):
    with pytest.raises(InputError, match="reveals a condition"):
        check_grantable(purpose_id(code))


def test_bare_modifier_is_not_grantable():
    with pytest.raises(InputError, match="DUO modifier"):
        check_grantable(purpose_id("NCU"))


def test_the_zero_purpose_is_not_grantable_but_still_reads_and_revokes():
    """C.15: no new consent names the all-zero purpose; one made elsewhere can still be read and revoked."""
    zero = "0x" + "00" * 32
    with pytest.raises(InputError, match="the all-zero purpose names no purpose") as caught:
        check_grantable(purpose_id(zero))
    assert "\n" not in str(caught.value)
    assert purpose_id(zero) == bytes(32) and purpose_by_id(bytes(32)) is None


def test_a_cohort_csv_row_with_the_zero_purpose_is_rejected(tmp_path):
    from carechain.offchain import consent_import

    row = {
        "patient": "0x" + "11" * 20,
        "grantee": "0x" + "22" * 20,
        "purpose": "0x" + "00" * 32,
        "scopes": "labs",
        "expires_at": "0",
        "nonce": "0",
        "deadline": "4102444800",
        "signature": "0x" + "33" * 65,
    }
    path = tmp_path / "consents.csv"
    path.write_text(",".join(row) + "\n" + ",".join(row.values()) + "\n")
    parsed = consent_import.read_csv(path)
    assert parsed.rows == [] and len(parsed.rejected) == 1
    assert "the all-zero purpose" in parsed.rejected[0].reason


@pytest.mark.parametrize("purpose", [purpose_id("HMB"), purpose_id("TREAT"), trial_purpose(7, 1)])
def test_permissions_and_opaque_trial_purposes_are_grantable(purpose):
    assert check_grantable(purpose) == purpose
