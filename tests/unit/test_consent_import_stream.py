"""carechain.offchain.consent_import.read_rows: a cohort CSV streamed row by row gives what reading the
whole file gave, the same line numbers for the same faults, in memory that does not grow with the file."""

from __future__ import annotations

import csv
import io
import os
import tracemalloc

import pytest
from sha3 import keccak_256

from carechain.core import eip712
from carechain.core.files import keccak_file, read_text
from carechain.core.purposes import purpose_id, scopes_mask
from carechain.errors import InputError
from carechain.offchain import consent_import
from carechain.offchain.consent_import import (
    COLUMNS,
    Issue,
    Plan,
    Row,
    read_csv,
    read_rows,
    sign_grant,
    write_csv,
)

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
    """3,000 rows: the whole-file reader holds every row (read_csv peaks at 2.0 MB under tracemalloc
    for this file); the stream stays under 1 MB whatever the file's length."""
    cells = _signed_row(tmp_path)
    path = tmp_path / "big.csv"
    with path.open("w") as out:
        out.write(",".join(COLUMNS) + "\n")
        for i in range(3_000):
            out.write(",".join(["0x" + f"{i:040x}", *cells[1:]]) + "\n")
    for digest in (None, keccak_256()):  # hashing the bytes as they are read keeps memory flat too
        tracemalloc.start()
        try:
            count = sum(1 for item in read_rows(path, digest) if isinstance(item, Row))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert count == 3_000
        assert peak < 1 << 20, f"{peak:,} bytes at the peak"
    assert digest is not None and digest.digest() == keccak_file(path) == read_csv(path).digest


def _planned(tmp_path, signed, chain):
    """The plan plan_import makes of a CSV of (patient key byte, nonce) rows, in file order, when the
    patients' chain nonces are `chain` (key byte: nonce) and every row passed its checks."""
    path = tmp_path / "cohort.csv"
    hmb, labs = purpose_id("HMB"), scopes_mask(["labs"])
    grants = [sign_grant(bytes([k]) * 32, DOMAIN, GRANTEE, hmb, labs, 0, n, DEADLINE) for k, n in signed]
    write_csv(path, grants)
    candidates = [(g.patient, g.nonce, line) for line, g in enumerate(grants, start=2)]
    nonces = {g.patient: chain[k] for (k, _), g in zip(signed, grants, strict=True)}
    rejected: list[Issue] = []
    rows = consent_import._ranked(candidates, nonces, rejected)
    assert rejected == []
    return Plan(rows, [], [], len(grants), path, consent_import._stamp(path), keccak_file(path))


@pytest.fixture
def passes(monkeypatch):
    """The paths read_rows is asked to read, once a pass over the file."""
    opened = []
    real = consent_import.read_rows

    def counting(path, digest=None):
        opened.append(path)
        return real(path, digest)

    monkeypatch.setattr(consent_import, "read_rows", counting)
    return opened


def test_a_second_campaign_at_high_distinct_nonces_is_read_again_in_one_pass(tmp_path, passes):
    """A cohort whose patients are at chain nonces 7, 300, 501, 42 was read once per distinct nonce (four
    passes; 500 for a cohort at 0..500): one consent a patient is rank 0, one pass in file order."""
    chain = {1: 7, 2: 300, 3: 501, 4: 42}
    plan = _planned(tmp_path, [(k, n) for k, n in chain.items()], chain)
    assert plan.rows == [(0, 2, 7), (0, 3, 300), (0, 4, 501), (0, 5, 42)]
    sent = list(consent_import._reread(plan))
    assert [(row.line, row.grant.nonce) for row in sent] == [(2, 7), (3, 300), (4, 501), (5, 42)]
    assert len(passes) == 1


def test_a_patient_s_second_consent_is_read_after_the_first(tmp_path, passes):
    """Patient 5 has two consents (nonce 10 on line 2, before nonce 9 on line 4): two passes, and nonce
    9 is sent before nonce 10 whatever the file order."""
    plan = _planned(tmp_path, [(5, 10), (1, 300), (5, 9), (2, 501)], {1: 300, 2: 501, 5: 9})
    assert plan.rows == [(0, 3, 300), (0, 4, 9), (0, 5, 501), (1, 2, 10)]
    sent = list(consent_import._reread(plan))
    assert [(row.line, row.grant.nonce) for row in sent] == [(3, 300), (4, 9), (5, 501), (2, 10)]
    assert len(passes) == 2


def test_a_file_edited_in_place_with_its_size_and_time_kept_is_refused_before_a_row_is_read(tmp_path, passes):
    """Size and modification time were the only check: a deadline's last digit changed in place, the
    time set back, passed it. The keccak256 of the checked bytes is compared before each pass."""
    plan = _planned(tmp_path, [(1, 0), (2, 0)], {1: 0, 2: 0})
    status = plan.path.stat()
    text = plan.path.read_bytes()
    plan.path.write_bytes(text.replace(str(DEADLINE).encode(), str(DEADLINE + 1).encode(), 1))
    os.utime(plan.path, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert consent_import._stamp(plan.path) == plan.stamp
    with pytest.raises(InputError, match="changed since it was checked: nothing more of it is sent"):
        next(consent_import._reread(plan))
    assert passes == []
