// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ITrialRegistry} from "../../contracts/interfaces/ITrialRegistry.sol";

import {SortedMerkle} from "./utils/SortedMerkle.sol";
import {TrialTest} from "./utils/TrialTest.sol";

/// @dev The security review's TrialRegistry findings (issue 15, part A), one test each, written
/// against the exploit as the review demonstrated it.
contract TrialRegistryReviewTest is TrialTest {
    address internal constant SUBJECT = address(0x5B1EC7);
    address internal constant PASSER_BY = address(0xB1A5);
    address internal constant NEW_SPONSOR = address(0x5905B);

    /// @dev A multi-site trial: SITE enrolled SUBJECT, whose consent to version 1 ends at `expiresAt`
    /// (0: never); OTHER_SITE is a site of the same trial.
    function _multiSiteTrialWithSubject(uint64 expiresAt) private returns (uint256 trialId) {
        trialId = _openTrial(TRIAL_SCOPES);
        _addSite(trialId, OTHER_SITE);
        _consentTo(SUBJECT, trialId, 1, TRIAL_SCOPES, expiresAt);
        _enroll(trialId, SUBJECT);
    }

    /// @dev Finding A.1 (medium): any site withdrew any other site's subject, forever. The enrolment
    /// now records its site: another site is refused, and the subject stays in.
    function test_review_A1_anotherSiteCannotWithdrawTheSubject() public {
        uint256 trialId = _multiSiteTrialWithSubject(0);
        vm.assertEq(trials.getEnrolment(trialId, SUBJECT).site, SITE, "the enrolling site is recorded");

        vm.prank(OTHER_SITE);
        vm.expectRevert(
            abi.encodeWithSelector(ITrialRegistry.UnauthorizedWithdrawal.selector, trialId, SUBJECT, OTHER_SITE)
        );
        trials.withdraw(trialId, SUBJECT);
        vm.assertTrue(trials.isEnrolled(trialId, SUBJECT), "the subject stays in");
    }

    /// @dev The three who may withdraw a subject whose consent stands: the enrolling site, the
    /// sponsor and the subject; the enrolling site no longer once the sponsor removed it.
    function test_review_A1_theEnrollingSiteTheSponsorOrTheSubjectWithdraws() public {
        address[3] memory allowed = [SITE, SPONSOR, SUBJECT];
        for (uint256 i; i < allowed.length; ++i) {
            uint256 trialId = _multiSiteTrialWithSubject(0);
            vm.expectEmit(address(trials));
            emit ITrialRegistry.SubjectWithdrawn(trialId, SUBJECT, _now(), allowed[i]);
            vm.prank(allowed[i]);
            trials.withdraw(trialId, SUBJECT);
            vm.assertFalse(trials.isEnrolled(trialId, SUBJECT), "withdrawn");
        }
        uint256 removedFrom = _multiSiteTrialWithSubject(0);
        vm.prank(SPONSOR);
        trials.removeSite(removedFrom, SITE);
        vm.prank(SITE);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.UnauthorizedWithdrawal.selector, removedFrom, SUBJECT, SITE));
        trials.withdraw(removedFrom, SUBJECT);
    }

    /// @dev Finding A.2 (low): anyone withdrew a subject the moment the consent lapsed, permanently.
    /// A passer-by is refused at the lapse, and the renewal a second later keeps the subject in.
    function test_review_A2_aPasserByCannotWithdrawAtTheLapse() public {
        uint64 expiresAt = START + 30 days;
        uint256 trialId = _multiSiteTrialWithSubject(expiresAt);

        vm.warp(expiresAt);
        vm.prank(PASSER_BY);
        vm.expectRevert(
            abi.encodeWithSelector(ITrialRegistry.UnauthorizedWithdrawal.selector, trialId, SUBJECT, PASSER_BY)
        );
        trials.withdraw(trialId, SUBJECT);

        vm.warp(expiresAt + 1);
        _consentTo(SUBJECT, trialId, 1, TRIAL_SCOPES, 0);
        vm.assertTrue(trials.isEnrolled(trialId, SUBJECT), "the renewal finds the subject still in");
    }

    /// @dev A withdrawn subject who consents again is enrolled afresh, by any site, which the new
    /// enrolment records; the old withdrawal was dated at the lapse.
    function test_review_A2_aWithdrawnSubjectWhoConsentsAgainIsEnrolledAfresh() public {
        uint64 expiresAt = START + 30 days;
        uint256 trialId = _multiSiteTrialWithSubject(expiresAt);
        vm.warp(expiresAt + 1 days);
        vm.prank(SITE);
        trials.withdraw(trialId, SUBJECT);
        vm.assertEq(trials.getEnrolment(trialId, SUBJECT).withdrawnAt, expiresAt, "dated at the lapse");

        vm.prank(OTHER_SITE);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NoConsent.selector, trialId, SUBJECT, 1));
        trials.enroll(trialId, SUBJECT);
        _consentTo(SUBJECT, trialId, 1, TRIAL_SCOPES, 0);
        vm.expectEmit(address(trials));
        emit ITrialRegistry.SubjectEnrolled(trialId, SUBJECT, OTHER_SITE, 1);
        vm.prank(OTHER_SITE);
        trials.enroll(trialId, SUBJECT);

        ITrialRegistry.Enrolment memory e = trials.getEnrolment(trialId, SUBJECT);
        vm.assertEq(e.site, OTHER_SITE, "the new site");
        vm.assertEq(e.enrolledAt, _now(), "enrolled now");
        vm.assertEq(e.withdrawnAt, 0, "not withdrawn");
        vm.assertEq(e.consentVersion, 1, "consent version");
        vm.assertTrue(trials.isEnrolled(trialId, SUBJECT), "in again");
        vm.assertEq(trials.getTrial(trialId).enrolled, 2, "two enrolments");
        vm.prank(SITE);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.UnauthorizedWithdrawal.selector, trialId, SUBJECT, SITE));
        trials.withdraw(trialId, SUBJECT);
    }

    /// @dev Finding A.3 (low): one site took another site's batch root by committing it first. Batches
    /// are now the committing site's own: the copy is the copier's batch, the honest commit goes
    /// through, and each site's proofs check against its own entry.
    function test_review_A3_aCopiedRootIsTheCopiersOwnBatch() public {
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        _addSite(trialId, OTHER_SITE);
        ITrialRegistry.Row memory row = _row(keccak256("SITE's batch 1: visit 1 CRFs"), SUBJECT);
        bytes32 root = SortedMerkle.rowLeaf(row); // a one-row batch: its root is its row's leaf

        _commit(trialId, OTHER_SITE, root, 40); // the front-run copy
        vm.warp(START + 1);
        vm.assertEq(_commit(trialId, SITE, root, 40), 0, "the honest commit goes through");

        ITrialRegistry.Batch memory honest = trials.getBatch(trialId, SITE, root);
        vm.assertEq(honest.committedAt, START + 1, "filed under the honest site, when it committed");
        vm.assertEq(trials.getBatch(trialId, OTHER_SITE, root).committedAt, START, "the copy is the copier's");
        vm.assertEq(trials.getSite(trialId, SITE).batches, 1, "the honest site's batch");
        vm.assertTrue(trials.verifyRow(trialId, SITE, root, row, new bytes32[](0)), "a proof against the site");
        vm.prank(SITE);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.BatchExists.selector, trialId, SITE, root));
        trials.commitBatch(trialId, root, 40);
    }

    /// @dev Finding A.5 (low): a trial's sponsor could not change keys. A two-step transfer now moves
    /// the trial: the sponsor proposes, the new key accepts, and only the new key acts for the trial.
    function test_review_A5_theSponsorMovesTheTrialToANewKey() public {
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        vm.prank(SPONSOR);
        trials.transferSponsor(trialId, NEW_SPONSOR);
        vm.prank(NEW_SPONSOR);
        trials.acceptSponsor(trialId);

        vm.assertEq(trials.getTrial(trialId).sponsor, NEW_SPONSOR, "the trial moved to the new key");
        vm.prank(SPONSOR);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotSponsor.selector, trialId, SPONSOR));
        trials.lock(trialId);
        vm.prank(NEW_SPONSOR);
        trials.lock(trialId);
        vm.assertEq(uint8(trials.getTrial(trialId).status), uint8(ITrialRegistry.Status.Locked), "locked");
    }

    /// @dev Finding A.4 (low): any IRB credential holder approved any trial, so a sponsor could shop for
    /// an approval (OTHER_IRB, an IRB with no tie to the trial, approved version 1 and then an amendment
    /// the trial's own IRB never saw). A trial now names its IRB of record at registration: OTHER_IRB is
    /// refused, for version 1 and for the amendment, and the trial's IRB approves; the sponsor moves the
    /// trial to OTHER_IRB only openly, by `changeIrb`, on the record, and while the amendment awaits
    /// approval only once the IRB of record can no longer act (here: it closes).
    function test_review_A4_onlyTheIrbOfRecordApproves() public {
        uint256 trialId = _register(TRIAL_SCOPES);
        vm.assertEq(trials.getTrial(trialId).irb, IRB_MEMBER, "the IRB of record");

        vm.prank(OTHER_IRB);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotIrbOfRecord.selector, trialId, OTHER_IRB));
        trials.approve(trialId, 1);
        vm.assertEq(uint8(_status(trialId)), uint8(ITrialRegistry.Status.Registered), "not approved");
        _approve(trialId, 1);
        vm.assertEq(trials.getProtocolVersion(trialId, 1).irb, IRB_MEMBER, "approved by the IRB of record");

        vm.prank(SPONSOR);
        trials.amend(trialId, keccak256("protocol, version 2"), false);
        vm.prank(OTHER_IRB);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotIrbOfRecord.selector, trialId, OTHER_IRB));
        trials.approve(trialId, 2);
        vm.assertFalse(trials.getTrial(trialId).currentApproved, "the amendment awaits its IRB");
        _addSite(trialId, SITE);
        _consentTo(SUBJECT, trialId, 1, TRIAL_SCOPES, 0);
        vm.prank(SITE);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.ProtocolNotApproved.selector, trialId, 2));
        trials.enroll(trialId, SUBJECT);

        // The IRB of record can still act on version 2: the sponsor cannot move the trial (A.4 review);
        // once the IRB closes (its credential suspended), it can.
        vm.prank(SPONSOR);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.IrbReviewPending.selector, trialId, IRB_MEMBER));
        trials.changeIrb(trialId, OTHER_IRB);
        _suspend(IRB_MEMBER, IRB);
        vm.expectEmit(address(trials));
        emit ITrialRegistry.IrbOfRecordChanged(trialId, IRB_MEMBER, OTHER_IRB);
        vm.prank(SPONSOR);
        trials.changeIrb(trialId, OTHER_IRB);
        vm.prank(OTHER_IRB);
        trials.approve(trialId, 2);
        vm.assertEq(trials.getProtocolVersion(trialId, 2).irb, OTHER_IRB, "the new IRB approved version 2");
        vm.assertEq(trials.getProtocolVersion(trialId, 1).irb, IRB_MEMBER, "version 1 keeps its approver");
        _enroll(trialId, SUBJECT);
        vm.assertTrue(trials.isEnrolled(trialId, SUBJECT), "enrolled under the approved version 2");
    }

    /// @dev Issue 15, A.4 review: `changeIrb` let the sponsor shop for an IRB while a version awaited
    /// approval (the IRB of record, live, stayed silent on amendment 2; the sponsor named OTHER_IRB, which
    /// approved it). Now the swap is refused while the IRB of record can still act: the trial keeps its
    /// IRB, OTHER_IRB cannot approve, and version 2 waits for the IRB of record's decision.
    function test_review_A4_sponsorShopsForIrbWhileVersionPending() public {
        uint256 trialId = _register(TRIAL_SCOPES);
        _approve(trialId, 1);
        vm.prank(SPONSOR);
        trials.amend(trialId, keccak256("protocol, version 2"), false);
        vm.assertTrue(credentials.hasCredential(IRB_MEMBER, IRB), "the IRB of record can still act");

        vm.prank(SPONSOR);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.IrbReviewPending.selector, trialId, IRB_MEMBER));
        trials.changeIrb(trialId, OTHER_IRB);
        vm.assertEq(trials.getTrial(trialId).irb, IRB_MEMBER, "the IRB of record stays");
        vm.prank(OTHER_IRB);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotIrbOfRecord.selector, trialId, OTHER_IRB));
        trials.approve(trialId, 2);
        vm.assertEq(trials.getProtocolVersion(trialId, 2).approvedAt, 0, "version 2 awaits its IRB");
    }

    /// @dev Finding A.8 (info): verifyRow/verifyRows took the leaf as given, so the committed root itself
    /// (with no proof) and an inner node (with the rest of its path) passed as a "row". They now take the
    /// row and hash it on chain: a row of the batch verifies; the root or an inner node, handed in the
    /// only way left (as a row's salt), does not.
    function test_review_A8_onlyARowOfTheBatchPasses() public {
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        ITrialRegistry.Row[] memory rows = new ITrialRegistry.Row[](4);
        bytes32[] memory leaves = new bytes32[](4);
        for (uint256 k; k < leaves.length; ++k) {
            rows[k] = _row(keccak256(abi.encode("row", k)), SUBJECT);
            leaves[k] = SortedMerkle.rowLeaf(rows[k]);
        }
        bytes32 root = SortedMerkle.rootOf(leaves);
        _commit(trialId, SITE, root, uint32(leaves.length));
        bytes32 inner = SortedMerkle.hashPair(leaves[0], leaves[1]);
        bytes32[] memory rest = new bytes32[](1);
        rest[0] = SortedMerkle.hashPair(leaves[2], leaves[3]);
        bytes32[] memory proof = SortedMerkle.proofOf(leaves, 0);
        ITrialRegistry.Row[] memory first = new ITrialRegistry.Row[](1);
        first[0] = rows[0];
        ITrialRegistry.Row[] memory innerAsRows = new ITrialRegistry.Row[](1);
        innerAsRows[0] = _row(inner, SUBJECT);

        vm.assertTrue(trials.verifyRow(trialId, SITE, root, rows[0], proof), "a row of the batch");
        vm.assertTrue(trials.verifyRows(trialId, SITE, root, first, proof, new bool[](2)), "as rows");
        vm.assertFalse(trials.verifyRow(trialId, SITE, root, _row(root, SUBJECT), new bytes32[](0)), "the root");
        vm.assertFalse(trials.verifyRow(trialId, SITE, root, _row(inner, SUBJECT), rest), "an inner node");
        vm.assertFalse(trials.verifyRows(trialId, SITE, root, innerAsRows, rest, new bool[](1)), "inner as rows");
    }

    /// @dev Finding A.9 (info), decided: while an amendment awaits the IRB, the trial runs under the
    /// approved version. No new subject is enrolled, but the sites keep committing the data of the
    /// subjects already in, as it is collected, with or without a re-consent in the amendment.
    function test_review_A9_dataCollectionGoesOnWhileAnAmendmentAwaitsTheIrb() public {
        bool[2] memory reconsent = [false, true];
        for (uint256 i; i < reconsent.length; ++i) {
            uint256 trialId = _multiSiteTrialWithSubject(0);
            _commit(trialId, SITE, keccak256(abi.encode("visit 1", i)), 40);
            vm.prank(SPONSOR);
            vm.assertEq(trials.amend(trialId, keccak256("protocol, version 2"), reconsent[i]), 2, "version 2");

            vm.assertFalse(trials.getTrial(trialId).currentApproved, "version 2 awaits the IRB");
            vm.assertEq(uint8(_status(trialId)), uint8(ITrialRegistry.Status.Approved), "still approved");
            vm.expectEmit(address(trials));
            emit ITrialRegistry.BatchCommitted(trialId, SITE, 1, keccak256(abi.encode("visit 2", i)), 40);
            vm.assertEq(_commit(trialId, SITE, keccak256(abi.encode("visit 2", i)), 40), 1, "committed");
            vm.assertEq(_commit(trialId, OTHER_SITE, keccak256(abi.encode("visit 2", i)), 40), 0, "by any site");

            _consentTo(PASSER_BY, trialId, reconsent[i] ? 2 : 1, TRIAL_SCOPES, 0);
            vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.ProtocolNotApproved.selector, trialId, 2));
            _enroll(trialId, PASSER_BY);
            vm.assertTrue(trials.isEnrolled(trialId, SUBJECT), "the subject already in stays in");
        }
    }

    /// @dev Finding A.9 (info), decided: the lock is the sponsor's act and does not wait on a pending
    /// amendment; the amendment then never takes effect, and nothing is committed any more.
    function test_review_A9_theSponsorLocksWithAnAmendmentPending() public {
        uint256 trialId = _multiSiteTrialWithSubject(0);
        vm.prank(SPONSOR);
        trials.amend(trialId, keccak256("protocol, version 2"), true);

        vm.expectEmit(address(trials));
        emit ITrialRegistry.DatabaseLocked(trialId, START);
        _lock(trialId);
        vm.assertEq(uint8(_status(trialId)), uint8(ITrialRegistry.Status.Locked), "locked");

        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.TrialLocked.selector, trialId, START));
        _approve(trialId, 2);
        vm.assertEq(trials.getProtocolVersion(trialId, 2).approvedAt, 0, "version 2 never took effect");
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.TrialLocked.selector, trialId, START));
        _commit(trialId, SITE, keccak256("after the lock"), 40);
        vm.prank(SPONSOR);
        trials.reportResults(trialId, keccak256("results"), PRIMARY, SECONDARY);
        vm.assertEq(uint8(_status(trialId)), uint8(ITrialRegistry.Status.Reported), "reported");
    }
}
