"""Python and @openzeppelin/merkle-tree build the same trees, and each loads and verifies the other's.

For every case the JS library itself (tests/unit/merkle/js_tree.mjs, one node process per batch) builds
the tree from the values as a JS user writes them (decimal strings, 0x-hex); Python builds it from Python
values (ints, bytes, tuples). Root, dump, render, leaf hashes, proofs and multiproofs must be equal; a
Python dump must load in JS and verify Python's proofs, and a JS dump must load in Python and verify
JS's proofs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from carechain.errors import InvalidMerkleTree, MerkleTreeError
from carechain.offchain.merkle import MultiProof, SimpleMerkleTree, StandardMerkleTree

from .reference import as_json, js


def sha256_pair(a: bytes, b: bytes) -> bytes:
    return hashlib.sha256(a + b).digest()  # js_tree.mjs's custom node hash


def address(i: int) -> str:
    return "0x" + hashlib.sha256(b"account %d" % i).hexdigest()[:40]


@dataclass(frozen=True)
class Case:
    name: str
    values: list[Any]
    encoding: list[str] | None = None  # None: a SimpleMerkleTree
    sort_leaves: bool = True
    custom_hash: bool = False
    multiproofs: list[list[int]] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return "standard" if self.encoding is not None else "simple"


def case(name: str, encoding: list[str] | None, values: list[Any], **options: Any) -> Case:
    count = len(values)
    subsets = [[], [0], list(range(count)), list(range(0, count, 2)), [count - 1, 0]]
    return Case(name, values, encoding, multiproofs=[s for s in subsets if len(set(s)) == len(s)], **options)


CASES = [
    case("airdrop", ["address", "uint256"], [[address(i), (i + 1) * 10**18] for i in range(7)]),
    case("uint256 bounds", ["address", "uint256"], [[address(0), 0], [address(1), 2**256 - 1]]),
    case(
        "every int width",
        ["uint8", "uint16", "uint64", "uint128", "uint256", "int8", "int24", "int64", "int256"],
        [
            [255, 65535, 2**64 - 1, 2**128 - 1, 2**256 - 1, -128, -(2**23), -(2**63), -(2**255)],
            [0, 0, 0, 0, 0, 127, 2**23 - 1, 2**63 - 1, 2**255 - 1],
            [7, 300, 10**18, 10**30, 10**70, -1, -2, -3, -4],
        ],
    ),
    case(
        "bool and fixed bytes",
        ["bool", "bytes1", "bytes4", "bytes32"],
        [[True, b"\x01", b"\xde\xad\xbe\xef", bytes(range(32))], [False, b"\xff", b"\x00" * 4, b"\x11" * 32]],
    ),
    case(
        "bytes and non-ascii strings",
        ["bytes", "string"],
        [
            [b"", ""],
            [b"\x00" * 65, "naïve café"],
            [bytes(range(33)), "日本語のテキスト"],
            [b"\x01", "🧬 genomics 🏥"],
        ],
    ),
    case("lone surrogates", ["string"], [["\ud800"], ["a\udfff b"], ["\ufffd"]]),  # JS writes each as U+FFFD
    case(
        "dynamic arrays",
        ["uint256[]", "address[]", "string[]"],
        [
            [[], [], []],
            [[1, 2, 3], [address(1)], ["a", "ü", ""]],
            [[2**255], [address(2), address(3)], ["x" * 40]],
        ],
    ),
    case(
        "fixed arrays",
        ["uint8[3]", "bytes32[2]", "bool[1]", "string[2]"],
        [
            [[1, 2, 3], [b"\x01" * 32, b"\x02" * 32], [True], ["a", "b"]],
            [[0, 0, 0], [b"\x00" * 32] * 2, [False], ["", ""]],
        ],
    ),
    case(
        "tuples",
        ["(address,uint256)", "(string,(bool,int24))"],
        [[(address(1), 5), ("visit 1", (True, -5))], [(address(2), 6), ("", (False, 2**23 - 1))]],
    ),
    case(
        "tuple arrays",
        ["(uint256,string)[]", "(bytes4,address)[2]"],
        [[[(1, "one"), (2, "two")], [(b"\x12\x34\x56\x78", address(1)), (b"\x00" * 4, address(2))]]],
    ),
    case(
        "nested arrays",
        ["uint16[][]", "string[2][]"],
        [[[[1], [], [2, 3]], [["a", "b"], ["c", "d"]]], [[], []]],
    ),
    case("function", ["function"], [["0x" + "ab" * 20 + "12345678"], [b"\x01" * 24]]),
    case("one leaf", ["bytes32"], [[b"\x42" * 32]]),
    case("two leaves", ["address", "uint256"], [[address(1), 1], [address(2), 2]]),
    case(
        "duplicates",
        ["address", "uint256"],
        [[address(1), 1], [address(2), 2], [address(1), 1], [address(1), 1]],
    ),
    case("unsorted", ["string", "uint64"], [[f"row {i}", i] for i in range(6)], sort_leaves=False),
    case("deep", ["address", "uint256"], [[address(i), i] for i in range(100)]),
    case(  # both sides get these strings as they are: JS's own ways of writing numbers, bools and bytes
        "js value forms",
        ["uint256", "int64", "bool", "address", "bytes2", "uint8"],
        [
            ["0x1f", "-7", "true", "0x12", "0x1", " 12 "],
            ["1000000000000000000000000", "0", "false", "0x", "0x", "+3"],
        ],
    ),
    case("simple", None, [bytes([i]) * 32 for i in range(1, 10)]),
    case("simple short values", None, ["0x12", "0xABCD", b"\x01", "0x" + "ff" * 32]),
    case("simple unsorted", None, [bytes([i]) * 32 for i in range(9, 0, -1)], sort_leaves=False),
    case("simple custom hash", None, [bytes([i]) * 32 for i in range(1, 8)], custom_hash=True),
    case(
        "simple custom hash unsorted",
        None,
        [bytes([i]) * 32 for i in range(1, 5)],
        custom_hash=True,
        sort_leaves=False,
    ),
]


def python_tree(spec: Case) -> StandardMerkleTree | SimpleMerkleTree:
    if spec.encoding is not None:
        return StandardMerkleTree.of(spec.values, spec.encoding, sort_leaves=spec.sort_leaves)
    node_hash = sha256_pair if spec.custom_hash else None
    return SimpleMerkleTree.of(spec.values, sort_leaves=spec.sort_leaves, node_hash=node_hash)


def provable(tree: StandardMerkleTree | SimpleMerkleTree, spec: Case) -> list[int]:
    """The indices to prove: all of them, but a custom hash proves only leaves that are left children."""
    if not spec.custom_hash:
        return list(range(len(tree)))
    return [i for i, entry in enumerate(tree.dump()["values"]) if entry["treeIndex"] in {0, 1, 3, 7, 15}]


def of_op(spec: Case, proofs: list[int]) -> dict[str, Any]:
    op = {"op": "of", "kind": spec.kind, "values": as_json(spec.values), "sortLeaves": spec.sort_leaves}
    if spec.custom_hash:
        return {**op, "customHash": True, "proofs": proofs}
    return {**op, "encoding": spec.encoding, "proofs": proofs, "multiproofs": spec.multiproofs}


@pytest.fixture(scope="module")
def both():
    """Per case: the Python tree, its proofs, and what JS built and what JS made of Python's dump."""
    trees = [python_tree(spec) for spec in CASES]
    proofs = [provable(tree, spec) for tree, spec in zip(trees, CASES, strict=True)]
    loads = [
        {
            "op": "load",
            "kind": spec.kind,
            "dump": tree.dump(),
            "customHash": spec.custom_hash,
            "verify": [{"leaf": i, "proof": tree.get_proof(i)} for i in indices],
            "verifyMulti": []
            if spec.custom_hash
            else [tree.get_multi_proof(s).as_dict() for s in spec.multiproofs],
        }
        for spec, tree, indices in zip(CASES, trees, proofs, strict=True)
    ]
    built = js(*(of_op(spec, indices) for spec, indices in zip(CASES, proofs, strict=True)), *loads)
    return {
        spec.name: (tree, indices, built[i], built[len(CASES) + i])
        for i, (spec, tree, indices) in enumerate(zip(CASES, trees, proofs, strict=True))
    }


