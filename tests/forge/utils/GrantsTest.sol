// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ConsentGrants} from "../../../contracts/ConsentGrants.sol";
import {PurposeRegistry} from "../../../contracts/PurposeRegistry.sol";
import {IConsentGrants} from "../../../contracts/interfaces/IConsentGrants.sol";
import {IPurposeCodes} from "../../../contracts/interfaces/IPurposeRegistry.sol";

import {Vm, VM_ADDRESS} from "./Vm.sol";

/// @dev Shared set-up for ConsentGrants: a purpose registry with GRU and HMB (HMB narrows GRU) and TREAT, the grant
/// registry, and subject keys made per grant. Typed data, policy packing and commitments are written here from
/// ERC-8356's text (docs/private-consent.md), not read back from the contract under test.
abstract contract GrantsTest {
    Vm internal constant vm = Vm(VM_ADDRESS);

    uint48 internal constant START = 1_700_000_000;
    address internal constant ADMIN = address(0xAD317);
    address internal constant RELAYER = address(0x4E1A);
    address internal constant CLINIC = address(0xC11);
    address internal constant COMMITTEE = address(0xDAC);
    address internal constant RESEARCHER = address(0x4E5);
    address internal constant AGENT = address(0xA6E);
    address internal constant OPERATOR = address(0x0BE4);

    uint32 internal constant GRU = 42; // DUO:0000042 general research use
    uint32 internal constant HMB = 6; // DUO:0000006 health/medical/biomedical research, narrows GRU
    uint32 internal constant TREAT = 1001; // v3-ActReason:TREAT

    uint32 internal constant READ = 0x01;
    uint32 internal constant QUERY = 0x02;
    uint32 internal constant DERIVE = 0x04;
    uint32 internal constant EXPORT = 0x08;
    uint32 internal constant TRAIN = 0x10;
    uint8 internal constant SCOPE_IS_ROOT = 0x01;
    uint8 internal constant DELEGABLE = 0x02;
    uint8 internal constant DESTROY_DERIVATIVES = 0x04;

    // ERC-8356's Status and AgentKind values, and CareChain's agent leg status.
    uint8 internal constant NONE = 0;
    uint8 internal constant ACTIVE = 1;
    uint8 internal constant REVOKED_BY_SUBJECT = 2;
    uint8 internal constant RENOUNCED_BY_GRANTEE = 3;
    uint8 internal constant TERMINATED_BY_ISSUER = 4;
    uint8 internal constant SUSPENDED = 5;
    uint8 internal constant EXHAUSTED = 6;
    uint8 internal constant SESSION_KEY = 1;
    uint8 internal constant EXTERNAL_REGISTRY = 2;
    uint8 internal constant TOKEN_BOUND_ACCOUNT = 3;
    uint8 internal constant ASSERTED_UNVERIFIED = 4;
    uint8 internal constant LEG_ACTIVE = 1;
    uint8 internal constant LEG_REVOKED = 2;

    bytes32 internal constant PROFILE = keccak256("carechain/profile/GRU/v1");
    bytes32 internal constant TERMS = keccak256("carechain/terms/research/v1");

    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant GRANT_TYPEHASH = keccak256(
        "Grant(bytes32 scopeRef,bytes32 purposeProfileRef,bytes32 termsRef,uint256 assetTokenId,bytes32 subjectCommit,address grantee,address agent,uint256 policy,uint256 nonce)"
    );
    bytes32 internal constant REVOKE_TYPEHASH =
        keccak256("RevokeBySubject(bytes32 grantId,bytes32 reasonCode,uint256 nonce)");
    bytes32 internal constant REVOKE_LEAF_TYPEHASH =
        keccak256("RevokeScopeLeaf(bytes32 grantId,bytes32 leaf,uint256 nonce)");
    bytes32 internal constant BURN_TYPEHASH = keccak256("BurnNonce(bytes32 subjectCommit,uint256 nonce)");

    PurposeRegistry internal purposes;
    ConsentGrants internal grants;

    /// @dev One per-grant subject: its key, salt and commitment.
    struct Subject {
        uint256 key;
        address addr;
        bytes32 salt;
        bytes32 commit;
    }

    function setUp() public virtual {
        vm.warp(START);
        purposes = new PurposeRegistry(ADMIN);
        uint32[] memory codes = new uint32[](3);
        IPurposeCodes.Purpose[] memory ps = new IPurposeCodes.Purpose[](3);
        bytes32 duo = keccak256("http://purl.obolibrary.org/obo/duo/releases/2021-02-23/duo.owl");
        (codes[0], ps[0]) = (GRU, IPurposeCodes.Purpose(keccak256("DUO:0000042"), duo, 0));
        (codes[1], ps[1]) = (HMB, IPurposeCodes.Purpose(keccak256("DUO:0000006"), duo, GRU));
        (codes[2], ps[2]) = (TREAT, IPurposeCodes.Purpose(keccak256("v3-ActReason:TREAT"), keccak256("HL7 v3 3.0.0"), 0));
        vm.prank(ADMIN);
        purposes.register(codes, ps);
        grants = new ConsentGrants(ADMIN, purposes);
    }

    /* ---- SUBJECTS AND INPUTS ---- */

    function _subject(uint256 seed) internal pure returns (Subject memory s) {
        s.key = uint256(keccak256(abi.encode("subject key", seed))) % (SECP_N - 1) + 1;
        s.addr = vm.addr(s.key);
        s.salt = keccak256(abi.encode("subject salt", seed));
        s.commit = keccak256(abi.encode(s.salt, s.addr));
    }

    uint256 internal constant SECP_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    /// @dev ERC-8356's normative policy packing.
    function _policy(uint48 notBefore, uint48 expiresAt, uint32 ops, uint32 purposeCode, uint16 usesMax, uint8 agentKind, uint8 flags)
        internal
        pure
        returns (uint256)
    {
        return uint256(notBefore) | (uint256(expiresAt) << 48) | (uint256(ops) << 96) | (uint256(purposeCode) << 128)
            | (uint256(usesMax) << 160) | (uint256(agentKind) << 176) | (uint256(flags) << 184);
    }

    function _input(Subject memory s, address grantee, bytes32 scopeRef, uint256 policy)
        internal
        pure
        returns (IConsentGrants.GrantInput memory g)
    {
        g = IConsentGrants.GrantInput(scopeRef, PROFILE, TERMS, 0, s.commit, grantee, address(0), policy);
    }

    /// @dev A one-year READ|QUERY grant for GRU over one resource.
    function _simple(Subject memory s, address grantee) internal pure returns (IConsentGrants.GrantInput memory) {
        return _input(s, grantee, _resource("labs"), _policy(START, START + 365 days, READ | QUERY, GRU, 0, 0, 0));
    }

    /// @dev keccak256(resourceId) for a salted resource (docs/private-consent.md "Scopes").
    function _resource(string memory name) internal pure returns (bytes32) {
        return keccak256(abi.encode(keccak256("scope salt"), keccak256(bytes(name))));
    }

    function _leaf(bytes32 resourceHash) internal pure returns (bytes32) {
        return keccak256(bytes.concat(resourceHash));
    }

    /* ---- SIGNATURES ---- */

    /// @dev The contract subject signatures are for (the reference layout's tests sign for it instead).
    function _verifyingContract() internal view virtual returns (address) {
        return address(grants);
    }

    function _domain() internal view returns (bytes32) {
        return keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256("ConsentGrant"), keccak256("1"), block.chainid, _verifyingContract())
        );
    }

    function _digest(bytes32 structHash) internal view returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", _domain(), structHash));
    }

    function _grantHash(IConsentGrants.GrantInput memory g, uint256 nonce) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                GRANT_TYPEHASH, g.scopeRef, g.purposeProfileRef, g.termsRef, g.assetTokenId, g.subjectCommit, g.grantee,
                g.agent, g.policy, nonce
            )
        );
    }

    /// @dev subjectSig = abi.encode(salt, 65-byte signature).
    function _sig(Subject memory s, bytes32 structHash) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 sv) = vm.sign(s.key, _digest(structHash));
        return abi.encode(s.salt, abi.encodePacked(r, sv, v));
    }

    function _grantSig(Subject memory s, IConsentGrants.GrantInput memory g, uint256 nonce)
        internal
        view
        returns (bytes memory)
    {
        return _sig(s, _grantHash(g, nonce));
    }

    function _revokeSig(Subject memory s, bytes32 grantId, bytes32 reason, uint256 nonce)
        internal
        view
        returns (bytes memory)
    {
        return _sig(s, keccak256(abi.encode(REVOKE_TYPEHASH, grantId, reason, nonce)));
    }

    function _leafSig(Subject memory s, bytes32 grantId, bytes32 leaf, uint256 nonce)
        internal
        view
        returns (bytes memory)
    {
        return _sig(s, keccak256(abi.encode(REVOKE_LEAF_TYPEHASH, grantId, leaf, nonce)));
    }

    function _burnSig(Subject memory s, uint256 nonce) internal view returns (bytes memory) {
        return _sig(s, keccak256(abi.encode(BURN_TYPEHASH, s.commit, nonce)));
    }

    /// @dev subjectSig = abi.encode(salt, 64-byte EIP-2098 signature r ‖ vs, vs = s | (v - 27) << 255).
    function _compactSig(Subject memory s, bytes32 structHash) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 sv) = vm.sign(s.key, _digest(structHash));
        return abi.encode(s.salt, abi.encodePacked(r, uint256(sv) | (uint256(v - 27) << 255)));
    }

    /* ---- ACTS ---- */

    /// @dev The subject's signed withdrawal, submitted by the relayer with the subject's current nonce.
    function _revoke(Subject memory s, bytes32 grantId) internal {
        bytes memory sig = _revokeSig(s, grantId, bytes32(0), grants.nonces(s.commit));
        vm.prank(RELAYER);
        grants.revokeBySubjectWithSig(grantId, bytes32(0), sig);
    }

    /// @dev The subject's signed withdrawal of one scope leaf, submitted by the relayer.
    function _withdrawLeaf(Subject memory s, bytes32 grantId, bytes32 leaf) internal {
        bytes memory sig = _leafSig(s, grantId, leaf, grants.nonces(s.commit));
        vm.prank(RELAYER);
        grants.revokeScopeLeafWithSig(grantId, leaf, sig);
    }

    /// @dev A sub-grant's id as docs/private-consent.md defines it.
    function _subId(bytes32 parentGrantId, IConsentGrants.GrantInput memory g) internal pure returns (bytes32) {
        return keccak256(abi.encode(parentGrantId, g));
    }

    /// @dev A sub-grant of `parentGrantId` by `grantee` (the parent's grantee) with no scope proof.
    function _sub(bytes32 parentGrantId, address grantee, IConsentGrants.GrantInput memory g)
        internal
        returns (bytes32 id)
    {
        vm.prank(grantee);
        id = grants.subGrant(parentGrantId, g, new bytes32[](0));
    }

    /// @dev Mint a root grant through the relayer.
    function _mint(Subject memory s, IConsentGrants.GrantInput memory g) internal returns (bytes32 id) {
        bytes memory sig = _grantSig(s, g, grants.nonces(s.commit));
        vm.prank(RELAYER);
        id = grants.grant(g, sig);
    }

    /* ---- GAS ---- */

    // Issue 16's ceilings, each for one call as a transaction of its own (isGrantActive: as a contract's call).
    uint256 internal constant GRANT_CEILING = 135_000;
    uint256 internal constant BATCH_ITEM_CEILING = 115_000;
    uint256 internal constant REVOKE_CEILING = 50_000;
    uint256 internal constant IS_ACTIVE_CEILING = 10_000;

    /// @dev What the call costs as a transaction of its own: the execution measured here, less the cold access to the
    /// contract a transaction's `to` does not pay, plus the intrinsic 21,000 and the calldata (EIP-2028).
    function _asTransaction(uint256 used, bytes memory data) internal pure returns (uint256 total) {
        total = used - 2_600 + 21_000;
        for (uint256 i = 0; i < data.length; ++i) {
            total += data[i] == 0 ? 4 : 16;
        }
    }
}
