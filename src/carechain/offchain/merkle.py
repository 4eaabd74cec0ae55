"""Merkle trees byte for byte compatible with npm `@openzeppelin/merkle-tree` 1.0.x.

A tree built here has the root, proofs, multiproofs, `dump()` JSON and `render()` text the JS library
gives for the same values, so a tree dumped by one loads in the other and its proofs verify in
OpenZeppelin's `MerkleProof` on chain.

- `StandardMerkleTree`: leaf = keccak256(keccak256(abi.encode(leaf_encoding, value))); a value is a
  list of ABI values (address, uintN/intN, bool, bytesN, bytes, string, function, arrays, tuples).
  Values are read as the JS encoder (`@metamask/abi-utils`) reads them: an int or a decimal/0x string
  for numbers, a bool or "true"/"false", bytes or 0x-hex for addresses and bytes.
- `SimpleMerkleTree`: the leaf is the bytes32 value itself (shorter values are right-padded, as in JS).

The tree is an array: the root at 0, node i's children at 2i+1 and 2i+2, leaves (sorted by hash unless
`sort_leaves=False`) at the end in reverse order; a parent is keccak256 of its two children, smaller
first. `dump()` writes Python ints as decimal strings (a JSON number loses precision in JS past 2**53,
a BigInt cannot be serialised at all) and bytes as 0x-hex.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from operator import call
from typing import Any, ClassVar, Generic, NamedTuple, TypeGuard, TypeVar, cast

from sha3 import keccak_256  # safe-pysha3's C keccak: ~0.9 us a hash, pycryptodome's costs ~8 us

from carechain.errors import InvalidMerkleTree, MerkleTreeError

# The tree's errors are defined in carechain.errors (one exception tree) and re-exported with the API.
__all__ = [
    "InvalidMerkleTree",
    "MerkleTreeError",
    "MultiProof",
    "NodeHash",
    "SimpleMerkleTree",
    "StandardMerkleTree",
]


NodeHash = Callable[[bytes, bytes], bytes]
"""A custom parent hash for SimpleMerkleTree: (left or current, right or sibling) -> 32 bytes."""

V = TypeVar("V")
L_co = TypeVar("L_co", covariant=True)


@dataclass(frozen=True)
class MultiProof(Generic[L_co]):
    """Several leaves proven at once, in the order `MerkleProof.multiProofVerify` takes them."""

    leaves: Sequence[L_co]
    proof: Sequence[str]
    proof_flags: Sequence[bool]

    def as_dict(self) -> dict[str, Any]:
        """The JSON the JS library's multiproof serialises to (keys `leaves`, `proof`, `proofFlags`)."""
        return {
            "leaves": [_json_value(leaf) for leaf in self.leaves],
            "proof": list(self.proof),
            "proofFlags": list(self.proof_flags),
        }


# ---- ABI encoding, reading values as @metamask/abi-utils 2.x does ----

_HEX = re.compile(r"0[xX][0-9a-fA-F]*")
_STRICT_HEX = re.compile(r"0[xX][0-9a-fA-F]+")
_NUMBER_TYPE = re.compile(r"u?int([0-9]*)")
_FIXED_BYTES_TYPE = re.compile(r"bytes([0-9]{1,2})")
_ARRAY_TYPE = re.compile(r"(.*)\[([0-9]*?)\]")
_TUPLE_TYPE = re.compile(r"\((.+)\)")
_BIGINT_TEXT = re.compile(r"[+-]?[0-9]+|0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+")
_BIGINT_BASES = {"0x": 16, "0o": 8, "0b": 2}
# What JS's BigInt(string) trims: WhiteSpace and LineTerminator (narrower than str.strip()'s set).
_JS_SPACE = (
    "\t\n\v\f\r \xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_WORD = 32
_ZERO_WORD = bytes(_WORD)
_ONE_WORD = bytes(_WORD - 1) + b"\x01"


class _Coder(NamedTuple):
    """How one ABI type encodes: static types inline in the head, dynamic ones in the tail."""

    encode: Callable[[Any], bytes]
    dynamic: bool


def _fail(value: Any, abi_type: str, why: str) -> MerkleTreeError:
    return MerkleTreeError(f"{value!r} is not a valid {abi_type}: {why}")


def _bytes_like(value: Any, abi_type: str) -> bytes:
    """Bytes, or a 0x-hex string (an odd digit count gets a leading 0, as createBytes does)."""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str) and _HEX.fullmatch(value):
        digits = value[2:]
        return bytes.fromhex(digits if len(digits) % 2 == 0 else "0" + digits)
    raise _fail(value, abi_type, "expected bytes or a 0x-prefixed hex string")


