// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

import {IConsentRegistry} from "../../contracts/interfaces/IConsentRegistry.sol";

import {ConsentTest} from "./utils/ConsentTest.sol";

/// @dev The security review's ConsentRegistry findings (issue 16.3), one test each, written against
/// the exploit as the review demonstrated it: each test passes while the flaw is there. ConsentGrants
/// (ERC-8356) replaces this contract; tests/forge/ConsentGrants.review.t.sol ports the findings to it.
contract ConsentRegistryReviewTest is ConsentTest {
    uint256 internal constant ALICE_KEY = 0xA11CE;
    uint256 internal constant BOB_KEY = 0xB0B;
    address internal constant CLINIC = address(0xC11A1C);
    address internal constant GUARDIAN = address(0x6A4D1A);
    address internal constant GRIEFER = address(0x6E1EFE);
    address internal constant RELAYER = address(0x4E1A7);
    address internal constant RESEARCHER = address(0x4E5EA4C);
    uint64 internal constant SCOPES = 0x3;

    /// @dev Alice's and Bob's signed consents to CLINIC for general research use, with each one's
    /// current nonce: a clinic's cohort onboarding batch.
    function _cohortBatch() private view returns (IConsentRegistry.SignedGrant[] memory batch) {
        batch = new IConsentRegistry.SignedGrant[](2);
        batch[0] = _signedGrant(ALICE_KEY, CLINIC, GRU, SCOPES, 0, START + 1 days, block.chainid, address(registry));
        batch[1] = _signedGrant(BOB_KEY, CLINIC, GRU, SCOPES, 0, START + 1 days, block.chainid, address(registry));
    }

    /// @dev Finding 16.3(a): anyone who sees a signed batch in the mempool submits one of its items
    /// alone (the signature is public calldata), so the honest batch reverts at that item's spent
    /// nonce and every other patient's consent in it is lost with it.
    function test_review_16_3a_frontRunOneItemRevertsTheWholeBatch() public {
        IConsentRegistry.SignedGrant[] memory batch = _cohortBatch();
        vm.prank(GRIEFER);
        registry.grantBySig(batch[0]); // the front-run: Alice's item alone

        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, vm.addr(ALICE_KEY), 1));
        registry.grantBySigBatch(batch);
        vm.assertFalse(registry.isPermitted(vm.addr(BOB_KEY), CLINIC, GRU, SCOPES), "Bob's consent is lost");
        vm.assertEq(registry.nonces(vm.addr(BOB_KEY)), 0, "Bob's signature was not used");
    }

    /// @dev Finding 16.3(a), the same by a nonce burn: one patient of the batch burns a nonce
    /// (`useNonce`, one cheap call), and the batch reverts for all of them.
    function test_review_16_3a_oneNonceBurnRevertsTheWholeBatch() public {
        IConsentRegistry.SignedGrant[] memory batch = _cohortBatch();
        vm.prank(vm.addr(BOB_KEY));
        registry.useNonce();

        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, vm.addr(BOB_KEY), 1));
        registry.grantBySigBatch(batch);
        vm.assertFalse(registry.isPermitted(vm.addr(ALICE_KEY), CLINIC, GRU, SCOPES), "Alice's consent is lost");
        vm.assertEq(registry.nonces(vm.addr(ALICE_KEY)), 0, "Alice's signature was not used");
    }

    /// @dev Finding 16.3(b): a signed grant whose submission failed leaves its nonce unspent, and a
    /// direct `revoke` spends none, so the signature outlives the patient's withdrawal. Alice's live
    /// consent makes the relayer's renewal revert (ConsentAlreadyActive); she then revokes; the
    /// relayer submits the same signature and the consent is back.
    function test_review_16_3b_aFailedSignedGrantSurvivesARevocation() public {
        address alice = vm.addr(ALICE_KEY);
        _grant(alice, RESEARCHER, GRU, SCOPES, 0);
        IConsentRegistry.SignedGrant memory renewal =
            _signedGrant(ALICE_KEY, RESEARCHER, GRU, SCOPES, 0, START + 365 days, block.chainid, address(registry));
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentAlreadyActive.selector, alice, RESEARCHER, GRU));
        registry.grantBySig(renewal);

        vm.warp(START + 30 days);
        vm.prank(alice);
        registry.revoke(RESEARCHER, GRU);
        vm.assertFalse(registry.isPermitted(alice, RESEARCHER, GRU, SCOPES), "withdrawn");
        vm.assertEq(registry.nonces(alice), 0, "the revocation spent no nonce");

        vm.warp(START + 60 days);
        vm.expectEmit(address(registry));
        emit IConsentRegistry.ConsentGranted(alice, RESEARCHER, GRU, SCOPES, 0, alice);
        vm.prank(RELAYER);
        registry.grantBySig(renewal);
        vm.assertTrue(registry.isPermitted(alice, RESEARCHER, GRU, SCOPES), "the consent is back");
    }

    /// @dev Finding 16.3(c): a delegate's grant is not bounded by the delegate's term. Alice appoints
    /// GUARDIAN for 30 days; GUARDIAN grants RESEARCHER a consent without expiry; after the term
    /// GUARDIAN can no longer act, yet the consent it made still permits.
    function test_review_16_3c_aDelegatesGrantOutlivesTheDelegation() public {
        address alice = vm.addr(ALICE_KEY);
        uint64 termEnds = START + 30 days;
        vm.prank(alice);
        registry.setDelegate(GUARDIAN, termEnds);

        vm.expectEmit(address(registry));
        emit IConsentRegistry.ConsentGranted(alice, RESEARCHER, GRU, SCOPES, 0, GUARDIAN);
        vm.prank(GUARDIAN);
        registry.grantFor(alice, RESEARCHER, GRU, SCOPES, 0);

        vm.warp(termEnds + 365 days);
        vm.assertFalse(registry.isDelegate(alice, GUARDIAN), "the term has ended");
        vm.assertTrue(registry.isPermitted(alice, RESEARCHER, GRU, SCOPES), "the delegate's grant still permits");
    }

    /// @dev Finding 16.3(d): `isPermitted` answers true when either the grantee's own consent or the
    /// wildcard (ANY_GRANTEE) consent is live, so a patient who revokes one grantee directly while a
    /// broad research consent stands has revoked nothing: the record shows the revocation, the check
    /// ignores it.
    function test_review_16_3d_aRevokedGranteeStaysPermittedThroughTheWildcard() public {
        address alice = vm.addr(ALICE_KEY);
        _grant(alice, ANY_GRANTEE, GRU, SCOPES, 0);
        _grant(alice, RESEARCHER, GRU, SCOPES, 0);

        vm.warp(START + 1 days);
        vm.expectEmit(address(registry));
        emit IConsentRegistry.ConsentRevoked(alice, RESEARCHER, GRU, alice);
        vm.prank(alice);
        registry.revoke(RESEARCHER, GRU);
        vm.assertEq(registry.getConsent(alice, RESEARCHER, GRU).revokedAt, START + 1 days, "revoked on record");
        vm.assertTrue(registry.isPermitted(alice, RESEARCHER, GRU, SCOPES), "still permitted via ANY_GRANTEE");
    }
}
