// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IConsentGrant} from "../../contracts/interfaces/IConsentGrant.sol";
import {IConsentGrants} from "../../contracts/interfaces/IConsentGrants.sol";

import {GrantsTest} from "./utils/GrantsTest.sol";

/// @dev Fuzz tests of ConsentGrants: ERC-8356's policy packing round trip through getGrant, a policy word accepted iff
/// no reserved bit is set and its values are in range, sub-grant inputs accepted iff the attenuation rules hold (the
/// expected outcome computed here from the standard's rules, in the contract's order of checks), and checkAccess's ops.
contract ConsentGrantsFuzzTest is GrantsTest {
    uint48 internal constant MAX_TIME = type(uint48).max;

    /// @dev Keeps in-range values as they are (so the fuzzer's edge values survive), folds the rest.
    function _bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        if (x >= min && x <= max) return x;
        return min + x % (max - min + 1);
    }

    function _code(uint256 seed) internal pure returns (uint32) {
        return [GRU, HMB, TREAT][seed % 3];
    }

    /* ---- POLICY ---- */

    /// @dev The seven scalars ERC-8356 packs, as the fuzzer draws them.
    struct Scalars {
        uint48 notBefore;
        uint48 expiresAt;
        uint32 ops;
        uint32 purposeCode;
        uint16 usesMax;
        uint8 agentKind;
        uint8 flags;
    }

    function testFuzz_policyPackingRoundTrip(uint48 notBefore, uint48 expiresAt, uint256 fields, uint256 assetTokenId)
        public
    {
        Scalars memory v;
        v.notBefore = uint48(_bound(notBefore, 0, MAX_TIME - 1));
        v.expiresAt = uint48(_bound(expiresAt, (v.notBefore > START ? v.notBefore : START) + 1, MAX_TIME));
        v.ops = uint32(_bound(uint32(fields), 1, 0x1f));
        v.purposeCode = _code(fields >> 32);
        v.usesMax = uint16(fields >> 64);
        v.agentKind = uint8(_bound(uint8(fields >> 80), 0, ASSERTED_UNVERIFIED));
        v.flags = uint8(_bound(uint8(fields >> 88), 0, 0x07));
        uint256 policy = _policy(v.notBefore, v.expiresAt, v.ops, v.purposeCode, v.usesMax, v.agentKind, v.flags);

        Subject memory s = _subject(fields);
        IConsentGrants.GrantInput memory g = _input(s, CLINIC, _resource("labs"), policy);
        g.assetTokenId = assetTokenId;
        if (v.agentKind != 0) g.agent = AGENT;
        bytes memory sig = _grantSig(s, g, 0);
        vm.expectEmit(address(grants));
        emit IConsentGrant.ConsentGranted(s.commit, assetTokenId, CLINIC, v.purposeCode, v.expiresAt);
        vm.prank(RELAYER);
        grants.grant(g, sig);
        _assertScalars(grants.getGrant(s.commit), v, policy);
        vm.assertEq(grants.getGrant(s.commit).assetTokenId, assetTokenId, "assetTokenId");
        vm.assertEq(grants.getGrant(s.commit).agent, g.agent, "agent");
    }

    function _assertScalars(IConsentGrants.ConsentGrant memory got, Scalars memory v, uint256 policy) internal pure {
        vm.assertEq(got.notBefore, v.notBefore, "notBefore");
        vm.assertEq(got.expiresAt, v.expiresAt, "expiresAt");
        vm.assertEq(got.ops, v.ops, "ops");
        vm.assertEq(got.purposeCode, v.purposeCode, "purposeCode");
        vm.assertEq(got.usesMax, v.usesMax, "usesMax");
        vm.assertEq(got.agentKind, v.agentKind, "agentKind");
        vm.assertEq(got.flags, v.flags, "flags");
        vm.assertEq(got.agentStatus, v.agentKind == 0 ? NONE : LEG_ACTIVE, "agentStatus");
        vm.assertEq(
            _policy(got.notBefore, got.expiresAt, got.ops, got.purposeCode, got.usesMax, got.agentKind, got.flags),
            policy,
            "the seven fields pack back into the signed policy"
        );
    }

    /// @dev A policy word is refused with InvalidPolicy iff a reserved bit is set or a value is out of range; past that,
    /// the window and the registry decide. The fuzzer's word is put in range, then one part (or none) is pushed out of
    /// it, often to the first value past the bound; the expected outcome is computed from the word by the rules alone.
    function testFuzz_policyAcceptedIffNoReservedBitAndInRange(uint256 seed, uint8 part, uint256 r) public {
        uint48 notBefore = uint48(_bound(uint48(seed), 0, START));
        uint48 expiresAt = uint48(_bound(uint48(seed >> 48), START + 1, MAX_TIME));
        uint256 policy = _policy(
            notBefore,
            expiresAt,
            uint32(1 + (seed >> 96) % 31),
            _code(seed >> 128),
            uint16(seed >> 160),
            uint8((seed >> 176) % 5),
            uint8((seed >> 184) % 8)
        );
        policy = _pushOutOfRange(policy, part % 8, r);
        bytes memory expected = _expectedPolicyError(policy);
        Subject memory s = _subject(policy);
        IConsentGrants.GrantInput memory g = _input(s, CLINIC, _resource("labs"), policy);
        if (uint8(policy >> 176) != 0) g.agent = AGENT;
        bytes memory sig = _grantSig(s, g, 0);
        vm.prank(RELAYER);
        if (expected.length != 0) vm.expectRevert(expected);
        grants.grant(g, sig);
        vm.assertEq(grants.getGrant(s.commit).status, expected.length == 0 ? ACTIVE : NONE, "minted iff accepted");
    }

    /// @dev Part 0: a bit above 191; 1: a reserved flag; 2: no op or a reserved op; 3: an undefined agent kind;
    /// 4: purpose 0 or an unregistered code; 5: an empty window; 6: a window over before now; 7: none.
    function _pushOutOfRange(uint256 policy, uint256 part, uint256 r) internal pure returns (uint256) {
        bool first = r % 2 == 0; // the first value past the bound
        if (part == 0) return policy | (uint256(1) << (first ? 192 : 192 + (r >> 8) % 64));
        if (part == 1) return policy | (uint256(first ? 0x08 : 1 << (3 + (r >> 8) % 5)) << 184);
        if (part == 2) {
            uint256 ops = first ? 0 : (1 + (r >> 8) % 31) | (uint256(0x20) << ((r >> 16) % 27));
            return (policy & ~(uint256(0xffffffff) << 96)) | (ops << 96);
        }
        if (part == 3) {
            return (policy & ~(uint256(0xff) << 176)) | (uint256(first ? 5 : 5 + (r >> 8) % 251) << 176);
        }
        if (part == 4) return (policy & ~(uint256(0xffffffff) << 128)) | (uint256(first ? 0 : 9999) << 128);
        if (part == 5) {
            return (policy & ~uint256(MAX_TIME)) | uint256(uint48(policy >> 48) + (first ? 0 : (r >> 8) % 1000));
        }
        if (part == 6) {
            return (policy & ~(uint256(MAX_TIME) << 48)) | (uint256(START - (first ? 0 : (r >> 8) % 1000)) << 48);
        }
        return policy;
    }

    /// @dev ERC-8356's policy rules, then the window and the registry, in the contract's order of checks.
    function _expectedPolicyError(uint256 policy) internal view returns (bytes memory) {
        uint32 ops = uint32(policy >> 96);
        uint32 purposeCode = uint32(policy >> 128);
        if (
            policy >> 192 != 0 || ops == 0 || ops & ~uint32(0x1f) != 0 || uint8(policy >> 184) & ~uint8(0x07) != 0
                || uint8(policy >> 176) > ASSERTED_UNVERIFIED || purposeCode == 0
        ) return abi.encodeWithSelector(IConsentGrants.InvalidPolicy.selector, policy);
        uint48 notBefore = uint48(policy);
        uint48 expiresAt = uint48(policy >> 48);
        if (expiresAt <= notBefore || expiresAt <= START) {
            return abi.encodeWithSelector(IConsentGrants.InvalidWindow.selector, notBefore, expiresAt, uint64(START));
        }
        if (!purposes.isRegistered(purposeCode)) {
            return abi.encodeWithSelector(IConsentGrants.PurposeNotRegistered.selector, purposeCode);
        }
        return "";
    }

    /* ---- ATTENUATION ---- */

    struct ChildCase {
        uint32 ops;
        uint48 notBefore;
        uint48 expiresAt;
        uint16 usesMax;
        uint32 purposeCode;
        uint256 assetTokenId;
        bool otherSubject;
        uint8 scope; // 0: the parent's, 1: another resource, 2: the parent's read as a Merkle root
    }

    /// @dev The parent: READ|QUERY|DERIVE for GRU over one resource, [START + 10, START + 1010), 5 uses, asset 7,
    /// delegable, to COMMITTEE; time is START + 10. The child's fields are drawn by _childCase; the outcome expected
    /// is computed from the values drawn, by the rules alone.
    function testFuzz_attenuationAcceptedIffRulesHold(uint256 seed) public {
        Subject memory s = _subject(1);
        IConsentGrants.GrantInput memory p = _input(
            s,
            COMMITTEE,
            _resource("labs"),
            _policy(START + 10, START + 1010, READ | QUERY | DERIVE, GRU, 5, 0, DELEGABLE)
        );
        p.assetTokenId = 7;
        bytes32 parent = _mint(s, p);
        vm.warp(START + 10);

        ChildCase memory c = _childCase(seed);
        IConsentGrants.GrantInput memory g = _input(
            c.otherSubject ? _subject(2) : s,
            RESEARCHER,
            c.scope == 1 ? _resource("imaging") : _resource("labs"),
            _policy(c.notBefore, c.expiresAt, c.ops, c.purposeCode, c.usesMax, 0, c.scope == 2 ? SCOPE_IS_ROOT : 0)
        );
        g.assetTokenId = c.assetTokenId;
        bytes memory expected = _expectedSubGrantError(parent, g, c);

        vm.prank(COMMITTEE);
        if (expected.length != 0) vm.expectRevert(expected);
        grants.subGrant(parent, g, new bytes32[](0));
        if (expected.length == 0) vm.assertEq(grants.getGrant(_subId(parent, g)).depth, 1, "minted");
    }

    /// @dev Each field inside its bound three times in four, else past it (ops: any 5-bit value; the expiry: past the
    /// parent's, or an empty window, else the parent's own or one before it), so both outcomes of every rule come up.
    function _childCase(uint256 seed) internal pure returns (ChildCase memory c) {
        bool[8] memory past;
        for (uint256 i = 0; i < 8; ++i) {
            past[i] = (seed >> (2 * i)) % 4 == 0;
        }
        uint256 x = seed >> 16;
        c.ops = past[0] ? uint32(x % 32) : uint32(1 + x % 7);
        c.notBefore = uint48(past[1] ? START + (x >> 8) % 10 : START + 10 + (x >> 8) % 10);
        uint256 expirySel = (x >> 16) % 4;
        if (expirySel == 0) c.expiresAt = uint48(START + 1011 + (x >> 24) % 100);
        else if (expirySel == 1) c.expiresAt = c.notBefore;
        else if (expirySel == 2) c.expiresAt = START + 1010; // the parent's own
        else c.expiresAt = uint48(c.notBefore + 1 + (x >> 24) % (START + 1010 - c.notBefore));
        c.usesMax = past[2] ? [uint16(0), 6, 7][(x >> 40) % 3] : uint16(1 + (x >> 40) % 5);
        c.purposeCode = past[3] ? TREAT : ((x >> 48) % 2 == 0 ? GRU : HMB);
        c.assetTokenId = past[4] ? 8 : 7;
        c.otherSubject = past[5];
        c.scope = past[6] ? uint8(1 + (x >> 56) % 2) : 0;
    }

    /// @dev ERC-8356's attenuation rules against the parent above, in the contract's order of checks.
    function _expectedSubGrantError(bytes32 parent, IConsentGrants.GrantInput memory g, ChildCase memory c)
        internal
        view
        returns (bytes memory)
    {
        if (c.ops == 0) return abi.encodeWithSelector(IConsentGrants.InvalidPolicy.selector, g.policy);
        if (c.expiresAt <= c.notBefore || c.expiresAt <= block.timestamp) {
            return abi.encodeWithSelector(
                IConsentGrants.InvalidWindow.selector, c.notBefore, c.expiresAt, uint64(block.timestamp)
            );
        }
        IConsentGrants.Attenuation rule;
        if (c.otherSubject) rule = IConsentGrants.Attenuation.SUBJECT;
        else if (c.ops & ~(READ | QUERY | DERIVE) != 0) rule = IConsentGrants.Attenuation.OPS;
        else if (c.expiresAt > START + 1010) rule = IConsentGrants.Attenuation.EXPIRY;
        else if (c.notBefore < START + 10) rule = IConsentGrants.Attenuation.NOT_BEFORE;
        else if (c.usesMax == 0 || c.usesMax > 5) rule = IConsentGrants.Attenuation.USES;
        else if (c.purposeCode != GRU && c.purposeCode != HMB) rule = IConsentGrants.Attenuation.PURPOSE;
        else if (c.assetTokenId != 7) rule = IConsentGrants.Attenuation.ASSET;
        else if (c.scope != 0) rule = IConsentGrants.Attenuation.SCOPE;
        else return "";
        return abi.encodeWithSelector(IConsentGrants.AttenuationViolated.selector, parent, rule);
    }

    /* ---- ACCESS ---- */

    function testFuzz_checkAccessOpsAreASubsetOfKnownBits(uint32 granted, uint32 asked) public {
        granted = uint32(_bound(granted, 1, 0x1f));
        Subject memory s = _subject(granted);
        bytes32 id =
            _mint(s, _input(s, CLINIC, _resource("labs"), _policy(START, START + 1 days, granted, GRU, 0, 0, 0)));
        bool expected = asked != 0 && asked & ~uint32(0x1f) == 0 && asked & ~granted == 0;
        vm.prank(CLINIC);
        vm.assertEq(grants.checkAccess(id, GRU, asked, _resource("labs"), new bytes32[](0)), expected, "op subset");
    }

    /// @dev A signature opens only the commitment to its own (salt, key): another salt or another key does not.
    function testFuzz_subjectSigOpensOnlyItsCommitment(uint256 seed, uint256 otherSeed, uint8 variant) public {
        vm.assume(seed != otherSeed);
        Subject memory s = _subject(seed);
        Subject memory other = _subject(otherSeed);
        bool ownKey = variant % 2 == 0;
        bool ownSalt = (variant >> 1) % 2 == 0;
        IConsentGrants.GrantInput memory g = _simple(s, CLINIC);
        Subject memory signer =
            Subject(ownKey ? s.key : other.key, ownKey ? s.addr : other.addr, ownSalt ? s.salt : other.salt, s.commit);
        bytes memory sig = _sig(signer, _grantHash(g, 0));
        bool opens = ownKey && ownSalt;
        vm.prank(RELAYER);
        if (!opens) vm.expectRevert(abi.encodeWithSelector(IConsentGrants.InvalidSubjectSignature.selector, s.commit));
        grants.grant(g, sig);
        vm.assertEq(grants.isGrantActive(s.commit), opens, "only the commitment's own key and salt");
    }
}
