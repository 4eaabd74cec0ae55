"""Purpose codes, purpose profiles (RFC 8785) and consent templates: what a grant points at off chain."""

from __future__ import annotations

import pytest
from eth_utils.crypto import keccak

from carechain.core import profiles
from carechain.errors import InputError


def test_duo_codes_are_duo_numbers_and_hl7_codes_are_fixed() -> None:
    assert profiles.purpose_code("HMB") == 6
    assert profiles.purpose_code("DUO:0000042") == 42
    assert profiles.purpose_code("treat") == 10_053
    assert profiles.purpose_code("HRESCH") == 10_037
    assert profiles.purpose_code("COMMERCIAL") == 20_001


def test_every_code_is_a_unique_uint32_pinned_to_a_release() -> None:
    entries = profiles.registry_entries()
    codes = [entry.code for entry in entries]
    assert len(codes) == len(set(codes)) == len(profiles.PURPOSE_CODES)
    assert all(0 < code <= profiles.UINT32_MAX for code in codes)
    assert {entry.release for entry in entries} == {
        profiles.DUO_RELEASE,
        profiles.HL7_RELEASE,
        profiles.CARECHAIN_RELEASE,
    }


def test_registration_order_puts_parents_first() -> None:
    seen: set[int] = set()
    for entry in profiles.registry_entries():
        assert entry.narrows == 0 or entry.narrows in seen, entry
        seen.add(entry.code)
    assert profiles.purpose_of_code(6) is not None and profiles.purpose_of_code(6).narrows == 42  # type: ignore[union-attr]
    assert profiles.purpose_of_code(7).narrows == 6  # type: ignore[union-attr]
    assert profiles.purpose_of_code(profiles.purpose_code("BTG")).narrows == profiles.purpose_code("ETREAT")  # type: ignore[union-attr]


def test_unknown_purpose_is_one_clear_error() -> None:
    with pytest.raises(InputError, match="unknown purpose"):
        profiles.purpose_code("NOPE")
    with pytest.raises(InputError, match="a purpose is"):
        profiles.purpose_code(None)  # type: ignore[arg-type]


def test_profile_is_rfc8785_canonical_and_hashed() -> None:
    pairs = [{"term": "DUO:0000006"}, {"term": "DUO:0000046"}, {"term": "DUO:0000025", "value": "P2Y"}]
    pairs.sort(key=lambda pair: pair["term"].encode())
    raw = profiles.canonical_profile(pairs)
    assert raw == b'[{"term":"DUO:0000006"},{"term":"DUO:0000025","value":"P2Y"},{"term":"DUO:0000046"}]'
    assert profiles.profile_ref(pairs) == keccak(raw)
    # Key order inside an object does not matter; RFC 8785 sorts it.
    assert profiles.canonical_profile([{"value": 1.0, "term": "a"}]) == b'[{"term":"a","value":1}]'


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ([{"term": "b"}, {"term": "a"}], "sorted"),
        ([{"term": "a"}, {"term": "a"}], "sorted"),
        ([], "non-empty"),
        ("DUO:0000006", "non-empty"),
        ([{"term": "a", "extra": 1}], "profile entry"),
        ([{"value": 1}], "profile entry"),
        ([{"term": "DUO:0000007", "value": "MONDO:0005015"}], "reveals a condition"),
        ([{"term": "a", "value": float("nan")}], "plain JSON"),
    ],
)
def test_profile_refusals(pairs: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        profiles.canonical_profile(pairs)  # type: ignore[arg-type]


def test_templates_ship_with_the_package_and_hash_byte_for_byte() -> None:
    names = profiles.template_names()
    assert {"research-broad-v1", "treatment-v1", "trial-v1"} <= set(names)
    for name in names:
        raw = profiles.template_bytes(name)
        assert raw.startswith(b"# CareChain consent template")
        assert profiles.terms_ref(name) == keccak(raw)
    with pytest.raises(InputError, match="unknown consent template"):
        profiles.terms_ref("nope")
