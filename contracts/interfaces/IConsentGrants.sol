// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IConsentGrant} from "./IConsentGrant.sol";

/// @title IConsentGrants
/// @notice CareChain's ERC-8356 grant registry: IConsentGrant plus the calldata encoding of `grant` and
/// `subGrant` (the standard leaves it to the implementation), a batch of signed grants whose items stand or
/// fall alone, a signed nonce burn, agent operators, and the full grant as a view. Every subject act carries
/// `subjectSig = abi.encode(bytes32 subjectSalt, bytes signature)` and is submitted by a relayer: the subject
/// key never sends a transaction. The subject paths without a signature (`revokeBySubject`,
/// `revokeScopeLeaf`) revert `SubjectSignatureRequired` (a listed deviation: docs/conformance.md).
/// @dev docs/private-consent.md has the storage layout and the typed data.
interface IConsentGrants is IConsentGrant {
    /* ------------------------------------------------------------------ */
    /*                          ENUMS AND STRUCTS                         */
    /* ------------------------------------------------------------------ */

    /// @notice ERC-8356's statuses; REVOKED_BY_SUBJECT .. SUPERSEDED but SUSPENDED are terminal.
    enum Status {
        NONE,
        ACTIVE,
        REVOKED_BY_SUBJECT,
        RENOUNCED_BY_GRANTEE,
        TERMINATED_BY_ISSUER,
        SUSPENDED,
        EXHAUSTED,
        SUPERSEDED
    }

    /// @notice ERC-8356's kinds of agent leg.
    enum AgentKind {
        NONE,
        SESSION_KEY,
        EXTERNAL_REGISTRY,
        TOKEN_BOUND_ACCOUNT,
        ASSERTED_UNVERIFIED
    }

    /// @notice The agent leg's own status, revocable without the grant.
    enum AgentStatus {
        NONE,
        ACTIVE,
        REVOKED
    }

    /// @notice What a caller passes to `grant` and `subGrant`: the signed fields of ERC-8356's `Grant` typed data
    /// but the nonce (taken from state). The contract-controlled fields (status, depth, parent, agent status, use
    /// count, last use) are not in it.
    /// @param scopeRef A salted resource hash, or a Merkle root of salted leaves when policy's flags hold
    /// FLAG_SCOPE_IS_ROOT.
    /// @param purposeProfileRef Hash of the canonical (RFC 8785) purpose profile template.
    /// @param termsRef Hash of the versioned consent template.
    /// @param assetTokenId The asset the grant is recorded against (0: none).
    /// @param subjectCommit keccak256(abi.encode(subjectSalt, subjectKey)); a root grant's id.
    /// @param grantee Who may exercise the grant.
    /// @param agent An agent acting for the grantee (0: none).
    /// @param policy notBefore, expiresAt, ops, purposeCode, usesMax, agentKind and flags, packed as ERC-8356 says.
    struct GrantInput {
        bytes32 scopeRef;
        bytes32 purposeProfileRef;
        bytes32 termsRef;
        uint256 assetTokenId;
        bytes32 subjectCommit;
        address grantee;
        address agent;
        uint256 policy;
    }

    /// @notice A grant as ERC-8356 prints it (slots 0-8), assembled from CareChain's packed words.
    struct ConsentGrant {
        bytes32 scopeRef;
        bytes32 purposeProfileRef;
        bytes32 termsRef;
        bytes32 parentGrantId;
        uint256 assetTokenId;
        bytes32 subjectCommit;
        address grantee;
        uint48 notBefore;
        uint48 expiresAt;
        address agent;
        uint32 ops;
        uint32 purposeCode;
        uint8 status;
        uint8 flags;
        uint16 depth;
        uint8 agentKind;
        uint8 agentStatus;
        uint48 lastUsedAt;
        uint16 useCount;
        uint16 usesMax;
    }

    /// @notice Which attenuation rule a sub-grant broke.
    enum Attenuation {
        SUBJECT,
        OPS,
        EXPIRY,
        NOT_BEFORE,
        USES,
        PURPOSE,
        ASSET,
        SCOPE
    }

    /* ------------------------------------------------------------------ */
    /*                               EVENTS                               */
    /* ------------------------------------------------------------------ */

    /// @notice One item of a signed batch failed; the others went on.
    /// @param index Its position in the batch.
    /// @param subjectCommit The grant it would have minted.
    /// @param reason The revert data's first four bytes (the named error's selector; 0 when none).
    event GrantFailed(uint256 indexed index, bytes32 indexed subjectCommit, bytes4 reason);

    /// @notice A subject cancelled its unsubmitted signatures by consuming a nonce.
    /// @param subjectCommit The commitment.
    /// @param nonce The nonce consumed.
    event NonceBurned(bytes32 indexed subjectCommit, uint256 nonce);

