"""The text files a user hands CareChain (signed consents, cohort CSVs, FHIR documents), read in one place.

Excel, Notepad and many EHR exports start UTF-8 with a byte-order mark; every reader takes such a
file as it takes one without, and a missing, unreadable or binary file is one InputError.
"""

from __future__ import annotations

from pathlib import Path

from carechain.errors import InputError


def read_text(path: Path, what: str) -> str:
    """The UTF-8 text of `path` without its byte-order mark, if any; an error names the file as `what`."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror or err}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path} is not a {what} (not UTF-8 text)") from None
