"""load() refuses a malformed or tampered dump with a clear error, wherever the JS library refuses it too."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from typing import Any

import pytest

from carechain.errors import InputError, InvalidMerkleTree, MerkleTreeError
from carechain.offchain.merkle import SimpleMerkleTree, StandardMerkleTree

from .reference import js

ENCODING = ["address", "uint256"]
VALUES = [["0x" + f"{i:02x}" * 20, i * 1000] for i in range(1, 6)]
GOOD = StandardMerkleTree.of(VALUES, ENCODING).dump()


def flip(node: str) -> str:
    return node[:-1] + ("0" if node[-1] != "0" else "1")


def edited(change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    dump = copy.deepcopy(GOOD)
    change(dump)
    return dump


def put(dump: dict[str, Any], key: str, value: Any) -> None:
    dump[key] = value


def set_value(index: int, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda dump: dump["values"][index].update(value=value)


# (case, dump, the class Python raises, its message)
MALFORMED: list[tuple[str, Any, type[MerkleTreeError], str]] = [
    ("not an object", [GOOD], MerkleTreeError, "a Merkle tree dump is a JSON object"),
    (
        "simple format",
        edited(lambda d: put(d, "format", "simple-v1")),
        MerkleTreeError,
        "Unknown format 'simple-v1'",
    ),
    ("no format", edited(lambda d: d.pop("format")), MerkleTreeError, "Unknown format None"),
    ("no leaf encoding", edited(lambda d: d.pop("leafEncoding")), MerkleTreeError, "Expected leaf encoding"),
    (
        "unknown type",
        edited(lambda d: put(d, "leafEncoding", ["address", "money"])),
        MerkleTreeError,
        "'money' is not supported",
    ),
    ("no values", edited(lambda d: d.pop("values")), MerkleTreeError, "needs `values`"),
    ("number value", edited(set_value(0, 5)), MerkleTreeError, "Leaf values cannot be numbers"),
    (
        "value off encoding",
        edited(set_value(0, ["0x01", "lots"])),
        MerkleTreeError,
        "'lots' is not a valid uint256",
    ),
    (
        "node not hex",
        edited(lambda d: d["tree"].__setitem__(1, "0x" + "zz" * 32)),
        MerkleTreeError,
        "must be 32 bytes",
    ),
    ("short node", edited(lambda d: d["tree"].__setitem__(2, "0x1234")), MerkleTreeError, "must be 32 bytes"),
    (
        "changed amount",
        edited(set_value(2, [VALUES[2][0], "3001"])),
        InvalidMerkleTree,
        "does not contain the expected value at index 2",
    ),
    (
        "tampered leaf",
        edited(lambda d: d["tree"].__setitem__(-1, flip(d["tree"][-1]))),
        InvalidMerkleTree,
        "does not contain the expected value",
    ),
    (
        "tampered root",
        edited(lambda d: d["tree"].__setitem__(0, flip(d["tree"][0]))),
        InvalidMerkleTree,
        "Merkle tree is invalid",
    ),
    (
        "tampered inner node",
        edited(lambda d: d["tree"].__setitem__(1, flip(d["tree"][1]))),
        InvalidMerkleTree,
        "Merkle tree is invalid",
    ),
    (
        "tree index past the end",
        edited(lambda d: d["values"][0].update(treeIndex=99)),
        InvalidMerkleTree,
        "does not contain the expected value at index 0",
    ),
    (
        "tree index of another leaf",
        edited(lambda d: d["values"][0].update(treeIndex=d["values"][1]["treeIndex"])),
        InvalidMerkleTree,
        "does not contain the expected value at index 0",
    ),
    (
        "extra node",
        edited(lambda d: d["tree"].append(d["tree"][-1])),
        InvalidMerkleTree,
        "Merkle tree is invalid",
    ),
    (
        "empty tree",
        {"format": "standard-v1", "leafEncoding": ENCODING, "tree": [], "values": []},
        InvalidMerkleTree,
        "Merkle tree is invalid",
    ),
]


@pytest.fixture(scope="module")
def js_answers():
    """What the JS library says to the good dump and to each malformed one (one node process)."""
    good, *rest = js(
        {"op": "load", "kind": "standard", "dump": GOOD},
        *({"op": "load", "kind": "standard", "dump": dump} for _, dump, _, _ in MALFORMED),
    )
    return good, dict(zip((name for name, *_ in MALFORMED), rest, strict=True))


def test_the_untouched_dump_loads_in_both(js_answers):
    good, _ = js_answers
    assert "error" not in good
    assert StandardMerkleTree.load(GOOD).root == good["root"]


@pytest.mark.parametrize(("name", "dump", "error", "message"), MALFORMED, ids=[case[0] for case in MALFORMED])
def test_a_malformed_dump_is_refused_by_both(js_answers, name, dump, error, message):
    _, answers = js_answers
    assert "error" in answers[name], f"JS loaded the {name!r} dump"
    with pytest.raises(error, match=message) as caught:
        StandardMerkleTree.load(dump)
    assert isinstance(caught.value, InputError)


def sha256_pair(a: bytes, b: bytes) -> bytes:
    return hashlib.sha256(a + b).digest()


def test_simple_dumps_are_checked_the_same_way():
    values = [bytes([i]) * 32 for i in range(1, 5)]
    plain = SimpleMerkleTree.of(values).dump()
    custom = SimpleMerkleTree.of(values, node_hash=sha256_pair).dump()
    tampered = copy.deepcopy(plain)
    tampered["values"][1]["value"] = "0x" + "ee" * 32
    standard_as_simple = {**GOOD, "format": "simple-v1"}
    answers = js(
        {"op": "load", "kind": "simple", "dump": custom},
        {"op": "load", "kind": "simple", "dump": plain, "customHash": True},
        {"op": "load", "kind": "simple", "dump": tampered},
        {"op": "load", "kind": "simple", "dump": standard_as_simple},
        {"op": "load", "kind": "standard", "dump": plain},
    )
    assert all("error" in answer for answer in answers)
    with pytest.raises(MerkleTreeError, match="Data expects a custom node hashing function"):
        SimpleMerkleTree.load(custom)
    with pytest.raises(MerkleTreeError, match="Data does not expect a custom node hashing function"):
        SimpleMerkleTree.load(plain, node_hash=sha256_pair)
    with pytest.raises(InvalidMerkleTree, match="does not contain the expected value at index 1"):
        SimpleMerkleTree.load(tampered)
    with pytest.raises(MerkleTreeError, match="not a valid bytes32"):
        SimpleMerkleTree.load(standard_as_simple)
    with pytest.raises(MerkleTreeError, match="Unknown format 'simple-v1'"):
        StandardMerkleTree.load(plain)
