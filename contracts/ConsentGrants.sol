// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

import {IConsentGrant} from "./interfaces/IConsentGrant.sol";
import {IConsentGrants} from "./interfaces/IConsentGrants.sol";
import {IPurposeCodes} from "./interfaces/IPurposeRegistry.sol";
import {Clock} from "./utils/Common.sol";

/// @title IGuardianAuthority
/// @notice What a subject key that acts for someone else (a guardianship account) says about its authority:
/// nothing it signs may outlast `authorityEndsAt()`.
interface IGuardianAuthority {
    /// @notice When the authority of the key's current signer ends (type(uint48).max: it does not end).
    /// @return The time.
    function authorityEndsAt() external view returns (uint48);
}

/// @title ConsentGrants
/// @notice ERC-8356 grants keyed by per-grant subject commitments: no patient address is stored, emitted or
/// needed. docs/private-consent.md has the design, docs/conformance.md the standard's rules and their tests.
/// @dev A grant is seven words, of which a root grant without an agent writes three (word 0: status, window,
/// usage, tree position and the subject's nonce; word 1: grantee, ops, purpose, template pair; word 2: scope).
contract ConsentGrants is IConsentGrants, AccessControl, EIP712, Clock {
    /// @notice Who may terminate the grants made to it (a trial registry, a data-access committee).
    bytes32 public constant ISSUER_ROLE = keccak256("carechain.ISSUER");
    /// @notice How deep a chain of sub-grants may go (a root grant is depth 0).
    uint16 public constant MAX_DEPTH = 4;

    /// @dev ERC-8356's typed data, verbatim (normative), and CareChain's signed subject acts in the same domain.
    bytes32 private constant GRANT_TYPEHASH = keccak256(
        "Grant(bytes32 scopeRef,bytes32 purposeProfileRef,bytes32 termsRef,uint256 assetTokenId,bytes32 subjectCommit,address grantee,address agent,uint256 policy,uint256 nonce)"
    );
    bytes32 private constant REVOKE_TYPEHASH =
        keccak256("RevokeBySubject(bytes32 grantId,bytes32 reasonCode,uint256 nonce)");
    bytes32 private constant REVOKE_LEAF_TYPEHASH =
        keccak256("RevokeScopeLeaf(bytes32 grantId,bytes32 leaf,uint256 nonce)");
    bytes32 private constant BURN_TYPEHASH = keccak256("BurnNonce(bytes32 subjectCommit,uint256 nonce)");

    uint8 private constant FLAG_SCOPE_IS_ROOT = 0x01;
    uint8 private constant FLAG_DELEGABLE = 0x02;
    uint8 private constant KNOWN_FLAGS = 0x07;
    uint32 private constant KNOWN_OPS = 0x1f;
    uint8 private constant BY_GRANTEE = 1;
    uint8 private constant BY_OPERATOR = 2;

    // Word 0 (bit offsets).
    uint256 private constant W0_NOT_BEFORE = 8;
    uint256 private constant W0_EXPIRES = 56;
    uint256 private constant W0_USES_MAX = 104;
    uint256 private constant W0_USE_COUNT = 120;
    uint256 private constant W0_LAST_USED = 136;
    uint256 private constant W0_DEPTH = 184;
    uint256 private constant W0_FLAGS = 200;
    uint256 private constant W0_SUSPENDED_BY = 208;
    uint256 private constant W0_NONCE = 216;
    uint256 private constant NONCE_MASK = (1 << 40) - 1;
    uint256 private constant M8 = 0xff;
    uint256 private constant M16 = 0xffff;
    uint256 private constant M32 = 0xffffffff;
    uint256 private constant M48 = 0xffffffffffff;

    /// @dev One grant; words 3-6 stay zero unless the grant has an agent, a parent or an asset.
    struct Record {
        uint256 w0;
        uint256 w1;
        bytes32 scopeRef;
        uint256 w3;
        bytes32 parentGrantId;
        bytes32 subjectCommit;
        uint256 assetTokenId;
    }

    IPurposeCodes private immutable _purposes;
    uint256 private _revocationEpoch;
    mapping(bytes32 grantId => Record) private _records;
    mapping(bytes32 pairHash => uint32 index) private _refsIndex;
    bytes32[2][] private _refs;
    mapping(bytes32 grantId => mapping(bytes32 leaf => bool)) private _withdrawn;
    mapping(bytes32 grantId => mapping(uint64 epoch => uint32)) private _usage;
    mapping(address agent => address) private _operators;

    /// @notice Deploy with an admin (who appoints issuers) and a purpose registry.
    /// @param admin Who appoints issuers (the deployer on a local chain, a multisig or timelock on a public one).
    /// @param purposes The purpose registry (0: none; root grants then take any code, sub-grants need equal codes).
    constructor(address admin, IPurposeCodes purposes) EIP712("ConsentGrant", "1") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _purposes = purposes;
        // Index 0 means "not interned yet".
        _refs.push([bytes32(0), bytes32(0)]);
        // The epoch starts at 1, so a revocation moves a non-zero word (5,000 gas) rather than setting a zero one
        // (20,000) the first time.
        _revocationEpoch = 1;
    }

    /* ------------------------------------------------------------------ */
    /*                                MINT                                */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IConsentGrants
    function grant(GrantInput calldata g, bytes calldata subjectSig) external returns (bytes32) {
        return _grant(g, subjectSig);
    }

    /// @inheritdoc IConsentGrants
    function grantBatch(GrantInput[] calldata gs, bytes[] calldata subjectSigs) external returns (uint256 minted) {
        uint256 n = gs.length;
        if (n != subjectSigs.length) revert LengthMismatch();
        for (uint256 i = 0; i < n; ++i) {
            try this.grantFromBatch(gs[i], subjectSigs[i]) {
                ++minted;
            } catch (bytes memory reason) {
                emit GrantFailed(i, gs[i].subjectCommit, bytes4(reason));
            }
        }
    }

    /// @inheritdoc IConsentGrants
    function grantFromBatch(GrantInput calldata g, bytes calldata subjectSig) external {
        if (msg.sender != address(this)) revert OnlySelf();
        _grant(g, subjectSig);
    }

    function _grant(GrantInput calldata g, bytes calldata subjectSig) private returns (bytes32 grantId) {
        grantId = g.subjectCommit;
        Record storage r = _records[grantId];
        uint256 w0 = r.w0;
        if (w0 & M8 != 0) revert GrantExists(grantId);
        uint256 policy = g.policy;
        uint32 purposeCode = uint32(policy >> 128);
        _checkPolicy(g, policy);
        if (address(_purposes) != address(0) && !_purposes.isRegistered(purposeCode)) {
            revert PurposeNotRegistered(purposeCode);
        }
        uint256 nonce = w0 >> W0_NONCE;
        address key = _subjectKey(grantId, _hashTypedDataV4(_grantStructHash(g, nonce)), subjectSig);
        // A guardian's key (a guardianship account) grants nothing that outlasts the guardian's term.
        if (key.code.length != 0) _checkAuthority(key, uint48(policy >> 48));
        r.w0 = _word0(policy, 0, nonce + 1);
        r.w1 = _word1(g.grantee, policy, _intern(g.purposeProfileRef, g.termsRef));
        r.scopeRef = g.scopeRef;
        if (g.agent != address(0)) r.w3 = _word3(g.agent, policy);
        if (g.assetTokenId != 0) r.assetTokenId = g.assetTokenId;
        emit ConsentGranted(grantId, g.assetTokenId, g.grantee, purposeCode, uint48(policy >> 48));
    }

    /// @inheritdoc IConsentGrants
    function subGrant(bytes32 parentGrantId, GrantInput calldata g, bytes32[] calldata scopeProof)
        external
        returns (bytes32 grantId)
    {
        Record storage p = _records[parentGrantId];
        uint256 pw0 = p.w0;
        uint256 pw1 = p.w1;
        if (pw0 & M8 == 0) revert UnknownGrant(parentGrantId);
        if (msg.sender != address(uint160(pw1))) revert NotGrantee(parentGrantId, msg.sender);
        if ((pw0 >> W0_FLAGS) & FLAG_DELEGABLE == 0) revert NotDelegable(parentGrantId);
        if (!_isActive(parentGrantId)) revert WrongStatus(parentGrantId, _effectiveStatus(parentGrantId));
        uint256 policy = g.policy;
        _checkPolicy(g, policy);
        uint16 depth = uint16(pw0 >> W0_DEPTH) + 1;
        if (depth > MAX_DEPTH) revert DepthExceeded(depth);
        _checkAttenuation(parentGrantId, p, g, scopeProof);

        grantId = keccak256(abi.encode(parentGrantId, g));
        Record storage r = _records[grantId];
        if (r.w0 & M8 != 0) revert GrantExists(grantId);
        r.w0 = _word0(policy, depth, 0);
        r.w1 = _word1(g.grantee, policy, _intern(g.purposeProfileRef, g.termsRef));
        r.scopeRef = g.scopeRef;
        if (g.agent != address(0)) r.w3 = _word3(g.agent, policy);
        r.parentGrantId = parentGrantId;
        r.subjectCommit = g.subjectCommit;
        if (g.assetTokenId != 0) r.assetTokenId = g.assetTokenId;
        emit ConsentSubGranted(grantId, parentGrantId, depth);
    }

    /// @inheritdoc IConsentGrants
    function internRefs(bytes32 purposeProfileRef, bytes32 termsRef) external returns (uint32) {
        return _intern(purposeProfileRef, termsRef);
    }

    /* ------------------------------------------------------------------ */
    /*                            SUBJECT ACTS                            */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IConsentGrant
    /// @dev A listed deviation: CareChain's subject keys never send transactions (every subject act is relayed,
    /// so no key's gas payment links two grants), and the salt that authenticates the subject has no parameter here.
    function revokeBySubject(bytes32, bytes32) external pure {
        revert SubjectSignatureRequired();
    }

    /// @inheritdoc IConsentGrant
    /// @dev A listed deviation, as `revokeBySubject`.
    function revokeScopeLeaf(bytes32, bytes32) external pure {
        revert SubjectSignatureRequired();
    }

    /// @inheritdoc IConsentGrant
    function revokeBySubjectWithSig(bytes32 grantId, bytes32 reasonCode, bytes calldata subjectSig) external {
        Record storage r = _records[grantId];
        uint256 w0 = r.w0;
        uint8 status = uint8(w0);
        if (status != uint8(Status.ACTIVE) && status != uint8(Status.SUSPENDED)) revert WrongStatus(grantId, status);
        bytes32 subject = _subjectOf(grantId, w0, r);
        _useSubjectSig(subject, keccak256(abi.encode(REVOKE_TYPEHASH, grantId, reasonCode, _nonce(subject))), subjectSig);
        // Re-read: for a root grant the nonce just consumed lives in this same word.
        r.w0 = (r.w0 & ~M8) | uint8(Status.REVOKED_BY_SUBJECT);
        _bumpEpoch();
        emit ConsentRevoked(grantId, subject, uint8(Status.REVOKED_BY_SUBJECT), reasonCode);
    }

    /// @inheritdoc IConsentGrant
    function revokeScopeLeafWithSig(bytes32 grantId, bytes32 leaf, bytes calldata subjectSig) external {
        Record storage r = _records[grantId];
        uint256 w0 = r.w0;
        if (w0 & M8 == 0) revert UnknownGrant(grantId);
        if ((w0 >> W0_FLAGS) & FLAG_SCOPE_IS_ROOT == 0) revert NotScopeRoot(grantId);
        if (_withdrawn[grantId][leaf]) revert LeafAlreadyWithdrawn(grantId, leaf);
        bytes32 subject = _subjectOf(grantId, w0, r);
        _useSubjectSig(subject, keccak256(abi.encode(REVOKE_LEAF_TYPEHASH, grantId, leaf, _nonce(subject))), subjectSig);
        _withdrawn[grantId][leaf] = true;
        _bumpEpoch();
        emit ScopeLeafRevoked(grantId, leaf);
    }

    /// @inheritdoc IConsentGrants
    function burnNonce(bytes32 subjectCommit, bytes calldata subjectSig) external {
        uint256 nonce = _nonce(subjectCommit);
        _useSubjectSig(subjectCommit, keccak256(abi.encode(BURN_TYPEHASH, subjectCommit, nonce)), subjectSig);
        emit NonceBurned(subjectCommit, nonce);
    }

    /* ------------------------------------------------------------------ */
    /*                     GRANTEE, AGENT AND ISSUER                      */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IConsentGrant
    function renounceByGrantee(bytes32 grantId) external {
        Record storage r = _records[grantId];
        if (msg.sender != address(uint160(r.w1))) revert NotGrantee(grantId, msg.sender);
        _endActive(grantId, r, Status.RENOUNCED_BY_GRANTEE, bytes32(0));
    }

    /// @inheritdoc IConsentGrant
    /// @dev The issuer of a grant is its grantee when the grantee holds ISSUER_ROLE (a programme closing its own
    /// grants: a trial registry, a data-access committee); the status then says the programme ended, not that the
    /// grantee walked away.
    function terminateByIssuer(bytes32 grantId, bytes32 reasonCode) external onlyRole(ISSUER_ROLE) {
        Record storage r = _records[grantId];
        if (msg.sender != address(uint160(r.w1))) revert NotGrantee(grantId, msg.sender);
        _endActive(grantId, r, Status.TERMINATED_BY_ISSUER, reasonCode);
    }

    /// @inheritdoc IConsentGrant
    function suspend(bytes32 grantId, bytes32 reasonCode) external {
        Record storage r = _records[grantId];
        uint256 w0 = r.w0;
        if (uint8(w0) != uint8(Status.ACTIVE)) revert WrongStatus(grantId, uint8(w0));
        uint256 by = msg.sender == address(uint160(r.w1)) ? BY_GRANTEE : BY_OPERATOR;
        if (by == BY_OPERATOR && !_isOperatorOf(r.w3, msg.sender)) revert NotAuthorized(grantId, msg.sender);
        r.w0 = (w0 & ~(M8 | (M8 << W0_SUSPENDED_BY))) | uint8(Status.SUSPENDED) | (by << W0_SUSPENDED_BY);
        _bumpEpoch();
        emit ConsentRevoked(grantId, bytes32(uint256(uint160(msg.sender))), uint8(Status.SUSPENDED), reasonCode);
    }

    /// @inheritdoc IConsentGrant
    function resume(bytes32 grantId) external {
        Record storage r = _records[grantId];
        uint256 w0 = r.w0;
        if (uint8(w0) != uint8(Status.SUSPENDED)) revert WrongStatus(grantId, uint8(w0));
        uint256 by = (w0 >> W0_SUSPENDED_BY) & M8;
        bool isParty = by == BY_GRANTEE ? msg.sender == address(uint160(r.w1)) : _isOperatorOf(r.w3, msg.sender);
        if (!isParty) revert NotAuthorized(grantId, msg.sender);
        r.w0 = (w0 & ~(M8 | (M8 << W0_SUSPENDED_BY))) | uint8(Status.ACTIVE);
        emit ConsentResumed(grantId, msg.sender);
    }

    /// @inheritdoc IConsentGrant
    function revokeAgent(bytes32 grantId, bytes32 reasonCode) external {
        Record storage r = _records[grantId];
        uint256 w3 = r.w3;
        address agent = address(uint160(w3));
        if (agent == address(0) || (w3 >> 168) & M8 != uint8(AgentStatus.ACTIVE)) revert NoAgentLeg(grantId);
        if (msg.sender != agent && msg.sender != address(uint160(r.w1)) && msg.sender != _operators[agent]) {
            revert NotAuthorized(grantId, msg.sender);
        }
        r.w3 = (w3 & ~(M8 << 168)) | (uint256(uint8(AgentStatus.REVOKED)) << 168);
        _bumpEpoch();
        emit AgentRevoked(grantId, agent, reasonCode);
    }

    /// @inheritdoc IConsentGrants
    function setAgentOperator(address agent, address operator) external {
        address current = _operators[agent];
        if (current == address(0) ? msg.sender != agent : msg.sender != current) {
            revert NotAgentOperator(agent, current);
        }
        _operators[agent] = operator;
        emit AgentOperatorSet(agent, operator);
    }

    /// @inheritdoc IConsentGrant
    /// @dev `usesMax` is a contractual ceiling the constrained party reports itself (ERC-8356 says so, and so does
    /// docs/private-consent.md wherever a subject sees it): only the grantee or the live, verified agent commits (an
    /// asserted agent is recorded for audit only, so it cannot exhaust the grant).
    function commitUsage(bytes32 grantId, uint64 epoch, bytes32 headHash, uint32 count) external {
        Record storage r = _records[grantId];
        uint256 w0 = r.w0;
        if (w0 & M8 == 0) revert UnknownGrant(grantId);
        if (msg.sender != address(uint160(r.w1)) && !_isLiveAgent(r.w3, msg.sender)) {
            revert NotAuthorized(grantId, msg.sender);
        }
        uint32 committed = _usage[grantId][epoch];
        if (count < committed) revert UsageCountDecreased(grantId, epoch, committed);
        _usage[grantId][epoch] = count;
        uint256 uses = ((w0 >> W0_USE_COUNT) & M16) + (count - committed);
        if (uses > M16) uses = M16;
        uint256 usesMax = (w0 >> W0_USES_MAX) & M16;
        uint8 status = uint8(w0);
        w0 = (w0 & ~((M16 << W0_USE_COUNT) | (M48 << W0_LAST_USED))) | (uses << W0_USE_COUNT)
            | (uint256(_time()) << W0_LAST_USED);
        bool exhausts = usesMax != 0 && uses >= usesMax
            && (status == uint8(Status.ACTIVE) || status == uint8(Status.SUSPENDED));
        if (exhausts) w0 = (w0 & ~M8) | uint8(Status.EXHAUSTED);
        r.w0 = w0;
        emit UsageCommitted(grantId, epoch, headHash, count);
        if (exhausts) {
            _bumpEpoch();
            emit ConsentRevoked(grantId, bytes32(uint256(uint160(msg.sender))), uint8(Status.EXHAUSTED), bytes32(0));
        }
    }

    /* ------------------------------------------------------------------ */
    /*                                VIEWS                               */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IConsentGrant
    function checkAccess(bytes32 grantId, uint32 purposeCode, uint32 op, bytes32 resourceHash, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        Record storage r = _records[grantId];
        uint256 w1 = r.w1;
        if (op == 0 || op & ~KNOWN_OPS != 0 || uint32(w1 >> 160) & op != op) return false;
        if (uint32(w1 >> 192) != purposeCode) return false;
        if (!_isCaller(r.w3, address(uint160(w1)))) return false;
        bytes32 leaf = keccak256(bytes.concat(resourceHash));
        if ((r.w0 >> W0_FLAGS) & FLAG_SCOPE_IS_ROOT != 0) {
            if (!MerkleProof.verifyCalldata(proof, r.scopeRef, leaf)) return false;
        } else if (r.scopeRef != resourceHash) {
            return false;
        }
        return _isActive(grantId) && !_isWithdrawnUp(grantId, leaf);
    }

    /// @inheritdoc IConsentGrant
    function isGrantActive(bytes32 grantId) external view returns (bool) {
        return _isActive(grantId);
    }

    /// @inheritdoc IConsentGrant
    function effectiveStatus(bytes32 grantId) external view returns (uint8) {
        return _effectiveStatus(grantId);
    }

    /// @inheritdoc IConsentGrant
    function subjectOf(bytes32 grantId) external view returns (bytes32) {
        Record storage r = _records[grantId];
        uint256 w0 = r.w0;
        if (w0 & M8 == 0) return bytes32(0);
        return _subjectOf(grantId, w0, r);
    }

    /// @inheritdoc IConsentGrant
    function nonces(bytes32 subjectCommit) external view returns (uint256) {
        return _nonce(subjectCommit);
    }

    /// @inheritdoc IConsentGrant
    function revocationEpoch() external view returns (uint256) {
        return _revocationEpoch;
    }

    /// @inheritdoc IConsentGrants
    function getGrant(bytes32 grantId) external view returns (ConsentGrant memory g) {
        Record storage r = _records[grantId];
        uint256 w0 = r.w0;
        uint256 w1 = r.w1;
        uint256 w3 = r.w3;
        bytes32[2] storage refs = _refs[uint32(w1 >> 224)];
        g.scopeRef = r.scopeRef;
        g.purposeProfileRef = refs[0];
        g.termsRef = refs[1];
        g.parentGrantId = r.parentGrantId;
        g.assetTokenId = r.assetTokenId;
        g.subjectCommit = uint8(w0) == 0 ? bytes32(0) : _subjectOf(grantId, w0, r);
        g.grantee = address(uint160(w1));
        g.notBefore = uint48(w0 >> W0_NOT_BEFORE);
        g.expiresAt = uint48(w0 >> W0_EXPIRES);
        g.agent = address(uint160(w3));
        g.ops = uint32(w1 >> 160);
        g.purposeCode = uint32(w1 >> 192);
        g.status = uint8(w0);
        g.flags = uint8(w0 >> W0_FLAGS);
        g.depth = uint16(w0 >> W0_DEPTH);
        g.agentKind = uint8(w3 >> 160);
        g.agentStatus = uint8(w3 >> 168);
        g.lastUsedAt = uint48(w0 >> W0_LAST_USED);
        g.useCount = uint16(w0 >> W0_USE_COUNT);
        g.usesMax = uint16(w0 >> W0_USES_MAX);
    }

    /// @inheritdoc IConsentGrants
    function refsIndex(bytes32 purposeProfileRef, bytes32 termsRef) external view returns (uint32) {
        return _refsIndex[keccak256(abi.encode(purposeProfileRef, termsRef))];
    }

    /// @inheritdoc IConsentGrants
    function purposeRegistry() external view returns (address) {
        return address(_purposes);
    }

    /// @inheritdoc IConsentGrants
    function agentOperatorOf(address agent) external view returns (address) {
        return _operators[agent];
    }

    /// @inheritdoc IConsentGrants
    function isLeafWithdrawn(bytes32 grantId, bytes32 leaf) external view returns (bool) {
        return _withdrawn[grantId][leaf];
    }

    /// @inheritdoc IConsentGrants
    function usageCount(bytes32 grantId, uint64 epoch) external view returns (uint32) {
        return _usage[grantId][epoch];
    }

    /// @inheritdoc IConsentGrants
    function grantDigest(GrantInput calldata g, uint256 nonce) external view returns (bytes32) {
        return _hashTypedDataV4(_grantStructHash(g, nonce));
    }

    // solhint-disable func-name-mixedcase
    /// @notice The EIP-712 domain separator (name "ConsentGrant", version "1", chain id, this address).
    /// @return The separator.
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }
    // solhint-enable func-name-mixedcase

    /// @inheritdoc AccessControl
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IConsentGrant).interfaceId || super.supportsInterface(interfaceId);
    }

    /* ------------------------------------------------------------------ */
    /*                              INTERNALS                             */
    /* ------------------------------------------------------------------ */

    /// @dev Policy: no reserved bit, at least one op, a window that is not empty and not over, an agent leg
    /// that is all there (agent and kind) or all absent, a grantee and a subject commitment.
    function _checkPolicy(GrantInput calldata g, uint256 policy) private view {
        uint32 ops = uint32(policy >> 96);
        uint8 agentKind = uint8(policy >> 176);
        uint8 flags = uint8(policy >> 184);
        if (
            policy >> 192 != 0 || ops == 0 || ops & ~KNOWN_OPS != 0 || flags & ~KNOWN_FLAGS != 0
                || agentKind > uint8(AgentKind.ASSERTED_UNVERIFIED) || uint32(policy >> 128) == 0
        ) revert InvalidPolicy(policy);
        uint48 notBefore = uint48(policy);
        uint48 expiresAt = uint48(policy >> 48);
        uint64 now_ = _time();
        if (expiresAt <= notBefore || expiresAt <= now_) revert InvalidWindow(notBefore, expiresAt, now_);
        if (g.grantee == address(0) || g.subjectCommit == bytes32(0)) revert InvalidGrantee(g.grantee);
        if ((g.agent == address(0)) != (agentKind == uint8(AgentKind.NONE))) revert InvalidAgent(g.agent, agentKind);
    }

    /// @dev ERC-8356's attenuation rules, each with its own reason.
    function _checkAttenuation(bytes32 parentId, Record storage p, GrantInput calldata g, bytes32[] calldata proof)
        private
        view
    {
        uint256 pw0 = p.w0;
        uint256 pw1 = p.w1;
        uint256 policy = g.policy;
        if (g.subjectCommit != _subjectOf(parentId, pw0, p)) revert AttenuationViolated(parentId, Attenuation.SUBJECT);
        if (uint32(policy >> 96) & ~uint32(pw1 >> 160) != 0) revert AttenuationViolated(parentId, Attenuation.OPS);
        if (uint48(policy >> 48) > uint48(pw0 >> W0_EXPIRES)) revert AttenuationViolated(parentId, Attenuation.EXPIRY);
        if (uint48(policy) < uint48(pw0 >> W0_NOT_BEFORE)) {
            revert AttenuationViolated(parentId, Attenuation.NOT_BEFORE);
        }
        uint16 parentMax = uint16(pw0 >> W0_USES_MAX);
        uint16 childMax = uint16(policy >> 160);
        if (parentMax != 0 && (childMax == 0 || childMax > parentMax)) {
            revert AttenuationViolated(parentId, Attenuation.USES);
        }
        uint32 childPurpose = uint32(policy >> 128);
        uint32 parentPurpose = uint32(pw1 >> 192);
        if (
            childPurpose != parentPurpose
                && (address(_purposes) == address(0) || !_purposes.isNarrowing(childPurpose, parentPurpose))
        ) revert AttenuationViolated(parentId, Attenuation.PURPOSE);
        if (g.assetTokenId != p.assetTokenId) revert AttenuationViolated(parentId, Attenuation.ASSET);
        _checkScopeContained(parentId, p, g, proof);
    }

    /// @dev Scope containment, proven: the parent's scope itself, or one leaf of a root-scoped parent with its proof
    /// (and not withdrawn on the parent or above).
    function _checkScopeContained(bytes32 parentId, Record storage p, GrantInput calldata g, bytes32[] calldata proof)
        private
        view
    {
        bool parentIsRoot = (p.w0 >> W0_FLAGS) & FLAG_SCOPE_IS_ROOT != 0;
        bool childIsRoot = uint8(g.policy >> 184) & FLAG_SCOPE_IS_ROOT != 0;
        bytes32 parentScope = p.scopeRef;
        if (g.scopeRef == parentScope && parentIsRoot == childIsRoot) return;
        bytes32 leaf = keccak256(bytes.concat(g.scopeRef));
        if (
            !parentIsRoot || childIsRoot || !MerkleProof.verifyCalldata(proof, parentScope, leaf)
                || _isWithdrawnUp(parentId, leaf)
        ) revert AttenuationViolated(parentId, Attenuation.SCOPE);
    }

    /// @dev The grant and every ancestor: ACTIVE, inside [notBefore, expiresAt), under their use cap. Lazy
    /// cascade: a revocation writes one word and every descendant reads it here.
    function _isActive(bytes32 grantId) private view returns (bool) {
        uint64 now_ = _time();
        bytes32 id = grantId;
        for (uint256 i = 0; i <= MAX_DEPTH; ++i) {
            uint256 w0 = _records[id].w0;
            if (uint8(w0) != uint8(Status.ACTIVE)) return false;
            if (now_ < uint48(w0 >> W0_NOT_BEFORE) || now_ >= uint48(w0 >> W0_EXPIRES)) return false;
            uint256 usesMax = (w0 >> W0_USES_MAX) & M16;
            if (usesMax != 0 && ((w0 >> W0_USE_COUNT) & M16) >= usesMax) return false;
            if ((w0 >> W0_DEPTH) & M16 == 0) return true;
            id = _records[id].parentGrantId;
        }
        return false;
    }

    /// @dev The grant's status if terminal, else the nearest ancestor's terminal status, else its own.
    function _effectiveStatus(bytes32 grantId) private view returns (uint8) {
        uint8 own = uint8(_records[grantId].w0);
        bytes32 id = grantId;
        for (uint256 i = 0; i <= MAX_DEPTH; ++i) {
            Record storage r = _records[id];
            uint8 status = uint8(r.w0);
            if (_isTerminal(status)) return status;
            if ((r.w0 >> W0_DEPTH) & M16 == 0) break;
            id = r.parentGrantId;
        }
        return own;
    }

    function _isTerminal(uint8 status) private pure returns (bool) {
        return status != uint8(Status.NONE) && status != uint8(Status.ACTIVE) && status != uint8(Status.SUSPENDED);
    }

    /// @dev Whether `leaf` is withdrawn on the grant or any ancestor.
    function _isWithdrawnUp(bytes32 grantId, bytes32 leaf) private view returns (bool) {
        bytes32 id = grantId;
        for (uint256 i = 0; i <= MAX_DEPTH; ++i) {
            if (_withdrawn[id][leaf]) return true;
            Record storage r = _records[id];
            if ((r.w0 >> W0_DEPTH) & M16 == 0) return false;
            id = r.parentGrantId;
        }
        return false;
    }

    /// @dev ERC-8356's agent verification: the live, verified agent; or the grantee when there is no agent leg, the
    /// leg was revoked (the grantee keeps the grant), or the agent is only asserted (never satisfies an agent).
    function _isCaller(uint256 w3, address grantee) private view returns (bool) {
        address agent = address(uint160(w3));
        uint8 kind = uint8(w3 >> 160);
        bool legLive = agent != address(0) && uint8(w3 >> 168) == uint8(AgentStatus.ACTIVE);
        if (legLive && kind != uint8(AgentKind.ASSERTED_UNVERIFIED)) return msg.sender == agent;
        return msg.sender == grantee;
    }

    /// @dev The caller is the grant's agent, its leg is live, and it is verified (ASSERTED_UNVERIFIED never satisfies).
    function _isLiveAgent(uint256 w3, address caller) private pure returns (bool) {
        return caller != address(0) && caller == address(uint160(w3)) && uint8(w3 >> 168) == uint8(AgentStatus.ACTIVE)
            && uint8(w3 >> 160) != uint8(AgentKind.ASSERTED_UNVERIFIED);
    }

    /// @dev The operator an agent named, for a verified agent only: an asserted agent is the grantee's claim, and
    /// the operator it names must not hold (suspend) a grant it was never proven to act for.
    function _isOperatorOf(uint256 w3, address caller) private view returns (bool) {
        address agent = address(uint160(w3));
        return agent != address(0) && caller == _operators[agent] && caller != address(0)
            && uint8(w3 >> 160) != uint8(AgentKind.ASSERTED_UNVERIFIED);
    }

    /// @dev ACTIVE -> a terminal status, by the grantee or the issuer.
    function _endActive(bytes32 grantId, Record storage r, Status to, bytes32 reasonCode) private {
        uint256 w0 = r.w0;
        if (uint8(w0) != uint8(Status.ACTIVE)) revert WrongStatus(grantId, uint8(w0));
        r.w0 = (w0 & ~M8) | uint8(to);
        _bumpEpoch();
        emit ConsentRevoked(grantId, bytes32(uint256(uint160(msg.sender))), uint8(to), reasonCode);
    }

    function _bumpEpoch() private {
        unchecked {
            ++_revocationEpoch;
        }
    }

    function _subjectOf(bytes32 grantId, uint256 w0, Record storage r) private view returns (bytes32) {
        return (w0 >> W0_DEPTH) & M16 == 0 ? grantId : r.subjectCommit;
    }

    /// @dev A subject commitment's nonce lives in word 0 of the root grant whose id it is.
    function _nonce(bytes32 subjectCommit) private view returns (uint256) {
        return _records[subjectCommit].w0 >> W0_NONCE;
    }

    /// @dev Check a subject signature over `structHash` (which holds the current nonce) and consume the nonce.
    function _useSubjectSig(bytes32 subjectCommit, bytes32 structHash, bytes calldata subjectSig) private {
        _subjectKey(subjectCommit, _hashTypedDataV4(structHash), subjectSig);
        Record storage root = _records[subjectCommit];
        uint256 w0 = root.w0;
        uint256 next = (w0 >> W0_NONCE) + 1;
        root.w0 = (w0 & ~(NONCE_MASK << W0_NONCE)) | ((next & NONCE_MASK) << W0_NONCE);
    }

    /// @dev Open `subjectCommit` with `subjectSig = abi.encode(bytes32 salt, bytes signature)`: recover the EOA key
    /// (65 or 64 bytes, low s) or ask the ERC-1271 key named in the signature's first 20 bytes, then require
    /// keccak256(abi.encode(salt, key)) == subjectCommit. The salt is read from calldata and never stored.
    function _subjectKey(bytes32 subjectCommit, bytes32 digest, bytes calldata subjectSig)
        private
        view
        returns (address key)
    {
        if (subjectSig.length < 96 || uint256(bytes32(subjectSig[32:64])) != 64) {
            revert InvalidSubjectSignature(subjectCommit);
        }
        uint256 len = uint256(bytes32(subjectSig[64:96]));
        if (len > subjectSig.length - 96) revert InvalidSubjectSignature(subjectCommit);
        bytes32 salt = bytes32(subjectSig[0:32]);
        bytes calldata sig = subjectSig[96:96 + len];
        ECDSA.RecoverError failure = ECDSA.RecoverError.NoError;
        // The third value tryRecover returns only details `failure` (the bad length or s), which is all we test.
        // slither-disable-start unused-return
        if (len == 65) {
            (key, failure,) = ECDSA.tryRecover(digest, uint8(sig[64]), bytes32(sig[0:32]), bytes32(sig[32:64]));
        } else if (len == 64) {
            (key, failure,) = ECDSA.tryRecover(digest, bytes32(sig[0:32]), bytes32(sig[32:64]));
            // slither-disable-end unused-return
        } else if (len > 20) {
            key = address(bytes20(sig[0:20]));
            if (!SignatureChecker.isValidERC1271SignatureNow(key, digest, sig[20:])) key = address(0);
        }
        if (failure != ECDSA.RecoverError.NoError || key == address(0) || keccak256(abi.encode(salt, key)) != subjectCommit) {
            revert InvalidSubjectSignature(subjectCommit);
        }
    }

    /// @dev A key that reports an authority end (a guardianship account) caps the grant's expiry at it.
    function _checkAuthority(address key, uint48 expiresAt) private view {
        (bool ok, bytes memory ret) = key.staticcall(abi.encodeCall(IGuardianAuthority.authorityEndsAt, ()));
        if (ok && ret.length > 31) {
            uint48 endsAt = abi.decode(ret, (uint48));
            if (expiresAt > endsAt) revert BeyondAuthority(expiresAt, endsAt);
        }
    }

    function _grantStructHash(GrantInput calldata g, uint256 nonce) private pure returns (bytes32) {
        return keccak256(
            abi.encode(
                GRANT_TYPEHASH,
                g.scopeRef,
                g.purposeProfileRef,
                g.termsRef,
                g.assetTokenId,
                g.subjectCommit,
                g.grantee,
                g.agent,
                g.policy,
                nonce
            )
        );
    }

    /// @dev Store a (purpose profile, terms) template pair once; grants keep its index.
    function _intern(bytes32 profileRef, bytes32 termsRef) private returns (uint32 index) {
        bytes32 pair = keccak256(abi.encode(profileRef, termsRef));
        index = _refsIndex[pair];
        if (index == 0) {
            uint256 n = _refs.length;
            if (n > type(uint32).max) revert RefsFull();
            index = uint32(n);
            _refs.push([profileRef, termsRef]);
            _refsIndex[pair] = index;
            emit RefsInterned(index, profileRef, termsRef);
        }
    }

    function _word0(uint256 policy, uint16 depth, uint256 nonce) private pure returns (uint256) {
        return uint256(uint8(Status.ACTIVE)) | ((policy & M48) << W0_NOT_BEFORE)
            | (((policy >> 48) & M48) << W0_EXPIRES) | (((policy >> 160) & M16) << W0_USES_MAX)
            | (uint256(depth) << W0_DEPTH) | (((policy >> 184) & M8) << W0_FLAGS) | ((nonce & NONCE_MASK) << W0_NONCE);
    }

    function _word1(address grantee, uint256 policy, uint32 refsIndex) private pure returns (uint256) {
        return uint256(uint160(grantee)) | (((policy >> 96) & M32) << 160) | (((policy >> 128) & M32) << 192)
            | (uint256(refsIndex) << 224);
    }

    function _word3(address agent, uint256 policy) private pure returns (uint256) {
        return uint256(uint160(agent)) | (((policy >> 176) & M8) << 160) | (uint256(uint8(AgentStatus.ACTIVE)) << 168);
    }
}
