"""A grant's scope over several resources: a Merkle tree of salted resource names (`FLAG_SCOPE_IS_ROOT`).

Its values are [scopeSalt, keccak256(name)] of types ["bytes32", "bytes32"], so OpenZeppelin's
StandardMerkleTree (this package's and the JS one) makes exactly ERC-8356's leaf,
`carechain.core.grants.scope_leaf`. The root is the grant's `scopeRef`; a name's proof is what
`checkAccess` and `subGrant` take, and its leaf what `revokeScopeLeaf` withdraws.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from eth_utils.crypto import keccak

from carechain.core.grants import scope_leaf
from carechain.core.values import bytes32
from carechain.errors import InputError
from carechain.offchain.merkle import StandardMerkleTree

LEAF_ENCODING: Final = ("bytes32", "bytes32")


class ScopeTree:
    """The scope of one grant over `names` (resource names, e.g. `carechain:category:labs`)."""

    def __init__(self, scope_salt: bytes, names: Sequence[str]) -> None:
        if isinstance(names, str):
            raise InputError("a scope tree takes a list of resource names, not one string")
        self._salt = bytes32(scope_salt, "scope salt")
        self._names = tuple(names)
        if not self._names:
            raise InputError("a scope tree holds at least one resource name")
        self._leaves = [scope_leaf(self._salt, name) for name in self._names]  # checks every name
        self._index = {name: i for i, name in enumerate(self._names)}
        if len(self._index) < len(self._names):
            raise InputError("a scope tree names each resource once: the names repeat one")
        self._tree = StandardMerkleTree.of(
            [[self._salt, keccak(text=name)] for name in self._names], LEAF_ENCODING
        )

    @property
    def names(self) -> tuple[str, ...]:
        """The resource names, in the order given."""
        return self._names

    @property
    def root(self) -> bytes:
        """The grant's `scopeRef` (for a single name, that name's leaf)."""
        return bytes.fromhex(self._tree.root[2:])

    def leaf(self, name: str) -> bytes:
        """The leaf of `name`, what `revokeScopeLeaf` withdraws."""
        return self._leaves[self._position(name)]

    def proof(self, name: str) -> list[bytes]:
        """The sibling hashes from `name`'s leaf to the root (empty for a single-name tree)."""
        return [bytes.fromhex(node[2:]) for node in self._tree.get_proof(self._position(name))]

    def _position(self, name: str) -> int:
        position = self._index.get(name)
        if position is None:
            raise InputError(f"{name!r} is not in this scope")
        return position
