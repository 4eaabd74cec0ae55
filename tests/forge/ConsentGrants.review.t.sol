// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IConsentGrant} from "../../contracts/interfaces/IConsentGrant.sol";
import {IConsentGrants} from "../../contracts/interfaces/IConsentGrants.sol";

import {GrantsTest} from "./utils/GrantsTest.sol";

/// @dev The security review's ConsentRegistry findings (issue 16.3; tests/forge/ConsentRegistry.review.t.sol shows
/// each exploit on the address-keyed registry) ported to ConsentGrants: each test replays the exploit and asserts the
/// safe outcome. Finding (c), a delegate's grant outliving the delegate, belongs to the guardianship account's tests.
contract ConsentGrantsReviewTest is GrantsTest {
    address internal constant GRIEFER = address(0x6E1EFE);
    address internal constant OTHER_RESEARCHER = address(0x4E6);

    /// @dev Three subjects' signed grants to COMMITTEE, as a clinic's onboarding batch.
    function _cohort()
        internal
        view
        returns (Subject[3] memory subjects, IConsentGrants.GrantInput[] memory gs, bytes[] memory sigs)
    {
        subjects = [_subject(1), _subject(2), _subject(3)];
        gs = new IConsentGrants.GrantInput[](3);
        sigs = new bytes[](3);
        for (uint256 i = 0; i < 3; ++i) {
            gs[i] = _simple(subjects[i], COMMITTEE);
            sigs[i] = _grantSig(subjects[i], gs[i], 0);
        }
    }

    /// @dev 16.3(a), front-run: a griefer submits the middle item alone. The batch goes on: that item is reported
    /// (GrantExists, as the griefer already minted exactly what the subject signed) and the others are minted.
    function test_review_16_3a_frontRunItemFailsAloneTheRestIsMinted() public {
        (Subject[3] memory subjects, IConsentGrants.GrantInput[] memory gs, bytes[] memory sigs) = _cohort();
        vm.prank(GRIEFER);
        grants.grant(gs[1], sigs[1]);

        vm.expectEmit(address(grants));
        emit IConsentGrants.GrantFailed(1, subjects[1].commit, IConsentGrants.GrantExists.selector);
        vm.prank(RELAYER);
        uint256 minted = grants.grantBatch(gs, sigs);
        vm.assertEq(minted, 2, "the two other items minted");
        for (uint256 i = 0; i < 3; ++i) {
            vm.assertTrue(grants.isGrantActive(subjects[i].commit), "every subject's grant stands");
            vm.assertEq(grants.getGrant(subjects[i].commit).grantee, COMMITTEE, "as signed");
        }
    }

    /// @dev 16.3(a), nonce burn: one subject burns its nonce. Only that item fails (InvalidSubjectSignature: the
    /// signature was made over the burned nonce); the others are minted.
    function test_review_16_3a_burnedNonceFailsOneItemTheRestIsMinted() public {
        (Subject[3] memory subjects, IConsentGrants.GrantInput[] memory gs, bytes[] memory sigs) = _cohort();
        bytes memory burn = _burnSig(subjects[2], 0);
        vm.prank(RELAYER);
        grants.burnNonce(subjects[2].commit, burn);

        vm.expectEmit(address(grants));
        emit IConsentGrants.GrantFailed(2, subjects[2].commit, IConsentGrants.InvalidSubjectSignature.selector);
        vm.prank(RELAYER);
        uint256 minted = grants.grantBatch(gs, sigs);
        vm.assertEq(minted, 2, "items 0 and 1 minted");
        vm.assertTrue(grants.isGrantActive(subjects[0].commit), "item 0");
        vm.assertTrue(grants.isGrantActive(subjects[1].commit), "item 1");
        vm.assertEq(grants.getGrant(subjects[2].commit).status, NONE, "the burned item minted nothing");
    }

    /// @dev 16.3(b): a signed grant that was never submitted is cancelled by burnNonce; the relayer's later
    /// submission reverts InvalidSubjectSignature.
    function test_review_16_3b_burnNonceCancelsAnUnsubmittedGrant() public {
        Subject memory s = _subject(1);
        IConsentGrants.GrantInput memory g = _simple(s, RESEARCHER);
        bytes memory held = _grantSig(s, g, 0);
        bytes memory burn = _burnSig(s, 0);
        vm.expectEmit(address(grants));
        emit IConsentGrants.NonceBurned(s.commit, 0);
        vm.prank(RELAYER);
        grants.burnNonce(s.commit, burn);

        vm.warp(START + 60 days);
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.InvalidSubjectSignature.selector, s.commit));
        grants.grant(g, held);
        vm.assertFalse(grants.isGrantActive(s.commit), "no consent");
    }

    /// @dev 16.3(b), the review's own sequence: the grant went through, the subject withdrew, the relayer submits the
    /// signature again. The id exists (and the nonce is spent), so nothing comes back.
    function test_review_16_3b_aWithdrawnGrantCannotBeResubmitted() public {
        Subject memory s = _subject(1);
        IConsentGrants.GrantInput memory g = _simple(s, RESEARCHER);
        bytes memory sig = _grantSig(s, g, 0);
        vm.prank(RELAYER);
        grants.grant(g, sig);
        _revoke(s, s.commit);

        vm.warp(START + 60 days);
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.GrantExists.selector, s.commit));
        grants.grant(g, sig);
        vm.assertEq(grants.getGrant(s.commit).status, REVOKED_BY_SUBJECT, "still withdrawn");
        vm.assertFalse(grants.isGrantActive(s.commit), "no consent");
    }

    /// @dev 16.3(d): broad research is a delegable grant to a committee that sub-grants to researchers. The subject's
    /// signed revocation of one researcher's sub-grant ends that researcher's access while the committee's grant,
    /// and another researcher's sub-grant, stay live; the root grant opens nothing to the researcher.
    function test_review_16_3d_revokedResearcherLosesAccessUnderALiveCommitteeGrant() public {
        Subject memory s = _subject(1);
        IConsentGrants.GrantInput memory broad = _input(
            s, COMMITTEE, _resource("labs"), _policy(START, START + 365 days, READ | QUERY, GRU, 0, 0, DELEGABLE)
        );
        bytes32 root = _mint(s, broad);
        uint256 researchPolicy = _policy(START, START + 180 days, READ, HMB, 0, 0, 0);
        bytes32 sub = _sub(root, COMMITTEE, _input(s, RESEARCHER, _resource("labs"), researchPolicy));
        bytes32 other = _sub(root, COMMITTEE, _input(s, OTHER_RESEARCHER, _resource("labs"), researchPolicy));
        vm.assertTrue(_reads(RESEARCHER, sub), "before: the researcher reads");

        bytes memory sig = _revokeSig(s, sub, bytes32(0), grants.nonces(s.commit));
        vm.expectEmit(address(grants));
        emit IConsentGrant.ConsentRevoked(sub, s.commit, REVOKED_BY_SUBJECT, bytes32(0));
        vm.prank(RELAYER);
        grants.revokeBySubjectWithSig(sub, bytes32(0), sig);

        vm.assertTrue(grants.isGrantActive(root), "the committee's grant is live");
        vm.assertFalse(grants.isGrantActive(sub), "the researcher's sub-grant is not");
        vm.assertFalse(_reads(RESEARCHER, sub), "the researcher reads nothing through it");
        vm.prank(RESEARCHER);
        vm.assertFalse(
            grants.checkAccess(root, GRU, READ, _resource("labs"), new bytes32[](0)),
            "nor through the committee's grant"
        );
        vm.assertTrue(_reads(OTHER_RESEARCHER, other), "another researcher keeps access");
    }

    function _reads(address caller, bytes32 id) internal returns (bool) {
        vm.prank(caller);
        return grants.checkAccess(id, HMB, READ, _resource("labs"), new bytes32[](0));
    }
}
