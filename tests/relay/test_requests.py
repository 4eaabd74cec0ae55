"""Malformed requests: 400 with one sentence naming what is wrong, and nothing paid."""

from __future__ import annotations

import pytest

from .conftest import refused, relayer_state, signed_grant, signed_revoke


def _without(field):
    def change(body):
        del body[field]

    return change


def _set(field, value):
    def change(body):
        body[field] = value

    return change


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (_without("signature"), "signature is missing"),
        (_without("nonce"), "nonce is missing"),
        (_without("expires_at"), "expiresAt is missing"),
        (_set("patient", "0x1234"), "patient '0x1234' is not an Ethereum address"),
        (_set("grantee", "0x" + "aB" * 20), "bad checksum"),
        (_set("purpose", "VIBES"), "unknown purpose 'VIBES'"),
        (_set("purpose", "DS"), "reveals a condition"),
        (_set("scopes", "labs"), "scopes: expected a whole number"),
        (_set("scopes", 2**64), "scopes 18446744073709551616 is not a whole number of at most 64 bits"),
        (_set("nonce", True), "nonce: expected a whole number"),
        (_set("nonce", "\u00b2"), "nonce: expected a whole number"),  # str.isdigit() takes '²'
        (_set("deadline", "\u0663"), "deadline: expected a whole number"),  # int() takes '٣' as 3
        (_set("deadline", -1), "deadline -1 is not a whole number"),
        (_set("nonce", -1), "nonce -1 is not a whole number of at most 256 bits"),
        (_set("nonce", 2**256), "is not a whole number of at most 256 bits"),
        (_set("nonce", "9" * 5000), "nonce"),
        (_set("patient", 5), "invalid patient"),
        (_set("signature", "0x1234"), "the signature is 2 bytes: a key's signature is 65"),
        (_set("signature", "0x123"), "the signature is not 0x-hex bytes"),
        (_set("signature", 65), "signature: input should be a valid string"),
        (_set("signature", "0x" + "11" * 64 + "00"), "v must be 27 or 28"),
        (_set("kind", "Revoke"), "kind must be 'Grant'"),
        (_set("note", "hello"), "note is not a field of this signed request"),
    ],
)
def test_a_malformed_grant_is_400(api, consents, patient_key, relayer, w3, change, fragment):
    body = signed_grant(consents, patient_key)
    change(body)
    before = relayer_state(w3, relayer)
    detail = refused(api.post("/consents", json=body), 400, "bad-request")
    assert fragment in detail
    assert relayer_state(w3, relayer) == before


def test_a_body_that_is_not_json_is_400(api):
    answer = api.post("/consents", content=b"{not json", headers={"Content-Type": "application/json"})
    assert "the body is not valid JSON" in refused(answer, 400, "bad-request")


def test_a_body_nested_60000_deep_is_400_not_500(api):
    """C.12: json.loads raised RecursionError inside FastAPI; the kernel refuses the depth first."""
    answer = api.post("/consents", content=b"[" * 60_000, headers={"Content-Type": "application/json"})
    assert "nests 60,000 levels deep" in refused(answer, 400, "bad-request")


def test_a_body_over_64_kib_is_413_unread(api):
    """A signed request is a few KiB: the relayer reads no more than 64 KiB of anyone's body."""
    answer = api.post(
        "/consents", content=b" " * (64 * 1024 + 1), headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 413 and answer.json()["error"] == "too-large"
    assert "limit of 65,536 bytes" in answer.json()["detail"]


def test_a_body_that_is_not_an_object_is_400(api):
    assert refused(api.post("/consents", json=[1, 2]), 400, "bad-request").startswith("malformed request")


def test_a_revocation_posted_as_a_consent_is_400(api, consents, patient_key):
    body = signed_revoke(consents, patient_key, patient_key.address)
    detail = refused(api.post("/consents", json=body), 400, "bad-request")
    assert "kind must be 'Grant'" in detail and "scopes is missing" in detail


def test_a_revocation_needs_its_fields(api, consents, patient_key):
    body = signed_revoke(consents, patient_key, patient_key.address)
    del body["grantee"]
    assert "grantee is missing" in refused(api.post("/revocations", json=body), 400, "bad-request")


def test_a_submission_id_that_is_not_hex_is_400_and_an_unknown_one_404(api):
    assert "submission id" in refused(api.get("/submissions/nope"), 400, "bad-request")
    missing = "0x" + "ab" * 32
    assert missing in refused(api.get(f"/submissions/{missing}"), 404, "unknown-submission")
