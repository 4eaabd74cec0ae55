"""Merkle proofs as a state machine: a site commits batches of case-report-form rows (any sizes, any
values) built by `carechain.offchain.merkle.StandardMerkleTree`; every proof and multiproof the Python tree
makes verifies on chain (TrialRegistry.verifyRow / verifyRows), and none that was tampered with, proves
a row against another batch's root or proves a row of a batch never committed."""

from __future__ import annotations

from typing import Any

from conftest import RESEARCHER, attest
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule
from trials.conftest import deploy_trials, register

from carechain.offchain.merkle import StandardMerkleTree
from carechain.offchain.trialdata import LEAF_ENCODING as ENCODING  # salt, subject, visit, field, value
from properties.model import ChainMachine, run_machine, views

TRIAL = 1

rows = st.lists(
    st.tuples(
        st.binary(min_size=32, max_size=32),
        st.binary(min_size=20, max_size=20).map(to_checksum_address),
        st.integers(0, 2**32 - 1),
        st.sampled_from(["hba1c_pct", "weight_kg", "ae_term", "visit_date"]),
        st.text(max_size=24),
    ),
    min_size=1,
    max_size=12,
    unique_by=lambda row: row[0],
)
picks = st.integers(0, 10**6)


def flip(node: str, bit: int) -> str:
    """A 0x-hex node with one bit flipped."""
    raw = bytearray.fromhex(node[2:])
    raw[bit // 8 % 32] ^= 1 << bit % 8
    return "0x" + raw.hex()


class MerkleProofs(ChainMachine):
    trials: Any
    site: Any

    def __init__(self) -> None:
        super().__init__()
        self.committed: list[StandardMerkleTree] = []
        self.rows: dict[str, list[list]] = {}  # root -> the rows, in the order the tree was given them
        self.sequences: dict[str, int] = {}  # root -> the sequence the chain gave it

    def tree(self, pick: int) -> StandardMerkleTree:
        return self.committed[pick % len(self.committed)]

    @rule(values=rows, committed=st.booleans())
    def build(self, values, committed):
        """The site builds a batch; usually commits its root, sometimes keeps it off chain."""
        batch = [list(row) for row in values]
        tree = StandardMerkleTree.of(batch, ENCODING)
        self.rows.setdefault(tree.root, batch)
        proof = tree.get_proof(0)
        if committed and tree.root not in self.sequences:
            tx = self.trials.commitBatch(TRIAL, tree.root, len(values), {"from": self.site})
            self.sequences[tree.root] = tx.return_value
            self.committed.append(tree)
        elif tree.root not in self.sequences:
            assert not self.trials.verifyRow(TRIAL, self.site, tree.root, batch[0], proof)

    @precondition(lambda self: self.committed)
    @rule(pick=picks, index=picks)
    def prove_row(self, pick, index):
        tree = self.tree(pick)
        i = index % len(self.rows[tree.root])
        row, proof = self.rows[tree.root][i], tree.get_proof(i)
        assert tree.verify(i, proof)
        assert self.trials.verifyRow(TRIAL, self.site, tree.root, row, proof)

    @precondition(lambda self: self.committed)
    @rule(pick=picks, index=picks, element=picks, bit=st.integers(0, 255))
    def tampered_row_fails(self, pick, index, element, bit):
        """One bit flipped in a proof element, or (a one-row batch has no proof) in the row's salt."""
        tree = self.tree(pick)
        i = index % len(self.rows[tree.root])
        row, proof = list(self.rows[tree.root][i]), list(tree.get_proof(i))
        if proof:
            proof[element % len(proof)] = flip(proof[element % len(proof)], bit)
        else:
            row[0] = flip("0x" + bytes(HexBytes(row[0])).hex(), bit)
        assert not self.trials.verifyRow(TRIAL, self.site, tree.root, row, proof)

    @precondition(lambda self: len(self.committed) > 1)
    @rule(pick=picks, other=picks, index=picks)
    def row_against_another_root_fails(self, pick, other, index):
        tree, wrong = self.tree(pick), self.tree(other)
        i = index % len(self.rows[tree.root])
        if wrong.root != tree.root:
            assert not self.trials.verifyRow(
                TRIAL, self.site, wrong.root, self.rows[tree.root][i], tree.get_proof(i)
            )

    @precondition(lambda self: self.committed)
    @rule(
        pick=picks,
        chosen=st.sets(st.integers(0, 11), min_size=1),
        tamper=st.booleans(),
        bit=st.integers(0, 255),
    )
    def multiproof(self, pick, chosen, tamper, bit):
        tree = self.tree(pick)
        indices = sorted({i % len(self.rows[tree.root]) for i in chosen})
        proved = tree.get_multi_proof(indices)
        rows = [list(row) for row in proved.leaves]
        assert tree.verify_multi_proof(proved)
        if tamper:
            tampered = rows[bit % len(rows)]
            tampered[0] = flip("0x" + bytes(HexBytes(tampered[0])).hex(), bit)
        verdict = self.trials.verifyRows(
            TRIAL, self.site, tree.root, rows, list(proved.proof), list(proved.proof_flags)
        )
        assert verdict == (not tamper)

    @invariant()
    def batches_match_model(self):
        """Every committed root is on chain, by this site, under the sequence it was given, in order."""
        got = views(
            *((self.trials, "getBatch", TRIAL, self.site.address, tree.root) for tree in self.committed[-4:])
        )
        for tree, batch in zip(self.committed[-4:], got, strict=True):
            assert batch[0] != 0 and batch[1] == self.sequences[tree.root]
        assert sorted(self.sequences.values()) == list(range(len(self.committed)))


def test_merkle_proofs(TrialRegistry, registry, credentials, consent_grants, registrar, accounts):
    trials = deploy_trials(TrialRegistry, registry, credentials, consent_grants, accounts[0])
    sponsor, irb, site = accounts[2], accounts[3], accounts[8]
    attest(credentials, registrar, irb, keccak(text="carechain.credential.IRB"))
    attest(credentials, registrar, site, RESEARCHER)
    assert register(trials, sponsor).return_value == TRIAL
    trials.addSite(TRIAL, site, {"from": sponsor})
    trials.approve(TRIAL, 1, {"from": irb})
    run_machine(MerkleProofs, examples=15, trials=trials, site=site)  # (its steps are views, each a call)
