// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title MerkleProofHarness
/// @notice Test-only: OpenZeppelin's MerkleProof as external calls, and leaves computed the way a
/// contract recomputes them from calldata, so tests can check Python's trees against Solidity.
contract MerkleProofHarness {
    /// @notice OpenZeppelin's `MerkleProof.verifyCalldata`.
    /// @param proof The sibling hashes from the leaf up to the root.
    /// @param root The tree's root.
    /// @param leaf The leaf hash.
    /// @return True if the proof shows `leaf` under `root`.
    function verify(bytes32[] calldata proof, bytes32 root, bytes32 leaf) external pure returns (bool) {
        return MerkleProof.verifyCalldata(proof, root, leaf);
    }

    /// @notice OpenZeppelin's `MerkleProof.multiProofVerifyCalldata`.
    /// @param proof The multiproof's sibling hashes.
    /// @param proofFlags The multiproof's flags.
    /// @param root The tree's root.
    /// @param leaves The leaf hashes, in the multiproof's order.
    /// @return True if the multiproof shows every leaf under `root`.
    function multiProofVerify(
        bytes32[] calldata proof,
        bool[] calldata proofFlags,
        bytes32 root,
        bytes32[] calldata leaves
    ) external pure returns (bool) {
        return MerkleProof.multiProofVerifyCalldata(proof, proofFlags, root, leaves);
    }

    /// @notice The StandardMerkleTree leaf of ["address", "uint256"] (an airdrop or allowance list).
    /// @param account The row's address.
    /// @param amount The row's amount.
    /// @return The leaf hash.
    function accountLeaf(address account, uint256 amount) external pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(account, amount))));
    }

    /// @notice The StandardMerkleTree leaf of ["string", "int64", "bytes", "uint8[]", "bool"]: dynamic types.
    /// @param text The row's string.
    /// @param delta The row's int64.
    /// @param data The row's bytes.
    /// @param small The row's uint8 array.
    /// @param flag The row's bool.
    /// @return The leaf hash.
    function mixedLeaf(
        string calldata text,
        int64 delta,
        bytes calldata data,
        uint8[] calldata small,
        bool flag
    ) external pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(text, delta, data, small, flag))));
    }
}
