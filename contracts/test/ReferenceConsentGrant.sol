// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

import {IGuardianAuthority} from "../ConsentGrants.sol";
import {IConsentGrant} from "../interfaces/IConsentGrant.sol";
import {IConsentGrants} from "../interfaces/IConsentGrants.sol";
import {IPurposeCodes} from "../interfaces/IPurposeRegistry.sol";
import {Clock} from "../utils/Common.sol";

/// @title ReferenceConsentGrant
/// @notice Test-only, never deployed: the gas baseline ConsentGrants is measured against (`make bench`,
/// tests/forge/Reference.gas.t.sol). It stores ERC-8356's `ConsentGrant` exactly as the standard prints it, slots
/// 0-8 in the printed order, every slot written on a mint, and keeps the subject nonces in a mapping of their own:
/// the straightforward implementation of the standard. On the paths measured (grant, grantBatch, subGrant,
/// revokeBySubjectWithSig, isGrantActive, checkAccess) everything else is ConsentGrants': the typed data and domain,
/// `subjectSig`, the nonce rule, the checks, the purpose-registry calls, the events, the revocation epoch (starting
/// at 1) and the root grant id (its subject commitment, which the standard leaves open). So the gas difference is
/// the storage layout. When ConsentGrants changes a check on one of these paths, change it here too.
contract ReferenceConsentGrant is EIP712, Clock {
    /// @notice How deep a chain of sub-grants may go (ConsentGrants' bound).
    uint16 public constant MAX_DEPTH = 4;

    bytes32 private constant GRANT_TYPEHASH = keccak256(
        "Grant(bytes32 scopeRef,bytes32 purposeProfileRef,bytes32 termsRef,uint256 assetTokenId,bytes32 subjectCommit,address grantee,address agent,uint256 policy,uint256 nonce)"
    );
    bytes32 private constant REVOKE_TYPEHASH =
        keccak256("RevokeBySubject(bytes32 grantId,bytes32 reasonCode,uint256 nonce)");

    uint8 private constant FLAG_SCOPE_IS_ROOT = 0x01;
    uint8 private constant FLAG_DELEGABLE = 0x02;
    uint8 private constant KNOWN_FLAGS = 0x07;
    uint32 private constant KNOWN_OPS = 0x1f;
    uint8 private constant NONE = uint8(IConsentGrants.Status.NONE);
    uint8 private constant ACTIVE = uint8(IConsentGrants.Status.ACTIVE);
    uint8 private constant SUSPENDED = uint8(IConsentGrants.Status.SUSPENDED);
    uint8 private constant REVOKED_BY_SUBJECT = uint8(IConsentGrants.Status.REVOKED_BY_SUBJECT);

    IPurposeCodes private immutable _purposes;
    uint256 private _revocationEpoch;
    /// @dev IConsentGrants.ConsentGrant is the standard's struct field for field, so this is its slots 0-8.
    mapping(bytes32 grantId => IConsentGrants.ConsentGrant) private _grants;
    mapping(bytes32 subjectCommit => uint256) private _nonces;
    mapping(bytes32 grantId => mapping(bytes32 leaf => bool)) private _withdrawn;

    /// @notice Deploy with a purpose registry.
    /// @param purposes The purpose registry (0: none; root grants then take any code, sub-grants need equal codes).
    constructor(IPurposeCodes purposes) EIP712("ConsentGrant", "1") {
        _purposes = purposes;
        _revocationEpoch = 1;
    }

    /* ------------------------------------------------------------------ */
    /*                                MINT                                */
    /* ------------------------------------------------------------------ */

    /// @notice As ConsentGrants.grant.
    /// @param g The grant; its id is `g.subjectCommit`.
    /// @param subjectSig abi.encode(subjectSalt, signature) over the Grant typed data with the subject's nonce.
    /// @return The grant's id.
    function grant(IConsentGrants.GrantInput calldata g, bytes calldata subjectSig) external returns (bytes32) {
        return _grant(g, subjectSig);
    }

    /// @notice As ConsentGrants.grantBatch: an item that fails is skipped and reported.
    /// @param gs The grants.
    /// @param subjectSigs One subject signature per grant.
    /// @return minted How many grants were minted.
    function grantBatch(IConsentGrants.GrantInput[] calldata gs, bytes[] calldata subjectSigs)
        external
        returns (uint256 minted)
    {
        uint256 n = gs.length;
        if (n != subjectSigs.length) revert IConsentGrants.LengthMismatch();
        for (uint256 i = 0; i < n; ++i) {
            try this.grantFromBatch(gs[i], subjectSigs[i]) {
                ++minted;
            } catch (bytes memory reason) {
                emit IConsentGrants.GrantFailed(i, gs[i].subjectCommit, bytes4(reason));
            }
        }
    }

    /// @notice One batch item, called by the contract itself.
    /// @param g The grant.
    /// @param subjectSig Its subject signature.
    function grantFromBatch(IConsentGrants.GrantInput calldata g, bytes calldata subjectSig) external {
        if (msg.sender != address(this)) revert IConsentGrants.OnlySelf();
        _grant(g, subjectSig);
    }

    function _grant(IConsentGrants.GrantInput calldata g, bytes calldata subjectSig) private returns (bytes32 grantId) {
        grantId = g.subjectCommit;
        if (_grants[grantId].status != NONE) revert IConsentGrants.GrantExists(grantId);
        uint256 policy = g.policy;
        uint32 purposeCode = uint32(policy >> 128);
        _checkPolicy(g, policy);
        if (address(_purposes) != address(0) && !_purposes.isRegistered(purposeCode)) {
            revert IConsentGrants.PurposeNotRegistered(purposeCode);
        }
        uint256 nonce = _nonces[grantId];
        address key = _subjectKey(grantId, _hashTypedDataV4(_grantStructHash(g, nonce)), subjectSig);
        if (key.code.length != 0) _checkAuthority(key, uint48(policy >> 48));
        _nonces[grantId] = nonce + 1;
        _grants[grantId] = _record(g, bytes32(0), 0);
        emit IConsentGrant.ConsentGranted(grantId, g.assetTokenId, g.grantee, purposeCode, uint48(policy >> 48));
    }

    /// @notice As ConsentGrants.subGrant.
    /// @param parentGrantId The parent.
    /// @param g The sub-grant.
    /// @param scopeProof The proof of the child's leaf under a root-scoped parent (else empty).
    /// @return grantId keccak256(abi.encode(parentGrantId, g)).
    function subGrant(bytes32 parentGrantId, IConsentGrants.GrantInput calldata g, bytes32[] calldata scopeProof)
        external
        returns (bytes32 grantId)
    {
        IConsentGrants.ConsentGrant storage p = _grants[parentGrantId];
        uint8 status = p.status;
        if (status == NONE) revert IConsentGrants.UnknownGrant(parentGrantId);
        if (msg.sender != p.grantee) revert IConsentGrants.NotGrantee(parentGrantId, msg.sender);
        if (p.flags & FLAG_DELEGABLE == 0) revert IConsentGrants.NotDelegable(parentGrantId);
        if (!_isActive(parentGrantId)) revert IConsentGrants.WrongStatus(parentGrantId, status);
        _checkPolicy(g, g.policy);
        uint16 depth = p.depth + 1;
        if (depth > MAX_DEPTH) revert IConsentGrants.DepthExceeded(depth);
        _checkAttenuation(parentGrantId, p, g, scopeProof);

        grantId = keccak256(abi.encode(parentGrantId, g));
        if (_grants[grantId].status != NONE) revert IConsentGrants.GrantExists(grantId);
        _grants[grantId] = _record(g, parentGrantId, depth);
        emit IConsentGrant.ConsentSubGranted(grantId, parentGrantId, depth);
    }

    /* ------------------------------------------------------------------ */
    /*                            SUBJECT ACTS                            */
    /* ------------------------------------------------------------------ */

    /// @notice As ConsentGrants.revokeBySubjectWithSig.
    /// @param grantId The grant.
    /// @param reasonCode A machine-readable reason.
    /// @param subjectSig abi.encode(subjectSalt, signature) over RevokeBySubject with the subject's nonce.
    function revokeBySubjectWithSig(bytes32 grantId, bytes32 reasonCode, bytes calldata subjectSig) external {
        IConsentGrants.ConsentGrant storage s = _grants[grantId];
        uint8 status = s.status;
        if (status != ACTIVE && status != SUSPENDED) revert IConsentGrants.WrongStatus(grantId, status);
        bytes32 subject = s.subjectCommit;
        uint256 nonce = _nonces[subject];
        _subjectKey(subject, _hashTypedDataV4(keccak256(abi.encode(REVOKE_TYPEHASH, grantId, reasonCode, nonce))), subjectSig);
        _nonces[subject] = nonce + 1;
        s.status = REVOKED_BY_SUBJECT;
        unchecked {
            ++_revocationEpoch;
        }
        emit IConsentGrant.ConsentRevoked(grantId, subject, REVOKED_BY_SUBJECT, reasonCode);
    }

    /* ------------------------------------------------------------------ */
    /*                                VIEWS                               */
    /* ------------------------------------------------------------------ */

    /// @notice As ConsentGrants.checkAccess.
    /// @param grantId The grant.
    /// @param purposeCode The purpose asked for.
    /// @param op The operation bits asked for.
    /// @param resourceHash keccak256 of the resource's canonical identifier.
    /// @param proof Merkle proof of the resource's leaf under a root-scoped grant's scope.
    /// @return True when the grant and its ancestors are active and the caller, purpose, op and resource match.
    function checkAccess(bytes32 grantId, uint32 purposeCode, uint32 op, bytes32 resourceHash, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        IConsentGrants.ConsentGrant storage s = _grants[grantId];
        if (op == 0 || op & ~KNOWN_OPS != 0 || s.ops & op != op) return false;
        if (s.purposeCode != purposeCode) return false;
        if (!_isCaller(s)) return false;
        bytes32 leaf = keccak256(bytes.concat(resourceHash));
        if (s.flags & FLAG_SCOPE_IS_ROOT != 0) {
            if (!MerkleProof.verifyCalldata(proof, s.scopeRef, leaf)) return false;
        } else if (s.scopeRef != resourceHash) {
            return false;
        }
        return _isActive(grantId) && !_isWithdrawnUp(grantId, leaf);
    }

    /// @notice As ConsentGrants.isGrantActive: the grant and every ancestor are ACTIVE, in their window and under
    /// their use cap.
    /// @param grantId The grant.
    /// @return The answer.
    function isGrantActive(bytes32 grantId) external view returns (bool) {
        return _isActive(grantId);
    }

    /// @notice The next signature nonce of a subject commitment.
    /// @param subjectCommit The commitment.
    /// @return The nonce.
    function nonces(bytes32 subjectCommit) external view returns (uint256) {
        return _nonces[subjectCommit];
    }

    /// @notice A counter that increases on every revocation.
    /// @return The epoch.
    function revocationEpoch() external view returns (uint256) {
        return _revocationEpoch;
    }

    /// @notice The grant as stored.
    /// @param grantId The grant.
    /// @return The grant (status NONE: no such grant).
    function getGrant(bytes32 grantId) external view returns (IConsentGrants.ConsentGrant memory) {
        return _grants[grantId];
    }

    /* ------------------------------------------------------------------ */
    /*                              INTERNALS                             */
    /* ------------------------------------------------------------------ */

    /// @dev The stored grant: the input's fields and the contract's own (status ACTIVE, tree position, agent status;
    /// the usage fields zero). Assigned as one struct, as a straightforward implementation would: solc's copy writes
    /// each of the nine slots and costs a few hundred gas more than nine hand-packed SSTOREs (451 on a root grant).
    function _record(IConsentGrants.GrantInput calldata g, bytes32 parentGrantId, uint16 depth)
        private
        pure
        returns (IConsentGrants.ConsentGrant memory c)
    {
        uint256 policy = g.policy;
        c.scopeRef = g.scopeRef;
        c.purposeProfileRef = g.purposeProfileRef;
        c.termsRef = g.termsRef;
        c.parentGrantId = parentGrantId;
        c.assetTokenId = g.assetTokenId;
        c.subjectCommit = g.subjectCommit;
        c.grantee = g.grantee;
        c.notBefore = uint48(policy);
        c.expiresAt = uint48(policy >> 48);
        c.agent = g.agent;
        c.ops = uint32(policy >> 96);
        c.purposeCode = uint32(policy >> 128);
        c.status = ACTIVE;
        c.flags = uint8(policy >> 184);
        c.depth = depth;
        c.agentKind = uint8(policy >> 176);
        c.agentStatus = uint8(g.agent == address(0) ? IConsentGrants.AgentStatus.NONE : IConsentGrants.AgentStatus.ACTIVE);
        c.usesMax = uint16(policy >> 160);
    }

    function _checkPolicy(IConsentGrants.GrantInput calldata g, uint256 policy) private view {
        uint32 ops = uint32(policy >> 96);
        uint8 agentKind = uint8(policy >> 176);
        uint8 flags = uint8(policy >> 184);
        if (
            policy >> 192 != 0 || ops == 0 || ops & ~KNOWN_OPS != 0 || flags & ~KNOWN_FLAGS != 0
                || agentKind > uint8(IConsentGrants.AgentKind.ASSERTED_UNVERIFIED) || uint32(policy >> 128) == 0
        ) revert IConsentGrants.InvalidPolicy(policy);
        uint48 notBefore = uint48(policy);
        uint48 expiresAt = uint48(policy >> 48);
        uint64 now_ = _time();
        if (expiresAt <= notBefore || expiresAt <= now_) revert IConsentGrants.InvalidWindow(notBefore, expiresAt, now_);
        if (g.grantee == address(0) || g.subjectCommit == bytes32(0)) revert IConsentGrants.InvalidGrantee(g.grantee);
        if ((g.agent == address(0)) != (agentKind == uint8(IConsentGrants.AgentKind.NONE))) {
            revert IConsentGrants.InvalidAgent(g.agent, agentKind);
        }
    }

    function _checkAttenuation(
        bytes32 parentId,
        IConsentGrants.ConsentGrant storage p,
        IConsentGrants.GrantInput calldata g,
        bytes32[] calldata proof
    ) private view {
        uint256 policy = g.policy;
        if (g.subjectCommit != p.subjectCommit) _violated(parentId, IConsentGrants.Attenuation.SUBJECT);
        if (uint32(policy >> 96) & ~p.ops != 0) _violated(parentId, IConsentGrants.Attenuation.OPS);
        if (uint48(policy >> 48) > p.expiresAt) _violated(parentId, IConsentGrants.Attenuation.EXPIRY);
        if (uint48(policy) < p.notBefore) _violated(parentId, IConsentGrants.Attenuation.NOT_BEFORE);
        uint16 parentMax = p.usesMax;
        uint16 childMax = uint16(policy >> 160);
        if (parentMax != 0 && (childMax == 0 || childMax > parentMax)) {
            _violated(parentId, IConsentGrants.Attenuation.USES);
        }
        uint32 childPurpose = uint32(policy >> 128);
        uint32 parentPurpose = p.purposeCode;
        if (
            childPurpose != parentPurpose
                && (address(_purposes) == address(0) || !_purposes.isNarrowing(childPurpose, parentPurpose))
        ) _violated(parentId, IConsentGrants.Attenuation.PURPOSE);
        if (g.assetTokenId != p.assetTokenId) _violated(parentId, IConsentGrants.Attenuation.ASSET);
        bool parentIsRoot = p.flags & FLAG_SCOPE_IS_ROOT != 0;
        bool childIsRoot = uint8(policy >> 184) & FLAG_SCOPE_IS_ROOT != 0;
        bytes32 parentScope = p.scopeRef;
        if (g.scopeRef == parentScope && parentIsRoot == childIsRoot) return;
        bytes32 leaf = keccak256(bytes.concat(g.scopeRef));
        if (
            !parentIsRoot || childIsRoot || !MerkleProof.verifyCalldata(proof, parentScope, leaf)
                || _isWithdrawnUp(parentId, leaf)
        ) _violated(parentId, IConsentGrants.Attenuation.SCOPE);
    }

    function _violated(bytes32 parentId, IConsentGrants.Attenuation rule) private pure {
        revert IConsentGrants.AttenuationViolated(parentId, rule);
    }

    function _isActive(bytes32 grantId) private view returns (bool) {
        uint64 now_ = _time();
        bytes32 id = grantId;
        for (uint256 i = 0; i <= MAX_DEPTH; ++i) {
            IConsentGrants.ConsentGrant storage s = _grants[id];
            if (s.status != ACTIVE) return false;
            if (now_ < s.notBefore || now_ >= s.expiresAt) return false;
            uint16 usesMax = s.usesMax;
            if (usesMax != 0 && s.useCount >= usesMax) return false;
            if (s.depth == 0) return true;
            id = s.parentGrantId;
        }
        return false;
    }

    function _isWithdrawnUp(bytes32 grantId, bytes32 leaf) private view returns (bool) {
        bytes32 id = grantId;
        for (uint256 i = 0; i <= MAX_DEPTH; ++i) {
            if (_withdrawn[id][leaf]) return true;
            IConsentGrants.ConsentGrant storage s = _grants[id];
            if (s.depth == 0) return false;
            id = s.parentGrantId;
        }
        return false;
    }

    function _isCaller(IConsentGrants.ConsentGrant storage s) private view returns (bool) {
        address agent = s.agent;
        bool legLive = agent != address(0) && s.agentStatus == uint8(IConsentGrants.AgentStatus.ACTIVE);
        if (legLive && s.agentKind != uint8(IConsentGrants.AgentKind.ASSERTED_UNVERIFIED)) return msg.sender == agent;
        return msg.sender == s.grantee;
    }

    function _subjectKey(bytes32 subjectCommit, bytes32 digest, bytes calldata subjectSig)
        private
        view
        returns (address key)
    {
        if (subjectSig.length < 96 || uint256(bytes32(subjectSig[32:64])) != 64) {
            revert IConsentGrants.InvalidSubjectSignature(subjectCommit);
        }
        uint256 len = uint256(bytes32(subjectSig[64:96]));
        if (len > subjectSig.length - 96) revert IConsentGrants.InvalidSubjectSignature(subjectCommit);
        bytes32 salt = bytes32(subjectSig[0:32]);
        bytes calldata sig = subjectSig[96:96 + len];
        ECDSA.RecoverError failure = ECDSA.RecoverError.NoError;
        if (len == 65) {
            (key, failure,) = ECDSA.tryRecover(digest, uint8(sig[64]), bytes32(sig[0:32]), bytes32(sig[32:64]));
        } else if (len == 64) {
            (key, failure,) = ECDSA.tryRecover(digest, bytes32(sig[0:32]), bytes32(sig[32:64]));
        } else if (len > 20) {
            key = address(bytes20(sig[0:20]));
            if (!SignatureChecker.isValidERC1271SignatureNow(key, digest, sig[20:])) key = address(0);
        }
        if (failure != ECDSA.RecoverError.NoError || key == address(0) || keccak256(abi.encode(salt, key)) != subjectCommit) {
            revert IConsentGrants.InvalidSubjectSignature(subjectCommit);
        }
    }

    function _checkAuthority(address key, uint48 expiresAt) private view {
        (bool ok, bytes memory ret) = key.staticcall(abi.encodeCall(IGuardianAuthority.authorityEndsAt, ()));
        if (ok && ret.length > 31) {
            uint48 endsAt = abi.decode(ret, (uint48));
            if (expiresAt > endsAt) revert IConsentGrants.BeyondAuthority(expiresAt, endsAt);
        }
    }

    function _grantStructHash(IConsentGrants.GrantInput calldata g, uint256 nonce) private pure returns (bytes32) {
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
}