def _big_int(value: Any, abi_type: str) -> int:
    """An int, an integral float, or a string as JS BigInt() parses it (decimal, 0x, 0o, 0b)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip(_JS_SPACE)
        if not text:
            return 0
        if _BIGINT_TEXT.fullmatch(text):
            base = _BIGINT_BASES.get(text[:2].lower())
            if base:
                return int(text[2:], base)
            if len(text.lstrip("+-").lstrip("0")) > 80:  # past any uint256, and past int()'s digit limit
                raise _fail(value, abi_type, "out of range")
            return int(text)
    raise _fail(value, abi_type, "expected an integer, a decimal or a 0x string")


def _number_coder(abi_type: str, bits: int) -> _Coder:
    if abi_type.startswith("u"):
        maximum = 2**bits - 1

        def encode_uint(value: Any) -> bytes:
            if type(value) is int and 0 <= value <= maximum:
                return value.to_bytes(_WORD, "big")
            number = _big_int(value, abi_type)
            if not 0 <= number <= maximum:
                raise _fail(value, abi_type, "out of range")
            return number.to_bytes(_WORD, "big")

        return _Coder(encode_uint, False)
    limit = 2 ** (bits - 1)

    def encode_int(value: Any) -> bytes:
        number = _big_int(value, abi_type)
        if not -limit <= number < limit:
            raise _fail(value, abi_type, "out of range")
        return number.to_bytes(_WORD, "big", signed=True)

    return _Coder(encode_int, False)


def _encode_address(value: Any) -> bytes:
    if type(value) is str and len(value) == 42 and value[:2] in ("0x", "0X"):
        try:
            raw = bytes.fromhex(value[2:])
        except ValueError:
            raise _fail(value, "address", "expected 20 bytes or a 0x-prefixed hex string") from None
        if len(raw) == 20:  # 40 characters made 20 bytes: hex digits only, no spaces fromhex allows
            return _ZERO_WORD[:12] + raw
    raw = _bytes_like(value, "address")
    if len(raw) > 20:
        raise _fail(value, "address", f"{len(raw)} bytes, at most 20")
    return _ZERO_WORD[: _WORD - len(raw)] + raw


def _encode_bool(value: Any) -> bytes:
    if value is True or value == "true":
        return _ONE_WORD
    if value is False or value == "false":
        return _ZERO_WORD
    raise _fail(value, "bool", 'expected True, False, "true" or "false"')


def _fixed_bytes_coder(abi_type: str, size: int) -> _Coder:
    def encode_fixed_bytes(value: Any) -> bytes:
        raw = _bytes_like(value, abi_type)
        if len(raw) > size:
            raise _fail(value, abi_type, f"{len(raw)} bytes, at most {size}")
        return raw + _ZERO_WORD[len(raw) :]

    return _Coder(encode_fixed_bytes, False)


def _encode_function(value: Any) -> bytes:
    """A `function` (address + selector, 24 bytes), as bytes/hex or {"address": hex, "selector": hex}."""
    if isinstance(value, Mapping):
        parts = [value.get("address"), value.get("selector")]
        if set(value) != {"address", "selector"} or not all(
            isinstance(part, str) and _STRICT_HEX.fullmatch(part) for part in parts
        ):
            raise _fail(value, "function", 'expected {"address": 0x-hex, "selector": 0x-hex}')
        raw = b"".join(_bytes_like(part, "function") for part in parts)
    elif isinstance(value, bytes | bytearray) or (isinstance(value, str) and _STRICT_HEX.fullmatch(value)):
        raw = _bytes_like(value, "function")
        if len(raw) != 24:
            raise _fail(value, "function", f"{len(raw)} bytes, expected 24")
    else:
        raise _fail(value, "function", "expected 24 bytes, 0x-hex or an address and a selector")
    if len(raw) > 24:
        raise _fail(value, "function", f"{len(raw)} bytes, at most 24")
    return raw + _ZERO_WORD[len(raw) :]


def _length_prefixed(raw: bytes) -> bytes:
    padding = -len(raw) % _WORD
    return len(raw).to_bytes(_WORD, "big") + raw + _ZERO_WORD[:padding]


def _encode_bytes(value: Any) -> bytes:
    return _length_prefixed(_bytes_like(value, "bytes"))


def _encode_string(value: Any) -> bytes:
    if not isinstance(value, str):
        raise _fail(value, "string", "expected a str")
    try:
        raw = value.encode()
    except UnicodeEncodeError:  # lone surrogates: JS's TextEncoder writes U+FFFD for each
        raw = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode()
    return _length_prefixed(raw)


def _sequence(value: Any, abi_type: str, length: int | None = None) -> Sequence[Any]:
    if not isinstance(value, list | tuple):
        raise _fail(value, abi_type, "expected a list or a tuple")
    if length is not None and len(value) != length:
        raise _fail(value, abi_type, f"{len(value)} elements, expected {length}")
    return value


def _pack(coders: Sequence[_Coder], values: Sequence[Any]) -> bytes:
    """Standard ABI encoding of a tuple: static parts in the head, offsets to the dynamic tails."""
    parts = [coder.encode(value) for coder, value in zip(coders, values, strict=True)]
    offset = sum(_WORD if coder.dynamic else len(part) for coder, part in zip(coders, parts, strict=True))
    head: list[bytes] = []
    tail: list[bytes] = []
    for coder, part in zip(coders, parts, strict=True):
        if coder.dynamic:
            head.append(offset.to_bytes(_WORD, "big"))
            tail.append(part)
            offset += len(part)
        else:
            head.append(part)
    return b"".join(head + tail)


def _tuple_coder(abi_type: str, coders: Sequence[_Coder]) -> _Coder:
    def encode_tuple(value: Any) -> bytes:
        return _pack(coders, _sequence(value, abi_type, len(coders)))

    return _Coder(encode_tuple, any(coder.dynamic for coder in coders))


def _fixed_array_coder(abi_type: str, element: _Coder, length: int) -> _Coder:
    """T[k]: encoded as the tuple (T, ..., T)."""

    def encode_fixed_array(value: Any) -> bytes:
        return _pack([element] * length, _sequence(value, abi_type, length))

    return _Coder(encode_fixed_array, element.dynamic)


def _dynamic_array_coder(abi_type: str, element: _Coder) -> _Coder:
    def encode_array(value: Any) -> bytes:
        items = _sequence(value, abi_type)
        return len(items).to_bytes(_WORD, "big") + _pack([element] * len(items), items)

    return _Coder(encode_array, True)


def _tuple_elements(abi_type: str) -> list[str]:
    """Split "(a,(b,c),d[])" at its top-level commas, trimmed, as abi-utils' getTupleElements does."""
    elements: list[str] = []
    current = ""
    depth = 0
    for char in abi_type[1:-1]:
        if char == "," and depth == 0:
            elements.append(current.strip())
            current = ""
            continue
        current += char
        depth += {"(": 1, ")": -1}.get(char, 0)
    if current.strip():
        elements.append(current.strip())
    return elements


