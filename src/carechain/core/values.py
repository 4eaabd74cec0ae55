"""The values users hand in, checked one way everywhere: addresses, 32-byte hex, whole numbers of a
contract's width, hex bytes.

Each check returns the value as the contracts take it, or raises one InputError naming `what` was wrong
(the CLI's options, the clients, the JSON files and the services' bodies all call these).
"""

from __future__ import annotations

import re
from typing import Any

from eth_typing import ChecksumAddress
from eth_utils.address import is_hex_address, to_checksum_address

from carechain.errors import InputError

_HEX = re.compile(r"0x(?:[0-9a-fA-F]{2})*")
_DIGITS = re.compile(r"[0-9]+")


def ascii_whole(text: str, digits: int = 18) -> int | None:
    """`text` as a whole number if it is 1 to `digits` ASCII digits, else None (the caller names what was
    wrong): str.isdigit() takes '²', which int() then refuses with a traceback, and int() takes '٣',
    ' 7', '+7' and '1_000'."""
    return int(text) if len(text) <= digits and _DIGITS.fullmatch(text) else None


def checksum(value: str, what: str = "address") -> ChecksumAddress:
    """A checksummed address, or one clear InputError naming what was wrong."""
    if not isinstance(value, str) or not is_hex_address(value):
        raise InputError(f"{what} {_short(value)} is not an Ethereum address (0x followed by 40 hex digits)")
    digits = value[-40:]
    mixed = digits not in (digits.lower(), digits.upper())
    if mixed and to_checksum_address(value)[2:] != digits:  # mixed case but not EIP-55: a mistyped character
        raise InputError(f"{what} {value} has a bad checksum (EIP-55): a mistyped character?")
    return to_checksum_address(value)


def bytes32(value: bytes | str, what: str = "value") -> bytes:
    """32 bytes from bytes or 0x-hex, or one clear InputError."""
    if not isinstance(value, bytes | bytearray | str):  # bytes(5) would be five zero bytes, not an error
        raise InputError(f"a {what} is 32 bytes or 0x-hex, got {_short(value)}")
    try:
        raw = bytes.fromhex(value.removeprefix("0x")) if isinstance(value, str) else bytes(value)
    except ValueError:
        raise InputError(f"{what} {_short(value)} is not hex") from None
    if len(raw) != 32:
        raise InputError(f"a {what} is 32 bytes, got {len(raw)}")
    return raw


def uint(value: int, what: str, bits: int = 256, minimum: int = 0) -> int:
    """A whole number that fits the contract's uint<bits> (and is at least `minimum`), or one InputError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{what} {_short(value)} is not a whole number")
    if not minimum <= value < 2**bits:
        raise InputError(
            f"{what} {_short(value)} is out of range: a whole number from {minimum} to 2^{bits} - 1"
        )
    return value


def hex_bytes(value: Any, what: str, limit: int) -> bytes:
    """0x-hex bytes, at most `limit` of them (a signature, say), or one InputError."""
    if not isinstance(value, str) or not _HEX.fullmatch(value) or len(value) > 2 + 2 * limit:
        raise InputError(f"{what} {_short(value)} is not 0x-hex bytes (at most {limit:,} of them)")
    return bytes.fromhex(value[2:])


def _short(value: Any) -> str:
    """A value as an error shows it: its repr, cut short (a hostile file's value may be megabytes)."""
    shown = repr(value) if not isinstance(value, int) or isinstance(value, bool) else _number(value)
    return shown if len(shown) <= 80 else shown[:77] + "..."


def _number(value: int) -> str:
    """A whole number, also one too long for str() (Python refuses over 4,300 digits)."""
    return str(value) if value.bit_length() < 256 * 4 else f"of {value.bit_length():,} bits"
