// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @notice Test-only: OpenZeppelin's MerkleProof as external calls, and leaves computed the way a
/// contract recomputes them from calldata, so tests can check Python's trees against Solidity.
contract MerkleProofHarness {
    function verify(bytes32[] calldata proof, bytes32 root, bytes32 leaf) external pure returns (bool) {
        return MerkleProof.verifyCalldata(proof, root, leaf);
    }

    function multiProofVerify(
        bytes32[] calldata proof,
        bool[] calldata proofFlags,
        bytes32 root,
        bytes32[] calldata leaves
    ) external pure returns (bool) {
        return MerkleProof.multiProofVerifyCalldata(proof, proofFlags, root, leaves);
    }

    /// @notice The StandardMerkleTree leaf of ["address", "uint256"] (an airdrop or allowance list).
    function accountLeaf(address account, uint256 amount) external pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(account, amount))));
    }

    /// @notice The StandardMerkleTree leaf of ["string", "int64", "bytes", "uint8[]", "bool"]: dynamic types.
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
