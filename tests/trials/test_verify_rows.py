"""TrialRegistry.verifyRow / verifyRows: anyone proves that case-report-form rows were in a committed batch
(OpenZeppelin MerkleProof over `carechain.offchain.merkle.StandardMerkleTree`, as @openzeppelin/merkle-tree
builds)."""

import pytest
from conftest import reverts
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from carechain.offchain.merkle import StandardMerkleTree
from carechain.offchain.trialdata import LEAF_ENCODING as ROW_ENCODING  # salt, subject, visit, field, value
from trials.conftest import PROTOCOL_V2, register


def rows_of(visit: int, count: int) -> list[list]:
    """`count` case-report-form rows of one visit, each salted on its own."""
    return [
        [
            keccak(text=f"row-salt {visit}.{i}"),
            to_checksum_address(keccak(text=f"subject {i}")[:20]),
            visit,
            "hba1c_pct",
            f"{6 + i / 10:.1f}",
        ]
        for i in range(count)
    ]


ROWS = rows_of(1, 7)
TREE = StandardMerkleTree.of(ROWS, ROW_ENCODING)
OTHER_ROWS = rows_of(2, 4)
OTHER_TREE = StandardMerkleTree.of(OTHER_ROWS, ROW_ENCODING)


def multiproof(tree: StandardMerkleTree, indices: list[int]) -> tuple[list[list], list[str], list[bool]]:
    """verifyRows' (rows, proof, proofFlags) for the rows at `indices`."""
    proved = tree.get_multi_proof(indices)
    return [list(row) for row in proved.leaves], list(proved.proof), list(proved.proof_flags)


def parent(left: str, right: str) -> str:
    """An inner node of the tree: keccak256 of its two children, the smaller first."""
    return "0x" + keccak(b"".join(sorted(bytes.fromhex(node[2:]) for node in (left, right)))).hex()


def flip(node: str, at: int = 0) -> str:
    """A 0x-hex node with one bit of byte `at` flipped."""
    raw = bytearray.fromhex(node[2:])
    raw[at] ^= 1
    return "0x" + raw.hex()


@pytest.fixture
def batch(trials, site, approved):
    """The site committed the batch of ROWS, and then OTHER_ROWS, to trial 1."""
    trials.commitBatch(approved, TREE.root, len(ROWS), {"from": site})
    trials.commitBatch(approved, OTHER_TREE.root, len(OTHER_ROWS), {"from": site})
    return approved


def test_every_committed_row_is_proved(trials, batch, site):
    for tree, rows in ((TREE, ROWS), (OTHER_TREE, OTHER_ROWS)):
        for i, row in enumerate(rows):
            assert trials.verifyRow(batch, site, tree.root, row, tree.get_proof(i))


@pytest.mark.parametrize("element", [0, -1], ids=["first", "last"])
def test_proof_with_a_flipped_byte_fails(trials, batch, element, site):
    proof = TREE.get_proof(2)
    proof[element] = flip(proof[element], 17)
    assert not trials.verifyRow(batch, site, TREE.root, ROWS[2], proof)


def test_another_row_with_this_proof_fails(trials, batch, site):
    assert not trials.verifyRow(batch, site, TREE.root, ROWS[3], TREE.get_proof(2))


def test_row_with_a_changed_value_fails(trials, batch, site):
    forged = [*ROWS[2][:4], "5.0"]
    assert not trials.verifyRow(batch, site, TREE.root, forged, TREE.get_proof(2))


def test_no_node_of_the_tree_passes_as_a_row(trials, batch, site):
    """Finding A.8: the contract hashes the row itself, so the root, an inner node or a leaf hash, with the
    rest of its path, proves nothing: as a row's salt (the one place left to put it) it is just a salt."""
    proof = TREE.get_proof(0)
    node = TREE.leaf_hash(ROWS[0])
    for level in range(len(proof) + 1):
        assert not trials.verifyRow(batch, site, TREE.root, [node, *ROWS[0][1:]], proof[level:])
        if level < len(proof):
            node = parent(node, proof[level])
    assert node == TREE.root
    assert trials.verifyRow(batch, site, TREE.root, ROWS[0], proof)


