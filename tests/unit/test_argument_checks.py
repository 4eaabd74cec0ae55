"""The shared argument checks: a wrong type or an out-of-range number is one line of InputError.

Library calls given None where a code, a scope list or a number is expected, and CLI numbers beyond
the contract's uint, never escape as a traceback or as an exception outside CareChainError.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from carechain.cli import cli
from carechain.cli.options import parse_duration, parse_time, parse_uint
from carechain.clients.base import uint
from carechain.core.purposes import purpose_by_id, purpose_id, scopes_mask
from carechain.core.values import ascii_whole
from carechain.errors import CareChainError, InputError, RateLimited
from carechain.services.gateway.client import GatewayClient

UINT256_MAX = 2**256 - 1
PATIENT = "0x1111111111111111111111111111111111111111"


def _one_line(call: Any, match: str) -> None:
    with pytest.raises(InputError, match=match) as raised:
        call()
    assert isinstance(raised.value, CareChainError) and "\n" not in str(raised.value)


@pytest.mark.parametrize("value", [None, 5, b"HMB", ["HMB"]])
def test_purpose_id_refuses_what_is_not_text(value: Any) -> None:
    _one_line(lambda: purpose_id(value), "a purpose is a code")


@pytest.mark.parametrize("value", [None, "0x" + "00" * 32, 7])
def test_purpose_by_id_refuses_what_is_not_bytes(value: Any) -> None:
    _one_line(lambda: purpose_by_id(value), "a purpose is 32 bytes")


@pytest.mark.parametrize("value", [None, 5, b"labs", {"labs": 1}])
def test_scopes_mask_refuses_what_is_not_names(value: Any) -> None:
    _one_line(lambda: scopes_mask(value), "scopes are names")


@pytest.mark.parametrize("value", [[None], ["labs", 3], [b"labs"]])
def test_scopes_mask_refuses_a_scope_that_is_not_a_name(value: Any) -> None:
    _one_line(lambda: scopes_mask(value), "a scope is a name")


def test_uint_takes_the_whole_range_and_nothing_else() -> None:
    assert uint(0, "block") == 0 and uint(UINT256_MAX, "trial id", minimum=1) == UINT256_MAX
    assert uint(2**32 - 1, "protocol version", 32) == 2**32 - 1
    for value in (None, True, 1.0, "5"):
        _one_line(lambda v=value: uint(v, "trial id"), "trial id .* is not a whole number")
    for value, bits, minimum in ((-1, 256, 0), (2**256, 256, 0), (0, 256, 1), (2**32, 32, 1)):
        _one_line(lambda v=value, b=bits, m=minimum: uint(v, "trial id", b, m), "trial id .* is out of range")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("abc", "'abc' is not a valid integer"),
        ("-1", "is not a valid integer"),
        ("1.5", "is not a valid integer"),
        ("²", "is not a valid integer"),  # a Unicode digit: str.isdigit() says yes, int() says no
        (str(2**256), "is out of range: a whole number from 1 to 2\\^256 - 1"),
        ("0", "is out of range"),
        ("9" * 5000, "of 5000 digits is out of range"),  # past int()'s limit on digit strings
    ],
)
def test_parse_uint_refuses_non_numbers_and_out_of_range(text: str, match: str) -> None:
    _one_line(lambda: parse_uint(text, "trial id", minimum=1), match)


def test_parse_uint_reads_the_largest_uint256() -> None:
    assert parse_uint(f" {UINT256_MAX} ", "trial id") == UINT256_MAX


@pytest.mark.parametrize("text", ["9" * 5000, "²", "1" * 30])
def test_parse_time_refuses_overlong_or_odd_digits(text: str) -> None:
    with pytest.raises(InputError):
        parse_time(text)


def test_parse_duration_refuses_an_overlong_number() -> None:
    _one_line(lambda: parse_duration("9" * 5000 + "d"), "cannot read duration")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("trial", "show", str(2**256)), f"error: trial id {2**256} is out of range"),
        (("trial", "show", "0"), "error: trial id 0 is out of range"),
        (
            ("trial", "approve", "1", "--version", str(2**32)),
            f"error: protocol version {2**32} is out of range",
        ),
        (("access", "review", str(2**256), "--approve"), f"error: episode id {2**256} is out of range"),
        (("audit", "trial", "one"), "error: trial id 'one' is not a valid integer"),
        (("fhir", "export", PATIENT, "--from-block", str(2**64)), f"error: block {2**64} is out of range"),
        (("index", "--confirmations", "9" * 5000), "error: confirmations of 5000 digits is out of range"),
    ],
    ids=["trial-id", "trial-id-zero", "protocol-version", "episode-id", "audit-trial", "from-block", "long"],
)
def test_cli_numbers_out_of_range_are_one_line_before_any_chain_call(
    args: tuple[str, ...], message: str
) -> None:
    """Read before the command runs (the RPC URL points nowhere): one line, exit 1, no traceback."""
    env = {"PRIVATE_KEY": "", "KEYSTORE": "", "RPC_URL": ""}
    result = CliRunner().invoke(
        cli, ["--rpc-url", "http://127.0.0.1:9", *args], env=env, prog_name="carechain"
    )
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), result.output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("86400", 86_400),
        ("9" * 18, 10**18 - 1),
        ("9" * 19, None),
        ("", None),
        ("\u00b2", None),
        ("\u0663", None),
        (" 7", None),
        ("+7", None),
        ("1_000", None),
        ("-1", None),
        ("7\n", None),
    ],
)
def test_ascii_whole_takes_ascii_digits_only(text: str, expected: int | None) -> None:
    """'²' passes str.isdigit() and then crashes int(); int() takes '٣', ' 7', '+7' and '1_000'."""
    assert ascii_whole(text) == expected


@pytest.mark.parametrize(("header", "seconds"), [("30", 30), ("0", 0), ("\u00b2", 1), ("soon", 1)])
def test_a_gateway_s_retry_after_is_read_as_ascii_digits(header: str, seconds: int) -> None:
    answer = httpx.Response(
        429,
        json={"error": "rate-limited", "detail": "slow down"},
        headers={"Retry-After": header.encode("latin-1")},
    )
    with GatewayClient("http://gateway.invalid") as client:
        refusal = client._refusal(answer, "a read")
    assert isinstance(refusal, RateLimited) and refusal.retry_after == seconds
