"""carechain.core.files: every text file a user hands in is read alike, BOM or not; a large one in chunks."""

from __future__ import annotations

import codecs
import json

import pytest

from carechain.clients.records import content_hash
from carechain.core.files import CHUNK, keccak_file, read_text, text_lines
from carechain.errors import InputError
from carechain.offchain import consent_import, fhir

BOM = codecs.BOM_UTF8


def test_a_byte_order_mark_is_dropped(tmp_path):
    path = tmp_path / "note.txt"
    path.write_bytes(BOM + b"Glucose 5.4 mmol/L")
    assert read_text(path, "note") == "Glucose 5.4 mmol/L"


def test_a_missing_or_binary_file_is_one_line(tmp_path):
    with pytest.raises(InputError, match=r"cannot read .*missing\.json: No such file"):
        read_text(tmp_path / "missing.json", "FHIR JSON file")
    (tmp_path / "binary.bin").write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(InputError, match=r"binary\.bin is not a FHIR JSON file \(not UTF-8 text\)"):
        read_text(tmp_path / "binary.bin", "FHIR JSON file")


def test_fhir_import_takes_a_bom_as_consent_import_does(tmp_path):
    """C.17: `fhir import` refused the BOM `consent import` accepted; both read through read_text now."""
    document = {"resourceType": "Consent", "status": "active"}
    plain, marked = tmp_path / "plain.json", tmp_path / "marked.json"
    plain.write_text(json.dumps(document))
    marked.write_bytes(BOM + json.dumps(document).encode())
    assert fhir.load_document(marked) == fhir.load_document(plain) == document

    header = ",".join(consent_import.COLUMNS)
    (tmp_path / "plain.csv").write_text(header + "\n")
    (tmp_path / "marked.csv").write_bytes(BOM + (header + "\n").encode())
    for name in ("plain.csv", "marked.csv"):
        parsed = consent_import.read_csv(tmp_path / name)
        assert (parsed.rows, parsed.rejected) == ([], [])


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 7])
def test_a_file_hashed_in_chunks_has_the_one_shot_keccak(tmp_path, size):
    """C.16: a record or protocol is hashed CHUNK bytes at a time; the digest is keccak of the whole."""
    path = tmp_path / "record.enc"
    path.write_bytes(bytes(i % 251 for i in range(size)))
    heard: list[int] = []
    assert keccak_file(path, heard.append) == content_hash(path.read_bytes())
    assert heard == [min(size, CHUNK * (i + 1)) for i in range(-(-size // CHUNK))]


def test_a_missing_file_to_hash_is_one_line(tmp_path):
    with pytest.raises(InputError, match=r"cannot read .*gone\.enc: No such file"):
        keccak_file(tmp_path / "gone.enc")


def test_lines_stream_as_read_text_gives_them_and_a_late_bad_byte_is_the_same_error(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_bytes(BOM + b"a,b\r\n1,2\n\n3,4")
    assert "".join(text_lines(path, "CSV file")) == read_text(path, "CSV file")
    path.write_bytes(b"a,b\n" * 10_000 + b"\xff\n")
    with pytest.raises(InputError, match=r"rows\.csv is not a CSV file \(not UTF-8 text\)"):
        list(text_lines(path, "CSV file"))
