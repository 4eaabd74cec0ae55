"""The files a user hands CareChain (signed consents, cohort CSVs, FHIR documents, records), read here.

Excel, Notepad and many EHR exports start UTF-8 with a byte-order mark; every reader takes such a
file as it takes one without, and a missing, unreadable or binary file is one InputError. A file that
may be large (a cohort CSV, an encrypted record, a protocol PDF) is read in chunks, never whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final

from sha3 import keccak_256  # safe-pysha3's C keccak: incremental, unlike eth-utils' one-shot keccak

from carechain.errors import InputError

CHUNK: Final = 1 << 20  # bytes read at a time: 1 MiB keeps memory flat and the C hash busy


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


def text_lines(path: Path, what: str) -> Iterator[str]:
    """`path`'s lines as read_text gives them (newlines kept, as `csv` needs), one at a time: a file of
    any size in flat memory. A byte that is not UTF-8, however far in, is the same InputError."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            yield from handle
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path} is not a {what} (not UTF-8 text)") from None


def keccak_file(path: Path, progress: Callable[[int], None] | None = None) -> bytes:
    """keccak256 of `path`'s bytes, read CHUNK at a time: the same digest as keccak of the whole file,
    in flat memory. `progress` hears the bytes hashed so far after each chunk."""
    digest = keccak_256()
    done = 0
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                done += len(chunk)
                if progress:
                    progress(done)
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror or err}") from None
    result: bytes = digest.digest()
    return result
