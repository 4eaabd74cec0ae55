// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IConsentGrant} from "../interfaces/IConsentGrant.sol";

/// @title GrantReader
/// @notice Test-only: asks a grant registry from a contract, as a gateway or a trial registry would, and reports
/// the gas the call cost the caller (`gasleft()` before less after: the call with its argument encoding, the
/// registry's account and storage reads, cold on a transaction's first look, and the answer's decoding). The gas
/// benches read it with eth_call (`make bench`) or a plain call (forge). It is the grantee `checkAccess` sees.
contract GrantReader {
    /// @notice `grants.isGrantActive(grantId)` and its gas.
    /// @param grants The registry (ConsentGrants, or the reference layout).
    /// @param grantId The grant.
    /// @return active The answer.
    /// @return gasUsed The gas the call cost this contract.
    function isGrantActive(IConsentGrant grants, bytes32 grantId) external view returns (bool active, uint256 gasUsed) {
        uint256 before = gasleft();
        active = grants.isGrantActive(grantId);
        gasUsed = before - gasleft();
    }

    /// @notice `grants.checkAccess(...)` with this contract as the caller, and its gas.
    /// @param grants The registry.
    /// @param grantId The grant.
    /// @param purposeCode The purpose asked for.
    /// @param op The operation bits asked for.
    /// @param resourceHash keccak256 of the resource's canonical identifier.
    /// @param proof Merkle proof of the resource's leaf under a root-scoped grant (else empty).
    /// @return allowed The answer.
    /// @return gasUsed The gas the call cost this contract.
    function checkAccess(
        IConsentGrant grants,
        bytes32 grantId,
        uint32 purposeCode,
        uint32 op,
        bytes32 resourceHash,
        bytes32[] calldata proof
    ) external view returns (bool allowed, uint256 gasUsed) {
        uint256 before = gasleft();
        allowed = grants.checkAccess(grantId, purposeCode, op, resourceHash, proof);
        gasUsed = before - gasleft();
    }
}
