// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ITrialRegistry} from "../../contracts/interfaces/ITrialRegistry.sol";

import {TrialTest} from "./utils/TrialTest.sol";

/// @dev The security review's TrialRegistry findings (issue 15, part A), one test each, written
/// against the exploit as the review demonstrated it.
contract TrialRegistryReviewTest is TrialTest {
    address internal constant SUBJECT = address(0x5B1EC7);
    address internal constant PASSER_BY = address(0xB1A5);

    /// @dev A multi-site trial: SITE enrolled SUBJECT, whose consent to version 1 ends at `expiresAt`
    /// (0: never); OTHER_SITE is a site of the same trial.
    function _multiSiteTrialWithSubject(uint64 expiresAt) private returns (uint256 trialId) {
        trialId = _openTrial(TRIAL_SCOPES);
        _addSite(trialId, OTHER_SITE);
        _consentTo(SUBJECT, trialId, 1, TRIAL_SCOPES, expiresAt);
        _enroll(trialId, SUBJECT);
    }

    /// @dev Finding A.1 (medium): any site withdraws any other site's subject, forever.
    function test_review_A1_anotherSiteWithdrawsTheSubject_forever() public {
        uint256 trialId = _multiSiteTrialWithSubject(0);

        vm.prank(OTHER_SITE);
        trials.withdraw(trialId, SUBJECT);

        vm.assertFalse(trials.isEnrolled(trialId, SUBJECT), "the other site's subject is out");
        vm.assertTrue(
            registry.isPermitted(SUBJECT, address(trials), _trialPurpose(trialId, 1), TRIAL_SCOPES),
            "although the consent stands"
        );
        vm.prank(SITE);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.AlreadyEnrolled.selector, trialId, SUBJECT));
        trials.enroll(trialId, SUBJECT);
    }

    /// @dev Finding A.2 (low): anyone withdraws a subject the moment the consent lapses, permanently;
    /// the renewal a second later cannot undo it.
    function test_review_A2_anyoneWithdrawsAtTheLapse_permanently() public {
        uint64 expiresAt = START + 30 days;
        uint256 trialId = _multiSiteTrialWithSubject(expiresAt);

        vm.warp(expiresAt);
        vm.prank(PASSER_BY);
        trials.withdraw(trialId, SUBJECT);
        vm.assertFalse(trials.isEnrolled(trialId, SUBJECT), "a passer-by withdrew the subject");

        vm.warp(expiresAt + 1);
        _consentTo(SUBJECT, trialId, 1, TRIAL_SCOPES, 0);
        vm.prank(SITE);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.AlreadyEnrolled.selector, trialId, SUBJECT));
        trials.enroll(trialId, SUBJECT);
    }
}
