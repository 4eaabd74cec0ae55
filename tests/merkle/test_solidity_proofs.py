"""Proofs and multiproofs from carechain.offchain.merkle verify in OpenZeppelin's MerkleProof, tampered ones
do not, and Solidity computes the same leaves from calldata (contracts/test/MerkleProofHarness.sol)."""

from __future__ import annotations

import pytest

from carechain.offchain.merkle import StandardMerkleTree

ENCODING = ["address", "uint256"]
MIXED = ["string", "int64", "bytes", "uint8[]", "bool"]


def flip(node: str, at: int = 0) -> str:
    """A 0x-hex node with one bit of byte `at` flipped."""
    raw = bytearray.fromhex(node[2:])
    raw[at] ^= 1
    return "0x" + raw.hex()


def as_string_argument(text: str) -> str:
    """brownie reads a "0x..." string argument as hex of the text, so such text goes in hex-encoded."""
    return "0x" + text.encode().hex() if text.startswith("0x") else text


@pytest.fixture(scope="module")
def harness(MerkleProofHarness, accounts):
    return MerkleProofHarness.deploy({"from": accounts[0]})


@pytest.fixture(scope="module")
def allowances(accounts):
    """An allowance list as a contract would commit it: (account, amount in wei)."""
    values = [[str(account), (i + 1) * 10**17] for i, account in enumerate(accounts)]
    values += [["0x" + f"{i:040x}", 2**256 - i] for i in range(1, 4)]
    return StandardMerkleTree.of(values, ENCODING)


def test_every_proof_verifies_on_chain_for_trees_of_1_to_17_leaves(harness, accounts):
    for count in range(1, 18):
        tree = StandardMerkleTree.of([[str(accounts[i % 10]), i] for i in range(count)], ENCODING)
        for index, (account, amount) in tree:
            leaf = harness.accountLeaf(account, amount)
            assert leaf == tree.leaf_hash([account, amount])
            assert harness.verify(tree.get_proof(index), tree.root, leaf), (count, index)


def test_multiproofs_verify_on_chain(harness, allowances):
    count = len(allowances)
    for indices in (
        [],
        [0],
        [count - 1],
        [1, 2],
        [0, 5, 7, 12],
        list(range(0, count, 3)),
        list(range(count)),
    ):
        multiproof = allowances.get_multi_proof(indices)
        leaves = [allowances.leaf_hash(value) for value in multiproof.leaves]
        assert harness.multiProofVerify(multiproof.proof, multiproof.proof_flags, allowances.root, leaves), (
            indices
        )


def test_solidity_abi_encodes_dynamic_leaves_as_python_does(harness):
    values = [
        ["", 0, b"", [], False],
        ["naïve café 🧬", -(2**63), b"\x00" * 33, [1, 2, 255], True],
        ["0x1234", 2**63 - 1, b"\xde\xad\xbe\xef", [7] * 5, False],
    ]
    tree = StandardMerkleTree.of(values, MIXED)
    for index, value in enumerate(values):
        text, delta, data, small, flag = value
        leaf = harness.mixedLeaf(as_string_argument(text), delta, data, small, flag)
        assert leaf == tree.leaf_hash(value)
        assert harness.verify(tree.get_proof(index), tree.root, leaf)


@pytest.mark.parametrize("element", [0, -1], ids=["first", "last"])
def test_a_proof_with_a_flipped_byte_fails_on_chain_and_off(harness, allowances, element):
    proof = allowances.get_proof(4)
    proof[element] = flip(proof[element], 17)
    assert not harness.verify(proof, allowances.root, allowances.leaf_hash(allowances.at(4)))
    assert not allowances.verify(4, proof)


def test_a_proof_for_another_leaf_fails(harness, allowances):
    assert not harness.verify(
        allowances.get_proof(4), allowances.root, allowances.leaf_hash(allowances.at(5))
    )
    forged = [allowances.at(4)[0], allowances.at(4)[1] + 1]  # the same account, one wei more
    assert not harness.verify(allowances.get_proof(4), allowances.root, allowances.leaf_hash(forged))
    assert not allowances.verify(forged, allowances.get_proof(4))


def test_a_proof_against_another_root_fails(harness, allowances):
    other = StandardMerkleTree.of([allowances.at(i) for i in range(1, len(allowances))], ENCODING)
    assert not harness.verify(allowances.get_proof(4), other.root, allowances.leaf_hash(allowances.at(4)))
    assert not harness.verify(
        allowances.get_proof(4), flip(allowances.root), allowances.leaf_hash(allowances.at(4))
    )


def test_a_shortened_proof_fails(harness, allowances):
    proof = allowances.get_proof(4)
    assert not harness.verify(proof[:-1], allowances.root, allowances.leaf_hash(allowances.at(4)))
    assert not harness.verify(proof[1:], allowances.root, allowances.leaf_hash(allowances.at(4)))


def test_a_tampered_multiproof_fails(harness, allowances):
    multiproof = allowances.get_multi_proof([0, 5, 7])
    leaves = [allowances.leaf_hash(value) for value in multiproof.leaves]
    proof = list(multiproof.proof)
    proof[0] = flip(proof[0], 3)
    assert not harness.multiProofVerify(proof, multiproof.proof_flags, allowances.root, leaves)
    swapped = [allowances.leaf_hash(allowances.at(1)), *leaves[1:]]
    assert not harness.multiProofVerify(multiproof.proof, multiproof.proof_flags, allowances.root, swapped)
