"""carechain.core.files.read_text: every text file a user hands in is read alike, byte-order mark or not."""

from __future__ import annotations

import codecs
import json

import pytest

from carechain.core.files import read_text
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
