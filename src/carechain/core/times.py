"""Unix times as people and FHIR read them: the one place a chain time becomes text.

The chain stores times as uint64 seconds, so it can hold an expiry far past the end of year 9999, where
Python's `datetime` and FHIR's `dateTime` stop. Every output path formats times here, so such a value
is shown for what it is instead of ending a patient's reads in a traceback.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

LAST_DATETIME: Final = 253_402_300_799  # 9999-12-31T23:59:59Z: the last second datetime and FHIR can write


def utc_datetime(timestamp: int) -> datetime | None:
    """The UTC moment of a unix time, or None past the end of year 9999."""
    return datetime.fromtimestamp(timestamp, UTC) if timestamp <= LAST_DATETIME else None


def show_time(timestamp: int) -> str:
    """A time in a line or table cell: 0 (the chain's "no end") is "never"; past 9999 keeps its number."""
    if timestamp == 0:
        return "never"
    moment = utc_datetime(timestamp)
    if moment is None:
        return f"after 9999-12-31 (unix time {timestamp})"
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def fhir_instant(timestamp: int) -> str | None:
    """A FHIR dateTime (UTC, to the second), or None past year 9999, which a dateTime cannot hold."""
    moment = utc_datetime(timestamp)
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")
