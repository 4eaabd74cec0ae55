"""carechain.offchain.consent_import.read_rows: a cohort CSV streamed row by row gives what reading the
whole file gave, the same line numbers for the same faults, in memory that does not grow with the file."""

from __future__ import annotations

import csv
import io
import tracemalloc

import pytest

from carechain.core import eip712
from carechain.core.files import read_text
from carechain.core.purposes import purpose_id, scopes_mask
from carechain.errors import InputError
from carechain.offchain.consent_import import COLUMNS, Issue, Row, read_csv, read_rows, sign_grant, write_csv

DOMAIN = eip712.Domain("ConsentRegistry", "1", 31337, "0x" + "5f" * 20)
GRANTEE = "0x" + "ab" * 20
DEADLINE = 4_102_444_800


def _signed_row(tmp_path) -> list[str]:
    path = tmp_path / "one.csv"
    write_csv(
        path,
        [sign_grant(b"\x01" * 32, DOMAIN, GRANTEE, purpose_id("HMB"), scopes_mask(["labs"]), 0, 0, DEADLINE)],
    )
    return path.read_text().splitlines()[1].split(",")


def _whole_file_lines(path) -> list[int]:
    """The line numbers the whole-file reader (before C.16) gave its non-blank data rows."""
    reader = csv.reader(io.StringIO(read_text(path, "CSV file"), newline=""), strict=True)
    next(reader)
    return [reader.line_num for values in reader if any(v.strip() for v in values)]


def test_streamed_rows_have_the_whole_file_s_line_numbers_and_reasons(tmp_path):
    row = _signed_row(tmp_path)
    quoted = [*row[:3], '"labs;\ngenomics"', *row[4:]]  # a quoted cell over two lines
    lines = [
        ",".join(COLUMNS),
        ",".join(row),  # line 2
        "",
        ",".join(["0x1234", *row[1:]]),  # line 4
        ",".join(quoted),  # lines 5-6: reported at 6, where csv ends the record
        ",".join([*row[:7], "0x" + "ab" * 64]),  # line 7
        ",".join(row[:5]),  # line 8
        ",,,,,,,",  # blank cells: skipped
        ",".join([row[0], row[1], "NOPE", *row[3:]]),  # line 10
    ]
    path = tmp_path / "cohort.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    items = list(read_rows(path))
    assert [item.line for item in items] == _whole_file_lines(path) == [2, 4, 6, 7, 8, 10]
    assert [type(item) for item in items] == [Row, Issue, Row, Issue, Issue, Issue]
    reasons = [item.reason for item in items if isinstance(item, Issue)]
    assert "is not an address" in reasons[0] and "malformed signature" in reasons[1]
    assert reasons[2] == "5 fields, the header has 8" and "unknown purpose 'NOPE'" in reasons[3]
    parsed = read_csv(path)
    assert parsed.rows == [i for i in items if isinstance(i, Row)]
    assert parsed.rejected == [i for i in items if isinstance(i, Issue)]


def test_a_fault_far_into_the_file_is_one_error_before_any_row_is_acted_on(tmp_path):
    row = ",".join(_signed_row(tmp_path))
    path = tmp_path / "cohort.csv"
    path.write_text(",".join(COLUMNS) + "\n" + (row + "\n") * 2_000 + '"' + row + "\n")
    with pytest.raises(InputError, match=r"is not a valid CSV file \(line 2002"):
        list(read_rows(path))


def test_streaming_a_cohort_holds_one_row_at_a_time(tmp_path):
    """8,000 rows (1.9 MB): the whole-file reader held the text and every row (15 MB at its peak
    under tracemalloc); the stream stays under 1 MB whatever the file's length."""
    cells = _signed_row(tmp_path)
    path = tmp_path / "big.csv"
    with path.open("w") as out:
        out.write(",".join(COLUMNS) + "\n")
        for i in range(8_000):
            out.write(",".join(["0x" + f"{i:040x}", *cells[1:]]) + "\n")
    tracemalloc.start()
    try:
        count = sum(1 for item in read_rows(path) if isinstance(item, Row))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 8_000
    assert peak < 1 << 20, f"{peak:,} bytes at the peak"
