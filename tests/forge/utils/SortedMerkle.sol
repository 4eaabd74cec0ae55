// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {ITrialRegistry} from "../../../contracts/interfaces/ITrialRegistry.sol";

/// @dev A Merkle tree built the way OpenZeppelin's MerkleProof reads it, written here apart from
/// OpenZeppelin: a parent is keccak256 of its two children, the smaller first; a layer of odd
/// length carries its last node up unhashed. Leaves are double-hashed case-report-form rows, as
/// OpenZeppelin's merkle-tree library hashes a value, so no leaf is also an inner node's preimage.
library SortedMerkle {
    function hashPair(bytes32 a, bytes32 b) internal pure returns (bytes32) {
        return a < b ? keccak256(abi.encodePacked(a, b)) : keccak256(abi.encodePacked(b, a));
    }

    /// @dev A row's leaf, as StandardMerkleTree hashes ["bytes32","address","uint32","string","string"]:
    /// keccak256(keccak256(abi.encode(salt, subject, visit, field, value))).
    function rowLeaf(ITrialRegistry.Row memory row) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(row.salt, row.subject, row.visit, row.field, row.value))));
    }

    /// @dev The root a proof leads to from `leaf`.
    function fold(bytes32 leaf, bytes32[] memory proof) internal pure returns (bytes32 node) {
        node = leaf;
        for (uint256 i; i < proof.length; ++i) {
            node = hashPair(node, proof[i]);
        }
    }

    function rootOf(bytes32[] memory leaves) internal pure returns (bytes32) {
        bytes32[] memory layer = leaves;
        while (layer.length > 1) {
            layer = _parents(layer);
        }
        return layer[0];
    }

    /// @dev The siblings of leaf `index` from the bottom up (none on the levels where it is carried).
    function proofOf(bytes32[] memory leaves, uint256 index) internal pure returns (bytes32[] memory siblings) {
        bytes32[] memory path = new bytes32[](64);
        uint256 depth;
        bytes32[] memory layer = leaves;
        while (layer.length > 1) {
            uint256 sibling = index ^ 1;
            if (sibling < layer.length) path[depth++] = layer[sibling];
            layer = _parents(layer);
            index >>= 1;
        }
        siblings = new bytes32[](depth);
        for (uint256 i; i < depth; ++i) {
            siblings[i] = path[i];
        }
    }

    function _parents(bytes32[] memory layer) private pure returns (bytes32[] memory parents) {
        parents = new bytes32[]((layer.length + 1) / 2);
        for (uint256 i; i < parents.length; ++i) {
            uint256 left = 2 * i;
            parents[i] = left + 1 < layer.length ? hashPair(layer[left], layer[left + 1]) : layer[left];
        }
    }
}
