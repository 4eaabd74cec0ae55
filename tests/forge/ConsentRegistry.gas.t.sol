// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IConsentRegistry} from "../../contracts/interfaces/IConsentRegistry.sol";

import {ConsentTest} from "./utils/ConsentTest.sol";
import {Compact} from "./utils/Compact.sol";

/// @dev Fixed-input calls for `forge snapshot --match-test test_gas` (.gas-snapshot at the repo
/// root). Everything but the measured call happens in setUp, so each figure is one call plus a
/// one-line check that it did its job.
contract ConsentRegistryGasTest is ConsentTest {
    uint256 internal constant PATIENT_KEY = 0xA11CE;
    uint64 internal constant SCOPES = 0x0F;

    address internal patient;
    address internal constant CLINIC = address(0xC11);
    address internal constant LAB = address(0x1AB);
    address internal constant RELAYER = address(0x4E1A);

    IConsentRegistry.SignedGrant internal signed;

    function setUp() public override {
        super.setUp();
        patient = vm.addr(PATIENT_KEY);
        _grant(patient, CLINIC, GRU, SCOPES, START + 365 days);
        signed = _signedGrant(
            PATIENT_KEY, LAB, DS, SCOPES, START + 365 days, START + 1 days, block.chainid, address(registry)
        );
    }

    function test_gas_grant_newConsent() public {
        vm.prank(patient);
        registry.grant(LAB, GRU, SCOPES, START + 365 days);
        vm.assertTrue(registry.isPermitted(patient, LAB, GRU, SCOPES), "granted");
    }

    function test_gas_update() public {
        vm.prank(patient);
        registry.update(CLINIC, GRU, SCOPES | 0x30, START + 730 days);
        vm.assertTrue(registry.isPermitted(patient, CLINIC, GRU, 0x30), "updated");
    }

    function test_gas_revoke() public {
        vm.prank(patient);
        registry.revoke(CLINIC, GRU);
        vm.assertFalse(registry.isPermitted(patient, CLINIC, GRU, SCOPES), "revoked");
    }

    function test_gas_grantBySig() public {
        vm.prank(RELAYER);
        registry.grantBySig(signed);
        vm.assertTrue(registry.isPermitted(patient, LAB, DS, SCOPES), "granted by signature");
    }
}

/// @dev Cohort onboarding, as `benchmarks/gas.py` measures it: one clinic submits 100 new patients'
/// signed consents in one `grantBySigBatch` (each patient a fresh nonce slot and a fresh consent
/// slot). The cohort is signed in the test (a storage copy would cost more than the call); the figure
/// is that constant signing work plus the batch call.
contract ConsentRegistryBatchGasTest is ConsentTest, Compact {
    uint256 internal constant COHORT = 100;
    uint64 internal constant SCOPES = 0x0F;
    address internal constant CLINIC = address(0xC11);
    address internal constant LAB = address(0x1AB);

    function test_gas_grantBySigBatch_100NewPatients() public {
        IConsentRegistry.SignedGrant[] memory cohort = new IConsentRegistry.SignedGrant[](COHORT);
        for (uint256 i; i < COHORT; ++i) {
            cohort[i] = _signedGrant(
                0xC0407 + i, LAB, GRU, SCOPES, START + 365 days, START + 1 days, block.chainid, address(registry)
            );
        }
        vm.prank(CLINIC);
        registry.grantBySigBatch(cohort);
        vm.assertTrue(registry.isPermitted(cohort[COHORT - 1].patient, LAB, GRU, SCOPES), "last patient granted");
        vm.assertEq(registry.nonces(cohort[0].patient), 1, "first patient's nonce consumed");
    }

    /// @dev The same cohort through `grantBySigBatchCompact`, each 65-byte signature converted to
    /// EIP-2098's (r, vs) as a clinic's software does (all patients EOAs). The figure includes that
    /// conversion and, as every figure here, no calldata cost (a call, not a transaction): the calldata
    /// the compact items save shows in `benchmarks/gas.py`, not here.
    function test_gas_grantBySigBatchCompact_100NewPatients() public {
        IConsentRegistry.CompactSignedGrant[] memory cohort = new IConsentRegistry.CompactSignedGrant[](COHORT);
        for (uint256 i; i < COHORT; ++i) {
            cohort[i] = _compact(
                _signedGrant(
                    0xC0407 + i, LAB, GRU, SCOPES, START + 365 days, START + 1 days, block.chainid, address(registry)
                )
            );
        }
        vm.prank(CLINIC);
        registry.grantBySigBatchCompact(cohort);
        vm.assertTrue(registry.isPermitted(cohort[COHORT - 1].patient, LAB, GRU, SCOPES), "last patient granted");
        vm.assertEq(registry.nonces(cohort[0].patient), 1, "first patient's nonce consumed");
    }
}
