// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IConsentGrants} from "../../contracts/interfaces/IConsentGrants.sol";

import {ReferenceTest} from "./utils/ReferenceTest.sol";

/// @dev The reference layout is what it says it is (the gas benches compare ConsentGrants with it): ERC-8356's struct
/// in the printed slots, and the standard's rules on the paths measured, so it is not cheaper for doing less.
contract ReferenceConsentGrantTest is ReferenceTest {
    /// @dev `forge inspect ReferenceConsentGrant storageLayout`: EIP712's two fallback strings, the epoch, then this.
    uint256 internal constant GRANTS_SLOT = 3;

    function _slot(bytes32 grantId, uint256 index) internal view returns (uint256) {
        bytes32 base = keccak256(abi.encode(grantId, GRANTS_SLOT));
        return uint256(vm.load(address(ref), bytes32(uint256(base) + index)));
    }

    /// @dev A root grant with every field set, and a sub-grant of it (parent and depth).
    function test_storesTheStandardsStructInSlotsZeroToEightAsPrinted() public {
        Subject memory s = _subject(7);
        uint256 policy = _policy(START, START + 30 days, READ | QUERY, GRU, 5, 1, DELEGABLE);
        IConsentGrants.GrantInput memory g =
            IConsentGrants.GrantInput(_resource("labs"), PROFILE, TERMS, 77, s.commit, CLINIC, AGENT, policy);
        bytes32 id = _mintRef(s, g);

        vm.assertEq(_slot(id, 0), uint256(_resource("labs")), "slot 0 scopeRef");
        vm.assertEq(_slot(id, 1), uint256(PROFILE), "slot 1 purposeProfileRef");
        vm.assertEq(_slot(id, 2), uint256(TERMS), "slot 2 termsRef");
        vm.assertEq(_slot(id, 3), 0, "slot 3 parentGrantId");
        vm.assertEq(_slot(id, 4), 77, "slot 4 assetTokenId");
        vm.assertEq(_slot(id, 5), uint256(s.commit), "slot 5 subjectCommit");
        vm.assertEq(
            _slot(id, 6),
            uint256(uint160(CLINIC)) | (uint256(START) << 160) | (uint256(START + 30 days) << 208),
            "slot 6 grantee, notBefore, expiresAt"
        );
        vm.assertEq(
            _slot(id, 7),
            uint256(uint160(AGENT)) | (uint256(READ | QUERY) << 160) | (uint256(GRU) << 192) | (uint256(1) << 224)
                | (uint256(DELEGABLE) << 232),
            "slot 7 agent, ops, purposeCode, status ACTIVE, flags, depth 0"
        );
        vm.assertEq(_slot(id, 8), 1 | (1 << 8) | (uint256(5) << 80), "slot 8 agentKind, agentStatus ACTIVE, usesMax");

        IConsentGrants.GrantInput memory child = g;
        child.grantee = RESEARCHER;
        child.agent = address(0);
        child.policy = _policy(START, START + 30 days, READ, GRU, 5, 0, 0);
        vm.prank(CLINIC);
        bytes32 childId = ref.subGrant(id, child, new bytes32[](0));
        vm.assertEq(_slot(childId, 3), uint256(id), "slot 3 parentGrantId");
        vm.assertEq(_slot(childId, 7) >> 240, 1, "slot 7 depth 1");
        vm.assertEq(ref.nonces(s.commit), 1, "nonces in their own mapping");
    }

    function test_aGrantSignatureIsNotReplayedAndARevocationConsumesTheNonce() public {
        Subject memory s = _subject(8);
        IConsentGrants.GrantInput memory g = _simple(s, CLINIC);
        bytes memory sig = _grantSig(s, g, 0);
        vm.prank(RELAYER);
        ref.grant(g, sig);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.GrantExists.selector, s.commit));
        ref.grant(g, sig);

        bytes memory revokeSig = _revokeSig(s, s.commit, bytes32(0), 1);
        ref.revokeBySubjectWithSig(s.commit, bytes32(0), revokeSig);
        vm.assertFalse(ref.isGrantActive(s.commit), "revoked");
        vm.assertEq(ref.nonces(s.commit), 2, "nonce consumed");
        vm.assertEq(ref.revocationEpoch(), 2, "epoch bumped");
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.WrongStatus.selector, s.commit, uint8(2)));
        ref.revokeBySubjectWithSig(s.commit, bytes32(0), revokeSig);
    }

    function test_aSignatureByAnotherKeyOrForAnotherNonceIsRefused() public {
        Subject memory s = _subject(9);
        IConsentGrants.GrantInput memory g = _simple(s, CLINIC);
        bytes memory stranger = _grantSig(_subject(10), g, 0);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.InvalidSubjectSignature.selector, s.commit));
        ref.grant(g, stranger);
        bytes memory laterNonce = _grantSig(s, g, 1);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.InvalidSubjectSignature.selector, s.commit));
        ref.grant(g, laterNonce);
    }

    function test_aBatchItemThatFailsLeavesTheOthersMinted() public {
        IConsentGrants.GrantInput[] memory gs = new IConsentGrants.GrantInput[](3);
        bytes[] memory sigs = new bytes[](3);
        for (uint256 i = 0; i < 3; ++i) {
            Subject memory b = _subject(200 + i);
            gs[i] = _simple(b, COMMITTEE);
            sigs[i] = _grantSig(b, gs[i], 0);
        }
        sigs[1] = sigs[0];
        vm.prank(RELAYER);
        vm.assertEq(ref.grantBatch(gs, sigs), 2, "two of three minted");
        vm.assertTrue(ref.isGrantActive(gs[0].subjectCommit) && ref.isGrantActive(gs[2].subjectCommit), "others live");
        vm.assertFalse(ref.isGrantActive(gs[1].subjectCommit), "the bad item not minted");
    }

    /// @dev isGrantActive walks the ancestors: revoking the root ends a depth-2 grant (lazy cascade).
    function test_isGrantActiveWalksTheAncestors() public {
        Subject memory s = _subject(11);
        IConsentGrants.GrantInput memory g = _simple(s, CLINIC);
        g.policy |= uint256(DELEGABLE) << 184;
        bytes32 root = _mintRef(s, g);
        g.grantee = RESEARCHER;
        vm.prank(CLINIC);
        bytes32 child = ref.subGrant(root, g, new bytes32[](0));
        g.grantee = COMMITTEE;
        vm.prank(RESEARCHER);
        bytes32 grandchild = ref.subGrant(child, g, new bytes32[](0));
        vm.assertTrue(ref.isGrantActive(grandchild), "depth 2 active");

        ref.revokeBySubjectWithSig(root, bytes32(0), _revokeSig(s, root, bytes32(0), 1));
        vm.assertFalse(ref.isGrantActive(grandchild), "the root's revocation reaches depth 2");
        vm.assertEq(ref.getGrant(grandchild).status, 1, "without writing to it");
    }

    function test_aSubGrantMustNarrow() public {
        Subject memory s = _subject(12);
        IConsentGrants.GrantInput memory g = _simple(s, CLINIC);
        g.policy |= uint256(DELEGABLE) << 184;
        bytes32 root = _mintRef(s, g);
        IConsentGrants.GrantInput memory wider = g;
        wider.policy = _policy(START, START + 365 days, READ | QUERY | DERIVE, GRU, 0, 0, DELEGABLE);
        vm.prank(CLINIC);
        vm.expectRevert(
            abi.encodeWithSelector(IConsentGrants.AttenuationViolated.selector, root, IConsentGrants.Attenuation.OPS)
        );
        ref.subGrant(root, wider, new bytes32[](0));
    }
}
