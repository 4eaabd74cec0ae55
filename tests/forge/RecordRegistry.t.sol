// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IRecordRegistry} from "../../contracts/interfaces/IRecordRegistry.sol";

import {CareChainTest} from "./utils/CareChainTest.sol";

/// @dev Fuzz tests of anchor and amend: versions append and history stays; only the anchoring
/// custodian, while credentialed, writes to a record.
contract RecordRegistryTest is CareChainTest {
    address internal constant OTHER_CUSTODIAN = address(0xC058);
    uint8 internal constant MAX_CATEGORY = 63;

    function setUp() public override {
        super.setUp();
        _attest(OTHER_CUSTODIAN, CUSTODIAN_ROLE);
    }

    /* ------------------------------------------------------------------ */
    /*                                ANCHOR                              */
    /* ------------------------------------------------------------------ */

    function testFuzz_anchor_storesVersionZero(bytes32 recordId, address patient, uint8 category, bytes32 contentHash)
        public
    {
        _assumeRecord(recordId, patient, contentHash);
        category = uint8(_bound(category, 0, MAX_CATEGORY));

        vm.expectEmit(address(records));
        emit IRecordRegistry.RecordAnchored(recordId, patient, CUSTODIAN, category, 0, contentHash);
        vm.prank(CUSTODIAN);
        records.anchor(recordId, patient, category, contentHash);

        IRecordRegistry.Record memory r = records.getRecord(recordId);
        vm.assertEq(r.patient, patient, "patient");
        vm.assertEq(r.category, category, "category");
        vm.assertEq(r.versions, 1, "one version");
        vm.assertEq(r.custodian, CUSTODIAN, "custodian");
        IRecordRegistry.Version memory v = records.getVersion(recordId, 0);
        vm.assertEq(v.contentHash, contentHash, "version 0 hash");
        vm.assertEq(v.anchoredAt, START, "version 0 time");
        vm.assertEq(records.latestContentHash(recordId), contentHash, "latest");
        vm.assertTrue(records.exists(recordId), "exists");
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.UnknownVersion.selector, recordId, 1));
        records.getVersion(recordId, 1);
    }

    function testFuzz_anchor_existingRecord_reverts(
        bytes32 recordId,
        address patient,
        bytes32 contentHash,
        bool byOtherCustodian
    ) public {
        _assumeRecord(recordId, patient, contentHash);
        _anchor(recordId, patient, 1);
        bytes32 firstHash = records.latestContentHash(recordId);

        vm.prank(byOtherCustodian ? OTHER_CUSTODIAN : CUSTODIAN);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordExists.selector, recordId));
        records.anchor(recordId, patient, 2, contentHash);
        vm.assertEq(records.latestContentHash(recordId), firstHash, "first anchor kept");
        vm.assertEq(records.getRecord(recordId).custodian, CUSTODIAN, "custodian kept");
    }

    /// @dev No credential, another role's credential, a suspended, revoked, expired or not-yet-valid one.
    function testFuzz_anchor_withoutALiveCustodianCredential_reverts(
        address caller,
        bytes32 recordId,
        address patient,
        bytes32 contentHash,
        uint8 caseSeed
    ) public {
        _assumeFresh(caller);
        vm.assume(caller != OTHER_CUSTODIAN);
        _assumeRecord(recordId, patient, contentHash);
        uint8 case_ = caseSeed % 6;
        vm.startPrank(REGISTRAR);
        if (case_ == 1) credentials.attest(caller, PROVIDER, LICENSE, START, 0);
        if (case_ == 2 || case_ == 3) credentials.attest(caller, CUSTODIAN_ROLE, LICENSE, START, 0);
        if (case_ == 2) credentials.suspend(caller, CUSTODIAN_ROLE);
        if (case_ == 3) credentials.revoke(caller, CUSTODIAN_ROLE);
        if (case_ == 4) credentials.attest(caller, CUSTODIAN_ROLE, LICENSE, START, START + 1 days);
        if (case_ == 5) credentials.attest(caller, CUSTODIAN_ROLE, LICENSE, START + 1 days, 0);
        vm.stopPrank();
        if (case_ == 4) vm.warp(START + 1 days);

        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.NotCustodian.selector, caller));
        records.anchor(recordId, patient, 0, contentHash);
        vm.assertFalse(records.exists(recordId), "nothing anchored");
    }

    function testFuzz_anchor_rejectsMalformedInput(
        bytes32 recordId,
        address patient,
        uint8 badCategory,
        bytes32 contentHash
    ) public {
        _assumeRecord(recordId, patient, contentHash);
        badCategory = uint8(_bound(badCategory, MAX_CATEGORY + 1, type(uint8).max));

        vm.startPrank(CUSTODIAN);
        vm.expectRevert(_invalidRecord(bytes32(0), patient, 0, contentHash));
        records.anchor(bytes32(0), patient, 0, contentHash);
        vm.expectRevert(_invalidRecord(recordId, address(0), 0, contentHash));
        records.anchor(recordId, address(0), 0, contentHash);
        vm.expectRevert(_invalidRecord(recordId, patient, badCategory, contentHash));
        records.anchor(recordId, patient, badCategory, contentHash);
        vm.expectRevert(_invalidRecord(recordId, patient, 0, bytes32(0)));
        records.anchor(recordId, patient, 0, bytes32(0));
        vm.stopPrank();

        vm.assertFalse(records.exists(recordId), "nothing anchored");
    }

    /* ------------------------------------------------------------------ */
    /*                                 AMEND                              */
    /* ------------------------------------------------------------------ */

    function testFuzz_amend_appendsVersionsAndKeepsHistory(
        bytes32 recordId,
        address patient,
        uint8 category,
        bytes32 hashSeed,
        uint8 countSeed,
        uint256 stepSeed
    ) public {
        _assumeRecord(recordId, patient, hashSeed);
        category = uint8(_bound(category, 0, MAX_CATEGORY));
        uint32 versions = 2 + countSeed % 7;
        bytes32[] memory hashes = new bytes32[](versions);
        uint64[] memory times = new uint64[](versions);
        for (uint32 i; i < versions; ++i) {
            hashes[i] = keccak256(abi.encode(hashSeed, i));
            if (i > 0) vm.warp(block.timestamp + _bound(uint256(keccak256(abi.encode(stepSeed, i))), 0, 30 days));
            times[i] = _now();
            vm.prank(CUSTODIAN);
            if (i == 0) {
                records.anchor(recordId, patient, category, hashes[0]);
            } else {
                vm.expectEmit(address(records));
                emit IRecordRegistry.RecordAnchored(recordId, patient, CUSTODIAN, category, i, hashes[i]);
                records.amend(recordId, hashes[i]);
            }
        }

        IRecordRegistry.Record memory r = records.getRecord(recordId);
        vm.assertEq(r.versions, versions, "every version counted");
        vm.assertEq(r.patient, patient, "patient fixed");
        vm.assertEq(r.category, category, "category fixed");
        vm.assertEq(r.custodian, CUSTODIAN, "custodian fixed");
        for (uint32 i; i < versions; ++i) {
            IRecordRegistry.Version memory v = records.getVersion(recordId, i);
            vm.assertEq(v.contentHash, hashes[i], "hash kept");
            vm.assertEq(v.anchoredAt, times[i], "time kept");
        }
        vm.assertEq(records.latestContentHash(recordId), hashes[versions - 1], "latest is the last amend");
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.UnknownVersion.selector, recordId, versions));
        records.getVersion(recordId, versions);
    }

    /// @dev Another custodian, credentialed or not, cannot write to the record.
    function testFuzz_amend_byAnyoneButTheAnchoringCustodian_reverts(
        address caller,
        bytes32 recordId,
        address patient,
        bytes32 contentHash,
        bool credentialed
    ) public {
        _assumeFresh(caller);
        _assumeRecord(recordId, patient, contentHash);
        if (credentialed) _attest(caller, CUSTODIAN_ROLE);
        _anchor(recordId, patient, 3);
        bytes32 firstHash = records.latestContentHash(recordId);

        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.NotRecordCustodian.selector, recordId, caller));
        records.amend(recordId, contentHash);
        vm.prank(OTHER_CUSTODIAN);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.NotRecordCustodian.selector, recordId, OTHER_CUSTODIAN));
        records.amend(recordId, contentHash);

        vm.assertEq(records.getRecord(recordId).versions, 1, "no version appended");
        vm.assertEq(records.latestContentHash(recordId), firstHash, "history untouched");
    }

    function testFuzz_amend_afterTheCustodianLosesTheCredential_reverts(
        bytes32 recordId,
        address patient,
        bytes32 contentHash,
        bool revoke
    ) public {
        _assumeRecord(recordId, patient, contentHash);
        _anchor(recordId, patient, 0);
        vm.prank(REGISTRAR);
        if (revoke) credentials.revoke(CUSTODIAN, CUSTODIAN_ROLE);
        else credentials.suspend(CUSTODIAN, CUSTODIAN_ROLE);

        vm.prank(CUSTODIAN);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.NotCustodian.selector, CUSTODIAN));
        records.amend(recordId, contentHash);
        vm.assertEq(records.getRecord(recordId).versions, 1, "no version appended");
    }

    function testFuzz_amend_zeroContentHash_reverts(bytes32 recordId, address patient, uint8 category) public {
        _assumeRecord(recordId, patient, keccak256("v0"));
        category = uint8(_bound(category, 0, MAX_CATEGORY));
        _anchor(recordId, patient, category);

        vm.prank(CUSTODIAN);
        vm.expectRevert(_invalidRecord(recordId, patient, category, bytes32(0)));
        records.amend(recordId, bytes32(0));
        vm.assertEq(records.getRecord(recordId).versions, 1, "no version appended");
    }

    function testFuzz_unknownRecord_reverts(bytes32 recordId, bytes32 contentHash, uint32 version) public {
        bytes memory err = abi.encodeWithSelector(IRecordRegistry.UnknownRecord.selector, recordId);

        vm.prank(CUSTODIAN);
        vm.expectRevert(err);
        records.amend(recordId, contentHash);
        vm.expectRevert(err);
        records.getRecord(recordId);
        vm.expectRevert(err);
        records.getVersion(recordId, version);
        vm.expectRevert(err);
        records.latestContentHash(recordId);
        vm.assertFalse(records.exists(recordId), "exists");
    }

    /* ------------------------------------------------------------------ */
    /*                               HELPERS                              */
    /* ------------------------------------------------------------------ */

    function _assumeRecord(bytes32 recordId, address patient, bytes32 contentHash) private pure {
        vm.assume(recordId != bytes32(0) && patient != address(0) && contentHash != bytes32(0));
    }

    function _invalidRecord(bytes32 recordId, address patient, uint8 category, bytes32 contentHash)
        private
        pure
        returns (bytes memory)
    {
        return abi.encodeWithSelector(IRecordRegistry.InvalidRecord.selector, recordId, patient, category, contentHash);
    }
}