def spec_named(name: str) -> Case:
    return next(spec for spec in CASES if spec.name == name)


NAMES = [spec.name for spec in CASES]


@pytest.mark.parametrize("name", NAMES)
def test_python_builds_the_tree_js_builds(both, name):
    spec = spec_named(name)
    tree, indices, theirs, _ = both[name]
    assert "error" not in theirs, theirs
    assert tree.root == theirs["root"]
    assert tree.dump() == theirs["dump"]
    assert tree.render() == theirs["render"]
    assert [tree.leaf_hash(value) for value in spec.values] == theirs["leafHashes"]
    assert [tree.get_proof(i) for i in indices] == theirs["proofs"]
    if not spec.custom_hash:
        assert [tree.get_multi_proof(s).as_dict() for s in spec.multiproofs] == theirs["multiproofs"]


@pytest.mark.parametrize("name", NAMES)
def test_js_loads_a_python_dump_and_verifies_python_proofs(both, name):
    tree, indices, _, loaded = both[name]
    assert "error" not in loaded, loaded
    assert loaded["root"] == tree.root
    assert loaded["dump"] == tree.dump()
    assert loaded["render"] == tree.render()
    assert loaded["entries"] == [[i, entry["value"]] for i, entry in enumerate(tree.dump()["values"])]
    assert loaded["verified"] == [True] * len(indices)
    assert all(loaded["verifiedMulti"])


