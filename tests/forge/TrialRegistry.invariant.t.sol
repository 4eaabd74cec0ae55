// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ITrialRegistry} from "../../contracts/interfaces/ITrialRegistry.sol";

import {TrialHandler} from "./handlers/TrialHandler.sol";
import {TrialTest} from "./utils/TrialTest.sol";

/// @dev Stateful fuzzing through TrialHandler (registrations, approvals, amendments with and
/// without re-consent, sites added and removed, a site credential suspended and reinstated,
/// consents granted, changed and revoked, enrolments, re-consents, withdrawals, batches, locks,
/// reveals, reports and warps). After every handler call, for each trial:
///  - the registry agrees with the handler's model (trial, current protocol version, sites,
///    enrolments), every call did what the model predicted, and no status ever went back
///    (Registered -> Approved -> Locked -> Reported); the `enrolled` counter is the ghost count of
///    enrolments, and a reported trial names the endpoints registered (or committed to) before it;
///  - every committed batch is found by its root with its site, time and sequence; a site's
///    sequences run 0, 1, 2, ... and its batch count is the number of its batches; no batch of a
///    locked trial is later than the lock, and no site can commit to it any more;
///  - every enrolled subject had a live consent covering the trial's scopes for its consent
///    version when enrolled (ghost-tracked against the handler's model of ConsentRegistry);
///  - a withdrawal is recorded at the time the subject's consent lapsed where the chain knows it
///    (revocation or expiry), else at the time of the call, and never before the enrolment.
/// Checks use `require`, not the assert cheat codes, where they run in loops.
contract TrialRegistryInvariantTest is TrialTest {
    /// @dev Read by forge through `targetSelectors()` (the layout forge-std's StdInvariant uses).
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    TrialHandler internal handler;
    address[] internal _sites;
    address[] internal _subjects;

    function setUp() public override {
        super.setUp();
        handler = new TrialHandler(registry, credentials, trials, REGISTRAR);
        for (uint256 i; i < handler.SITES(); ++i) {
            _sites.push(handler.site(i));
        }
        for (uint256 i; i < handler.SUBJECTS(); ++i) {
            _subjects.push(handler.subject(i));
        }
        vm.assertEq(handler.unexpectedOutcomes(), 0, handler.lastUnexpected());
        vm.assertEq(uint8(_status(1)), uint8(ITrialRegistry.Status.Approved), "the handler's first trial is open");
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        bytes4[] memory selectors = new bytes4[](17);
        selectors[0] = TrialHandler.register.selector;
        selectors[1] = TrialHandler.approve.selector;
        selectors[2] = TrialHandler.amend.selector;
        selectors[3] = TrialHandler.addSite.selector;
        selectors[4] = TrialHandler.removeSite.selector;
        selectors[5] = TrialHandler.credential.selector;
        selectors[6] = TrialHandler.consent.selector;
        selectors[7] = TrialHandler.revokeConsent.selector;
        selectors[8] = TrialHandler.enroll.selector;
        selectors[9] = TrialHandler.reconsent.selector;
        selectors[10] = TrialHandler.withdraw.selector;
        selectors[11] = TrialHandler.commitBatch.selector;
        selectors[12] = TrialHandler.lock.selector;
        selectors[13] = TrialHandler.reveal.selector;
        selectors[14] = TrialHandler.report.selector;
        selectors[15] = TrialHandler.warp.selector;
        selectors[16] = TrialHandler.changeIrb.selector;
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector({addr: address(handler), selectors: selectors});
    }

    /* ------------------------------------------------------------------ */
    /*                              INVARIANTS                            */
    /* ------------------------------------------------------------------ */

    function invariant_registryMatchesTheModel() public {
        vm.assertEq(handler.unexpectedOutcomes(), 0, handler.lastUnexpected());
        vm.assertEq(handler.statusRegressions(), 0, "a trial's status went back");
        _syncClock();
        for (uint256 id = 1; id <= handler.trialCount(); ++id) {
            ITrialRegistry.Trial memory t = trials.getTrial(id);
            require(
                keccak256(abi.encode(t)) == keccak256(abi.encode(handler.trialModel(id))), "trial against the model"
            );
            require(t.enrolled == handler.ghostEnrolled(id), "enrolled counter against the ghost count");
            if (t.status == ITrialRegistry.Status.Reported) {
                (bytes32 primary, bytes32 secondary) = handler.plannedEndpoints(id);
                require(
                    t.primaryEndpoints == primary && t.secondaryEndpoints == secondary && t.resultsHash != 0,
                    "reported against other endpoints than the registered ones"
                );
            }
            require(
                keccak256(abi.encode(trials.getProtocolVersion(id, t.protocolVersion)))
                    == keccak256(abi.encode(handler.versionModel(id, t.protocolVersion))),
                "protocol version against the model"
            );
            for (uint256 k; k < _sites.length; ++k) {
                require(
                    keccak256(abi.encode(trials.getSite(id, _sites[k])))
                        == keccak256(abi.encode(handler.siteModel(id, _sites[k]))),
                    "site against the model"
                );
            }
            for (uint256 k; k < _subjects.length; ++k) {
                require(
                    keccak256(abi.encode(trials.getEnrolment(id, _subjects[k])))
                        == keccak256(abi.encode(handler.enrolmentModel(id, _subjects[k]))),
                    "enrolment against the model"
                );
            }
        }
    }

    function invariant_batchesAreSequencedRetrievableAndNoneAfterTheLock() public {
        _syncClock();
        for (uint256 id = 1; id <= handler.trialCount(); ++id) {
            ITrialRegistry.Trial memory t = trials.getTrial(id);
            uint32[] memory perSite = new uint32[](_sites.length);
            for (uint256 i; i < handler.batchCount(id); ++i) {
                TrialHandler.BatchModel memory m = handler.batchModel(id, i);
                ITrialRegistry.Batch memory b = trials.getBatch(id, m.site, m.root);
                require(b.committedAt == m.committedAt, "batch not found by its site and root");
                uint256 k = _siteIndex(m.site);
                require(b.sequence == perSite[k]++, "a site's sequences do not rise by one");
                require(t.lockedAt == 0 || b.committedAt <= t.lockedAt, "batch committed after the lock");
            }
            for (uint256 k; k < _sites.length; ++k) {
                require(trials.getSite(id, _sites[k]).batches == perSite[k], "site's batch count against its batches");
            }
            if (t.lockedAt != 0) _assertNoSiteCanCommit(id, t.lockedAt);
        }
    }

    function invariant_everyEnrolledSubjectHadALiveConsent() public {
        _syncClock();
        for (uint256 id = 1; id <= handler.trialCount(); ++id) {
            uint32 consentVersion = trials.getTrial(id).consentVersion;
            for (uint256 k; k < _subjects.length; ++k) {
                ITrialRegistry.Enrolment memory e = trials.getEnrolment(id, _subjects[k]);
                if (e.enrolledAt == 0) continue;
                require(handler.ghostConsentAtEnrolment(id, _subjects[k]), "enrolled without a live consent");
                require(e.consentVersion != 0 && e.consentVersion <= consentVersion, "enrolled at an unknown version");
                require(trials.isEnrolled(id, _subjects[k]) == (e.withdrawnAt == 0), "isEnrolled");
            }
        }
    }

    function invariant_withdrawalIsWhenTheConsentLapsed() public {
        vm.assertEq(handler.withdrawalMismatches(), 0, handler.lastWithdrawalMismatch());
        uint64 time = _syncClock();
        for (uint256 id = 1; id <= handler.trialCount(); ++id) {
            for (uint256 k; k < _subjects.length; ++k) {
                ITrialRegistry.Enrolment memory e = trials.getEnrolment(id, _subjects[k]);
                if (e.withdrawnAt == 0) continue;
                require(e.enrolledAt != 0 && e.enrolledAt <= e.withdrawnAt, "withdrawn before enrolment");
                require(e.withdrawnAt <= time, "withdrawn in the future");
            }
        }
    }

    /* ------------------------------------------------------------------ */
    /*                               HELPERS                              */
    /* ------------------------------------------------------------------ */

    /// @dev Invariants are checked at the handler's time, whether or not the fuzzer kept the warp.
    function _syncClock() private returns (uint64 time) {
        time = handler.currentTime();
        vm.warp(time);
    }

    function _siteIndex(address site) private view returns (uint256) {
        for (uint256 k; k < _sites.length; ++k) {
            if (_sites[k] == site) return k;
        }
        revert("batch of an unknown site");
    }

    /// @dev Every site, active or not, is refused a fresh root with TrialLocked.
    function _assertNoSiteCanCommit(uint256 trialId, uint64 lockedAt) private {
        bytes memory locked = abi.encodeWithSelector(ITrialRegistry.TrialLocked.selector, trialId, lockedAt);
        for (uint256 k; k < _sites.length; ++k) {
            vm.prank(_sites[k]);
            try trials.commitBatch(trialId, keccak256(abi.encode("after the lock", k)), 1) {
                revert("committed after the lock");
            } catch (bytes memory reason) {
                require(keccak256(reason) == keccak256(locked), "refused after the lock for another reason");
            }
        }
    }
}