def _coder(abi_type: str) -> _Coder:
    """The coder of one ABI type, recognised in abi-utils' order (arrays before tuples)."""
    if abi_type == "address":
        return _Coder(_encode_address, False)
    array = _ARRAY_TYPE.fullmatch(abi_type)
    if array and array[1]:
        element = _coder(array[1])
        if not array[2]:
            return _dynamic_array_coder(abi_type, element)
        if int(array[2]) == 0:
            raise MerkleTreeError(f"ABI type {abi_type!r} is not supported: a fixed array needs a length > 0")
        return _fixed_array_coder(abi_type, element, int(array[2]))
    if abi_type == "bool":
        return _Coder(_encode_bool, False)
    if abi_type == "bytes":
        return _Coder(_encode_bytes, True)
    fixed = _FIXED_BYTES_TYPE.fullmatch(abi_type)
    if fixed:
        if not 1 <= int(fixed[1]) <= 32:
            raise MerkleTreeError(f"ABI type {abi_type!r} is not supported: bytesN needs 1 <= N <= 32")
        return _fixed_bytes_coder(abi_type, int(fixed[1]))
    if abi_type == "function":
        return _Coder(_encode_function, False)
    number = _NUMBER_TYPE.fullmatch(abi_type)
    if number:
        bits = int(number[1]) if number[1] else 256  # "int" and "uint" alone
        if not (8 <= bits <= 256 and bits % 8 == 0):
            raise MerkleTreeError(
                f"ABI type {abi_type!r} is not supported: intN/uintN needs N in 8, 16, ..., 256"
            )
        return _number_coder(abi_type, bits)
    if abi_type == "string":
        return _Coder(_encode_string, True)
    if _TUPLE_TYPE.fullmatch(abi_type):
        return _tuple_coder(abi_type, [_coder(element) for element in _tuple_elements(abi_type)])
    raise MerkleTreeError(f"ABI type {abi_type!r} is not supported")


