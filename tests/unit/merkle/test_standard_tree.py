"""StandardMerkleTree: leaves, layout, proofs and multiproofs, checked against values computed here by hand
(eth_abi + keccak), and its errors."""

from __future__ import annotations

import pytest
from eth_abi.abi import encode
from eth_utils.crypto import keccak

from carechain.errors import InputError, InvalidMerkleTree, MerkleTreeError
from carechain.offchain.merkle import MultiProof, StandardMerkleTree

ENCODING = ["address", "uint256"]
ALICE = "0x1111111111111111111111111111111111111111"
BOB = "0x2222222222222222222222222222222222222222"
CAROL = "0x3333333333333333333333333333333333333333"
# The example of @openzeppelin/merkle-tree's README, and the root it prints.
README_VALUES = [[ALICE, "5000000000000000000"], [BOB, "2500000000000000000"]]
README_ROOT = "0xd4dee0beab2d53f2cc83e567171bd2820e49898130a22622b10ead383e90bd77"
VALUES = [[ALICE, 5], [BOB, 7], [CAROL, 9], [ALICE, 11], [BOB, 13]]


def leaf(types: list[str], value: list[object]) -> bytes:
    return keccak(keccak(encode(types, value)))


def parent(a: bytes, b: bytes) -> bytes:
    return keccak(min(a, b) + max(a, b))


def hex32(node: bytes) -> str:
    return "0x" + node.hex()


def test_the_js_readme_example_gives_its_root_dump_and_render():
    tree = StandardMerkleTree.of(README_VALUES, ENCODING)
    assert tree.root == README_ROOT
    first, second = (hex32(leaf(ENCODING, [a, int(n)])) for a, n in README_VALUES)
    assert tree.dump() == {
        "format": "standard-v1",
        "leafEncoding": ENCODING,
        "tree": [README_ROOT, first, second],
        "values": [{"value": README_VALUES[0], "treeIndex": 1}, {"value": README_VALUES[1], "treeIndex": 2}],
    }
    assert tree.render() == f"0) {README_ROOT}\n├─ 1) {first}\n└─ 2) {second}"


def test_a_leaf_is_the_double_keccak_of_the_abi_encoding():
    tree = StandardMerkleTree.of(VALUES, ENCODING)
    for value in VALUES:
        assert tree.leaf_hash(value) == hex32(leaf(ENCODING, value))
        assert StandardMerkleTree.hash_leaf(ENCODING, value) == tree.leaf_hash(value)


def test_unsorted_leaves_sit_at_the_end_in_reverse_order_and_parents_hash_their_children():
    tree = StandardMerkleTree.of(VALUES[:3], ENCODING, sort_leaves=False)
    a, b, c = (leaf(ENCODING, value) for value in VALUES[:3])
    inner = parent(b, a)  # node 1 has children 3 (b) and 4 (a)
    assert tree.dump()["tree"] == [hex32(parent(inner, c)), hex32(inner), hex32(c), hex32(b), hex32(a)]
    assert [entry["treeIndex"] for entry in tree.dump()["values"]] == [4, 3, 2]


def test_sorted_leaves_are_in_ascending_hash_order_from_the_last_node_back():
    dump = StandardMerkleTree.of(VALUES, ENCODING).dump()
    leaves = dump["tree"][len(VALUES) - 1 :]
    assert leaves[::-1] == sorted(hex32(leaf(ENCODING, value)) for value in VALUES)
    for entry, (account, amount) in zip(dump["values"], VALUES, strict=True):
        assert entry["value"] == [account, str(amount)]
        assert dump["tree"][entry["treeIndex"]] == hex32(leaf(ENCODING, [account, amount]))


def test_values_keep_their_order_and_form():
    tree = StandardMerkleTree.of(VALUES, ENCODING)
    assert len(tree) == 5
    assert list(tree) == list(tree.entries()) == list(enumerate(VALUES))
    assert tree.at(2) == [CAROL, 9] and tree.at(-1) == [BOB, 13]
    assert tree.leaf_encoding == ENCODING
    assert tree.dump()["values"][0]["value"] == [ALICE, "5"]  # ints dump as decimal strings
    with pytest.raises(MerkleTreeError, match="Index out of bounds"):
        tree.at(5)


def test_every_proof_leads_to_the_root():
    tree = StandardMerkleTree.of(VALUES, ENCODING)
    for index, value in enumerate(VALUES):
        proof = tree.get_proof(index)
        assert proof == tree.get_proof(value)
        node = leaf(ENCODING, value)
        for sibling in proof:
            node = parent(node, bytes.fromhex(sibling[2:]))
        assert hex32(node) == tree.root
        assert tree.verify(index, proof) and tree.verify(value, proof)
        assert StandardMerkleTree.verify_proof(tree.root, ENCODING, value, proof)


def test_a_proof_does_not_verify_another_value_or_root():
    tree = StandardMerkleTree.of(VALUES, ENCODING)
    proof = tree.get_proof(0)
    assert not tree.verify(1, proof)
    assert not tree.verify([ALICE, 6], proof)
    assert not tree.verify(0, proof[:-1])
    other = StandardMerkleTree.of(VALUES[1:], ENCODING).root
    assert not StandardMerkleTree.verify_proof(other, ENCODING, VALUES[0], proof)


def test_one_leaf_is_its_own_root_with_an_empty_proof():
    tree = StandardMerkleTree.of([[ALICE, 1]], ENCODING)
    assert tree.root == tree.leaf_hash([ALICE, 1])
    assert tree.get_proof(0) == [] and tree.verify(0, [])
    assert tree.render() == f"0) {tree.root}"


