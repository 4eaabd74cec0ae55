// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title IConsentGrant
/// @notice ERC-8356 "Purpose-Bound Third-Party Data Consent" (Draft; ethereum/ERCs, ERCS/erc-8356.md,
/// commit ab863236a77c3e05bca5a8f34a5fb006a70fd4fd), as the standard prints it. A grant records that a
/// subject, known on chain only by a per-grant commitment, lets a grantee (and optionally its agent) use
/// data for one registered purpose, within a window, over a scope. `grant` and `subGrant` are left out on
/// purpose, as the standard says: their selectors depend on the implementation's calldata encoding
/// (see IConsentGrants). ERC-165 identifier: `type(IConsentGrant).interfaceId`.
interface IConsentGrant {
    /// @notice A root grant was minted.
    /// @param grantId The grant (for a CareChain root grant, its subject commitment).
    /// @param assetTokenId The asset the grant is recorded against (0: none).
    /// @param grantee Who may exercise it.
    /// @param purposeCode The registered purpose.
    /// @param expiresAt When it lapses.
    event ConsentGranted(
        bytes32 indexed grantId, uint256 indexed assetTokenId, address indexed grantee, uint32 purposeCode, uint48 expiresAt
    );

    /// @notice A grantee attenuated a delegable grant into a sub-grant.
    /// @param grantId The new sub-grant.
    /// @param parentGrantId The grant it narrows.
    /// @param depth Its delegation depth (the parent's plus one).
    event ConsentSubGranted(bytes32 indexed grantId, bytes32 indexed parentGrantId, uint16 depth);

    /// @notice A grant left ACTIVE or SUSPENDED for a terminal status, or was suspended.
    /// @param grantId The grant.
    /// @param by Who acted, as a bytes32: the subject commitment for a subject's act, else the caller's address.
    /// @param status The new status (IConsentGrants.Status).
    /// @param reasonCode A machine-readable reason (0: none given).
    event ConsentRevoked(bytes32 indexed grantId, bytes32 indexed by, uint8 status, bytes32 reasonCode);

    /// @notice The agent leg of a grant was revoked; the grant itself survives.
    /// @param grantId The grant.
    /// @param agent The agent whose leg ended.
    /// @param reasonCode A machine-readable reason.
    event AgentRevoked(bytes32 indexed grantId, address indexed agent, bytes32 reasonCode);

    /// @notice The subject withdrew one leaf of a root-scoped grant's scope (for it and every descendant).
    /// @param grantId The grant.
    /// @param leaf The Merkle leaf withdrawn.
    event ScopeLeafRevoked(bytes32 indexed grantId, bytes32 leaf);

    /// @notice A grantee or agent committed the head of its off-chain usage hash chain.
    /// @param grantId The grant.
    /// @param epoch The accounting epoch.
    /// @param headHash The chain head after `count` records of the epoch.
    /// @param count How many records the epoch holds so far.
    event UsageCommitted(bytes32 indexed grantId, uint64 epoch, bytes32 headHash, uint32 count);

    /// @notice Withdraw a grant as its subject, from the subject key itself.
    /// @param grantId The grant.
    /// @param reasonCode A machine-readable reason.
    function revokeBySubject(bytes32 grantId, bytes32 reasonCode) external;

    /// @notice Hand a grant back as its grantee.
    /// @param grantId The grant.
    function renounceByGrantee(bytes32 grantId) external;

    /// @notice End a grant's agent leg (grantee, agent or agent operator); the grant survives.
    /// @param grantId The grant.
    /// @param reasonCode A machine-readable reason.
    function revokeAgent(bytes32 grantId, bytes32 reasonCode) external;

    /// @notice Withdraw one leaf of a root-scoped grant, from the subject key itself.
    /// @param grantId The grant.
    /// @param leaf The Merkle leaf to withdraw.
    function revokeScopeLeaf(bytes32 grantId, bytes32 leaf) external;

    /// @notice Withdraw a grant with the subject's signature, submitted by anyone.
    /// @param grantId The grant.
    /// @param reasonCode A machine-readable reason.
    /// @param subjectSig The subject's authentication (CareChain: abi.encode(subjectSalt, signature)).
    function revokeBySubjectWithSig(bytes32 grantId, bytes32 reasonCode, bytes calldata subjectSig) external;

    /// @notice Withdraw one scope leaf with the subject's signature, submitted by anyone.
    /// @param grantId The grant.
    /// @param leaf The Merkle leaf to withdraw.
    /// @param subjectSig The subject's authentication (CareChain: abi.encode(subjectSalt, signature)).
    function revokeScopeLeafWithSig(bytes32 grantId, bytes32 leaf, bytes calldata subjectSig) external;

    /// @notice Incident-response hold, by the grantee or the agent operator.
    /// @param grantId The grant.
    /// @param reasonCode A machine-readable reason.
    function suspend(bytes32 grantId, bytes32 reasonCode) external;

    /// @notice Lift a hold; only the party that suspended.
    /// @param grantId The grant.
    function resume(bytes32 grantId) external;

    /// @notice Programme or study closure, by the implementation's issuer role.
    /// @param grantId The grant.
    /// @param reasonCode A machine-readable reason.
    function terminateByIssuer(bytes32 grantId, bytes32 reasonCode) external;

    /// @notice Whether the caller may perform `op` for `purposeCode` on a resource under this grant.
    /// @param grantId The grant.
    /// @param purposeCode The purpose asked for (equality with the grant's).
    /// @param op The operation bits asked for (ERC-8356 ops).
    /// @param resourceHash keccak256 of the resource's canonical identifier.
    /// @param proof Merkle proof of the resource's leaf under a root-scoped grant's scope.
    /// @return True when the grant and its ancestors are active and the caller, purpose, op and resource match.
    function checkAccess(bytes32 grantId, uint32 purposeCode, uint32 op, bytes32 resourceHash, bytes32[] calldata proof)
        external
        view
        returns (bool);

    /// @notice Whether the grant and every ancestor are ACTIVE, in their window and under their use cap.
    /// @param grantId The grant.
    /// @return The authorization answer.
    function isGrantActive(bytes32 grantId) external view returns (bool);

    /// @notice The status to display: the grant's own, or the first terminal one inherited from an ancestor.
    /// @param grantId The grant.
    /// @return The status (IConsentGrants.Status).
    function effectiveStatus(bytes32 grantId) external view returns (uint8);

    /// @notice The subject commitment of a grant.
    /// @param grantId The grant.
    /// @return subjectCommit keccak256(abi.encode(subjectSalt, subjectKey)).
    function subjectOf(bytes32 grantId) external view returns (bytes32 subjectCommit);

    /// @notice The next signature nonce of a subject commitment.
    /// @param subjectCommit The commitment.
    /// @return The nonce the next subject signature must carry.
    function nonces(bytes32 subjectCommit) external view returns (uint256);

    /// @notice A counter that increases on every revocation of any kind.
    /// @return The current epoch.
    function revocationEpoch() external view returns (uint256);

    /// @notice Commit the head of the grant's usage hash chain for an epoch (grantee or agent).
    /// @param grantId The grant.
    /// @param epoch The accounting epoch.
    /// @param headHash The chain head after `count` records.
    /// @param count The epoch's record count so far (monotonic).
    function commitUsage(bytes32 grantId, uint64 epoch, bytes32 headHash, uint32 count) external;
}