class _LeafEncoding:
    """abi.encode(leaf_encoding, value) and the StandardMerkleTree leaf, for one value or a whole list."""

    def __init__(self, leaf_encoding: Sequence[str]) -> None:
        if isinstance(leaf_encoding, str) or not all(isinstance(t, str) for t in leaf_encoding):
            raise MerkleTreeError(f"leaf encoding must be a list of ABI type names, got {leaf_encoding!r}")
        self.types = list(leaf_encoding)
        self._coders = [_coder(abi_type) for abi_type in self.types]
        self._static = not any(coder.dynamic for coder in self._coders)

    def encode(self, value: Any) -> bytes:
        if not isinstance(value, list | tuple) or len(value) != len(self._coders):
            raise MerkleTreeError(
                f"leaf {value!r} does not fit encoding {self.types}: expected {len(self.types)} values"
            )
        try:
            return _pack(self._coders, value)
        except MerkleTreeError as err:
            raise MerkleTreeError(f"leaf {value!r} does not fit encoding {self.types}: {err}") from None

    def leaf(self, value: Any) -> bytes:
        """keccak256(keccak256(abi.encode(...))): the second hash keeps a leaf from passing for a node."""
        digest: bytes = keccak_256(keccak_256(self.encode(value)).digest()).digest()
        return digest

    def leaves(self, values: list[Any]) -> list[bytes]:
        """The leaves of many values; all-static encodings of well-shaped values take one tight loop."""
        encoders = [coder.encode for coder in self._coders]
        if (
            self._static
            and set(map(type, values)) <= {list, tuple}
            and set(map(len, values)) == {len(encoders)}
        ):
            try:
                return [
                    keccak_256(keccak_256(b"".join(map(call, encoders, v))).digest()).digest() for v in values
                ]
            except MerkleTreeError:
                pass  # the value-by-value path below names the value that does not fit
        return [self.leaf(value) for value in values]