def test_two_leaves_prove_each_other():
    tree = StandardMerkleTree.of(VALUES[:2], ENCODING)
    assert tree.get_proof(0) == [tree.leaf_hash(VALUES[1])]
    assert tree.get_proof(1) == [tree.leaf_hash(VALUES[0])]
    assert tree.root == hex32(parent(leaf(ENCODING, VALUES[0]), leaf(ENCODING, VALUES[1])))


def test_a_duplicate_value_is_two_leaves_and_lookup_finds_the_last():
    values = [[ALICE, 1], [BOB, 2], [ALICE, 1]]
    tree = StandardMerkleTree.of(values, ENCODING)
    assert len(tree.dump()["tree"]) == 5
    assert tree.leaf_lookup([ALICE, 1]) == 2  # as the JS hash lookup: the last value wins
    assert tree.get_proof(0) != tree.get_proof(2)
    assert tree.verify(0, tree.get_proof(0)) and tree.verify(2, tree.get_proof(2))


def test_numbers_may_be_ints_or_strings_as_in_js():
    roots = {StandardMerkleTree.of([[ALICE, n]], ENCODING).root for n in (255, "255", "0xff", " 255 ", 255.0)}
    assert len(roots) == 1


def test_a_multiproof_proves_several_leaves_in_descending_tree_order():
    tree = StandardMerkleTree.of(VALUES, ENCODING)
    multiproof = tree.get_multi_proof([0, 3, 4])
    indices = {tree.dump()["tree"].index(tree.leaf_hash(v)): v for v in (VALUES[0], VALUES[3], VALUES[4])}
    assert list(multiproof.leaves) == [indices[i] for i in sorted(indices, reverse=True)]
    assert tree.verify_multi_proof(multiproof)
    assert tree.get_multi_proof([VALUES[0], VALUES[3], VALUES[4]]) == multiproof
    assert StandardMerkleTree.verify_multi_proof_against(tree.root, ENCODING, multiproof)
    assert multiproof.as_dict() == {
        "leaves": [[a, str(n)] for a, n in multiproof.leaves],
        "proof": list(multiproof.proof),
        "proofFlags": list(multiproof.proof_flags),
    }


def test_a_multiproof_of_nothing_is_the_root():
    tree = StandardMerkleTree.of(VALUES, ENCODING)
    multiproof = tree.get_multi_proof([])
    assert multiproof == MultiProof([], [tree.root], [])
    assert tree.verify_multi_proof(multiproof)


def test_a_tampered_multiproof_does_not_verify():
    tree = StandardMerkleTree.of(VALUES, ENCODING)
    multiproof = tree.get_multi_proof([0, 2])
    assert not tree.verify_multi_proof(MultiProof([1, 2], multiproof.proof, multiproof.proof_flags))
    flipped = ["0x" + ("00" if node[2:4] != "00" else "01") + node[4:] for node in multiproof.proof]
    assert not tree.verify_multi_proof(MultiProof(multiproof.leaves, flipped, multiproof.proof_flags))


def test_the_errors_are_input_errors_with_the_js_messages():
    tree = StandardMerkleTree.of(VALUES, ENCODING)
    cases = [
        (lambda: StandardMerkleTree.of([], ENCODING), "Expected non-zero number of leaves"),
        (lambda: tree.get_proof([CAROL, 10]), "Leaf is not in tree"),
        (lambda: tree.get_proof(5), "Index out of bounds"),
        (lambda: tree.get_proof(-1), "Index out of bounds"),
        (lambda: tree.verify(7, []), "Index out of bounds"),
        (lambda: tree.get_multi_proof([1, 1]), "Cannot prove duplicated index"),
        (lambda: tree.verify(0, ["0x1234"]), "Merkle tree nodes must be 32 bytes"),
        (lambda: tree.verify_multi_proof(MultiProof([0], [tree.root], [])), "not compatible"),
        (lambda: tree.verify_multi_proof(MultiProof([0, 1], [], [False])), "Invalid multiproof format"),
        (lambda: tree.verify_multi_proof(MultiProof([0], [tree.root], [True])), "flags take more nodes"),
    ]
    for call, message in cases:
        with pytest.raises(MerkleTreeError, match=message) as caught:
            call()
        assert isinstance(caught.value, InputError) and not isinstance(caught.value, InvalidMerkleTree)


@pytest.mark.parametrize(
    ("encoding", "value", "message"),
    [
        (ENCODING, [ALICE], "expected 2 values"),
        (ENCODING, "0x11", "expected 2 values"),
        (ENCODING, [ALICE, -1], "-1 is not a valid uint256: out of range"),
        (ENCODING, [ALICE, 2**256], "out of range"),
        (ENCODING, [ALICE, "1e3"], "not a valid uint256"),
        (ENCODING, [ALICE, True], "not a valid uint256"),
        (ENCODING, ["0x" + "11" * 21, 1], "21 bytes, at most 20"),
        (ENCODING, ["alice", 1], "not a valid address"),
        (["int8"], [128], "out of range"),
        (["bool"], [1], "not a valid bool"),
        (["bytes2"], ["0x123456"], "3 bytes, at most 2"),
        (["string"], [b"text"], "expected a str"),
        (["uint256[2]"], [[1]], "1 elements, expected 2"),
        (["uint7"], [1], "'uint7' is not supported"),
        (["bytes33"], ["0x"], "'bytes33' is not supported"),
        (["uint8[0]"], [[]], "a fixed array needs a length > 0"),
        (["decimal"], [1], "'decimal' is not supported"),
        ("address", [ALICE], "leaf encoding must be a list"),
    ],
)
def test_a_value_that_does_not_fit_the_encoding_is_refused_by_name(encoding, value, message):
    with pytest.raises(MerkleTreeError, match=message):
        StandardMerkleTree.of([value], encoding)
