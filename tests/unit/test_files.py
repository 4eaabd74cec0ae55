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


# ---- C.12: untrusted JSON, bounded before it is parsed and held to a model -----------------------


def test_nesting_is_counted_without_parsing_and_brackets_in_strings_do_not_count():
    from carechain.core.files import nesting

    assert [nesting(t) for t in ("1", "[]", '{"a": [1, {"b": "[[[["}]}', "[[[[")] == [0, 1, 3, 4]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[" * 100_000, "x.json nests 100,000 levels deep: at most 64 are read"),
        ('{"a": ' * 65 + "1" + "}" * 65, "x.json nests 65 levels deep"),
        ("[" + "9" * 5000 + "]", "x.json is not JSON this tool reads: Exceeds the limit (4300 digits)"),
        (
            "{not json",
            "x.json is not valid JSON: Expecting property name enclosed in double quotes at line 1",
        ),
    ],
)
def test_hostile_json_is_one_input_error(text, fragment):
    from carechain.core.files import parse_json

    with pytest.raises(InputError) as caught:
        parse_json(text, "x.json")
    assert fragment in str(caught.value) and "\n" not in str(caught.value)


def test_a_document_at_the_depth_limit_is_read():
    from carechain.core.files import parse_json

    assert parse_json("[" * 64 + "]" * 64, "x.json") == eval("[" * 64 + "]" * 64)


def test_fhir_import_refuses_pathological_nesting_in_one_line(tmp_path):
    """C.12: `fhir import` of 100,000 `[` was a RecursionError traceback."""
    path = tmp_path / "deep.json"
    path.write_text('{"resourceType": "Bundle", "entry": ' + "[" * 100_000)
    with pytest.raises(InputError, match=r"deep\.json nests 100,001 levels deep"):
        fhir.load_document(path)


def test_trial_files_take_a_bom_and_refuse_out_of_range_ids(tmp_path):
    """C.13: the trial-data readers were not BOM-safe (an Excel CSV lost its first column); ids unchecked."""
    from carechain.offchain import trialdata

    rows = tmp_path / "rows.csv"
    rows.write_bytes(BOM + b"subject,visit,field,value\n0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed,1,hr,72\n")
    assert trialdata.read_rows(rows) == [("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", 1, "hr", "72")]
    endpoints = tmp_path / "endpoints.json"
    endpoints.write_bytes(BOM + json.dumps({"primary": ["HbA1c at 12 weeks"]}).encode())
    assert trialdata.Endpoints.load(endpoints).primary == ["HbA1c at 12 weeks"]
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"trialId": 2**256, "endpoints": {"primary": ["x"]}}))
    with pytest.raises(InputError, match=r"results\.json: trialId 1157.* is out of range"):
        trialdata.Results.load(results)
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps({"trialId": -1, "site": "0x12", "tree": {}}))
    with pytest.raises(InputError, match=r"batch\.json: trialId -1 is out of range: .* \(and 1 more\)"):
        trialdata.DataBatch.load(batch)
    rows.write_text("subject,visit,field,value\n0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed,²,hr,72\n")
    with pytest.raises(InputError, match="visit '²' is not a visit number"):
        trialdata.read_rows(rows)


def test_consent_csv_integer_columns_take_ascii_digits_only(tmp_path):
    """C.13: '²' passed str.isdigit() and then int() raised ValueError; 5,000 digits too."""
    header = ",".join(consent_import.COLUMNS)
    good = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    cells = {
        "patient": good,
        "grantee": good,
        "purpose": "HMB",
        "scopes": "labs",
        "expires_at": "0",
        "deadline": "9999999999",
        "signature": "0x" + "11" * 65,
    }
    for nonce, fragment in (("²", "nonce '²' is not a whole number"), ("9" * 5000, "nonce '9999")):
        row = ",".join({**cells, "nonce": nonce}.get(name, "") for name in consent_import.COLUMNS)
        (tmp_path / "c.csv").write_text(f"{header}\n{row}\n")
        parsed = consent_import.read_csv(tmp_path / "c.csv")
        assert parsed.rows == [] and fragment in parsed.rejected[0].reason
