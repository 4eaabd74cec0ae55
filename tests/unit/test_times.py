"""carechain.core.times: every time the chain can hold (uint64) becomes text, past year 9999 too."""

from __future__ import annotations

import pytest

from carechain.core.times import LAST_DATETIME, fhir_instant, show_time, utc_datetime

MAX_UINT64 = 2**64 - 1


def test_the_last_second_a_datetime_holds():
    assert show_time(LAST_DATETIME) == "9999-12-31 23:59:59 UTC"
    assert fhir_instant(LAST_DATETIME) == "9999-12-31T23:59:59Z"


@pytest.mark.parametrize("timestamp", [LAST_DATETIME + 1, 2**63, MAX_UINT64])
def test_a_time_past_9999_keeps_its_number(timestamp):
    assert utc_datetime(timestamp) is None
    assert show_time(timestamp) == f"after 9999-12-31 (unix time {timestamp})"
    assert fhir_instant(timestamp) is None


def test_zero_is_never_and_an_ordinary_time_is_a_date():
    assert show_time(0) == "never"
    assert show_time(1_800_000_000) == "2027-01-15 08:00:00 UTC"
    assert fhir_instant(1_800_000_000) == "2027-01-15T08:00:00Z"