def test_row_of_another_batch_fails_against_this_root(trials, batch, site):
    row, proof = OTHER_ROWS[1], OTHER_TREE.get_proof(1)
    assert not trials.verifyRow(batch, site, TREE.root, row, proof)
    assert trials.verifyRow(batch, site, OTHER_TREE.root, row, proof)


def test_truncated_proof_fails(trials, batch, site):
    assert not trials.verifyRow(batch, site, TREE.root, ROWS[0], TREE.get_proof(0)[:-1])


def test_uncommitted_root_fails_even_with_a_valid_proof(trials, approved, site):
    assert TREE.verify(0, TREE.get_proof(0))
    assert not trials.verifyRow(approved, site, TREE.root, ROWS[0], TREE.get_proof(0))
    assert not trials.verifyRows(approved, site, TREE.root, *multiproof(TREE, [0, 1, 2]))


def test_root_committed_to_another_trial_fails(trials, sponsor, batch, site):
    other = register(trials, sponsor, protocol=PROTOCOL_V2).return_value
    assert not trials.verifyRow(other, site, TREE.root, ROWS[0], TREE.get_proof(0))


def test_root_committed_by_another_site_fails(trials, sponsor, site2, batch):
    """Finding A.3: a proof holds against the batch of the site that committed it, not another site's."""
    trials.addSite(batch, site2, {"from": sponsor})
    assert not trials.verifyRow(batch, site2, TREE.root, ROWS[0], TREE.get_proof(0))
    assert not trials.verifyRows(batch, site2, TREE.root, *multiproof(TREE, [0, 1, 2]))


def test_one_row_batch_is_its_own_root(trials, site, approved):
    row = rows_of(3, 1)
    tree = StandardMerkleTree.of(row, ROW_ENCODING)
    assert tree.root == tree.leaf_hash(row[0])
    trials.commitBatch(approved, tree.root, 1, {"from": site})
    assert trials.verifyRow(approved, site, tree.root, row[0], [])


@pytest.mark.parametrize(
    "indices", [[1, 3, 4], [0, 6], [5], list(range(7))], ids=["three", "two", "one", "all"]
)
def test_multiproof_proves_several_rows_at_once(trials, batch, indices, site):
    assert trials.verifyRows(batch, site, TREE.root, *multiproof(TREE, indices))


def test_multiproof_with_a_forged_row_fails(trials, batch, site):
    rows, proof, flags = multiproof(TREE, [1, 3, 4])
    rows[1] = [*rows[1][:4], "5.0"]
    assert not trials.verifyRows(batch, site, TREE.root, rows, proof, flags)


def test_multiproof_against_another_batch_fails(trials, batch, site):
    assert not trials.verifyRows(batch, site, OTHER_TREE.root, *multiproof(TREE, [1, 3]))


def test_empty_multiproof_proves_nothing(trials, batch, site):
    """OpenZeppelin alone would accept no leaves with the root itself as the proof; the contract does not."""
    rows, proof, flags = multiproof(TREE, [])
    assert (rows, proof, flags) == ([], [TREE.root], [])
    assert not trials.verifyRows(batch, site, TREE.root, rows, proof, flags)


@pytest.mark.parametrize("malformation", ["extra-flag", "missing-flag", "extra-proof", "missing-proof"])
def test_malformed_multiproof_reverts(trials, batch, malformation, site):
    rows, proof, flags = multiproof(TREE, [1, 3, 4])
    assert proof, "the chosen rows need proof elements"
    if malformation == "extra-flag":
        flags = [*flags, False]
    elif malformation == "missing-flag":
        flags = flags[:-1]
    elif malformation == "extra-proof":
        proof = [*proof, TREE.root]
    else:
        proof = proof[:-1]
    with reverts("MerkleProofInvalidMultiproof"):
        trials.verifyRows(batch, site, TREE.root, rows, proof, flags)
