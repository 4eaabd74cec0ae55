// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAccessGrants} from "../../contracts/interfaces/IAccessGrants.sol";

import {CareChainTest} from "./utils/CareChainTest.sol";

/// @dev Fixed-input calls for `forge snapshot --match-test test_gas` (.gas-snapshot at the repo
/// root): the access path (grant, record grant, break-glass, logged read) and what it rests on
/// (a credential, a record anchor). Everything but the measured call happens in setUp, so each
/// figure is one call plus a one-line check that it did its job.
contract AccessGrantsGasTest is CareChainTest {
    address internal constant PATIENT = address(0xCA7E01);
    address internal constant CLINICIAN = address(0xD0C7);
    address internal constant LAB = address(0x1AB);
    address internal constant ER_DOCTOR = address(0xE3D0C);
    bytes32 internal constant RECORD = keccak256("record: labs 2023");
    uint8 internal constant LAB_RESULTS = 3;
    uint64 internal constant CATEGORIES = 0x0F;

    function setUp() public override {
        super.setUp();
        _attest(CLINICIAN, PROVIDER);
        _attest(LAB, PROVIDER);
        _attest(ER_DOCTOR, EMERGENCY);
        _anchor(RECORD, PATIENT, LAB_RESULTS);
        vm.prank(PATIENT);
        access.grantAccess(PATIENT, CLINICIAN, CATEGORIES, START + 365 days);
    }

    function test_gas_grantAccess_newGrant() public {
        vm.prank(PATIENT);
        access.grantAccess(PATIENT, LAB, CATEGORIES, START + 365 days);
        vm.assertTrue(access.canAccess(LAB, RECORD), "granted");
    }

    function test_gas_grantRecordAccess() public {
        vm.prank(PATIENT);
        access.grantRecordAccess(LAB, RECORD, START + 30 days);
        vm.assertTrue(access.canAccess(LAB, RECORD), "granted");
    }

    function test_gas_breakGlass() public {
        vm.prank(ER_DOCTOR);
        access.breakGlass(PATIENT, keccak256("unconscious on arrival"), 4 hours);
        vm.assertTrue(access.canAccess(ER_DOCTOR, RECORD), "glass broken");
    }

    function test_gas_logAccess() public {
        vm.expectEmit(address(access));
        emit IAccessGrants.RecordAccessed(
            RECORD, PATIENT, CLINICIAN, keccak256("treatment"), IAccessGrants.Basis.CategoryGrant, 0
        );
        vm.prank(CUSTODIAN);
        access.logAccess(CLINICIAN, RECORD, keccak256("treatment"));
    }

    function test_gas_credentialAttest() public {
        vm.prank(REGISTRAR);
        credentials.attest(ER_DOCTOR, PROVIDER, LICENSE, START, START + 365 days);
        vm.assertTrue(credentials.hasCredential(ER_DOCTOR, PROVIDER), "attested");
    }

    function test_gas_recordAnchor() public {
        vm.prank(CUSTODIAN);
        records.anchor(keccak256("record: imaging 2024"), PATIENT, 5, keccak256("ciphertext"));
        vm.assertTrue(records.exists(keccak256("record: imaging 2024")), "anchored");
    }
}
