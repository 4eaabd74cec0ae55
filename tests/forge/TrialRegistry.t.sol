// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {IConsentRegistry} from "../../contracts/interfaces/IConsentRegistry.sol";
import {ITrialRegistry} from "../../contracts/interfaces/ITrialRegistry.sol";

import {covers} from "./utils/ConsentModel.sol";
import {SortedMerkle} from "./utils/SortedMerkle.sol";
import {TrialTest} from "./utils/TrialTest.sol";

/// @dev Fuzz tests of TrialRegistry: registration and its endpoints, IRB approval and amendments,
/// consent-gated enrolment (scopes, expiry, revocation, purpose, consent version), reconsent and
/// withdrawal times, per-site batch sequences, the lock, row proofs against committed roots, the
/// blinded plan's reveal and results reported against the pre-registered endpoints.
contract TrialRegistryTest is TrialTest {
    address internal constant SUBJECT = address(0x5B1EC7);
    address internal constant COPYCAT = address(0xC0C0);
    bytes32 internal constant RESULTS = keccak256("results: clinical study report");

    /* ------------------------------------------------------------------ */
    /*                             REGISTRATION                           */
    /* ------------------------------------------------------------------ */

    function testFuzz_trialPurpose_isTheSpecsEncoding(uint256 trialId, uint32 version) public view {
        // abi.encode("carechain.trial", trialId, version) laid out by hand: the string's offset,
        // the two words, then the string's length and its bytes.
        bytes32 expected =
        // casting to 'bytes32' is safe because the literal is 15 bytes long
        // forge-lint: disable-next-line(unsafe-typecast)
        keccak256(abi.encode(uint256(0x60), trialId, uint256(version), uint256(15), bytes32("carechain.trial")));
        vm.assertEq(trials.trialPurpose(trialId, version), expected, "trialPurpose");
        vm.assertEq(_trialPurpose(trialId, version), expected, "the tests' own trialPurpose");
    }

    function testFuzz_register_storesTheTrialAndItsFirstVersion(
        address sponsor,
        bytes32 protocolHash,
        uint64 scopes,
        bytes32 primary,
        bytes32 secondary,
        bytes32 commitment,
        bool blinded,
        uint256 elapsed
    ) public {
        _assumeStranger(sponsor);
        vm.assume(protocolHash != 0);
        scopes = _nonEmpty(scopes);
        if (blinded) {
            vm.assume(commitment != 0);
            (primary, secondary) = (0, 0);
        } else {
            vm.assume(primary != 0);
            commitment = 0;
        }
        _register(TRIAL_SCOPES); // another sponsor's trial first: ids count across sponsors
        vm.warp(START + _bound(elapsed, 0, MAX_TTL));

        vm.expectEmit(address(trials));
        emit ITrialRegistry.TrialRegistered(2, sponsor, IRB_MEMBER, protocolHash, scopes, primary, secondary, commitment);
        vm.prank(sponsor);
        uint256 trialId = trials.register(protocolHash, scopes, IRB_MEMBER, primary, secondary, commitment);

        vm.assertEq(trialId, 2, "trial id");
        vm.assertEq(trials.trialCount(), 2, "trialCount");
        ITrialRegistry.Trial memory t = trials.getTrial(trialId);
        vm.assertEq(t.sponsor, sponsor, "sponsor");
        vm.assertEq(uint8(t.status), uint8(ITrialRegistry.Status.Registered), "status");
        vm.assertEq(t.protocolVersion, 1, "protocolVersion");
        vm.assertEq(t.consentVersion, 1, "consentVersion");
        vm.assertFalse(t.currentApproved, "not approved yet");
        vm.assertEq(t.irb, IRB_MEMBER, "the IRB of record");
        vm.assertEq(t.requiredScopes, scopes, "requiredScopes");
        vm.assertEq(t.enrolled, 0, "enrolled");
        vm.assertEq(t.lockedAt, 0, "lockedAt");
        vm.assertEq(t.reportedAt, 0, "reportedAt");
        vm.assertEq(t.primaryEndpoints, primary, "primary");
        vm.assertEq(t.secondaryEndpoints, secondary, "secondary");
        vm.assertEq(t.endpointsCommitment, commitment, "commitment");
        vm.assertEq(t.resultsHash, 0, "resultsHash");

        ITrialRegistry.ProtocolVersion memory v = trials.getProtocolVersion(trialId, 1);
        vm.assertEq(v.protocolHash, protocolHash, "protocolHash");
        vm.assertEq(v.registeredAt, _now(), "registeredAt");
        vm.assertFalse(v.requiresReconsent, "requiresReconsent");
        vm.assertEq(v.irb, address(0), "irb");
        vm.assertEq(v.approvedAt, 0, "approvedAt");
        _expectInvalidVersion(trialId, 0);
        _expectInvalidVersion(trialId, 2);
    }

    /// @dev `zeros` blanks any of the five inputs, so every combination of zero and non-zero is tried.
    function testFuzz_register_acceptsExactlyPlainOrBlindedEndpoints(
        bytes32 protocolHash,
        uint64 scopes,
        bytes32 primary,
        bytes32 secondary,
        bytes32 commitment,
        uint8 zeros
    ) public {
        if (zeros & 1 != 0) protocolHash = 0;
        if (zeros & 2 != 0) scopes = 0;
        if (zeros & 4 != 0) primary = 0;
        if (zeros & 8 != 0) secondary = 0;
        if (zeros & 16 != 0) commitment = 0;
        bool plain = primary != 0 && commitment == 0;
        bool blinded = commitment != 0 && primary == 0 && secondary == 0;
        bool valid = protocolHash != 0 && scopes != 0 && (plain || blinded);

        if (!valid) {
            vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.InvalidRegistration.selector, protocolHash, scopes));
        }
        vm.prank(SPONSOR);
        trials.register(protocolHash, scopes, IRB_MEMBER, primary, secondary, commitment);
        vm.assertEq(trials.trialCount(), valid ? 1 : 0, "trialCount");
    }

    /// @dev The IRB of record holds a live IRB credential and is not the sponsor: a stranger, the zero
    /// address, a suspended IRB and the sponsor (even with an IRB credential) are refused.
    function testFuzz_register_theIrbOfRecordIsALiveIrbNotTheSponsor(address stranger, uint256 elapsed) public {
        _assumeStranger(stranger);
        _attest(SPONSOR, IRB);
        _suspend(OTHER_IRB, IRB);
        vm.warp(START + _bound(elapsed, 0, MAX_TTL));

        address[3] memory notIrbs = [stranger, address(0), OTHER_IRB];
        for (uint256 i; i < notIrbs.length; ++i) {
            vm.prank(SPONSOR);
            vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotIrb.selector, notIrbs[i]));
            trials.register(PROTOCOL, TRIAL_SCOPES, notIrbs[i], PRIMARY, SECONDARY, 0);
        }
        vm.prank(SPONSOR);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.IrbIsSponsor.selector, 1, SPONSOR));
        trials.register(PROTOCOL, TRIAL_SCOPES, SPONSOR, PRIMARY, SECONDARY, 0);
        vm.assertEq(trials.trialCount(), 0, "nothing registered");

        // The same IRB may oversee a trial of a sponsor who is itself an IRB.
        vm.prank(SPONSOR);
        vm.assertEq(trials.register(PROTOCOL, TRIAL_SCOPES, IRB_MEMBER, PRIMARY, SECONDARY, 0), 1, "registered");
    }

    function testFuzz_views_ofAnUnknownTrial_revert(uint256 trialId, uint32 version) public {
        _register(TRIAL_SCOPES);
        vm.assume(trialId != 1);
        version = uint32(_bound(version, 1, type(uint32).max));
        bytes memory err = abi.encodeWithSelector(ITrialRegistry.UnknownTrial.selector, trialId);
        vm.expectRevert(err);
        trials.getTrial(trialId);
        vm.expectRevert(err);
        trials.getProtocolVersion(trialId, version);
        vm.expectRevert(err);
        _approve(trialId, version);
        vm.expectRevert(err);
        _enroll(trialId, SUBJECT);
        vm.expectRevert(err);
        _commit(trialId, SITE, keccak256("root"), 1);
        vm.expectRevert(err);
        _lock(trialId);
        ITrialRegistry.Row memory row = _row(keccak256("row"), SUBJECT);
        vm.assertFalse(trials.verifyRow(trialId, SITE, keccak256("root"), row, new bytes32[](0)), "row");
    }

    /* ------------------------------------------------------------------ */
    /*                       APPROVAL AND AMENDMENTS                      */
    /* ------------------------------------------------------------------ */

    /// @dev Finding A.4: nobody but the IRB of record approves, whatever credentials they hold: a
    /// stranger, with or without an IRB credential, another IRB, the sponsor holding an IRB credential.
    function testFuzz_approve_onlyTheLiveIrbOfRecord_theLatestVersionOnce(
        address stranger,
        bool strangerIsIrb,
        uint32 version,
        uint256 elapsed
    ) public {
        _assumeStranger(stranger);
        vm.assume(version != 1);
        uint256 trialId = _register(TRIAL_SCOPES);
        _attest(SPONSOR, IRB); // an IRB credential does not let a sponsor approve their own trial
        if (strangerIsIrb) _attest(stranger, IRB);
        vm.warp(START + _bound(elapsed, 0, MAX_TTL));

        address[3] memory others = [stranger, OTHER_IRB, SPONSOR];
        for (uint256 i; i < others.length; ++i) {
            vm.prank(others[i]);
            vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotIrbOfRecord.selector, trialId, others[i]));
            trials.approve(trialId, 1);
        }
        vm.prank(IRB_MEMBER);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.InvalidVersion.selector, trialId, version));
        trials.approve(trialId, version);
        vm.assertEq(uint8(_status(trialId)), uint8(ITrialRegistry.Status.Registered), "still registered");

        vm.expectEmit(address(trials));
        emit ITrialRegistry.ProtocolApproved(trialId, 1, IRB_MEMBER);
        _approve(trialId, 1);
        ITrialRegistry.Trial memory t = trials.getTrial(trialId);
        vm.assertEq(uint8(t.status), uint8(ITrialRegistry.Status.Approved), "approved");
        vm.assertTrue(t.currentApproved, "currentApproved");
        ITrialRegistry.ProtocolVersion memory v = trials.getProtocolVersion(trialId, 1);
        vm.assertEq(v.irb, IRB_MEMBER, "irb");
        vm.assertEq(v.approvedAt, _now(), "approvedAt");

        _expectRevertApprove(trialId, 1, abi.encodeWithSelector(ITrialRegistry.InvalidVersion.selector, trialId, 1));
        // A suspended IRB of record cannot approve: the sponsor names another IRB, which can.
        _suspend(IRB_MEMBER, IRB);
        vm.prank(SPONSOR);
        trials.amend(trialId, keccak256("protocol v2"), false);
        _expectRevertApprove(trialId, 2, abi.encodeWithSelector(ITrialRegistry.NotIrb.selector, IRB_MEMBER));
        vm.prank(SPONSOR);
        trials.changeIrb(trialId, OTHER_IRB);
        vm.prank(OTHER_IRB);
        trials.approve(trialId, 2);
        vm.assertTrue(trials.getTrial(trialId).currentApproved, "approved by the new IRB of record");
    }

    /// @dev While no version awaits approval, the sponsor names another IRB of record freely, also away
    /// from one that holds a live credential; the new IRB approves the next amendment, the earlier
    /// approval stays the old IRB's; and back.
    function testFuzz_changeIrb_freelyWhileNoVersionAwaitsApproval(uint256 elapsed) public {
        uint256 trialId = _register(TRIAL_SCOPES);
        _approve(trialId, 1);
        vm.warp(START + _bound(elapsed, 0, MAX_TTL));

        vm.expectEmit(address(trials));
        emit ITrialRegistry.IrbOfRecordChanged(trialId, IRB_MEMBER, OTHER_IRB);
        vm.prank(SPONSOR);
        trials.changeIrb(trialId, OTHER_IRB);
        vm.assertEq(trials.getTrial(trialId).irb, OTHER_IRB, "the new IRB of record");

        vm.prank(SPONSOR);
        trials.amend(trialId, _protocol(2), false);
        _expectRevertApprove(
            trialId, 2, abi.encodeWithSelector(ITrialRegistry.NotIrbOfRecord.selector, trialId, IRB_MEMBER)
        );
        vm.expectEmit(address(trials));
        emit ITrialRegistry.ProtocolApproved(trialId, 2, OTHER_IRB);
        vm.prank(OTHER_IRB);
        trials.approve(trialId, 2);
        vm.assertEq(trials.getProtocolVersion(trialId, 2).irb, OTHER_IRB, "approved by the new IRB");
        vm.assertEq(trials.getProtocolVersion(trialId, 1).irb, IRB_MEMBER, "history kept");

        // And back: version 2 is approved, so the sponsor may name the first IRB again.
        vm.prank(SPONSOR);
        trials.changeIrb(trialId, IRB_MEMBER);
        vm.assertEq(trials.getTrial(trialId).irb, IRB_MEMBER, "named again");
    }

    /// @dev Issue 15, A.4 review: while a version awaits approval (version 1, or an amendment) and the IRB
    /// of record can still act on it, the sponsor names no other IRB, whichever and whenever (the check
    /// comes before the candidate's own); once that IRB decides, the sponsor may.
    function testFuzz_changeIrb_whileAVersionAwaitsALiveIrbOfRecord_reverts(
        bool amendment,
        address stranger,
        uint256 elapsed
    ) public {
        _assumeStranger(stranger);
        uint256 trialId = _register(TRIAL_SCOPES);
        if (amendment) {
            _approve(trialId, 1);
            vm.prank(SPONSOR);
            trials.amend(trialId, _protocol(2), true);
        }
        uint32 pending = amendment ? 2 : 1;
        vm.warp(START + _bound(elapsed, 0, MAX_TTL));

        bytes memory refused = abi.encodeWithSelector(ITrialRegistry.IrbReviewPending.selector, trialId, IRB_MEMBER);
        address[4] memory candidates = [OTHER_IRB, stranger, IRB_MEMBER, SPONSOR];
        for (uint256 i; i < candidates.length; ++i) {
            vm.prank(SPONSOR);
            vm.expectRevert(refused);
            trials.changeIrb(trialId, candidates[i]);
        }
        vm.assertEq(trials.getTrial(trialId).irb, IRB_MEMBER, "the IRB of record stays");
        vm.prank(OTHER_IRB);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotIrbOfRecord.selector, trialId, OTHER_IRB));
        trials.approve(trialId, pending);

        _approve(trialId, pending);
        vm.prank(SPONSOR);
        trials.changeIrb(trialId, OTHER_IRB);
        vm.assertEq(trials.getTrial(trialId).irb, OTHER_IRB, "changed once the IRB decided");
    }

    /// @dev While a version awaits approval, the sponsor moves the trial away from an IRB of record that
    /// can no longer act on it, as `approve` sees it: its credential suspended, revoked or expired, or
    /// the IRB become the sponsor by a transfer. The new IRB approves the pending version.
    function testFuzz_changeIrb_whileAVersionAwaits_awayFromAnIrbThatCanNoLongerAct(
        uint8 how,
        bool amendment,
        uint256 elapsed
    ) public {
        how %= 4;
        uint256 trialId = _register(TRIAL_SCOPES);
        if (amendment) {
            _approve(trialId, 1);
            vm.prank(SPONSOR);
            trials.amend(trialId, _protocol(2), false);
        }
        uint32 pending = amendment ? 2 : 1;
        address sponsorNow = SPONSOR;
        bytes memory cannotAct = abi.encodeWithSelector(ITrialRegistry.NotIrb.selector, IRB_MEMBER);
        if (how == 0) {
            _suspend(IRB_MEMBER, IRB);
        } else if (how == 1) {
            vm.prank(REGISTRAR);
            credentials.revoke(IRB_MEMBER, IRB);
        } else if (how == 2) {
            uint64 until = _now() + 1 + uint64(_bound(elapsed, 0, MAX_TTL));
            vm.prank(REGISTRAR);
            credentials.attest(IRB_MEMBER, IRB, LICENSE, _now(), until);
            vm.warp(until);
        } else {
            _transfer(trialId, SPONSOR, IRB_MEMBER);
            sponsorNow = IRB_MEMBER;
            cannotAct = abi.encodeWithSelector(ITrialRegistry.IrbIsSponsor.selector, trialId, IRB_MEMBER);
        }
        _expectRevertApprove(trialId, pending, cannotAct);

        vm.expectEmit(address(trials));
        emit ITrialRegistry.IrbOfRecordChanged(trialId, IRB_MEMBER, OTHER_IRB);
        vm.prank(sponsorNow);
        trials.changeIrb(trialId, OTHER_IRB);
        vm.assertEq(trials.getTrial(trialId).irb, OTHER_IRB, "the new IRB of record");
        vm.expectEmit(address(trials));
        emit ITrialRegistry.ProtocolApproved(trialId, pending, OTHER_IRB);
        vm.prank(OTHER_IRB);
        trials.approve(trialId, pending);
        vm.assertTrue(trials.getTrial(trialId).currentApproved, "the pending version approved");
    }

    /// @dev Only the sponsor names the IRB of record, only a live IRB that is not the sponsor, only before
    /// the lock (`TrialLocked`, also with an amendment pending).
    function testFuzz_changeIrb_rejectsOutsidersNonIrbsTheSponsorAndTheLock(
        address stranger,
        bool reported,
        bool pendingAtLock
    ) public {
        _assumeStranger(stranger);
        _attest(stranger, IRB); // even an IRB cannot name itself
        _attest(SPONSOR, IRB);
        uint256 trialId = _register(TRIAL_SCOPES);
        _approve(trialId, 1); // no version awaits approval: the candidate's own checks decide

        address[2] memory notSponsors = [stranger, IRB_MEMBER];
        for (uint256 i; i < notSponsors.length; ++i) {
            vm.prank(notSponsors[i]);
            vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotSponsor.selector, trialId, notSponsors[i]));
            trials.changeIrb(trialId, notSponsors[i]);
        }
        _suspend(OTHER_IRB, IRB);
        address[3] memory notIrbs = [address(0), SITE, OTHER_IRB];
        for (uint256 i; i < notIrbs.length; ++i) {
            vm.prank(SPONSOR);
            vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotIrb.selector, notIrbs[i]));
            trials.changeIrb(trialId, notIrbs[i]);
        }
        vm.prank(SPONSOR);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.IrbIsSponsor.selector, trialId, SPONSOR));
        trials.changeIrb(trialId, SPONSOR);
        vm.prank(SPONSOR);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.UnknownTrial.selector, trialId + 1));
        trials.changeIrb(trialId + 1, stranger);
        vm.assertEq(trials.getTrial(trialId).irb, IRB_MEMBER, "unchanged");

        if (pendingAtLock) {
            // Locked with an amendment awaiting the live IRB of record: the lock is what refuses.
            vm.prank(SPONSOR);
            trials.amend(trialId, _protocol(2), false);
        }
        _lock(trialId);
        if (reported) {
            vm.prank(SPONSOR);
            trials.reportResults(trialId, RESULTS, PRIMARY, SECONDARY);
        }
        vm.prank(SPONSOR);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.TrialLocked.selector, trialId, START));
        trials.changeIrb(trialId, stranger);
        vm.assertEq(trials.getTrial(trialId).irb, IRB_MEMBER, "unchanged after the lock");
    }

    /// @dev Up to eight amendments; bit i of `pattern` says whether amendment i requires re-consent.
    function testFuzz_amend_keepsHistoryAndMovesTheConsentVersionOnReconsent(
        uint8 pattern,
        uint8 count,
        address subject
    ) public {
        _assumeStranger(subject);
        uint256 amendments = _bound(count, 1, 8);
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        uint32 consentVersion = 1;
        for (uint32 v = 2; v <= amendments + 1; ++v) {
            bool reconsent = (pattern >> (v - 2)) & 1 == 1;
            vm.warp(_now() + 1 days);
            vm.expectEmit(address(trials));
            emit ITrialRegistry.ProtocolAmended(trialId, v, _protocol(v), reconsent);
            vm.prank(SPONSOR);
            vm.assertEq(trials.amend(trialId, _protocol(v), reconsent), v, "new version");
            if (reconsent) consentVersion = v;
            ITrialRegistry.Trial memory t = trials.getTrial(trialId);
            vm.assertEq(t.protocolVersion, v, "protocolVersion");
            vm.assertEq(t.consentVersion, consentVersion, "consentVersion");
            vm.assertFalse(t.currentApproved, "amendment awaits approval");
            vm.assertEq(uint8(t.status), uint8(ITrialRegistry.Status.Approved), "status stays Approved");
            _expectRevertApprove(
                trialId, v - 1, abi.encodeWithSelector(ITrialRegistry.InvalidVersion.selector, trialId, v - 1)
            );
            _approve(trialId, v);
        }

        for (uint32 v = 1; v <= amendments + 1; ++v) {
            ITrialRegistry.ProtocolVersion memory pv = trials.getProtocolVersion(trialId, v);
            vm.assertEq(pv.protocolHash, v == 1 ? PROTOCOL : _protocol(v), "history: protocolHash");
            vm.assertEq(pv.registeredAt, START + (v - 1) * 1 days, "history: registeredAt");
            vm.assertEq(pv.requiresReconsent, v > 1 && (pattern >> (v - 2)) & 1 == 1, "history: requiresReconsent");
            vm.assertEq(pv.irb, IRB_MEMBER, "history: irb");
            vm.assertEq(pv.approvedAt, START + (v - 1) * 1 days, "history: approvedAt");
        }
        // casting to 'uint32' is safe because the value is at most 8
        // forge-lint: disable-next-line(unsafe-typecast)
        _expectInvalidVersion(trialId, uint32(amendments) + 2);

        // Only a consent naming the current consent version admits a new subject.
        if (consentVersion > 1) {
            _consentTo(subject, trialId, consentVersion - 1, TRIAL_SCOPES, 0);
            vm.prank(SITE);
            vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NoConsent.selector, trialId, subject, consentVersion));
            trials.enroll(trialId, subject);
        }
        _consentTo(subject, trialId, consentVersion, TRIAL_SCOPES, 0);
        _enroll(trialId, subject);
        vm.assertEq(trials.getEnrolment(trialId, subject).consentVersion, consentVersion, "enrolled at the version");
    }

    function testFuzz_amend_pausesEnrolmentUntilTheIrbApproves(address subject, bool reconsent) public {
        _assumeStranger(subject);
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        _consentTo(subject, trialId, 1, TRIAL_SCOPES, 0);
        vm.prank(SPONSOR);
        trials.amend(trialId, _protocol(2), reconsent);

        vm.prank(SITE);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.ProtocolNotApproved.selector, trialId, 2));
        trials.enroll(trialId, subject);
        _approve(trialId, 2);
        if (reconsent) {
            vm.prank(SITE);
            vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NoConsent.selector, trialId, subject, 2));
            trials.enroll(trialId, subject);
            _consentTo(subject, trialId, 2, TRIAL_SCOPES, 0);
        }
        _enroll(trialId, subject);
        vm.assertEq(trials.getEnrolment(trialId, subject).consentVersion, reconsent ? 2 : 1, "consent version");
    }

    function testFuzz_amend_rejectsOutsidersAndTheZeroHash(address stranger, bool reconsent) public {
        _assumeStranger(stranger);
        uint256 trialId = _register(TRIAL_SCOPES);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotSponsor.selector, trialId, stranger));
        trials.amend(trialId, _protocol(2), reconsent);
        vm.prank(SPONSOR);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.InvalidHash.selector, bytes32(0)));
        trials.amend(trialId, bytes32(0), reconsent);
        vm.assertEq(trials.getTrial(trialId).protocolVersion, 1, "no new version");
    }

    /* ------------------------------------------------------------------ */
    /*                                 SITES                              */
    /* ------------------------------------------------------------------ */

    function testFuzz_sites_addAndRemove(address stranger, address uncredentialed, uint256 elapsed) public {
        _assumeStranger(stranger);
        _assumeStranger(uncredentialed);
        uint256 trialId = _register(TRIAL_SCOPES);
        vm.warp(START + _bound(elapsed, 0, MAX_TTL));

        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotSponsor.selector, trialId, stranger));
        trials.addSite(trialId, SITE);
        vm.prank(SPONSOR);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotResearcher.selector, uncredentialed));
        trials.addSite(trialId, uncredentialed);

        vm.expectEmit(address(trials));
        emit ITrialRegistry.SiteAdded(trialId, SITE);
        _addSite(trialId, SITE);
        ITrialRegistry.Site memory s = trials.getSite(trialId, SITE);
        vm.assertTrue(s.active, "active");
        vm.assertEq(s.batches, 0, "batches");
        vm.assertEq(s.addedAt, _now(), "addedAt");
        vm.prank(SPONSOR);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.SiteExists.selector, trialId, SITE));
        trials.addSite(trialId, SITE);

        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotSponsor.selector, trialId, stranger));
        trials.removeSite(trialId, SITE);
        vm.expectEmit(address(trials));
        emit ITrialRegistry.SiteRemoved(trialId, SITE);
        vm.prank(SPONSOR);
        trials.removeSite(trialId, SITE);
        vm.assertFalse(trials.getSite(trialId, SITE).active, "removed");
        vm.prank(SPONSOR);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotSite.selector, trialId, SITE));
        trials.removeSite(trialId, SITE);
    }

    /* ------------------------------------------------------------------ */
    /*                               ENROLMENT                            */
    /* ------------------------------------------------------------------ */

    /// @dev `shape` steers the grant towards covering the required scopes, missing one required
    /// bit, or anything, and picks the grantee (this registry or the wildcard); `revokeSeed`
    /// revokes the consent two times in three, before the enrolment. Whether enrolment must
    /// succeed comes from the consent rules alone.
    function testFuzz_enroll_succeedsIffALiveConsentCoversTheRequiredScopes(
        address subject,
        uint64 required,
        uint64 granted,
        uint8 shape,
        uint256 ttl,
        uint256 elapsed,
        uint256 revokeSeed
    ) public {
        _assumeStranger(subject);
        required = _nonEmpty(required);
        (uint256 trialId, uint64 enrolAt, bool admitted) =
            _consentCase(subject, required, _shapeScopes(required, granted, shape), shape, ttl, elapsed, revokeSeed);

        if (admitted) {
            vm.expectEmit(address(trials));
            emit ITrialRegistry.SubjectEnrolled(trialId, subject, SITE, 1);
        } else {
            vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NoConsent.selector, trialId, subject, 1));
        }
        _enroll(trialId, subject);
        _assertEnrolment(trialId, subject, admitted ? enrolAt : 0, 0, admitted ? 1 : 0);
        vm.assertEq(trials.isEnrolled(trialId, subject), admitted, "isEnrolled");
        vm.assertEq(trials.getTrial(trialId).enrolled, admitted ? 1 : 0, "enrolled count");
    }

    /// @dev A consent to another trial, another version, a plain research purpose or another grantee admits nobody.
    function testFuzz_enroll_needsTheTrialsOwnPurposeAndGrantee(
        address subject,
        uint256 otherTrial,
        uint32 otherVersion,
        address otherGrantee,
        uint8 which
    ) public {
        _assumeStranger(subject);
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        vm.assume(otherTrial != trialId && otherVersion != 1);
        _assumeAccount(otherGrantee);
        vm.assume(otherGrantee != address(trials));

        uint256 mode = which % 4;
        if (mode == 0) _grant(subject, address(trials), _trialPurpose(otherTrial, 1), TRIAL_SCOPES, 0);
        if (mode == 1) _grant(subject, address(trials), _trialPurpose(trialId, otherVersion), TRIAL_SCOPES, 0);
        if (mode == 2) _grant(subject, address(trials), GRU, type(uint64).max, 0);
        if (mode == 3) _grant(subject, otherGrantee, _trialPurpose(trialId, 1), TRIAL_SCOPES, 0);

        vm.prank(SITE);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NoConsent.selector, trialId, subject, 1));
        trials.enroll(trialId, subject);

        _consentTo(subject, trialId, 1, TRIAL_SCOPES, 0);
        _enroll(trialId, subject);
        vm.assertTrue(trials.isEnrolled(trialId, subject), "enrolled with the right consent");
    }

    function testFuzz_enroll_rejectsOutsidersBadSubjectsAndRepeats(address stranger, address subject) public {
        _assumeStranger(stranger);
        _assumeStranger(subject);
        vm.assume(stranger != subject);
        uint256 trialId = _register(TRIAL_SCOPES);
        _addSite(trialId, SITE);
        _addSite(trialId, OTHER_SITE);
        _consentTo(subject, trialId, 1, TRIAL_SCOPES, 0);
        _grant(SITE, address(trials), _trialPurpose(trialId, 1), TRIAL_SCOPES, 0);
        _grant(SPONSOR, address(trials), _trialPurpose(trialId, 1), TRIAL_SCOPES, 0);

        vm.prank(SITE);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.ProtocolNotApproved.selector, trialId, 1));
        trials.enroll(trialId, subject);
        _approve(trialId, 1);

        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotSite.selector, trialId, stranger));
        trials.enroll(trialId, subject);
        _suspend(OTHER_SITE, RESEARCHER); // an active site whose credential is no longer live
        vm.prank(OTHER_SITE);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotSite.selector, trialId, OTHER_SITE));
        trials.enroll(trialId, subject);

        address[3] memory invalid = [address(0), SITE, SPONSOR];
        for (uint256 i; i < invalid.length; ++i) {
            vm.prank(SITE);
            vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.InvalidSubject.selector, invalid[i]));
            trials.enroll(trialId, invalid[i]);
        }

        _enroll(trialId, subject);
        vm.prank(SITE);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.AlreadyEnrolled.selector, trialId, subject));
        trials.enroll(trialId, subject);

        // A withdrawn subject who consents again is enrolled afresh.
        vm.prank(subject);
        trials.withdraw(trialId, subject);
        vm.prank(subject);
        registry.revoke(address(trials), _trialPurpose(trialId, 1));
        vm.prank(SITE);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NoConsent.selector, trialId, subject, 1));
        trials.enroll(trialId, subject);
        _consentTo(subject, trialId, 1, TRIAL_SCOPES, 0);
        _enroll(trialId, subject);
        vm.assertTrue(trials.isEnrolled(trialId, subject), "enrolled afresh");

        vm.prank(SPONSOR);
        trials.removeSite(trialId, SITE);
        vm.prank(SITE);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotSite.selector, trialId, SITE));
        trials.enroll(trialId, stranger);
        vm.assertEq(trials.getTrial(trialId).enrolled, 2, "two enrolments");
    }

    function testFuzz_reconsent_recordsTheNewConsentVersion(address subject, uint64 extraScopes) public {
        _assumeStranger(subject);
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        _consentTo(subject, trialId, 1, TRIAL_SCOPES, 0);
        _enroll(trialId, subject);

        vm.prank(SITE);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.AlreadyReconsented.selector, trialId, subject, 1));
        trials.reconsent(trialId, subject);
        vm.prank(SPONSOR);
        trials.amend(trialId, _protocol(2), true);
        _approve(trialId, 2);
        vm.assertTrue(trials.isEnrolled(trialId, subject), "still enrolled under version 1");

        vm.prank(SITE);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NoConsent.selector, trialId, subject, 2));
        trials.reconsent(trialId, subject);
        _consentTo(subject, trialId, 2, TRIAL_SCOPES | extraScopes, 0);
        vm.prank(COPYCAT);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotSite.selector, trialId, COPYCAT));
        trials.reconsent(trialId, subject);

        vm.expectEmit(address(trials));
        emit ITrialRegistry.SubjectReconsented(trialId, subject, 2);
        vm.prank(SITE);
        trials.reconsent(trialId, subject);
        vm.assertEq(trials.getEnrolment(trialId, subject).consentVersion, 2, "consentVersion");
        vm.prank(SITE);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.AlreadyReconsented.selector, trialId, subject, 2));
        trials.reconsent(trialId, subject);
        vm.prank(SITE);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotEnrolled.selector, trialId, COPYCAT));
        trials.reconsent(trialId, COPYCAT);
        vm.assertEq(trials.getTrial(trialId).enrolled, 1, "reconsent is no new enrolment");
    }

    /* ------------------------------------------------------------------ */
    /*                               WITHDRAWAL                           */
    /* ------------------------------------------------------------------ */

    function testFuzz_withdraw_afterARevoke_isAtTheRevocation(
        address subject,
        uint8 who,
        uint256 toRevoke,
        uint256 toWithdraw,
        bool wildcard
    ) public {
        _assumeStranger(subject);
        address caller = _withdrawer(who, subject);
        address grantee = wildcard ? ANY_GRANTEE : address(trials);
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        _grant(subject, grantee, _trialPurpose(trialId, 1), TRIAL_SCOPES, START + 365 days);
        _enroll(trialId, subject);
        vm.warp(START + _bound(toRevoke, 0, 365 days - 1));
        vm.prank(subject);
        registry.revoke(grantee, _trialPurpose(trialId, 1));
        uint64 revokedAt = registry.getConsent(subject, grantee, _trialPurpose(trialId, 1)).revokedAt;
        vm.assertEq(revokedAt, _now(), "revoked now");
        vm.warp(_now() + _bound(toWithdraw, 0, MAX_TTL));

        vm.expectEmit(address(trials));
        emit ITrialRegistry.SubjectWithdrawn(trialId, subject, revokedAt, caller);
        vm.prank(caller);
        trials.withdraw(trialId, subject);

        ITrialRegistry.Enrolment memory e = trials.getEnrolment(trialId, subject);
        vm.assertEq(e.withdrawnAt, revokedAt, "withdrawnAt is the revocation");
        vm.assertEq(e.enrolledAt, START, "enrolledAt kept");
        vm.assertFalse(trials.isEnrolled(trialId, subject), "no longer enrolled");
        vm.assertEq(trials.getTrial(trialId).enrolled, 1, "counted as ever enrolled");
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotEnrolled.selector, trialId, subject));
        trials.withdraw(trialId, subject);
    }

    /// @dev An outsider is refused before and after the lapse alike (finding A.2); the withdrawal
    /// recorded later is dated at the expiry.
    function testFuzz_withdraw_afterExpiry_isAtTheExpiry(
        address subject,
        address outsider,
        uint8 who,
        uint256 ttl,
        uint256 late
    ) public {
        _assumeStranger(subject);
        _assumeStranger(outsider);
        vm.assume(outsider != subject);
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        uint64 expiresAt = _futureExpiry(ttl);
        _consentTo(subject, trialId, 1, TRIAL_SCOPES, expiresAt);
        _enroll(trialId, subject);

        bytes memory refused =
            abi.encodeWithSelector(ITrialRegistry.UnauthorizedWithdrawal.selector, trialId, subject, outsider);
        vm.warp(expiresAt - 1);
        vm.prank(outsider);
        vm.expectRevert(refused);
        trials.withdraw(trialId, subject);

        vm.warp(expiresAt + _bound(late, 0, MAX_TTL));
        vm.prank(outsider);
        vm.expectRevert(refused);
        trials.withdraw(trialId, subject);
        vm.prank(_withdrawer(who, subject));
        trials.withdraw(trialId, subject);
        vm.assertEq(trials.getEnrolment(trialId, subject).withdrawnAt, expiresAt, "withdrawnAt is the expiry");
    }

    /// @dev While the consent stands, the subject, the enrolling site (while live) or the sponsor
    /// ends the participation, now; another site, suspended or not, is refused (finding A.1).
    function testFuzz_withdraw_whileConsentIsLive_bySubjectEnrollingSiteOrSponsor(
        address subject,
        address stranger,
        uint256 elapsed,
        uint8 who
    ) public {
        _assumeStranger(subject);
        _assumeStranger(stranger);
        vm.assume(stranger != subject);
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        _addSite(trialId, OTHER_SITE);
        _consentTo(subject, trialId, 1, TRIAL_SCOPES, 0);
        _enroll(trialId, subject);
        vm.warp(START + _bound(elapsed, 0, MAX_TTL));

        address[3] memory refused = [stranger, IRB_MEMBER, OTHER_SITE];
        for (uint256 i; i < refused.length; ++i) {
            vm.prank(refused[i]);
            vm.expectRevert(
                abi.encodeWithSelector(ITrialRegistry.UnauthorizedWithdrawal.selector, trialId, subject, refused[i])
            );
            trials.withdraw(trialId, subject);
        }
        _suspend(OTHER_SITE, RESEARCHER);
        vm.prank(OTHER_SITE);
        vm.expectRevert(
            abi.encodeWithSelector(ITrialRegistry.UnauthorizedWithdrawal.selector, trialId, subject, OTHER_SITE)
        );
        trials.withdraw(trialId, subject);

        address actor = _withdrawer(who, subject);
        vm.expectEmit(address(trials));
        emit ITrialRegistry.SubjectWithdrawn(trialId, subject, _now(), actor);
        vm.prank(actor);
        trials.withdraw(trialId, subject);
        vm.assertEq(trials.getEnrolment(trialId, subject).withdrawnAt, _now(), "withdrawn now");
        vm.assertTrue(
            registry.isPermitted(subject, address(trials), _trialPurpose(trialId, 1), TRIAL_SCOPES), "consent untouched"
        );
    }

    /// @dev A consent narrowed below the required scopes has lapsed; the chain keeps no time for a
    /// narrowing, so the withdrawal is at the time of the call.
    function testFuzz_withdraw_afterANarrowing_isNow(address subject, uint8 who, uint8 bitSeed, uint256 elapsed)
        public
    {
        _assumeStranger(subject);
        address caller = _withdrawer(who, subject);
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        _consentTo(subject, trialId, 1, TRIAL_SCOPES, 0);
        _enroll(trialId, subject);
        vm.warp(START + 1 + _bound(elapsed, 0, MAX_TTL));
        vm.prank(subject);
        registry.update(address(trials), _trialPurpose(trialId, 1), TRIAL_SCOPES & ~_someBit(TRIAL_SCOPES, bitSeed), 0);

        vm.prank(caller);
        trials.withdraw(trialId, subject);
        vm.assertEq(trials.getEnrolment(trialId, subject).withdrawnAt, _now(), "withdrawn now");
    }

    /// @dev ConsentRegistry lets a patient revoke an already expired consent (so the record shows
    /// their will). The participation ended at the expiry, the earlier of the two times the chain
    /// knows; a later revocation must not move the withdrawal past it.
    function testFuzz_withdraw_revokedAfterExpiry_isAtTheExpiry(
        address subject,
        uint256 ttl,
        uint256 revokeLate,
        uint256 withdrawLate
    ) public {
        _assumeStranger(subject);
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        uint64 expiresAt = _futureExpiry(ttl);
        _consentTo(subject, trialId, 1, TRIAL_SCOPES, expiresAt);
        _enroll(trialId, subject);
        vm.warp(expiresAt + 1 + _bound(revokeLate, 0, MAX_TTL));
        vm.prank(subject);
        registry.revoke(address(trials), _trialPurpose(trialId, 1));
        vm.warp(_now() + _bound(withdrawLate, 0, MAX_TTL));

        vm.prank(SITE);
        trials.withdraw(trialId, subject);
        vm.assertEq(trials.getEnrolment(trialId, subject).withdrawnAt, expiresAt, "withdrawnAt is the expiry");
    }

    /// @dev Enrolled through a broad (wildcard) consent while a consent of their own to the
    /// registry had lapsed (or did not cover the scopes, or lapsed first): the participation ended
    /// when the wildcard consent was revoked, not when their own consent lapsed before it.
    function testFuzz_withdraw_enrolledThroughTheWildcard_isWhenTheWildcardLapsed(
        address subject,
        uint8 mode,
        uint256 gap,
        uint256 toRevoke
    ) public {
        _assumeStranger(subject);
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        bytes32 purpose = _trialPurpose(trialId, 1);
        uint64 step = uint64(_bound(gap, 1, 365 days));
        // Own consent: revoked before enrolment (0), or covering and revoked first after it (1).
        bool ownFirst = mode % 2 == 1;
        _consentTo(subject, trialId, 1, TRIAL_SCOPES, 0);
        if (!ownFirst) {
            vm.warp(START + step);
            vm.prank(subject);
            registry.revoke(address(trials), purpose);
        }
        _grant(subject, ANY_GRANTEE, purpose, TRIAL_SCOPES, 0);
        vm.warp(_now() + step);
        _enroll(trialId, subject);
        uint64 enrolledAt = _now();
        if (ownFirst) {
            vm.warp(_now() + step);
            vm.prank(subject);
            registry.revoke(address(trials), purpose);
        }
        vm.warp(_now() + 1 + _bound(toRevoke, 0, 365 days));
        vm.prank(subject);
        registry.revoke(ANY_GRANTEE, purpose);
        uint64 lapsedAt = _now();
        vm.warp(_now() + step);

        vm.prank(SITE);
        trials.withdraw(trialId, subject);
        uint64 withdrawnAt = trials.getEnrolment(trialId, subject).withdrawnAt;
        vm.assertTrue(withdrawnAt >= enrolledAt, "withdrawn before enrolment");
        vm.assertEq(withdrawnAt, lapsedAt, "withdrawnAt is the wildcard's revocation");
    }

    /// @dev Covered by both consents; the wildcard one ends first (revoked or expired), the
    /// subject's own one is narrowed later. The chain keeps no time for the narrowing, so the
    /// withdrawal is now; it must not be the wildcard's earlier end, while the own consent still held.
    function testFuzz_withdraw_ownConsentNarrowedAfterTheWildcardEnded_isNotBeforeTheNarrowing(
        address subject,
        uint256 gap,
        bool wildcardExpires,
        uint8 bitSeed
    ) public {
        _assumeStranger(subject);
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        bytes32 purpose = _trialPurpose(trialId, 1);
        uint64 step = uint64(_bound(gap, 1, 365 days));
        _consentTo(subject, trialId, 1, TRIAL_SCOPES, 0);
        _grant(subject, ANY_GRANTEE, purpose, TRIAL_SCOPES, wildcardExpires ? START + 2 * step : 0);
        vm.warp(START + step);
        _enroll(trialId, subject);
        vm.warp(START + 2 * step);
        if (!wildcardExpires) {
            vm.prank(subject);
            registry.revoke(ANY_GRANTEE, purpose);
        }
        vm.warp(START + 3 * step);
        vm.assertTrue(registry.isPermitted(subject, address(trials), purpose, TRIAL_SCOPES), "own consent holds");
        vm.prank(subject);
        registry.update(address(trials), purpose, TRIAL_SCOPES & ~_someBit(TRIAL_SCOPES, bitSeed), 0);
        uint64 narrowedAt = _now();
        vm.warp(_now() + step);

        vm.prank(SITE);
        trials.withdraw(trialId, subject);
        uint64 withdrawnAt = trials.getEnrolment(trialId, subject).withdrawnAt;
        vm.assertTrue(withdrawnAt >= narrowedAt, "withdrawn while the own consent still covered the trial");
        vm.assertEq(withdrawnAt, _now(), "a narrowing has no time on chain: withdrawn now");
    }

    /// @dev Enrolled under version 1; the trial moves to version 2 (re-consent) and the subject
    /// consents to it, but no site records the re-consent. Their version-2 consent keeps them in
    /// after their version-1 consent is revoked: a withdrawal then is dated now, not at the
    /// version-1 revocation, and an outsider is refused as ever.
    function testFuzz_withdraw_newVersionConsentKeepsTheSubjectIn(
        address subject,
        address outsider,
        uint256 gap,
        uint8 who
    ) public {
        _assumeStranger(subject);
        _assumeStranger(outsider);
        vm.assume(outsider != subject);
        uint256 trialId = _enrolledThenMovedToVersion2(subject, uint64(_bound(gap, 1, 365 days)), false);
        vm.prank(outsider);
        vm.expectRevert(
            abi.encodeWithSelector(ITrialRegistry.UnauthorizedWithdrawal.selector, trialId, subject, outsider)
        );
        trials.withdraw(trialId, subject);

        address actor = _withdrawer(who, subject);
        vm.prank(actor);
        trials.withdraw(trialId, subject);
        vm.assertEq(trials.getEnrolment(trialId, subject).withdrawnAt, _now(), "withdrawn now");
    }

    /// @dev The same, until the version-2 consent lapses too (revoked or expired): the withdrawal
    /// is dated at its end, not at the earlier end of the version-1 consent, when the version-2
    /// consent still kept the subject in.
    function testFuzz_withdraw_afterTheNewVersionConsentLapses_isAtItsEnd(
        address subject,
        uint8 who,
        uint256 gap,
        bool newExpires
    ) public {
        _assumeStranger(subject);
        uint64 step = uint64(_bound(gap, 1, 365 days));
        uint256 trialId = _enrolledThenMovedToVersion2(subject, step, newExpires);
        vm.warp(START + 4 * step);
        if (!newExpires) {
            vm.prank(subject);
            registry.revoke(address(trials), _trialPurpose(trialId, 2));
        }
        vm.warp(START + 5 * step);
        vm.prank(_withdrawer(who, subject));
        trials.withdraw(trialId, subject);
        vm.assertTrue(
            trials.getEnrolment(trialId, subject).withdrawnAt >= START + 4 * step,
            "withdrawal dated while the version-2 consent still kept the subject in"
        );
        vm.assertEq(trials.getEnrolment(trialId, subject).withdrawnAt, START + 4 * step, "withdrawnAt");
    }

    function testFuzz_withdraw_ofAnUnenrolledSubject_reverts(address subject, address caller) public {
        _assumeStranger(subject);
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        _consentTo(subject, trialId, 1, TRIAL_SCOPES, 0);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotEnrolled.selector, trialId, subject));
        trials.withdraw(trialId, subject);
    }

    /* ------------------------------------------------------------------ */
    /*                            DATA COMMITMENTS                        */
    /* ------------------------------------------------------------------ */

    /// @dev Every batch as the chain holds it, and absent from another trial (a helper: fewer locals on
    /// the stack, so the unoptimised coverage build compiles).
    function _checkBatches(
        uint256 trialId,
        uint256 otherTrial,
        bytes32 salt,
        uint32 sites,
        uint64[] memory times,
        uint32[] memory sequences
    ) private view {
        for (uint256 i; i < times.length; ++i) {
            bool bySite = (sites >> i) & 1 == 0;
            ITrialRegistry.Batch memory b = trials.getBatch(trialId, bySite ? SITE : OTHER_SITE, _root(salt, i));
            vm.assertEq(b.committedAt, times[i], "committedAt");
            vm.assertEq(b.sequence, sequences[i], "sequence");
            b = trials.getBatch(trialId, bySite ? OTHER_SITE : SITE, _root(salt, i));
            vm.assertEq(b.committedAt, 0, "not the other site's");
            b = trials.getBatch(otherTrial, bySite ? SITE : OTHER_SITE, _root(salt, i));
            vm.assertEq(b.committedAt, 0, "not another trial's");
        }
    }

    /// @dev Up to 24 batches, bit i of `sites` picking the site of batch i, time moving between them.
    function testFuzz_commitBatch_sequencesPerSiteRiseByOne_andEveryRootIsRetrievable(
        uint32 sites,
        uint8 count,
        bytes32 salt,
        uint256 gaps
    ) public {
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        _addSite(trialId, OTHER_SITE);
        uint256 n = _bound(count, 1, 24);
        uint32[2] memory next;
        uint32[] memory sequences = new uint32[](n);
        uint64[] memory times = new uint64[](n);
        for (uint256 i; i < n; ++i) {
            vm.warp(_now() + (gaps >> (i * 8)) % 256 * 1 hours);
            uint256 s = (sites >> i) & 1;
            sequences[i] = _commitChecked(trialId, s == 0 ? SITE : OTHER_SITE, _root(salt, i), next[s]++);
            times[i] = _now();
        }

        vm.assertEq(trials.getSite(trialId, SITE).batches, next[0], "SITE's batch count");
        vm.assertEq(trials.getSite(trialId, OTHER_SITE).batches, next[1], "OTHER_SITE's batch count");
        uint256 otherTrial = _openTrial(TRIAL_SCOPES);
        _checkBatches(trialId, otherTrial, salt, sites, times, sequences);
        // No root twice from one site; the other site's copy of it is its own batch (finding A.3).
        uint256 again = uint256(salt) % n;
        bool bySite = (sites >> again) & 1 == 0;
        vm.prank(bySite ? SITE : OTHER_SITE);
        vm.expectRevert(
            abi.encodeWithSelector(
                ITrialRegistry.BatchExists.selector, trialId, bySite ? SITE : OTHER_SITE, _root(salt, again)
            )
        );
        trials.commitBatch(trialId, _root(salt, again), 1);
        vm.assertEq(_commit(trialId, bySite ? OTHER_SITE : SITE, _root(salt, again), 1), next[bySite ? 1 : 0], "copy");
        // The same root may be committed to another trial.
        vm.assertEq(_commit(otherTrial, SITE, _root(salt, again), 1), 0, "first batch of the other trial");
    }

    function testFuzz_commitBatch_rejectsEmptyBatchesOutsidersAndUnapprovedTrials(
        bytes32 root,
        uint32 rows,
        address stranger
    ) public {
        _assumeStranger(stranger);
        vm.assume(root != 0);
        rows = uint32(_bound(rows, 1, type(uint32).max));
        uint256 trialId = _register(TRIAL_SCOPES);
        _addSite(trialId, SITE);
        vm.prank(SITE);
        vm.expectRevert(
            abi.encodeWithSelector(
                ITrialRegistry.InvalidTrialStatus.selector, trialId, ITrialRegistry.Status.Registered
            )
        );
        trials.commitBatch(trialId, root, rows);
        _approve(trialId, 1);

        vm.startPrank(SITE);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.InvalidHash.selector, bytes32(0)));
        trials.commitBatch(trialId, bytes32(0), rows);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.InvalidHash.selector, root));
        trials.commitBatch(trialId, root, 0);
        vm.stopPrank();
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotSite.selector, trialId, stranger));
        trials.commitBatch(trialId, root, rows);
        vm.assertEq(trials.getBatch(trialId, SITE, root).committedAt, 0, "nothing committed");

        // A removed site commits nothing; added again, it carries on with its sequence.
        vm.assertEq(_commit(trialId, SITE, root, rows), 0, "first");
        vm.prank(SPONSOR);
        trials.removeSite(trialId, SITE);
        vm.prank(SITE);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotSite.selector, trialId, SITE));
        trials.commitBatch(trialId, keccak256(abi.encode(root)), rows);
        _addSite(trialId, SITE);
        vm.assertEq(_commit(trialId, SITE, keccak256(abi.encode(root)), rows), 1, "sequence carries on");
        // A site whose RESEARCHER credential is suspended commits nothing either.
        _suspend(SITE, RESEARCHER);
        vm.prank(SITE);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotSite.selector, trialId, SITE));
        trials.commitBatch(trialId, keccak256(abi.encode(root, 2)), rows);
    }

    /* ------------------------------------------------------------------ */
    /*                                  LOCK                              */
    /* ------------------------------------------------------------------ */

    function testFuzz_lock_nothingIsCommittedEnrolledOrAmendedAfterIt(
        bytes32 root,
        uint32 rows,
        uint256 elapsed,
        uint256 later,
        bool reported,
        address subject
    ) public {
        _assumeStranger(subject);
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        _commit(trialId, SITE, keccak256("before the lock"), 10);
        _consentTo(subject, trialId, 1, TRIAL_SCOPES, 0);
        vm.warp(START + _bound(elapsed, 0, MAX_TTL));

        vm.prank(COPYCAT);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotSponsor.selector, trialId, COPYCAT));
        trials.lock(trialId);
        uint64 lockedAt = _now();
        vm.expectEmit(address(trials));
        emit ITrialRegistry.DatabaseLocked(trialId, lockedAt);
        _lock(trialId);
        ITrialRegistry.Trial memory t = trials.getTrial(trialId);
        vm.assertEq(uint8(t.status), uint8(ITrialRegistry.Status.Locked), "locked");
        vm.assertEq(t.lockedAt, lockedAt, "lockedAt");

        if (reported) {
            vm.prank(SPONSOR);
            trials.reportResults(trialId, RESULTS, PRIMARY, SECONDARY);
        }
        vm.warp(_now() + _bound(later, 0, MAX_TTL));
        bytes memory locked = abi.encodeWithSelector(ITrialRegistry.TrialLocked.selector, trialId, lockedAt);
        vm.startPrank(SITE);
        vm.expectRevert(locked);
        trials.commitBatch(trialId, root, rows);
        vm.expectRevert(locked);
        trials.commitBatch(trialId, keccak256("before the lock"), 10);
        vm.expectRevert(locked);
        trials.enroll(trialId, subject);
        vm.stopPrank();
        vm.startPrank(SPONSOR);
        vm.expectRevert(locked);
        trials.amend(trialId, _protocol(2), true);
        vm.expectRevert(locked);
        trials.addSite(trialId, OTHER_SITE);
        vm.expectRevert(locked);
        trials.changeIrb(trialId, OTHER_IRB);
        vm.expectRevert(
            abi.encodeWithSelector(
                ITrialRegistry.InvalidTrialStatus.selector,
                trialId,
                reported ? ITrialRegistry.Status.Reported : ITrialRegistry.Status.Locked
            )
        );
        trials.lock(trialId);
        vm.stopPrank();
        vm.prank(IRB_MEMBER);
        vm.expectRevert(locked);
        trials.approve(trialId, 1);

        vm.assertEq(
            trials.getBatch(trialId, SITE, root).committedAt, root == keccak256("before the lock") ? START : 0, "root"
        );
        vm.assertEq(trials.getSite(trialId, SITE).batches, 1, "one batch, before the lock");
        vm.assertTrue(trials.getBatch(trialId, SITE, keccak256("before the lock")).committedAt <= lockedAt, "before");
        vm.assertFalse(trials.isEnrolled(trialId, subject), "nobody enrolled");
    }

    function testFuzz_lock_needsAnApprovedTrial(address stranger) public {
        _assumeStranger(stranger);
        uint256 trialId = _register(TRIAL_SCOPES);
        vm.prank(SPONSOR);
        vm.expectRevert(
            abi.encodeWithSelector(
                ITrialRegistry.InvalidTrialStatus.selector, trialId, ITrialRegistry.Status.Registered
            )
        );
        trials.lock(trialId);
        _approve(trialId, 1);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotSponsor.selector, trialId, stranger));
        trials.lock(trialId);
        vm.assertEq(trials.getTrial(trialId).lockedAt, 0, "not locked");
    }

    /* ------------------------------------------------------------------ */
    /*                              ROW PROOFS                            */
    /* ------------------------------------------------------------------ */

    /// @dev A tree of 1 to 40 rows; one byte of the row's salt, the root or a proof element flipped.
    function testFuzz_verifyRow_acceptsAProof_andRejectsAnyFlippedByte(
        bytes32 salt,
        uint8 size,
        uint8 index,
        uint16 target,
        uint8 bytePos,
        uint8 mask
    ) public {
        (uint256 trialId, ITrialRegistry.Row[] memory rows, bytes32[] memory leaves, bytes32 root) =
            _committedTree(salt, size);
        uint256 i = index % leaves.length;
        ITrialRegistry.Row memory row = rows[i];
        bytes32[] memory proof = SortedMerkle.proofOf(leaves, i);
        vm.assertEq(SortedMerkle.fold(leaves[i], proof), root, "the test's proof");
        vm.assertTrue(trials.verifyRow(trialId, SITE, root, row, proof), "a committed row");
        vm.assertTrue(MerkleProof.verify(proof, root, leaves[i]), "OpenZeppelin agrees");

        bytes32 flip = bytes32(uint256(mask == 0 ? 1 : mask) << (8 * (bytePos % 32)));
        uint256 where = target % (proof.length + 2);
        if (where == 0) {
            row.salt ^= flip;
            vm.assertFalse(trials.verifyRow(trialId, SITE, root, row, proof), "flipped salt");
            row.salt ^= flip;
        } else if (where == 1) {
            vm.assertFalse(trials.verifyRow(trialId, SITE, root ^ flip, row, proof), "flipped root");
        } else {
            proof[where - 2] ^= flip;
            vm.assertFalse(trials.verifyRow(trialId, SITE, root, row, proof), "flipped proof element");
            proof[where - 2] ^= flip;
        }
        vm.assertFalse(trials.verifyRow(trialId + 1, SITE, root, row, proof), "root of another trial");
        vm.assertFalse(trials.verifyRow(trialId, OTHER_SITE, root, row, proof), "root of another site");
        if (rows.length > 1) {
            vm.assertFalse(trials.verifyRow(trialId, SITE, root, rows[(i + 1) % rows.length], proof), "another row");
        }
        row.value = "7.0";
        vm.assertFalse(trials.verifyRow(trialId, SITE, root, row, proof), "the row with another value");
    }

    /// @dev A one-row multiproof (the single proof, every flag false) and, for 2^k rows, all rows at once.
    function testFuzz_verifyRows_multiproofs(bytes32 salt, uint8 size, uint8 index, uint8 bytePos) public {
        (uint256 trialId, ITrialRegistry.Row[] memory rows, bytes32[] memory leaves, bytes32 root) =
            _committedTree(salt, size);
        uint256 i = index % leaves.length;
        bytes32[] memory proof = SortedMerkle.proofOf(leaves, i);
        ITrialRegistry.Row[] memory one = new ITrialRegistry.Row[](1);
        one[0] = rows[i];
        bool[] memory flags = new bool[](proof.length);
        vm.assertTrue(trials.verifyRows(trialId, SITE, root, one, proof, flags), "one row");
        one[0] = _row(rows[i].salt ^ bytes32(uint256(1) << (8 * (bytePos % 32))), rows[i].subject);
        vm.assertFalse(trials.verifyRows(trialId, SITE, root, one, proof, flags), "one flipped row");
        vm.assertFalse(
            trials.verifyRows(trialId, SITE, root, new ITrialRegistry.Row[](0), new bytes32[](1), new bool[](0)),
            "no rows"
        );
        vm.expectRevert(abi.encodeWithSelector(MerkleProof.MerkleProofInvalidMultiproof.selector));
        trials.verifyRows(trialId, SITE, root, rows, proof, new bool[](rows.length + proof.length + 5));
    }

    /// @dev A full tree (2 to 32 rows, a power of two) verified at once by an all-hashing multiproof, then with
    /// one row's salt flipped.
    function testFuzz_verifyRows_everyRow(bytes32 salt, uint8 size, uint8 bytePos) public {
        (uint256 trialId, ITrialRegistry.Row[] memory rows,, bytes32 root) =
            _committedTree(salt, uint8(2 << (size % 5)));
        uint256 n = rows.length;
        bool[] memory all = new bool[](n - 1);
        for (uint256 k; k < all.length; ++k) {
            all[k] = true;
        }
        vm.assertTrue(trials.verifyRows(trialId, SITE, root, rows, new bytes32[](0), all), "every row");
        rows[n - 1].salt ^= bytes32(uint256(1) << (8 * (bytePos % 32)));
        vm.assertFalse(trials.verifyRows(trialId, SITE, root, rows, new bytes32[](0), all), "a flipped row");
    }

    /* ------------------------------------------------------------------ */
    /*                          ENDPOINTS AND RESULTS                     */
    /* ------------------------------------------------------------------ */

    /// @dev `which` alters one of the four parts of the preimage (sponsor, primary, secondary,
    /// salt) by one byte, or none.
    function testFuzz_revealEndpoints_onlyTheExactPreimage(
        bytes32 primary,
        bytes32 secondary,
        bytes32 salt,
        uint8 which,
        uint8 bytePos
    ) public {
        vm.assume(primary != 0);
        bytes32 commitment = keccak256(abi.encode(SPONSOR, primary, secondary, salt));
        vm.prank(SPONSOR);
        uint256 trialId = trials.register(PROTOCOL, TRIAL_SCOPES, IRB_MEMBER, 0, 0, commitment);
        // Anyone may copy a commitment into a trial of their own, but cannot reveal it.
        vm.prank(COPYCAT);
        uint256 copy = trials.register(PROTOCOL, TRIAL_SCOPES, IRB_MEMBER, 0, 0, commitment);
        vm.prank(COPYCAT);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.RevealMismatch.selector, copy));
        trials.revealEndpoints(copy, primary, secondary, salt);
        vm.prank(COPYCAT);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotSponsor.selector, trialId, COPYCAT));
        trials.revealEndpoints(trialId, primary, secondary, salt);

        bytes32 flip = bytes32(uint256(1) << (8 * (bytePos % 32)));
        uint256 part = which % 5;
        if (part != 4) {
            bytes32[3] memory tampered = [primary, secondary, salt];
            if (part < 3) tampered[part] ^= flip;
            else tampered[0] = 0; // the zero primary never matches
            vm.prank(SPONSOR);
            vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.RevealMismatch.selector, trialId));
            trials.revealEndpoints(trialId, tampered[0], tampered[1], tampered[2]);
            vm.assertEq(trials.getTrial(trialId).primaryEndpoints, 0, "nothing revealed");
        }

        vm.expectEmit(address(trials));
        emit ITrialRegistry.EndpointsRevealed(trialId, primary, secondary);
        vm.prank(SPONSOR);
        trials.revealEndpoints(trialId, primary, secondary, salt);
        ITrialRegistry.Trial memory t = trials.getTrial(trialId);
        vm.assertEq(t.primaryEndpoints, primary, "primary");
        vm.assertEq(t.secondaryEndpoints, secondary, "secondary");
        vm.assertEq(t.endpointsCommitment, commitment, "commitment kept");
        vm.prank(SPONSOR);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.AlreadyRevealed.selector, trialId));
        trials.revealEndpoints(trialId, primary, secondary, salt);

        uint256 plain = _register(TRIAL_SCOPES);
        vm.prank(SPONSOR);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotBlinded.selector, plain));
        trials.revealEndpoints(plain, primary, secondary, salt);
    }

    /// @dev A blinded plan whose commitment hides a zero primary can never be revealed.
    function testFuzz_revealEndpoints_ofAZeroPrimary_reverts(bytes32 secondary, bytes32 salt) public {
        bytes32 commitment = keccak256(abi.encode(SPONSOR, bytes32(0), secondary, salt));
        vm.prank(SPONSOR);
        uint256 trialId = trials.register(PROTOCOL, TRIAL_SCOPES, IRB_MEMBER, 0, 0, commitment);
        vm.prank(SPONSOR);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.RevealMismatch.selector, trialId));
        trials.revealEndpoints(trialId, 0, secondary, salt);
    }

    function testFuzz_reportResults_onlyWithTheRegisteredEndpoints(
        bytes32 primary,
        bytes32 secondary,
        bytes32 results,
        bytes32 otherPrimary,
        bytes32 otherSecondary,
        bool blinded
    ) public {
        vm.assume(primary != 0 && results != 0);
        vm.assume(otherPrimary != primary && otherSecondary != secondary);
        uint256 trialId;
        vm.startPrank(SPONSOR);
        if (blinded) {
            trialId = trials.register(
                PROTOCOL, TRIAL_SCOPES, IRB_MEMBER, 0, 0, keccak256(abi.encode(SPONSOR, primary, secondary, _planSalt()))
            );
        } else {
            trialId = trials.register(PROTOCOL, TRIAL_SCOPES, IRB_MEMBER, primary, secondary, 0);
        }
        vm.stopPrank();
        _approve(trialId, 1);

        vm.prank(SPONSOR);
        vm.expectRevert(
            abi.encodeWithSelector(ITrialRegistry.InvalidTrialStatus.selector, trialId, ITrialRegistry.Status.Approved)
        );
        trials.reportResults(trialId, results, primary, secondary);
        _lock(trialId);

        vm.startPrank(SPONSOR);
        if (blinded) {
            vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.EndpointsNotRevealed.selector, trialId));
            trials.reportResults(trialId, results, primary, secondary);
            trials.revealEndpoints(trialId, primary, secondary, _planSalt());
        }
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.InvalidHash.selector, bytes32(0)));
        trials.reportResults(trialId, 0, primary, secondary);
        bytes32[2][3] memory switched = [[otherPrimary, secondary], [primary, otherSecondary], [secondary, primary]];
        for (uint256 k; k < switched.length; ++k) {
            if (switched[k][0] == primary && switched[k][1] == secondary) continue; // primary == secondary
            vm.expectRevert(
                abi.encodeWithSelector(
                    ITrialRegistry.EndpointsMismatch.selector, trialId, switched[k][0], switched[k][1]
                )
            );
            trials.reportResults(trialId, results, switched[k][0], switched[k][1]);
        }
        vm.stopPrank();
        vm.prank(COPYCAT);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotSponsor.selector, trialId, COPYCAT));
        trials.reportResults(trialId, results, primary, secondary);
        vm.assertEq(uint8(_status(trialId)), uint8(ITrialRegistry.Status.Locked), "still locked");

        vm.warp(START + 30 days);
        vm.expectEmit(address(trials));
        emit ITrialRegistry.ResultsReported(trialId, results, primary, secondary);
        vm.prank(SPONSOR);
        trials.reportResults(trialId, results, primary, secondary);
        ITrialRegistry.Trial memory t = trials.getTrial(trialId);
        vm.assertEq(uint8(t.status), uint8(ITrialRegistry.Status.Reported), "reported");
        vm.assertEq(t.reportedAt, START + 30 days, "reportedAt");
        vm.assertEq(t.resultsHash, results, "resultsHash");
        vm.assertEq(t.primaryEndpoints, primary, "primary unchanged");
        vm.assertEq(t.secondaryEndpoints, secondary, "secondary unchanged");
        vm.prank(SPONSOR);
        vm.expectRevert(
            abi.encodeWithSelector(ITrialRegistry.InvalidTrialStatus.selector, trialId, ITrialRegistry.Status.Reported)
        );
        trials.reportResults(trialId, results, primary, secondary);
    }

    /* ------------------------------------------------------------------ */
    /*                          SPONSOR TRANSFER                          */
    /* ------------------------------------------------------------------ */

    function testFuzz_transferSponsor_proposedThenAccepted_byTheProposedAccountOnly(
        address newSponsor,
        address stranger
    ) public {
        _assumeStranger(newSponsor);
        _assumeStranger(stranger);
        vm.assume(newSponsor != stranger);
        uint256 trialId = _openTrial(TRIAL_SCOPES);

        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotSponsor.selector, trialId, stranger));
        trials.transferSponsor(trialId, stranger);
        vm.prank(newSponsor);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotPendingSponsor.selector, trialId, newSponsor));
        trials.acceptSponsor(trialId);

        vm.expectEmit(address(trials));
        emit ITrialRegistry.SponsorTransferStarted(trialId, SPONSOR, newSponsor);
        vm.prank(SPONSOR);
        trials.transferSponsor(trialId, newSponsor);
        vm.assertEq(trials.pendingSponsor(trialId), newSponsor, "pending");
        vm.assertEq(trials.getTrial(trialId).sponsor, SPONSOR, "nothing changes before the acceptance");
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotPendingSponsor.selector, trialId, stranger));
        trials.acceptSponsor(trialId);

        vm.expectEmit(address(trials));
        emit ITrialRegistry.SponsorTransferred(trialId, SPONSOR, newSponsor);
        vm.prank(newSponsor);
        trials.acceptSponsor(trialId);
        vm.assertEq(trials.getTrial(trialId).sponsor, newSponsor, "the new sponsor");
        vm.assertEq(trials.pendingSponsor(trialId), address(0), "nothing pending");
        vm.prank(newSponsor);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotPendingSponsor.selector, trialId, newSponsor));
        trials.acceptSponsor(trialId);
        vm.prank(SPONSOR);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotSponsor.selector, trialId, SPONSOR));
        trials.transferSponsor(trialId, SPONSOR);
        vm.prank(newSponsor);
        trials.addSite(trialId, OTHER_SITE);
        vm.assertTrue(trials.getSite(trialId, OTHER_SITE).active, "the new sponsor acts for the trial");
    }

    function testFuzz_transferSponsor_zeroCancels_andAProposalIsReplaced(address first, address second) public {
        _assumeStranger(first);
        _assumeStranger(second);
        vm.assume(first != second);
        uint256 trialId = _register(TRIAL_SCOPES);
        vm.startPrank(SPONSOR);
        trials.transferSponsor(trialId, first);
        trials.transferSponsor(trialId, second);
        vm.stopPrank();
        vm.prank(first);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotPendingSponsor.selector, trialId, first));
        trials.acceptSponsor(trialId);

        vm.expectEmit(address(trials));
        emit ITrialRegistry.SponsorTransferStarted(trialId, SPONSOR, address(0));
        vm.prank(SPONSOR);
        trials.transferSponsor(trialId, address(0));
        vm.assertEq(trials.pendingSponsor(trialId), address(0), "cancelled");
        vm.prank(second);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotPendingSponsor.selector, trialId, second));
        trials.acceptSponsor(trialId);
        vm.assertEq(trials.getTrial(trialId).sponsor, SPONSOR, "unchanged");

        bytes memory unknown = abi.encodeWithSelector(ITrialRegistry.UnknownTrial.selector, trialId + 1);
        vm.expectRevert(unknown);
        trials.pendingSponsor(trialId + 1);
        vm.prank(first);
        vm.expectRevert(unknown);
        trials.acceptSponsor(trialId + 1);
    }

    /// @dev The commitment names the registering sponsor: after one or two transfers, the sponsor of the
    /// day reveals it with the same salt; a transfer after the reveal changes nothing about it.
    function testFuzz_transferSponsor_aBlindedPlanStaysRevealable(
        address first,
        address second,
        bytes32 primary,
        bytes32 salt,
        bool twice
    ) public {
        _assumeStranger(first);
        _assumeStranger(second);
        vm.assume(first != second && primary != 0);
        bytes32 commitment = keccak256(abi.encode(SPONSOR, primary, SECONDARY, salt));
        vm.prank(SPONSOR);
        uint256 trialId = trials.register(PROTOCOL, TRIAL_SCOPES, IRB_MEMBER, 0, 0, commitment);
        _transfer(trialId, SPONSOR, first);
        address current = first;
        if (twice) {
            _transfer(trialId, first, second);
            current = second;
        }
        vm.prank(current);
        trials.revealEndpoints(trialId, primary, SECONDARY, salt);
        vm.assertEq(trials.getTrial(trialId).primaryEndpoints, primary, "revealed by the sponsor of the day");
        _transfer(trialId, current, SPONSOR);
        vm.prank(SPONSOR);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.AlreadyRevealed.selector, trialId));
        trials.revealEndpoints(trialId, primary, SECONDARY, salt);
    }

    /// @dev A trial transferred to an IRB member: they can no longer approve its versions.
    function test_transferSponsor_toAnIrbMember_whoCanNoLongerApproveIt() public {
        uint256 trialId = _register(TRIAL_SCOPES);
        _transfer(trialId, SPONSOR, IRB_MEMBER);
        vm.prank(IRB_MEMBER);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.IrbIsSponsor.selector, trialId, IRB_MEMBER));
        trials.approve(trialId, 1);
    }

    function _transfer(uint256 trialId, address from, address to) private {
        vm.prank(from);
        trials.transferSponsor(trialId, to);
        vm.prank(to);
        trials.acceptSponsor(trialId);
    }

    /* ------------------------------------------------------------------ */
    /*                               HELPERS                              */
    /* ------------------------------------------------------------------ */

    function _planSalt() internal pure returns (bytes32) {
        return keccak256("blinded plan salt");
    }

    /// @dev A fuzzed account that is none of the fixed actors, this file's included.
    function _assumeStranger(address account) internal view {
        _assumeOutsider(account);
        vm.assume(account != COPYCAT && account != SUBJECT);
    }

    /// @dev One of the three who may withdraw a subject enrolled by SITE: SITE, the sponsor or the subject.
    function _withdrawer(uint8 who, address subject) internal pure returns (address) {
        return [SITE, SPONSOR, subject][who % 3];
    }

    function _protocol(uint32 version) internal pure returns (bytes32) {
        return keccak256(abi.encode("protocol", version));
    }

    function _root(bytes32 salt_, uint256 i) internal pure returns (bytes32) {
        return keccak256(abi.encode("batch root", salt_, i));
    }

    /// @dev Covering the required scopes (shape 0), missing one required bit (1), or any non-empty set (2).
    function _shapeScopes(uint64 required, uint64 granted, uint8 shape) internal pure returns (uint64) {
        uint256 mode = shape % 3;
        if (mode == 0) return required | granted;
        if (mode == 1) {
            uint64 missing = (required | granted) & ~_someBit(required, shape);
            return missing == 0 ? ~required : missing; // 0 only if `required` is that one bit
        }
        return _nonEmpty(granted);
    }

    /// @dev An open trial with a committed batch of 1 to 40 rows of five subjects, and their leaves.
    function _committedTree(bytes32 salt_, uint8 size)
        internal
        returns (uint256 trialId, ITrialRegistry.Row[] memory rows, bytes32[] memory leaves, bytes32 root)
    {
        trialId = _openTrial(TRIAL_SCOPES);
        rows = new ITrialRegistry.Row[](_bound(size, 1, 40));
        leaves = new bytes32[](rows.length);
        for (uint256 k; k < leaves.length; ++k) {
            rows[k] = ITrialRegistry.Row({
                salt: keccak256(abi.encode(salt_, k)),
                subject: address(uint160(uint256(keccak256(abi.encode(salt_, "pseudonym", k % 5))))),
                visit: uint32(k / 5),
                field: "hba1c_pct",
                value: "6.1"
            });
            leaves[k] = SortedMerkle.rowLeaf(rows[k]);
        }
        root = SortedMerkle.rootOf(leaves);
        _commit(trialId, SITE, root, uint32(leaves.length));
    }

    /// @dev Enrolled at START under version 1; version 2 (re-consent) approved; at START + step the
    /// subject consents to version 2 (expiring at START + 4 step, or never), at START + 2 step
    /// revokes version 1; at START + 3 step, no re-consent recorded.
    function _enrolledThenMovedToVersion2(address subject, uint64 step, bool newExpires)
        internal
        returns (uint256 trialId)
    {
        trialId = _openTrial(TRIAL_SCOPES);
        _consentTo(subject, trialId, 1, TRIAL_SCOPES, 0);
        _enroll(trialId, subject);
        vm.prank(SPONSOR);
        trials.amend(trialId, _protocol(2), true);
        _approve(trialId, 2);
        vm.warp(START + step);
        _consentTo(subject, trialId, 2, TRIAL_SCOPES, newExpires ? START + 4 * step : 0);
        vm.warp(START + 2 * step);
        vm.prank(subject);
        registry.revoke(address(trials), _trialPurpose(trialId, 1));
        vm.warp(START + 3 * step);
        vm.assertEq(trials.getEnrolment(trialId, subject).consentVersion, 1, "no re-consent recorded");
    }

    /// @dev Commits a batch of a size drawn from its root, and checks its event and sequence.
    function _commitChecked(uint256 trialId, address site, bytes32 root, uint32 expectedSequence)
        internal
        returns (uint32 sequence)
    {
        uint32 rows = uint32(_bound(uint256(keccak256(abi.encode(root))), 1, type(uint32).max));
        vm.expectEmit(address(trials));
        emit ITrialRegistry.BatchCommitted(trialId, site, expectedSequence, root, rows);
        sequence = _commit(trialId, site, root, rows);
        vm.assertEq(sequence, expectedSequence, "sequence is the site's batch count");
    }

    /// @dev An open trial requiring `required`; the subject's consent granted at START, revoked
    /// before `enrolAt` or not; whether the consent rules admit the subject at `enrolAt`.
    function _consentCase(
        address subject,
        uint64 required,
        uint64 scopes,
        uint8 shape,
        uint256 ttl,
        uint256 elapsed,
        uint256 revokeSeed
    ) internal returns (uint256 trialId, uint64 enrolAt, bool admitted) {
        trialId = _openTrial(required);
        IConsentRegistry.Consent memory consent;
        consent.scopes = scopes;
        consent.grantedAt = START;
        consent.expiresAt = ttl % 4 == 0 ? 0 : _futureExpiry(ttl);
        uint256 horizon = consent.expiresAt == 0 ? MAX_TTL : 2 * (consent.expiresAt - START);
        enrolAt = START + uint64(_bound(elapsed, 0, horizon));
        if (revokeSeed % 3 != 0) consent.revokedAt = START + uint64(_bound(revokeSeed / 3, 0, enrolAt - START));
        _consentAs(subject, (shape / 3) % 2 == 0 ? address(trials) : ANY_GRANTEE, _trialPurpose(trialId, 1), consent);
        vm.warp(enrolAt);
        admitted = covers(consent, required, enrolAt);
    }

    function _assertEnrolment(
        uint256 trialId,
        address subject,
        uint64 enrolledAt,
        uint64 withdrawnAt,
        uint32 consentVersion
    ) internal view {
        ITrialRegistry.Enrolment memory e = trials.getEnrolment(trialId, subject);
        vm.assertEq(e.site, enrolledAt == 0 ? address(0) : SITE, "site");
        vm.assertEq(e.enrolledAt, enrolledAt, "enrolledAt");
        vm.assertEq(e.withdrawnAt, withdrawnAt, "withdrawnAt");
        vm.assertEq(e.consentVersion, consentVersion, "consentVersion");
    }

    /// @dev Grants `c` at its grantedAt and revokes it at its revokedAt (if any).
    function _consentAs(address subject, address grantee, bytes32 purpose, IConsentRegistry.Consent memory c) internal {
        vm.warp(c.grantedAt);
        _grant(subject, grantee, purpose, c.scopes, c.expiresAt);
        if (c.revokedAt != 0) {
            vm.warp(c.revokedAt);
            vm.prank(subject);
            registry.revoke(grantee, purpose);
        }
    }

    function _expectInvalidVersion(uint256 trialId, uint32 version) internal {
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.InvalidVersion.selector, trialId, version));
        trials.getProtocolVersion(trialId, version);
    }

    function _expectRevertApprove(uint256 trialId, uint32 version, bytes memory err) internal {
        vm.prank(IRB_MEMBER);
        vm.expectRevert(err);
        trials.approve(trialId, version);
    }
}