    /// @notice A suspended grant was resumed.
    /// @param grantId The grant.
    /// @param by Who resumed it.
    event ConsentResumed(bytes32 indexed grantId, address indexed by);

    /// @notice An agent named the operator accountable for it (or the operator handed over).
    /// @param agent The agent.
    /// @param operator Its operator.
    event AgentOperatorSet(address indexed agent, address indexed operator);

    /// @notice A pair of template references was stored for the first time.
    /// @param index The index grants store.
    /// @param purposeProfileRef The purpose profile template's hash.
    /// @param termsRef The consent template's hash.
    event RefsInterned(uint32 indexed index, bytes32 purposeProfileRef, bytes32 termsRef);

    /* ------------------------------------------------------------------ */
    /*                               ERRORS                               */
    /* ------------------------------------------------------------------ */

    /// @notice A grant with this id exists (or existed): a new grant needs a new id.
    /// @param grantId The id.
    error GrantExists(bytes32 grantId);
    /// @notice No grant has this id.
    /// @param grantId The id.
    error UnknownGrant(bytes32 grantId);
    /// @notice The subject signature is malformed, invalid, or not by the key the commitment opens to.
    /// @param subjectCommit The commitment it had to open.
    error InvalidSubjectSignature(bytes32 subjectCommit);
    /// @notice CareChain takes subject acts only signed and relayed (the salt authenticates the subject).
    error SubjectSignatureRequired();
    /// @notice The policy word has a reserved bit set, no ops, or a value out of range.
    /// @param policy The policy.
    error InvalidPolicy(uint256 policy);
    /// @notice The window is empty or already over.
    /// @param notBefore Start.
    /// @param expiresAt End (exclusive).
    /// @param currentTime Block time.
    error InvalidWindow(uint48 notBefore, uint48 expiresAt, uint64 currentTime);
    /// @notice The purpose code is not in the purpose registry.
    /// @param purposeCode The code.
    error PurposeNotRegistered(uint32 purposeCode);
    /// @notice A grant needs a grantee (and a subject commitment).
    /// @param grantee The grantee given.
    error InvalidGrantee(address grantee);
    /// @notice The agent and its kind disagree (an agent without a kind, or a kind without an agent).
    /// @param agent The agent.
    /// @param agentKind Its kind.
    error InvalidAgent(address agent, uint8 agentKind);
    /// @notice Only the grant's grantee may do this.
    /// @param grantId The grant.
    /// @param caller Who called.
    error NotGrantee(bytes32 grantId, address caller);
    /// @notice The caller may not do this to the grant.
    /// @param grantId The grant.
    /// @param caller Who called.
    error NotAuthorized(bytes32 grantId, address caller);
    /// @notice The parent grant does not allow delegation.
    /// @param parentGrantId The parent.
    error NotDelegable(bytes32 parentGrantId);
    /// @notice A sub-grant must not exceed its parent.
    /// @param parentGrantId The parent.
    /// @param rule The rule it broke.
    error AttenuationViolated(bytes32 parentGrantId, Attenuation rule);
    /// @notice The delegation chain would be deeper than MAX_DEPTH.
    /// @param depth The depth asked for.
    error DepthExceeded(uint16 depth);
    /// @notice The grant is not in a status this act applies to.
    /// @param grantId The grant.
    /// @param status Its status.
    error WrongStatus(bytes32 grantId, uint8 status);
    /// @notice The grant has no live agent leg.
    /// @param grantId The grant.
    error NoAgentLeg(bytes32 grantId);
    /// @notice A usage count may not go down within an epoch.
    /// @param grantId The grant.
    /// @param epoch The epoch.
    /// @param committed The count already committed.
    error UsageCountDecreased(bytes32 grantId, uint64 epoch, uint32 committed);
    /// @notice Scope leaves exist only under a root-scoped grant.
    /// @param grantId The grant.
    error NotScopeRoot(bytes32 grantId);
    /// @notice The leaf is already withdrawn.
    /// @param grantId The grant.
    /// @param leaf The leaf.
    error LeafAlreadyWithdrawn(bytes32 grantId, bytes32 leaf);
    /// @notice The agent already has an operator; only that operator hands over.
    /// @param agent The agent.
    /// @param operator Its operator.
    error NotAgentOperator(address agent, address operator);
    /// @notice The batch's two arrays differ in length.
    error LengthMismatch();
    /// @notice Only the contract itself calls this (one batch item at a time).
    error OnlySelf();
    /// @notice Too many template pairs (2^32) have been stored.
    error RefsFull();
    /// @notice A guardian's key grants nothing that outlasts the guardian's term.
    /// @param expiresAt The grant's expiry.
    /// @param authorityEndsAt When the signer's authority ends.
    error BeyondAuthority(uint48 expiresAt, uint48 authorityEndsAt);

