"""SimpleMerkleTree: the leaf is the bytes32 value itself; a custom node hash and its dump marker."""

from __future__ import annotations

import hashlib

import pytest
from eth_utils.crypto import keccak

from carechain.errors import InvalidMerkleTree, MerkleTreeError
from carechain.offchain.merkle import SimpleMerkleTree

VALUES = [bytes([i]) * 32 for i in range(1, 6)]


def sha256_pair(a: bytes, b: bytes) -> bytes:
    """A non-commutative node hash, as tests/unit/merkle/js_tree.mjs defines it for the JS side."""
    return hashlib.sha256(a + b).digest()


def test_the_leaves_are_the_values_and_parents_the_sorted_pair_keccak():
    tree = SimpleMerkleTree.of(VALUES[:2])
    assert tree.leaf_hash(VALUES[0]) == "0x" + VALUES[0].hex()
    assert tree.root == "0x" + keccak(VALUES[0] + VALUES[1]).hex()
    assert tree.get_proof(0) == ["0x" + VALUES[1].hex()]


def test_bytes_and_hex_make_the_same_tree_and_dump_as_given():
    as_hex = ["0x" + value.hex().upper() for value in VALUES]
    tree = SimpleMerkleTree.of(VALUES)
    assert SimpleMerkleTree.of(as_hex).root == tree.root
    assert [entry["value"] for entry in SimpleMerkleTree.of(as_hex).dump()["values"]] == as_hex
    assert [entry["value"] for entry in tree.dump()["values"]] == ["0x" + value.hex() for value in VALUES]
    assert tree.dump()["format"] == "simple-v1" and "hash" not in tree.dump()


def test_a_short_value_is_right_padded_to_bytes32_as_in_js():
    tree = SimpleMerkleTree.of(["0x12", b"\x34"])
    assert tree.leaf_hash("0x12") == "0x12" + "00" * 31
    assert tree.leaf_hash(b"\x34") == "0x34" + "00" * 31


def test_proofs_and_multiproofs_verify_with_and_without_the_tree():
    tree = SimpleMerkleTree.of(VALUES)
    for index, value in enumerate(VALUES):
        assert tree.verify(index, tree.get_proof(index))
        assert SimpleMerkleTree.verify_proof(tree.root, value, tree.get_proof(value))
    multiproof = tree.get_multi_proof([1, 4])
    assert tree.verify_multi_proof(multiproof)
    assert SimpleMerkleTree.verify_multi_proof_against(tree.root, multiproof)
    assert not SimpleMerkleTree.verify_proof(tree.root, VALUES[0], tree.get_proof(1))


def test_a_custom_node_hash_builds_the_tree_and_marks_the_dump():
    tree = SimpleMerkleTree.of(VALUES[:2], sort_leaves=False, node_hash=sha256_pair)
    assert tree.root == "0x" + sha256_pair(VALUES[1], VALUES[0]).hex()  # node 1 (VALUES[1]) then node 2
    assert tree.dump()["hash"] == "custom"
    assert SimpleMerkleTree.load(tree.dump(), node_hash=sha256_pair).root == tree.root
    assert SimpleMerkleTree.verify_proof(tree.root, VALUES[1], tree.get_proof(1), node_hash=sha256_pair)


def test_a_custom_hash_that_proofs_cannot_follow_is_refused_as_js_refuses_it():
    tree = SimpleMerkleTree.of(VALUES[:2], sort_leaves=False, node_hash=sha256_pair)
    tree.get_proof(1)  # the left child: the proof hashes (leaf, sibling) as the tree did
    with pytest.raises(InvalidMerkleTree, match="Unable to prove value"):
        tree.get_proof(0)
    with pytest.raises(InvalidMerkleTree, match="Unable to prove values"):
        tree.get_multi_proof([0])


def test_a_custom_hash_must_give_32_bytes():
    with pytest.raises(MerkleTreeError, match="must be 32 bytes"):
        SimpleMerkleTree.of(VALUES, node_hash=lambda a, b: a + b)


def test_loading_needs_the_custom_hash_exactly_when_the_dump_says_so():
    plain = SimpleMerkleTree.of(VALUES).dump()
    custom = SimpleMerkleTree.of(VALUES, node_hash=sha256_pair).dump()
    with pytest.raises(MerkleTreeError, match="Data expects a custom node hashing function"):
        SimpleMerkleTree.load(custom)
    with pytest.raises(MerkleTreeError, match="Data does not expect a custom node hashing function"):
        SimpleMerkleTree.load(plain, node_hash=sha256_pair)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0x123", "even number of digits"),
        ("12" * 32, "even number of digits"),
        ("0x" + "11" * 33, "33 bytes, at most 32"),
        (b"\x01" * 33, "33 bytes, at most 32"),
        (7, "expected bytes or a 0x-prefixed hex string"),
        ("0xzz", "expected bytes or a 0x-prefixed hex string"),
    ],
)
def test_a_value_that_is_not_bytes32_is_refused(value, message):
    with pytest.raises(MerkleTreeError, match=message):
        SimpleMerkleTree.of([value])


def test_no_values_is_refused():
    with pytest.raises(MerkleTreeError, match="Expected non-zero number of leaves"):
        SimpleMerkleTree.of([])