@pytest.mark.parametrize("name", NAMES)
def test_python_loads_a_js_dump_and_verifies_js_proofs(both, name):
    spec = spec_named(name)
    _, indices, theirs, _ = both[name]
    node_hash = sha256_pair if spec.custom_hash else None
    if spec.encoding is None:
        tree: StandardMerkleTree | SimpleMerkleTree = SimpleMerkleTree.load(
            theirs["dump"], node_hash=node_hash
        )
    else:
        tree = StandardMerkleTree.load(theirs["dump"])
    assert tree.dump() == theirs["dump"] and tree.root == theirs["root"]
    assert all(tree.verify(i, proof) for i, proof in zip(indices, theirs["proofs"], strict=True))
    for multiproof in theirs.get("multiproofs", []):
        assert tree.verify_multi_proof(
            MultiProof(multiproof["leaves"], multiproof["proof"], multiproof["proofFlags"])
        )


def test_a_js_dump_with_json_numbers_dumps_again_unchanged():
    values = [[address(1), 5], [address(2), 7]]  # JS keeps numbers as numbers; Python ints dump as strings
    (theirs,) = js({"op": "of", "kind": "standard", "values": values, "encoding": ["address", "uint16"]})
    assert theirs["dump"]["values"][0]["value"] == values[0]
    assert StandardMerkleTree.load(theirs["dump"]).dump() == theirs["dump"]
    ours = StandardMerkleTree.of(values, ["address", "uint16"])
    assert ours.root == theirs["root"] and ours.dump()["values"][0]["value"] == [address(1), "5"]


def test_a_proof_from_python_passes_the_static_js_verify_and_a_wrong_one_fails():
    spec = spec_named("airdrop")
    tree = python_tree(spec)
    proof, value = tree.get_proof(3), as_json(spec.values[3])
    multiproof = tree.get_multi_proof([1, 2, 5]).as_dict()
    verdicts = js(
        {
            "op": "verify",
            "kind": "standard",
            "root": tree.root,
            "encoding": spec.encoding,
            "leaf": value,
            "proof": proof,
        },
        {
            "op": "verify",
            "kind": "standard",
            "root": tree.root,
            "encoding": spec.encoding,
            "leaf": value,
            "proof": proof[1:],
        },
        {
            "op": "verify",
            "kind": "standard",
            "root": tree.root,
            "encoding": spec.encoding,
            "multiproof": multiproof,
        },
    )
    assert [verdict["verified"] for verdict in verdicts] == [True, False, True]


def test_a_custom_hash_proves_the_same_leaves_in_both():
    spec = spec_named("simple custom hash unsorted")
    tree = python_tree(spec)
    values = as_json(spec.values)
    answers = js(
        *(
            {
                "op": "of",
                "kind": "simple",
                "values": values,
                "sortLeaves": False,
                "customHash": True,
                "proofs": [i],
            }
            for i in range(len(values))
        )
    )
    for i, answer in enumerate(answers):
        if "error" in answer:
            assert answer["error"] == "Unable to prove value"
            with pytest.raises(InvalidMerkleTree, match="Unable to prove value"):
                tree.get_proof(i)
        else:
            assert answer["proofs"] == [tree.get_proof(i)]
    assert 0 < sum("error" in answer for answer in answers) < len(answers)


BAD_VALUES = [
    (["uint8"], [256]),
    (["uint256"], [-1]),
    (["int8"], ["128"]),
    (["int8"], ["-129"]),
    (["bool"], [1]),
    (["bool"], ["yes"]),
    (["address"], ["0x" + "11" * 21]),
    (["address"], ["alice"]),
    (["bytes2"], ["0x123456"]),
    (["bytes"], ["1234"]),
    (["uint256"], ["1e3"]),
    (["uint256"], ["-0x5"]),
    (["uint256"], ["0x"]),
    (["uint256"], [1.5]),
    (["string"], [5]),
    (["uint256[2]"], [[1]]),
    (["(uint256,bool)"], [[1]]),
    (["function"], ["0x1234"]),
    (["uint7"], [1]),
    (["uint264"], [1]),
    (["bytes33"], ["0x"]),
    (["mapping"], [1]),
]


