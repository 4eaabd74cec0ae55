"""The files a user hands CareChain (signed consents, cohort CSVs, FHIR documents, trial files, records,
manifests), read in one place.

Excel, Notepad and many EHR exports start UTF-8 with a byte-order mark; every reader takes such a
file as it takes one without, and a missing, unreadable or binary file is one InputError. A file that
may be large (a cohort CSV, an encrypted record, a protocol PDF) is read in chunks, never whole.

JSON from outside is untrusted: `parse_json` refuses a document over MAX_BYTES or nested deeper than
MAX_DEPTH before parsing it (json.loads recurses, and a thousand `[` crash it with RecursionError), and
`validated` holds it to a pydantic model, so a wrong type, a number out of range or a missing field is
one InputError naming the file and the field. `checked` makes a pydantic type of any check in
`carechain.core.values`.
"""

from __future__ import annotations

import io
import json
import operator
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from itertools import accumulate, count
from pathlib import Path
from typing import Any, Final, Protocol, TypeVar

from pydantic import BaseModel, BeforeValidator, ValidationError, ValidationInfo
from sha3 import keccak_256  # safe-pysha3's C keccak: incremental, unlike eth-utils' one-shot keccak

from carechain.errors import InputError

CHUNK: Final = 1 << 20  # bytes read at a time: 1 MiB keeps memory flat and the C hash busy
MAX_BYTES: Final = 16 * 2**20  # characters of one JSON document (the services' request limit too)
MAX_DEPTH: Final = 64  # levels of arrays and objects: a FHIR Bundle nests about 10

Model = TypeVar("Model", bound=BaseModel)

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_AS_STEPS = str.maketrans({"[": "\x02", "{": "\x02", "]": "\x00", "}": "\x00"})


def write_private(path: Path, text: str, taken: str = "choose a new file") -> Path:
    """Write `text` to a new file that only its owner can read, whatever the umask (key material). An
    existing file is never overwritten: an InputError says `{path} exists: {taken}`."""
    if os.path.lexists(path):
        raise InputError(f"{path} exists: {taken}")
    try:  # written whole to a temporary file beside it, then linked in: never a partial file at `path`
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    except OSError as err:
        raise InputError(f"cannot write {path}: {err.strerror or err}") from None
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.link(temporary, path)  # fails if `path` appeared meanwhile: never overwritten
    except FileExistsError:
        raise InputError(f"{path} exists: {taken}") from None
    except OSError as err:
        raise InputError(f"cannot write {path}: {err.strerror or err}") from None
    finally:
        os.unlink(temporary)
    return path


def read_text(path: Path, what: str) -> str:
    """The UTF-8 text of `path` without its byte-order mark, if any; an error names the file as `what`."""
    try:
        if path.stat().st_size > MAX_BYTES * 4:  # the most UTF-8 bytes MAX_BYTES characters take
            raise InputError(f"{path} is over {MAX_BYTES * 4:,} bytes: too large for a {what}")
        data = path.read_bytes()
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror or err}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path} is not a {what} (not UTF-8 text)") from None


class Digest(Protocol):
    """What a hash object of hashlib or safe-pysha3 does: take bytes, as many times as they come."""

    def update(self, data: bytes | memoryview, /) -> None: ...


class _Hashing(io.RawIOBase):
    """A binary file whose bytes go into `digest` as they are read (each once, in order)."""

    def __init__(self, raw: io.BufferedIOBase, digest: Digest) -> None:
        self._raw, self._digest = raw, digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = self._raw.readinto(buffer)
        with memoryview(buffer) as view:
            self._digest.update(view[:size])
        return size

    def close(self) -> None:
        self._raw.close()
        super().close()


def text_lines(path: Path, what: str, digest: Digest | None = None) -> Iterator[str]:
    """`path`'s lines as read_text gives them (newlines kept, as `csv` needs), one at a time: a file of
    any size in flat memory. A byte that is not UTF-8, however far in, is the same InputError. `digest`,
    if given, hears every byte of the file as it is read (a keccak_256() of the file read to its end is
    keccak_file's)."""
    try:
        with path.open("rb") as raw:
            source = raw if digest is None else io.BufferedReader(_Hashing(raw, digest))
            with io.TextIOWrapper(source, encoding="utf-8-sig", newline="") as handle:
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


def nesting(text: str) -> int:
    """How deep the arrays and objects of JSON `text` nest, counted without parsing it (brackets in
    strings do not count); C-speed, so a 16 MiB document costs milliseconds."""
    steps = _NOT_BRACKET.sub("", _STRING.sub("", text)).translate(_AS_STEPS).encode("latin-1")
    # After the i-th bracket (from 1) the depth is opens - closes = 2 * opens - i; steps are 2 or 0.
    return max(map(operator.sub, accumulate(steps), count(1)), default=0)


def parse_json(text: str, where: str, max_depth: int = MAX_DEPTH) -> Any:
    """JSON `text` from outside, or one InputError naming it `where`: too large, too deep, or not JSON."""
    if len(text) > MAX_BYTES:
        raise InputError(f"{where} is {len(text):,} characters: over the limit of {MAX_BYTES:,}")
    depth = nesting(text)
    if depth > max_depth:
        raise InputError(f"{where} nests {depth:,} levels deep: at most {max_depth} are read")
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"{where} is not valid JSON: {err.msg} at line {err.lineno}") from None
    except ValueError as err:  # a number of over 4,300 digits, which Python refuses to convert
        raise InputError(f"{where} is not JSON this tool reads: {str(err).split(';')[0]}") from None


def read_json(path: Path, what: str) -> Any:
    """A JSON file from outside (BOM or not), parsed under parse_json's limits; errors name the file."""
    return parse_json(read_text(path, what), str(path))


def validated(model: type[Model], data: Any, where: str) -> Model:
    """`data` held to `model`, or one InputError: `where`, the first problem's field and what is wrong."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        problems = err.errors(include_url=False)
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InputError(f"{where}: {problem(problems[0], model)}{more}") from None


def problem(error: Any, model: type[BaseModel]) -> str:
    """One pydantic error as a phrase naming its field (a check of core.values names it already)."""
    field = ".".join(str(part) for part in error["loc"])
    kind = error["type"]
    if kind == "missing":
        return f"{field} is missing"
    if kind == "extra_forbidden":
        return f"{field} is not a field of {model.model_config.get('title') or model.__name__}"
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return f"{field or 'the document'}: expected a JSON object, got {_kind(error['input'])}"
    if kind == "value_error":  # a core.values check: it names the field itself, the path leads to it
        within = [str(part) for part in error["loc"]]
        within = within[:-1] if within and not isinstance(error["loc"][-1], int) else within
        return f"{'.'.join(within)}: {error['ctx']['error']}" if within else str(error["ctx"]["error"])
    return f"{field}: {error['msg'][:1].lower()}{error['msg'][1:]}"


def _kind(value: Any) -> str:
    names = {list: "a list", str: "a string", int: "a number", float: "a number", bool: "true or false"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def checked(check: Callable[..., Any], **options: Any) -> BeforeValidator:
    """A pydantic validator running `check(value, field name, **options)` (a core.values check), its
    InputError becoming the field's one-line error."""

    def run(value: Any, info: ValidationInfo) -> Any:
        try:
            return check(value, info.field_name or "value", **options)
        except InputError as err:
            raise ValueError(str(err)) from None

    return BeforeValidator(run)