def _json_value(value: Any) -> Any:
    """A leaf value as dump() writes it: ints as decimal strings, bytes as 0x-hex, tuples as lists."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value))
    if isinstance(value, bytes | bytearray):
        return "0x" + value.hex()
    if isinstance(value, Mapping):
        return {str(key): _json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(item) for item in value]
    raise MerkleTreeError(f"{value!r} cannot be written to JSON")


# ---- the tree array ----


def _hex(node: bytes) -> str:
    return "0x" + node.hex()


def _node(value: Any) -> bytes:
    """A 32-byte node from bytes or hex (0x optional, as the JS library's toBytes takes it)."""
    if isinstance(value, bytes | bytearray) and len(value) == _WORD:
        return bytes(value)
    if isinstance(value, str):
        digits = value[2:] if value.startswith("0x") else value
        try:
            raw = bytes.fromhex(digits)
        except ValueError:
            raw = b""
        if len(digits) == 2 * _WORD and len(raw) == _WORD:  # 64 characters, 32 bytes: no spaces
            return raw
    raise MerkleTreeError(f"Merkle tree nodes must be 32 bytes, got {value!r}")


def _sorted_pair_hash(left: bytes, right: bytes) -> bytes:
    """OpenZeppelin's commutative keccak256: the smaller node first."""
    digest: bytes = keccak_256(left + right if left < right else right + left).digest()
    return digest


def _combiner(node_hash: NodeHash | None) -> NodeHash:
    """The parent hash: OpenZeppelin's sorted pair, or a custom one whose result must be 32 bytes."""
    if node_hash is None:
        return _sorted_pair_hash
    custom = node_hash

    def checked(a: bytes, b: bytes) -> bytes:
        return _node(custom(a, b))

    return checked


def _parents(lefts: list[bytes], rights: list[bytes], node_hash: NodeHash | None) -> list[bytes]:
    if node_hash is None:  # inlined: this comprehension is most of a 1M-leaf build's node hashing
        return [keccak_256(a + b if a < b else b + a).digest() for a, b in zip(lefts, rights, strict=True)]
    combine = _combiner(node_hash)
    return [combine(a, b) for a, b in zip(lefts, rights, strict=True)]


def _hash_up(tree: list[bytes], first_leaf: int, node_hash: NodeHash | None, check: bool = False) -> bool:
    """Fill (with check: compare) tree[:first_leaf] from the leaves, a block of ready parents at a time."""
    done = first_leaf
    while done > 0:
        start = done // 2  # the parents whose children all lie at or after `done`
        parents = _parents(
            tree[2 * start + 1 : 2 * done : 2], tree[2 * start + 2 : 2 * done + 1 : 2], node_hash
        )
        if check:
            if tree[start:done] != parents:
                return False
        else:
            tree[start:done] = parents
        done = start
    return True


def _process_proof(leaf: bytes, proof: Sequence[Any], node_hash: NodeHash | None) -> bytes:
    combine = _combiner(node_hash)
    current = leaf
    for sibling in [_node(node) for node in proof]:
        current = combine(current, sibling)
    return current


def _process_multi_proof(
    leaves: Sequence[bytes], proof: Sequence[Any], proof_flags: Sequence[bool], node_hash: NodeHash | None
) -> bytes:
    """The root a multiproof leads to, computed as MerkleProof.processMultiProof does."""
    siblings = deque(_node(node) for node in proof)
    flags = list(proof_flags)
    if not all(isinstance(flag, bool) for flag in flags):
        raise MerkleTreeError(f"proof flags must be booleans, got {flags!r}")
    if len(siblings) < flags.count(False):
        raise MerkleTreeError("Invalid multiproof format")
    if len(leaves) + len(siblings) != len(flags) + 1:
        raise MerkleTreeError("Provided leaves and multiproof are not compatible")
    combine = _combiner(node_hash)
    stack = deque(leaves)
    try:
        for flag in flags:
            a = stack.popleft()
            b = stack.popleft() if flag else siblings.popleft()
            stack.append(combine(a, b))
    except IndexError:
        raise MerkleTreeError("Invalid multiproof: its flags take more nodes than it has") from None
    return stack.pop() if stack else siblings.popleft()


def _is_index(leaf: object) -> TypeGuard[int]:
    """An int picks a value by its position (JS: typeof leaf === 'number'); anything else is a value."""
    return isinstance(leaf, int) and not isinstance(leaf, bool)


class _MerkleTree(ABC, Generic[V]):
    """What both trees share; a subclass says how a value becomes a leaf and how it is dumped."""

    _FORMAT: ClassVar[str]

    def __init__(
        self,
        tree: list[bytes],
        values: list[V],
        tree_indices: list[int],
        node_hash: NodeHash | None,
        from_json: bool = False,
    ) -> None:
        self._tree = tree
        self._values = values
        self._tree_indices = tree_indices
        self._node_hash = node_hash
        self._from_json = from_json  # values read from a dump are dumped again as they were, like JS
        self._lookup: dict[bytes, int] | None = None

    @abstractmethod
    def _hash(self, value: V) -> bytes:
        """The leaf of one value."""

    def _hash_all(self, values: list[V]) -> list[bytes]:
        return [self._hash(value) for value in values]

    @staticmethod
    def _place(
        hashes: list[bytes], sort_leaves: bool, node_hash: NodeHash | None
    ) -> tuple[list[bytes], list[int]]:
        """Sort and place the leaves, then hash up: the tree and each value's tree index (JS prepare)."""
        count = len(hashes)
        if not count:
            raise MerkleTreeError("Expected non-zero number of leaves")
        order = sorted(range(count), key=hashes.__getitem__) if sort_leaves else range(count)
        last = 2 * count - 2
        tree = [b""] * (count - 1) + list(map(hashes.__getitem__, reversed(order)))
        tree_indices = [0] * count
        for position, value_index in enumerate(order):
            tree_indices[value_index] = last - position
        _hash_up(tree, count - 1, node_hash)
        return tree, tree_indices

    @staticmethod
    def _parse_dump(data: Any, expected_format: str) -> tuple[list[bytes], list[Any], list[int]]:
        """The tree and values of a dump, checked for shape (their hashes are checked by validate())."""
        if not isinstance(data, Mapping):
            raise MerkleTreeError(f"a Merkle tree dump is a JSON object, got {type(data).__name__}")
        if data.get("format") != expected_format:
            raise MerkleTreeError(f"Unknown format {data.get('format')!r}, expected {expected_format!r}")
        tree_data = data.get("tree")
        if not isinstance(tree_data, list):
            raise MerkleTreeError("a Merkle tree dump needs `tree`, a list of 0x-hex nodes")
        tree = [_dumped_node(node) for node in tree_data]
        values_data = data.get("values")
        if not isinstance(values_data, list):
            raise MerkleTreeError("a Merkle tree dump needs `values`, a list of {value, treeIndex}")
        values: list[Any] = []
        tree_indices: list[int] = []
        for entry in values_data:
            if (
                not isinstance(entry, Mapping)
                or "value" not in entry
                or not _is_index(entry.get("treeIndex"))
            ):
                raise MerkleTreeError(f"a dumped value is {{value, treeIndex (an integer)}}, got {entry!r}")
            if _is_index(entry["value"]) or isinstance(entry["value"], float):
                raise MerkleTreeError("Leaf values cannot be numbers")
            values.append(entry["value"])
            tree_indices.append(entry["treeIndex"])
        return tree, values, tree_indices

    @property
    def root(self) -> str:
        """The root as 0x-hex, what a contract stores and MerkleProof checks against."""
        return _hex(self._tree[0])

    def __len__(self) -> int:
        return len(self._values)

    def at(self, index: int) -> V:
        """The value at `index`, negative from the end as JS Array.at (which gives undefined past the end)."""
        if not -len(self._values) <= index < len(self._values):
            raise MerkleTreeError(f"Index out of bounds: {index}")
        return self._values[index]

    def entries(self) -> Iterator[tuple[int, V]]:
        """(index, value) in the order the values were given, as JS entries()."""
        return enumerate(self._values)

    __iter__ = entries

    def render(self) -> str:
        """The tree drawn as the JS library's render() draws it."""
        lines = []
        stack: list[tuple[int, list[int]]] = [(0, [])]
        while stack:
            index, path = stack.pop()
            indent = "".join(["   ", "│  "][step] for step in path[:-1])
            branch = "".join(["└─ ", "├─ "][step] for step in path[-1:])
            lines.append(f"{indent}{branch}{index}) {_hex(self._tree[index])}")
            if 2 * index + 2 < len(self._tree):
                stack.append((2 * index + 2, [*path, 0]))
                stack.append((2 * index + 1, [*path, 1]))
        return "\n".join(lines)

    def validate(self) -> None:
        """Every value sits at its leaf and every parent hashes its children, else InvalidMerkleTree."""
        tree = self._tree
        for index, tree_index in enumerate(self._tree_indices):
            if not 0 <= tree_index < len(tree):
                raise InvalidMerkleTree(f"Merkle tree does not contain the expected value at index {index}")
        placed = [tree[tree_index] for tree_index in self._tree_indices]
        if placed != self._hash_all(self._values):
            for index in range(len(self._values)):
                self._validate_value_at(index)
        if len(tree) % 2 == 0 or not _hash_up(tree, len(tree) // 2, self._node_hash, check=True):
            raise InvalidMerkleTree("Merkle tree is invalid")

    def leaf_hash(self, value: V) -> str:
        """The leaf a value hashes to, 0x-hex: what a contract recomputes from calldata."""
        return _hex(self._hash(value))

    def leaf_lookup(self, value: V) -> int:
        """The index of `value` (the last one given if it is there twice), else MerkleTreeError."""
        found = self._hash_lookup().get(self._hash(value))
        if found is None:
            raise MerkleTreeError(f"Leaf is not in tree: {value!r}")
        return found

    def _hash_lookup(self) -> dict[bytes, int]:
        """Leaf -> value index, built on first use: a 1M-leaf tree pays for it only when asked by value."""
        if self._lookup is None:
            self._lookup = {self._tree[tree_index]: i for i, tree_index in enumerate(self._tree_indices)}
        return self._lookup

    def get_proof(self, leaf: int | V) -> list[str]:
        """The sibling hashes from a leaf (its index or its value) up to the root, for MerkleProof.verify."""
        value_index = self._value_index(leaf)
        self._validate_value_at(value_index)
        index = self._tree_indices[value_index]
        tree = self._tree
        leaf_node = tree[index]
        proof = []
        while index > 0:
            proof.append(tree[index + 1 if index % 2 else index - 1])
            index = (index - 1) // 2
        # A sorted-pair hash proves every leaf; a custom one may not (JS checks every proof it makes).
        if self._node_hash is not None and _process_proof(leaf_node, proof, self._node_hash) != tree[0]:
            raise InvalidMerkleTree("Unable to prove value")
        return [_hex(node) for node in proof]

    def get_multi_proof(self, leaves: Sequence[int | V]) -> MultiProof[V]:
        """One proof for several leaves (indices or values), for MerkleProof.multiProofVerify."""
        value_indices = [self._value_index(leaf) for leaf in leaves]
        for value_index in value_indices:
            self._validate_value_at(value_index)
        indices = sorted((self._tree_indices[i] for i in value_indices), reverse=True)
        if any(a == b for a, b in pairwise(indices)):
            raise MerkleTreeError("Cannot prove duplicated index")
        stack = deque(indices)
        proof: list[str] = []
        proof_flags: list[bool] = []
        while stack and stack[0] > 0:
            index = stack.popleft()
            sibling = index + 1 if index % 2 else index - 1
            if stack and stack[0] == sibling:
                proof_flags.append(True)
                stack.popleft()
            else:
                proof_flags.append(False)
                proof.append(_hex(self._tree[sibling]))
            stack.append((index - 1) // 2)
        if not indices:
            proof.append(self.root)
        leaf_nodes = [self._tree[tree_index] for tree_index in indices]
        if (
            self._node_hash is not None
            and _process_multi_proof(leaf_nodes, proof, proof_flags, self._node_hash) != self._tree[0]
        ):
            raise InvalidMerkleTree("Unable to prove values")
        lookup = self._hash_lookup()  # as JS maps leaves back: of equal leaves, the last value given
        return MultiProof([self._values[lookup[node]] for node in leaf_nodes], proof, proof_flags)

    def verify(self, leaf: int | V, proof: Sequence[str | bytes]) -> bool:
        """Whether `proof` leads from the leaf (index or value) to this tree's root."""
        return _process_proof(self._leaf_of(leaf), proof, self._node_hash) == self._tree[0]

    def verify_multi_proof(self, multiproof: MultiProof[int | V]) -> bool:
        """Whether the multiproof's leaves (indices or values) lead to this tree's root."""
        leaves = [self._leaf_of(leaf) for leaf in multiproof.leaves]
        root = _process_multi_proof(leaves, multiproof.proof, multiproof.proof_flags, self._node_hash)
        return root == self._tree[0]

    def _value_index(self, leaf: int | V) -> int:
        return leaf if _is_index(leaf) else self.leaf_lookup(cast(V, leaf))

    def _leaf_of(self, leaf: int | V) -> bytes:
        if _is_index(leaf):
            if not 0 <= leaf < len(self._values):
                raise MerkleTreeError(f"Index out of bounds: {leaf}")
            return self._hash(self._values[leaf])
        return self._hash(cast(V, leaf))

    def _validate_value_at(self, index: int) -> None:
        if not 0 <= index < len(self._values):
            raise MerkleTreeError(f"Index out of bounds: {index}")
        tree_index = self._tree_indices[index]
        if not (
            0 <= tree_index < len(self._tree) and self._tree[tree_index] == self._hash(self._values[index])
        ):
            raise InvalidMerkleTree(f"Merkle tree does not contain the expected value at index {index}")

    def _dumped_values(self) -> list[dict[str, Any]]:
        return [
            {"value": value if self._from_json else _json_value(value), "treeIndex": tree_index}
            for value, tree_index in zip(self._values, self._tree_indices, strict=True)
        ]


def _dumped_node(node: Any) -> bytes:
    if not (isinstance(node, str) and node.startswith("0x")):
        raise MerkleTreeError(f"a dumped tree node is 0x-hex, got {node!r}")
    return _node(node)


class StandardMerkleTree(_MerkleTree[Sequence[Any]]):
    """Leaves are ABI-encoded values hashed twice: JS `StandardMerkleTree`, format "standard-v1".

    Build one with `of()` or `load()`.
    """

    _FORMAT = "standard-v1"

    def __init__(
        self,
        tree: list[bytes],
        values: list[Sequence[Any]],
        tree_indices: list[int],
        encoding: _LeafEncoding,
        from_json: bool = False,
    ) -> None:
        super().__init__(tree, values, tree_indices, None, from_json)
        self._encoding = encoding

    @classmethod
    def of(
        cls, values: Sequence[Sequence[Any]], leaf_encoding: Sequence[str], sort_leaves: bool = True
    ) -> StandardMerkleTree:
        """A tree of `values`, each a list of ABI values typed by `leaf_encoding` (e.g. address, uint256)."""
        encoding = _LeafEncoding(leaf_encoding)
        listed = list(values)
        tree, tree_indices = cls._place(encoding.leaves(listed), sort_leaves, None)
        return cls(tree, listed, tree_indices, encoding)

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> StandardMerkleTree:
        """The tree a `dump()` (of this library or the JS one) describes, validated."""
        tree, values, tree_indices = cls._parse_dump(data, cls._FORMAT)
        if data.get("leafEncoding") is None:
            raise MerkleTreeError("Expected leaf encoding")
        loaded = cls(tree, values, tree_indices, _LeafEncoding(data["leafEncoding"]), from_json=True)
        loaded.validate()
        return loaded

    @staticmethod
    def hash_leaf(leaf_encoding: Sequence[str], value: Sequence[Any]) -> str:
        """The leaf of `value` without a tree, 0x-hex: what a contract recomputes from calldata."""
        return _hex(_LeafEncoding(leaf_encoding).leaf(value))

    @staticmethod
    def verify_proof(
        root: str | bytes, leaf_encoding: Sequence[str], value: Sequence[Any], proof: Sequence[str | bytes]
    ) -> bool:
        """Whether `proof` leads from `value` to `root`, without the tree (JS static `verify`)."""
        leaf = _LeafEncoding(leaf_encoding).leaf(value)
        return _process_proof(leaf, proof, None) == _node(root)

    @staticmethod
    def verify_multi_proof_against(
        root: str | bytes, leaf_encoding: Sequence[str], multiproof: MultiProof[Sequence[Any]]
    ) -> bool:
        """Whether the multiproof's values lead to `root`, without the tree (JS static `verifyMultiProof`)."""
        leaves = _LeafEncoding(leaf_encoding).leaves(list(multiproof.leaves))
        return _process_multi_proof(leaves, multiproof.proof, multiproof.proof_flags, None) == _node(root)

    @property
    def leaf_encoding(self) -> list[str]:
        """The ABI types of a value's elements."""
        return list(self._encoding.types)

    def _hash(self, value: Sequence[Any]) -> bytes:
        return self._encoding.leaf(value)

    def _hash_all(self, values: list[Sequence[Any]]) -> list[bytes]:
        return self._encoding.leaves(values)

    def dump(self) -> dict[str, Any]:
        """The JSON the JS library's dump() gives: format, leafEncoding, tree, values."""
        return {
            "format": self._FORMAT,
            "leafEncoding": self.leaf_encoding,
            "tree": [_hex(node) for node in self._tree],
            "values": self._dumped_values(),
        }


BytesLike = bytes | str


def _simple_leaf(value: Any) -> bytes:
    """The leaf of a SimpleMerkleTree: the value as bytes32 (JS formatLeaf: abi.encode(bytes32))."""
    if isinstance(value, str) and (len(value) % 2 or not value.startswith("0x")):
        raise _fail(value, "bytes32", "expected bytes or 0x-hex with an even number of digits")
    if not isinstance(value, bytes | bytearray | str):
        raise _fail(value, "bytes32", "expected bytes or a 0x-prefixed hex string")
    return _fixed_bytes_coder("bytes32", _WORD).encode(value)


class SimpleMerkleTree(_MerkleTree[BytesLike]):
    """Leaves are bytes32 values as they are: JS `SimpleMerkleTree`, format "simple-v1"."""

    _FORMAT = "simple-v1"

    @classmethod
    def of(
        cls, values: Sequence[BytesLike], sort_leaves: bool = True, node_hash: NodeHash | None = None
    ) -> SimpleMerkleTree:
        """A tree of bytes32 values (bytes or 0x-hex); `node_hash` replaces the sorted-pair keccak."""
        listed = list(values)
        tree, tree_indices = cls._place([_simple_leaf(value) for value in listed], sort_leaves, node_hash)
        return cls(tree, listed, tree_indices, node_hash)

    @classmethod
    def load(cls, data: Mapping[str, Any], node_hash: NodeHash | None = None) -> SimpleMerkleTree:
        """The tree a `dump()` describes, validated; a dump marked `"hash": "custom"` needs its node_hash."""
        tree, values, tree_indices = cls._parse_dump(data, cls._FORMAT)
        if (node_hash is None) == (data.get("hash") == "custom"):
            raise MerkleTreeError(
                "Data does not expect a custom node hashing function"
                if node_hash
                else "Data expects a custom node hashing function"
            )
        loaded = cls(tree, values, tree_indices, node_hash, from_json=True)
        loaded.validate()
        return loaded

    @staticmethod
    def verify_proof(
        root: str | bytes, value: BytesLike, proof: Sequence[str | bytes], node_hash: NodeHash | None = None
    ) -> bool:
        """Whether `proof` leads from `value` to `root`, without the tree (JS static `verify`)."""
        return _process_proof(_simple_leaf(value), proof, node_hash) == _node(root)

    @staticmethod
    def verify_multi_proof_against(
        root: str | bytes, multiproof: MultiProof[BytesLike], node_hash: NodeHash | None = None
    ) -> bool:
        """Whether the multiproof's values lead to `root`, without the tree (JS static `verifyMultiProof`)."""
        leaves = [_simple_leaf(value) for value in multiproof.leaves]
        return _process_multi_proof(leaves, multiproof.proof, multiproof.proof_flags, node_hash) == _node(
            root
        )

    def _hash(self, value: BytesLike) -> bytes:
        return _simple_leaf(value)

    def dump(self) -> dict[str, Any]:
        """The JSON the JS library's dump() gives: format, tree, values (and "hash": "custom")."""
        dumped: dict[str, Any] = {
            "format": self._FORMAT,
            "tree": [_hex(node) for node in self._tree],
            "values": self._dumped_values(),
        }
        if self._node_hash is not None:
            dumped["hash"] = "custom"
        return dumped
