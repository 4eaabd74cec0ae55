"""The off-chain half of trials: hashes of documents and endpoints, subject keys, batches and proofs."""

from __future__ import annotations

import json

import pytest
from eth_abi.abi import encode
from eth_account import Account
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from carechain.errors import InputError
from carechain.offchain.trialdata import (
    LEAF_ENCODING,
    DataBatch,
    Endpoints,
    Results,
    RowProof,
    canonical_hash,
    endpoints_commitment,
    read_rows,
    subject_account,
)

SUBJECT = "0x" + "ab" * 20
REGISTRY = "0x" + "cd" * 20
SITE = "0x" + "5e" * 20
KEY = bytes(range(1, 33))


def test_canonical_hash_ignores_key_order_and_spacing():
    assert canonical_hash({"a": 1, "b": [1, 2]}) == canonical_hash(json.loads('{ "b": [1,2], "a": 1 }'))
    assert canonical_hash({"a": 1}) != canonical_hash({"a": 2})
    assert canonical_hash({"é": "ü"}) == keccak('{"é":"ü"}'.encode())


def test_no_secondary_endpoints_hash_to_zero_as_the_contract_stores_them():
    plan = Endpoints([{"id": "P1"}], [])
    assert plan.secondary_hash == bytes(32)
    assert plan.primary_hash == canonical_hash([{"id": "P1"}])


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"primary": []},
        {"primary": {"id": 1}},
        {"primary": [1], "secondary": "x"},
        {"primary": [1], "other": 1},
    ],
)
def test_malformed_endpoints_are_refused(data):
    with pytest.raises(InputError):
        Endpoints.from_json(data)


def test_commitment_is_the_abi_encoding_the_contract_checks():
    salt = b"\x07" * 32
    plan = Endpoints([{"id": "P1"}], [{"id": "S1"}])
    expected = keccak(
        encode(
            ["address", "bytes32", "bytes32", "bytes32"],
            [SUBJECT, plan.primary_hash, plan.secondary_hash, salt],
        )
    )
    assert (
        plan.commitment(SUBJECT, salt)
        == expected
        == endpoints_commitment(SUBJECT, plan.primary_hash, plan.secondary_hash, salt)
    )
    assert plan.commitment(REGISTRY, salt) != expected  # a copycat sponsor gets another commitment


def test_subject_accounts_are_deterministic_and_unlinkable_across_trials_chains_and_registries():
    first = subject_account(KEY, 31337, REGISTRY, 1).address
    assert subject_account(KEY, 31337, REGISTRY, 1).address == first
    others = {
        subject_account(KEY, 31337, REGISTRY, 2).address,
        subject_account(KEY, 1, REGISTRY, 1).address,
        subject_account(KEY, 31337, SUBJECT, 1).address,
        subject_account(bytes(32 * [9]), 31337, REGISTRY, 1).address,
        Account.from_key(KEY).address,
    }
    assert first not in others and len(others) == 5


def test_subject_account_needs_a_private_key():
    with pytest.raises(InputError, match="32-byte"):
        subject_account(b"short", 1, REGISTRY, 1)


def test_batch_rows_are_salted_and_survive_a_dump(tmp_path):
    rows = [(SUBJECT, 1, "hba1c", "7.9"), (SUBJECT, 1, "weight", "88.2")]
    first, second = DataBatch.of(1, SITE, rows), DataBatch.of(1, SITE, rows)
    assert first.root != second.root  # fresh salts: the same values give an unguessable root
    path = first.save(tmp_path / "batch.json")
    loaded = DataBatch.load(path)
    assert loaded.root == first.root and loaded.rows == first.rows and loaded.trial_id == 1
    assert loaded.site == first.site == to_checksum_address(SITE)
    assert json.loads(path.read_text())["tree"]["leafEncoding"] == LEAF_ENCODING


def test_a_row_proof_round_trips_and_verifies_off_chain(tmp_path):
    batch = DataBatch.of(7, SITE, [(SUBJECT, v, "hba1c", str(v)) for v in range(5)])
    proof = batch.prove(batch.find(SUBJECT, 3, "hba1c"))
    path = tmp_path / "proof.json"
    path.write_text(proof.to_json())
    loaded = RowProof.load(path)
    assert loaded == proof
    assert loaded.leaf_matches_row() and loaded.verifies_off_chain()


def test_a_proof_with_a_changed_value_no_longer_matches_its_leaf(tmp_path):
    batch = DataBatch.of(7, SITE, [(SUBJECT, 1, "hba1c", "7.9"), (SUBJECT, 2, "hba1c", "8.1")])
    data = json.loads(batch.prove(0).to_json())
    data["value"][4] = "6.0"  # the value, edited after the fact
    path = tmp_path / "proof.json"
    path.write_text(json.dumps(data))
    forged = RowProof.load(path)
    assert not forged.leaf_matches_row() and not forged.verifies_off_chain()


def test_find_and_prove_name_what_is_missing():
    batch = DataBatch.of(1, SITE, [(SUBJECT, 1, "hba1c", "7.9")])
    with pytest.raises(InputError, match="no row for subject"):
        batch.find(SUBJECT, 2, "hba1c")
    with pytest.raises(InputError, match="row 5 is not in this batch"):
        batch.prove(5)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("subject,visit\n", "needs the columns"),
        (f"subject,visit,field,value\n{SUBJECT},-1,a,b\n", ":2: visit '-1'"),
        (f"subject,visit,field,value\n{SUBJECT},1,,b\n", ":2: a row needs a field"),
        ("subject,visit,field,value\n", "holds no rows"),
    ],
)
def test_read_rows_names_the_bad_line(tmp_path, content, message):
    path = tmp_path / "rows.csv"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        read_rows(path)


def test_read_rows_of_a_missing_or_binary_file(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        read_rows(tmp_path / "missing.csv")
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InputError, match="not UTF-8"):
        read_rows(tmp_path / "binary.csv")


@pytest.mark.parametrize(
    "content",
    [
        "{",
        "[]",
        '{"trialId": "1", "endpoints": {"primary": [1]}}',
        '{"trialId": 1}',
        '{"trialId": 1, "endpoints": []}',
    ],
)
def test_malformed_results_documents_are_refused(tmp_path, content):
    path = tmp_path / "results.json"
    path.write_text(content)
    with pytest.raises(InputError):
        Results.load(path)


def test_a_batch_file_of_another_leaf_encoding_is_refused(tmp_path):
    from carechain.offchain.merkle import StandardMerkleTree

    tree = StandardMerkleTree.of([[SUBJECT, 1]], ["address", "uint256"])
    path = tmp_path / "batch.json"
    path.write_text(json.dumps({"trialId": 1, "site": SITE, "tree": tree.dump()}))
    with pytest.raises(InputError, match="not case-report-form rows"):
        DataBatch.load(path)
