"""Options and parameter types the command groups share: each kind of value is read in one place.

A parameter type reads its value with the library's own parser, so a malformed value is the
library's one-line InputError (exit 1), worded as it is everywhere, and not click's usage error.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import click

from carechain.clients.base import bytes32, checksum, uint
from carechain.clients.consent import ANY_GRANTEE
from carechain.clients.records import category_bit
from carechain.core import purposes
from carechain.errors import InputError

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


class Decorator(Protocol):
    """What click.option returns: it adds the option to any command and returns that command."""

    def __call__(self, command: F, /) -> F: ...


_DURATION = re.compile(r"^(\d+)([smhdw])$")
_DECIMAL = re.compile(r"[0-9]+")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_time(value: str, now: int | None = None, allow_never: bool = True) -> int:
    """'never' or '0', a duration from now ('30d', '12h'), a date ('2027-01-31'), or a unix time.

    A deadline (`allow_never=False`) must lie in the future; no time may pass the contracts' uint64.
    """
    text = value.strip().lower()
    now = int(time.time()) if now is None else now
    if len(text) > 40:  # no time within 64 bits is written this long; spares int() very long digit strings
        raise InputError(f"time {value[:20]!r}... is out of range (a unix time of at most 64 bits)")
    if text in {"never", "0"}:
        if not allow_never:
            raise InputError("a deadline cannot be 'never'")
        return 0
    if match := _DURATION.match(text):
        moment = now + int(match.group(1)) * _UNITS[match.group(2)]
    elif _DECIMAL.fullmatch(text):
        moment = int(text)
    else:
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InputError(
                f"cannot read time {value!r}: use 'never', a duration like 30d / 12h, a date like "
                "2027-01-31, or a unix time"
            ) from None
        moment = int((parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp())
    if not 0 <= moment < 2**64:
        raise InputError(f"time {value!r} is out of range (a unix time of at most 64 bits)")
    if not allow_never and moment <= now:
        raise InputError(f"{value!r} has passed already: a deadline must lie in the future")
    return moment


def parse_duration(value: str) -> int:
    """A duration like 30m, 4h or 1d, in seconds."""
    match = _DURATION.match(value.strip().lower())
    if not match or len(match.group(1)) > 12:
        raise InputError(f"cannot read duration {value!r}: use a number and a unit, like 30m, 4h or 1d")
    return int(match.group(1)) * _UNITS[match.group(2)]


def parse_uint(value: str, what: str, bits: int = 256, minimum: int = 0) -> int:
    """A decimal whole number that fits a uint<bits> (an id, a version, a block), or one InputError."""
    text = value.strip()
    if not _DECIMAL.fullmatch(text):
        raise InputError(f"{what} {value!r} is not a valid integer")
    if len(text) > len(str(2**bits)):  # also spares int() Python's limit on very long digit strings
        raise InputError(f"{what} of {len(text)} digits is out of range: a whole number of {bits} bits")
    return uint(int(text), what, bits, minimum)


def scopes_mask(value: str) -> int:
    """Comma-separated scope names (labs,genomics) as the uint64 mask; empty names are skipped."""
    return purposes.scopes_mask(part.strip() for part in value.split(",") if part.strip())


def _grantee(value: str) -> str:
    """An address, or 'any' / '*' for a broad consent."""
    return ANY_GRANTEE if value.lower() in {"any", "*"} else checksum(value, "grantee")


# ---- parameter types -------------------------------------------------------------------------------


class Parsed(click.ParamType[T, Any]):
    """A command-line value read by a library parser (whose InputError is the user's error line)."""

    def __init__(self, name: str, parse: Callable[[str], T]) -> None:
        self.name = name
        self.parse = parse

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> T:
        return self.parse(value) if isinstance(value, str) else value  # defaults may be read already


def address_of(what: str) -> Parsed[str]:
    """A checksummed address; the error names what it is (patient, provider ...)."""
    return Parsed("address", lambda value: checksum(value, what))


def bytes32_of(what: str) -> Parsed[bytes]:
    """32 bytes given as 0x-hex (a record id, a licence hash ...)."""
    return Parsed("bytes32", lambda value: bytes32(value, what))


def uint_of(what: str, bits: int = 256, minimum: int = 0) -> Parsed[int]:
    """A whole number the contract's uint<bits> holds; out of range is one line, not a web3 encoding error."""
    return Parsed("integer", lambda value: parse_uint(value, what, bits, minimum))


RECORD_ID = bytes32_of("record id")
GRANTEE = Parsed("address", _grantee)
PURPOSE = Parsed("purpose", purposes.purpose_id)
SCOPES = Parsed("scopes", scopes_mask)
CATEGORY = Parsed("category", category_bit)
TIME = Parsed("time", parse_time)
DEADLINE = Parsed("time", lambda value: parse_time(value, allow_never=False))
DURATION = Parsed("duration", parse_duration)
TRIAL_ID = uint_of("trial id", minimum=1)
PROTOCOL_VERSION = uint_of("protocol version", 32, minimum=1)
EPISODE_ID = uint_of("episode id")
BLOCK = uint_of("block", 64)
FILE = click.Path(dir_okay=False, path_type=Path)


# ---- options -------------------------------------------------------------------------------------


def purpose_option(help: str | None, **kwargs: Any) -> Decorator:
    """--purpose / -p: a purpose code, a CURIE or 0x bytes32."""
    return click.option("--purpose", "-p", type=PURPOSE, help=help, **kwargs)


def scopes_option(help: str, *names: str, **kwargs: Any) -> Decorator:
    """--scopes / -s (or the names given, like --categories / -c): comma-separated data scopes, required."""
    return click.option(*(names or ("--scopes", "-s")), type=SCOPES, required=True, help=help, **kwargs)


def expires_option(help: str, never: bool = True, **kwargs: Any) -> Decorator:
    """--expires / -e: until when (with `never=False`, a time in the future: access always ends)."""
    return click.option("--expires", "-e", type=TIME if never else DEADLINE, help=help, **kwargs)


def deadline_option(
    default: str = "1h", help: str = "Until when the signature may be submitted."
) -> Decorator:
    """--deadline: until when a signed action may be submitted (a future time; never 'never')."""
    return click.option("--deadline", type=DEADLINE, default=default, show_default=True, help=help)


def output_option(help: str | None = None, required: bool = True) -> Decorator:
    """--output / -o: the file a command writes."""
    return click.option("--output", "-o", type=FILE, required=required, help=help)


def delegate_option(help: str) -> Decorator:
    """--for PATIENT: act for a patient, as their delegate."""
    return click.option("--for", "patient", type=address_of("patient"), help=help)


def patient_filter_option(help: str) -> Decorator:
    """--patient: only this patient's rows."""
    return click.option("--patient", type=address_of("patient"), help=help)


def json_option(help: str) -> Decorator:
    return click.option("--json", "as_json", is_flag=True, help=help)


def host_option() -> Decorator:
    return click.option("--host", default="127.0.0.1", show_default=True)


def port_option(default: int) -> Decorator:
    return click.option("--port", default=default, show_default=True, type=click.IntRange(1, 65535))


def poll_option(help: str) -> Decorator:
    """--poll: seconds between two looks at the chain."""
    return click.option("--poll", default=2.0, show_default=True, type=click.FloatRange(min=0), help=help)
