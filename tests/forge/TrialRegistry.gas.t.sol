// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ITrialRegistry} from "../../contracts/interfaces/ITrialRegistry.sol";

import {SortedMerkle} from "./utils/SortedMerkle.sol";
import {TrialTest} from "./utils/TrialTest.sol";

/// @dev Fixed-input calls for `forge snapshot --match-test test_gas` (.gas-snapshot at the repo
/// root): a trial's life from registration to reported results. Everything but the measured call
/// happens in setUp, so each figure is one call plus a one-line check that it did its job; the
/// row proof's twenty siblings and the row are built in memory in the test (about 2,700 gas of the
/// figure for the siblings), as a verifier would pass them in calldata.
contract TrialRegistryGasTest is TrialTest {
    address internal constant SUBJECT = address(0x5B1EC7);
    bytes32 internal constant RESULTS = keccak256("results: clinical study report");
    uint256 internal constant DEPTH = 20;
    uint32 internal constant BATCH_ROWS = 1_048_576; // 2^DEPTH

    uint256 internal constant OPEN = 1; // approved, SITE added, one batch committed, SUBJECT consents
    uint256 internal constant PENDING = 2; // registered, awaiting the IRB
    uint256 internal constant LOCKED = 3; // approved and locked

    /// @dev The root a case-report-form row's depth-20 proof leads to (a batch of 2^20 rows).
    bytes32 internal immutable DEPTH20_ROOT = SortedMerkle.fold(SortedMerkle.rowLeaf(_crf()), _siblings());

    function setUp() public override {
        super.setUp();
        _openTrial(TRIAL_SCOPES);
        _commit(OPEN, SITE, DEPTH20_ROOT, BATCH_ROWS);
        _consentTo(SUBJECT, OPEN, 1, TRIAL_SCOPES, START + 365 days);
        _register(TRIAL_SCOPES);
        _register(TRIAL_SCOPES);
        _approve(LOCKED, 1);
        _lock(LOCKED);
    }

    function test_gas_trialRegister() public {
        vm.prank(SPONSOR);
        trials.register(PROTOCOL, TRIAL_SCOPES, IRB_MEMBER, PRIMARY, SECONDARY, bytes32(0));
        vm.assertEq(trials.trialCount(), 4, "registered");
    }

    function test_gas_trialApprove() public {
        vm.prank(IRB_MEMBER);
        trials.approve(PENDING, 1);
        vm.assertTrue(trials.getTrial(PENDING).currentApproved, "approved");
    }

    /// @dev The sponsor names another IRB of record while no version awaits approval (while one does,
    /// only away from an IRB of record that can no longer act: issue 15, A.4 review).
    function test_gas_trialChangeIrb() public {
        vm.prank(SPONSOR);
        trials.changeIrb(OPEN, OTHER_IRB);
        vm.assertEq(trials.getTrial(OPEN).irb, OTHER_IRB, "IRB of record changed");
    }

    function test_gas_trialAddSite() public {
        vm.prank(SPONSOR);
        trials.addSite(OPEN, OTHER_SITE);
        vm.assertTrue(trials.getSite(OPEN, OTHER_SITE).active, "site added");
    }

    /// @dev A subject's first enrolment, their consent live in ConsentRegistry.
    function test_gas_trialEnroll() public {
        vm.prank(SITE);
        trials.enroll(OPEN, SUBJECT);
        vm.assertTrue(trials.isEnrolled(OPEN, SUBJECT), "enrolled");
    }

    /// @dev A new batch of a site that committed before (its batch count goes from 1 to 2).
    function test_gas_trialCommitBatch() public {
        vm.prank(SITE);
        trials.commitBatch(OPEN, keccak256("batch 2: visit 3 CRFs"), 250);
        vm.assertEq(trials.getBatch(OPEN, SITE, keccak256("batch 2: visit 3 CRFs")).sequence, 1, "committed");
    }

    function test_gas_trialVerifyRowDepth20() public view {
        vm.assertTrue(trials.verifyRow(OPEN, SITE, DEPTH20_ROOT, _crf(), _siblings()), "row in the batch");
    }

    function test_gas_trialLock() public {
        vm.prank(SPONSOR);
        trials.lock(OPEN);
        vm.assertEq(trials.getTrial(OPEN).lockedAt, START, "locked");
    }

    function test_gas_trialReportResults() public {
        vm.prank(SPONSOR);
        trials.reportResults(LOCKED, RESULTS, PRIMARY, SECONDARY);
        vm.assertEq(uint8(trials.getTrial(LOCKED).status), uint8(ITrialRegistry.Status.Reported), "reported");
    }

    /* ---- ROW PROOF ---- */

    /// @dev A case-report-form row as a site's batch file holds it.
    function _crf() internal pure returns (ITrialRegistry.Row memory) {
        return ITrialRegistry.Row({
            salt: keccak256("row salt"),
            subject: address(0x5B1EC7),
            visit: 3,
            field: "hba1c_pct",
            value: "5.8"
        });
    }

    /// @dev Twenty distinct siblings, cheap to build (the sorted-pair hashing does not care what they are).
    function _siblings() internal pure returns (bytes32[] memory siblings) {
        siblings = new bytes32[](DEPTH);
        uint256 first = uint256(keccak256("sibling"));
        unchecked {
            for (uint256 i; i < DEPTH; ++i) {
                siblings[i] = bytes32(first + i);
            }
        }
    }
}
