"""The per-patient token bucket: requests the relayer would pay for, counted per patient, refilled."""

from __future__ import annotations

import pytest
from eth_account import Account
from fastapi.testclient import TestClient

from carechain.errors import InputError
from carechain.services.relay.app import create_app
from carechain.services.relay.service import Rate, TokenBucket

from .conftest import refused, relayer_state, signed_grant


@pytest.fixture
def limited(make_service):
    """A relayer that pays for 2 requests per patient per hour."""
    with TestClient(create_app(make_service(rate="2/h"), poll=0)) as client:
        yield client


def test_the_third_request_in_the_hour_is_429_with_retry_after(
    limited, consents, patient_key, relayer, w3, clock
):
    for nonce in (0, 1):
        assert (
            limited.post("/consents", json=signed_grant(consents, patient_key, nonce=nonce)).status_code
            == 202
        )
    before = relayer_state(w3, relayer)
    third = limited.post("/consents", json=signed_grant(consents, patient_key, nonce=2))
    assert "retry in 1800s" in refused(third, 429, "rate-limited")
    assert third.headers["Retry-After"] == "1800"  # one token comes back every half hour
    assert relayer_state(w3, relayer) == before
    clock.now += 1800
    assert limited.post("/consents", json=signed_grant(consents, patient_key, nonce=2)).status_code == 202


def test_the_limit_is_per_patient(limited, consents, patient_key):
    for nonce in (0, 1):
        assert (
            limited.post("/consents", json=signed_grant(consents, patient_key, nonce=nonce)).status_code
            == 202
        )
    other = Account.create()
    assert limited.post("/consents", json=signed_grant(consents, other)).status_code == 202


def test_refused_and_repeated_requests_take_no_token(limited, consents, patient_key):
    """Only a request the relayer pays for counts: nobody can use up a patient's allowance with replays."""
    body = signed_grant(consents, patient_key)
    assert limited.post("/consents", json=body).status_code == 202
    for _ in range(3):
        assert limited.post("/consents", json=body).status_code == 200  # the same signature again
        refused(limited.post("/consents", json=signed_grant(consents, patient_key, nonce=0)), 409, "replayed")
    assert limited.post("/consents", json=signed_grant(consents, patient_key, nonce=1)).status_code == 202


@pytest.mark.parametrize(
    ("text", "count", "period"),
    [("10/h", 10, 3600), ("5/30m", 5, 1800), ("2/10s", 2, 10), ("100 / d", 100, 86400)],
)
def test_rates_parse(text, count, period):
    assert Rate.parse(text) == Rate(count, period)


@pytest.mark.parametrize("text", ["fast", "10", "0/h", "10/0m", "10/y", "-1/h"])
def test_bad_rates_are_one_clear_error(text):
    with pytest.raises(InputError, match="cannot read rate"):
        Rate.parse(text)


def test_a_bucket_refills_evenly_and_never_above_its_size(clock):
    bucket = TokenBucket(Rate(3, 60), clock)
    assert [bucket.take("p") for _ in range(3)] == [0, 0, 0]
    assert bucket.take("p") == pytest.approx(20)
    clock.now += 20
    assert bucket.take("p") == 0
    clock.now += 3600  # a long pause gives back the whole bucket, not more
    assert [bucket.take("p") for _ in range(3)] == [0, 0, 0]
    assert bucket.take("p") > 0


def test_buckets_are_bounded_and_a_full_one_is_dropped_first():
    """Made-up keys (fresh subject keys, many addresses) cannot grow the buckets without bound."""
    now = [0.0]
    bucket = TokenBucket(Rate.parse("2/h"), lambda: now[0], max_keys=3)
    for key in ("a", "b", "c", "d"):
        assert bucket.take(key) == 0
    assert len(bucket) == 3  # the idlest ("a") went
    assert bucket.take("a") == 0 and bucket.take("a") == 0 and bucket.take("a") > 0  # back to a fresh bucket
    assert bucket.wait("b") == 0 and len(bucket) == 3  # looking takes nothing
    now[0] += 3600  # every bucket refilled: a full bucket is the same as none
    bucket.take("e")
    assert len(bucket) == 1