    /* ------------------------------------------------------------------ */
    /*                              FUNCTIONS                             */
    /* ------------------------------------------------------------------ */

    /// @notice Mint a root grant signed by its subject key; anyone (the relayer) submits it.
    /// @param g The grant; its id is `g.subjectCommit`.
    /// @param subjectSig abi.encode(subjectSalt, signature) over ERC-8356's Grant typed data with the subject's nonce.
    /// @return grantId The new grant's id.
    function grant(GrantInput calldata g, bytes calldata subjectSig) external returns (bytes32 grantId);

    /// @notice Mint many signed root grants; an item that fails is skipped and reported (GrantFailed).
    /// @param gs The grants.
    /// @param subjectSigs One subject signature per grant.
    /// @return minted How many grants were minted.
    function grantBatch(GrantInput[] calldata gs, bytes[] calldata subjectSigs) external returns (uint256 minted);

    /// @notice One batch item, called by the contract itself so a failing item reverts alone.
    /// @param g The grant.
    /// @param subjectSig Its subject signature.
    function grantFromBatch(GrantInput calldata g, bytes calldata subjectSig) external;

    /// @notice Attenuate a delegable grant (its grantee only) into a narrower one for another grantee.
    /// @param parentGrantId The parent.
    /// @param g The sub-grant: same subject commitment, ops a subset, window inside, purpose equal or narrowing.
    /// @param scopeProof When the parent is root-scoped and the child names one resource: the proof of its leaf.
    /// @return grantId keccak256(abi.encode(parentGrantId, g)).
    function subGrant(bytes32 parentGrantId, GrantInput calldata g, bytes32[] calldata scopeProof)
        external
        returns (bytes32 grantId);

    /// @notice Consume the subject's nonce, cancelling every signature made with it that was never submitted.
    /// @param subjectCommit The commitment.
    /// @param subjectSig abi.encode(subjectSalt, signature) over BurnNonce(subjectCommit, nonce).
    function burnNonce(bytes32 subjectCommit, bytes calldata subjectSig) external;

    /// @notice Name the caller's operator (the caller is an agent); once named, only the operator hands over.
    /// @param agent The agent (the caller, or an agent whose operator is the caller).
    /// @param operator The accountable operator.
    function setAgentOperator(address agent, address operator) external;

    /// @notice Store a (purpose profile, consent template) pair ahead of its first grant, so no patient's grant pays
    /// for it (a deployment interns the templates it ships); anyone may, and a pair already stored costs nothing more.
    /// @param purposeProfileRef The purpose profile template's hash.
    /// @param termsRef The consent template's hash.
    /// @return index The pair's index.
    function internRefs(bytes32 purposeProfileRef, bytes32 termsRef) external returns (uint32 index);

    /// @notice The index a stored template pair has (0: not stored yet).
    /// @param purposeProfileRef The purpose profile template's hash.
    /// @param termsRef The consent template's hash.
    /// @return The index grants store.
    function refsIndex(bytes32 purposeProfileRef, bytes32 termsRef) external view returns (uint32);

    /// @notice A grant as ERC-8356 prints it.
    /// @param grantId The grant.
    /// @return The grant (status NONE: no such grant).
    function getGrant(bytes32 grantId) external view returns (ConsentGrant memory);

    /// @notice The purpose registry root grants' codes must be registered in (0: none; sub-grants then need equal codes).
    /// @return The registry.
    function purposeRegistry() external view returns (address);

    /// @notice The operator accountable for an agent (0: none named).
    /// @param agent The agent.
    /// @return The operator.
    function agentOperatorOf(address agent) external view returns (address);

    /// @notice Whether a scope leaf has been withdrawn on this grant itself (ancestors not included).
    /// @param grantId The grant.
    /// @param leaf The Merkle leaf.
    /// @return True when withdrawn.
    function isLeafWithdrawn(bytes32 grantId, bytes32 leaf) external view returns (bool);

    /// @notice The usage count last committed for a grant and epoch.
    /// @param grantId The grant.
    /// @param epoch The epoch.
    /// @return The count.
    function usageCount(bytes32 grantId, uint64 epoch) external view returns (uint32);

    /// @notice The EIP-712 digest a subject signs for a grant with a given nonce.
    /// @param g The grant.
    /// @param nonce The subject's nonce.
    /// @return The digest.
    function grantDigest(GrantInput calldata g, uint256 nonce) external view returns (bytes32);
}