def test_values_js_refuses_python_refuses():
    answers = js(
        *({"op": "of", "kind": "standard", "values": [value], "encoding": enc} for enc, value in BAD_VALUES)
    )
    for (encoding, value), answer in zip(BAD_VALUES, answers, strict=True):
        assert "error" in answer, (encoding, value)
        with pytest.raises(MerkleTreeError):
            StandardMerkleTree.of([value], encoding)


# ---- random trees: hypothesis draws a batch of trees per example, JS answers the batch in one call ----


def _uint(bits: int) -> tuple[str, SearchStrategy[Any]]:
    return f"uint{bits}", st.integers(0, 2**bits - 1)


def _int(bits: int) -> tuple[str, SearchStrategy[Any]]:
    return f"int{bits}", st.integers(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)


def _fixed_bytes(size: int) -> tuple[str, SearchStrategy[Any]]:
    return f"bytes{size}", st.binary(min_size=size, max_size=size)


def _array(inner: tuple[str, SearchStrategy[Any]], length: int | None) -> tuple[str, SearchStrategy[Any]]:
    name, values = inner
    if length is None:
        return f"{name}[]", st.lists(values, max_size=3)
    return f"{name}[{length}]", st.lists(values, min_size=length, max_size=length)


def _tuple(inners: list[tuple[str, SearchStrategy[Any]]]) -> tuple[str, SearchStrategy[Any]]:
    return "(" + ",".join(name for name, _ in inners) + ")", st.tuples(*(values for _, values in inners))


BASIC_TYPES = st.one_of(
    st.sampled_from(
        [
            ("address", st.binary(min_size=20, max_size=20)),
            ("bool", st.booleans()),
            ("string", st.text(max_size=20)),
            ("bytes", st.binary(max_size=70)),
        ]
    ),
    st.sampled_from(range(8, 257, 8)).map(_uint),
    st.sampled_from(range(8, 257, 8)).map(_int),
    st.integers(1, 32).map(_fixed_bytes),
)


def abi_types(depth: int) -> SearchStrategy[tuple[str, SearchStrategy[Any]]]:
    """An ABI type name with a strategy for its values, nested up to `depth` arrays or tuples."""
    if depth == 0:
        return BASIC_TYPES
    inner = abi_types(depth - 1)
    return st.one_of(
        BASIC_TYPES,
        st.tuples(inner, st.none() | st.integers(1, 3)).map(lambda pair: _array(*pair)),
        st.lists(inner, min_size=1, max_size=3).map(_tuple),
    )


@st.composite
def trees(draw: Any) -> tuple[list[str], list[list[Any]], bool]:
    types = draw(st.lists(abi_types(2), min_size=1, max_size=4))
    values = draw(st.lists(st.tuples(*(values for _, values in types)).map(list), min_size=1, max_size=12))
    return [name for name, _ in types], values, draw(st.booleans())


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(batch=st.lists(trees(), min_size=10, max_size=10))
def test_random_trees_match_js_both_ways(batch):
    ours = [StandardMerkleTree.of(values, encoding, sort_leaves=sort) for encoding, values, sort in batch]
    ops = []
    for (encoding, values, sort), tree in zip(batch, ours, strict=True):
        every = list(range(len(values)))
        ops.append(
            {
                "op": "of",
                "kind": "standard",
                "values": as_json(values),
                "encoding": encoding,
                "sortLeaves": sort,
                "proofs": every,
                "multiproofs": [every[::2]],
            }
        )
        ops.append(
            {
                "op": "load",
                "kind": "standard",
                "dump": tree.dump(),
                "verify": [{"leaf": i, "proof": tree.get_proof(i)} for i in every],
            }
        )
    answers = js(*ops)
    for (encoding, values, _), tree, theirs, loaded in zip(
        batch, ours, answers[::2], answers[1::2], strict=True
    ):
        assert "error" not in theirs and "error" not in loaded, (encoding, theirs, loaded)
        assert tree.dump() == theirs["dump"] and tree.render() == theirs["render"]
        assert [tree.get_proof(i) for i in range(len(values))] == theirs["proofs"]
        assert tree.get_multi_proof(list(range(0, len(values), 2))).as_dict() == theirs["multiproofs"][0]
        assert loaded["verified"] == [True] * len(values)
        assert StandardMerkleTree.load(theirs["dump"]).root == tree.root
