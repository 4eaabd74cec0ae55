// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IConsentGrants} from "../../contracts/interfaces/IConsentGrants.sol";
import {IGuardianshipAccount} from "../../contracts/interfaces/IGuardianshipAccount.sol";

import {GuardianTest} from "./utils/GuardianTest.sol";

/// @dev The review finding "what a delegate grants outlives the delegate's term", ported from ConsentRegistry
/// (tests/forge/ConsentRegistry.t.sol: a delegate's consent with no expiry stayed permitted after the appointment
/// ended) to guardianship accounts, written against the exploit: it must now fail.
contract GuardianshipAccountReviewTest is GuardianTest {
    /// @dev The delegate's "never expires" becomes a guardian's grant to type(uint48).max, or one second past the
    /// term: both refused, and nothing is minted.
    function test_review_aGuardianCannotGrantBeyondTheTerm() public {
        Ward memory w = _ward(1, TERM_ENDS);
        uint48[2] memory beyond = [type(uint48).max, TERM_ENDS + 1];
        for (uint256 i = 0; i < beyond.length; ++i) {
            IConsentGrants.GrantInput memory g = _wardInput(w, beyond[i]);
            bytes memory sig = _viaAccount(w, w.guardianKey, _grantHash(g, 0));
            vm.prank(RELAYER);
            vm.expectRevert(abi.encodeWithSelector(IConsentGrants.BeyondAuthority.selector, beyond[i], TERM_ENDS));
            grants.grant(g, sig);
        }
        vm.assertEq(grants.getGrant(w.commit).status, uint8(IConsentGrants.Status.NONE), "nothing minted");
    }

    /// @dev Any expiry: a guardian's grant is minted only up to the term, and is over when the term is.
    function testFuzz_review_aGuardiansGrantNeverOutlivesTheTerm(uint48 expiresAt, uint48 termEndsAt) public {
        vm.assume(termEndsAt > START && expiresAt > START);
        Ward memory w = _ward(2, termEndsAt);
        IConsentGrants.GrantInput memory g = _wardInput(w, expiresAt);
        bytes memory sig = _viaAccount(w, w.guardianKey, _grantHash(g, 0));
        vm.prank(RELAYER);
        if (expiresAt > termEndsAt) {
            vm.expectRevert(abi.encodeWithSelector(IConsentGrants.BeyondAuthority.selector, expiresAt, termEndsAt));
            grants.grant(g, sig);
        } else {
            grants.grant(g, sig);
            vm.assertTrue(grants.isGrantActive(w.commit), "minted within the term");
        }
        vm.warp(termEndsAt);
        vm.assertFalse(grants.isGrantActive(w.commit), "nothing the guardian signed is active once the term is over");
    }

    /// @dev The appointment-over half: from the term's end the guardian's key does nothing, through ConsentGrants
    /// (grant signed in the term but submitted after it, revoke, nonce burn) or on the account itself.
    function test_review_afterTheTermTheGuardianCannotAct() public {
        Ward memory w = _ward(3, TERM_ENDS);
        Ward memory live = _ward(4, TERM_ENDS);
        bytes32 id = _guardianGrant(live, _wardInput(live, TERM_ENDS));
        IConsentGrants.GrantInput memory late = _wardInput(w, TERM_ENDS + 365 days);
        bytes memory lateSig = _viaAccount(w, w.guardianKey, _grantHash(late, 0));
        bytes memory revokeSig =
            _viaAccount(live, live.guardianKey, keccak256(abi.encode(REVOKE_TYPEHASH, id, bytes32(0), 1)));
        bytes memory burnSig = _viaAccount(live, live.guardianKey, keccak256(abi.encode(BURN_TYPEHASH, id, 1)));
        address patient = vm.addr(w.patientKey);
        bytes memory successorSig = _setSuccessorSig(w, w.guardianKey, patient, 0, type(uint256).max);
        bytes memory shortenSig = _shortenSig(w, TERM_ENDS - 1, 0, type(uint256).max);
        bytes memory accountBurnSig =
            _packed(w.guardianKey, _accountDigest(w.account, keccak256(abi.encode(ACCOUNT_BURN_TYPEHASH, 0))));

        vm.warp(TERM_ENDS);
        vm.startPrank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.InvalidSubjectSignature.selector, w.commit));
        grants.grant(late, lateSig);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.InvalidSubjectSignature.selector, id));
        grants.revokeBySubjectWithSig(id, bytes32(0), revokeSig);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.InvalidSubjectSignature.selector, id));
        grants.burnNonce(id, burnSig);

        bytes memory ended = abi.encodeWithSelector(IGuardianshipAccount.TermEnded.selector, TERM_ENDS);
        vm.expectRevert(ended);
        w.account.setSuccessor(patient, type(uint256).max, successorSig);
        vm.expectRevert(ended);
        w.account.shortenTerm(TERM_ENDS - 1, type(uint256).max, shortenSig);
        vm.expectRevert(ended);
        w.account.burnNonce(accountBurnSig);
        vm.stopPrank();

        vm.assertFalse(grants.isGrantActive(id), "the grant made in the term ended with it");
        vm.assertEq(grants.getGrant(w.commit).status, uint8(IConsentGrants.Status.NONE), "the late grant: not minted");
        vm.assertEq(w.account.successorSigner(), address(0), "no successor slipped in");
    }
}
