// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {PurposeRegistry} from "../../contracts/PurposeRegistry.sol";
import {IPurposeCodes} from "../../contracts/interfaces/IPurposeRegistry.sol";

import {GrantsTest} from "./utils/GrantsTest.sol";

/// @dev PurposeRegistry, the registry ConsentGrants' sub-grants ask `isNarrowing`: registration (admin only, once per
/// code, pinned term and release), its errors, and narrowing (strict, transitive, bounded). Named ConsentGrants.* so
/// the suite's coverage run (`--match-path 'tests/forge/ConsentGrants*'`) includes it. GrantsTest's set-up registers
/// GRU, HMB (narrows GRU) and TREAT.
contract PurposeRegistryTest is GrantsTest {
    address internal constant STRANGER = address(0x57A4);
    bytes32 internal constant DUO_RELEASE = keccak256("http://purl.obolibrary.org/obo/duo/releases/2021-02-23/duo.owl");
    uint32 internal constant DS = 7; // DUO:0000007 disease-specific research, narrows HMB

    function _one(uint32 code, bytes32 term, bytes32 release, uint32 narrows)
        internal
        pure
        returns (uint32[] memory codes, IPurposeCodes.Purpose[] memory ps)
    {
        codes = new uint32[](1);
        ps = new IPurposeCodes.Purpose[](1);
        codes[0] = code;
        ps[0] = IPurposeCodes.Purpose(term, release, narrows);
    }

    function _register(uint32 code, uint32 narrows) internal {
        (uint32[] memory codes, IPurposeCodes.Purpose[] memory ps) =
            _one(code, keccak256(abi.encode("term", code)), DUO_RELEASE, narrows);
        vm.prank(ADMIN);
        purposes.register(codes, ps);
    }

    function _expectRegisterRevert(uint32[] memory codes, IPurposeCodes.Purpose[] memory ps, bytes memory error)
        internal
    {
        vm.prank(ADMIN);
        vm.expectRevert(error);
        purposes.register(codes, ps);
    }

    function test_register_pinsTermReleaseAndNarrowing() public {
        (uint32[] memory codes, IPurposeCodes.Purpose[] memory ps) =
            _one(DS, keccak256("DUO:0000007"), DUO_RELEASE, HMB);
        vm.assertFalse(purposes.isRegistered(DS), "not yet");
        vm.expectEmit(address(purposes));
        emit IPurposeCodes.PurposeRegistered(DS, keccak256("DUO:0000007"), DUO_RELEASE, HMB);
        vm.prank(ADMIN);
        purposes.register(codes, ps);

        vm.assertTrue(purposes.isRegistered(DS), "registered");
        IPurposeCodes.Purpose memory p = purposes.purposeOf(DS);
        vm.assertEq(p.term, keccak256("DUO:0000007"), "term");
        vm.assertEq(p.release, DUO_RELEASE, "release");
        vm.assertEq(p.narrows, HMB, "narrows");
        vm.assertEq(purposes.purposeOf(TREAT).release, keccak256("HL7 v3 3.0.0"), "the set-up's HL7 code");
        vm.assertEq(purposes.purposeOf(9999).term, bytes32(0), "an unregistered code reads as zero");
    }

    function test_register_adminOnly() public {
        (uint32[] memory codes, IPurposeCodes.Purpose[] memory ps) = _one(DS, keccak256("DUO:0000007"), DUO_RELEASE, 0);
        address[2] memory notAdmin = [STRANGER, address(grants)];
        for (uint256 i = 0; i < notAdmin.length; ++i) {
            vm.prank(notAdmin[i]);
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAccessControl.AccessControlUnauthorizedAccount.selector, notAdmin[i], bytes32(0)
                )
            );
            purposes.register(codes, ps);
        }
        vm.assertFalse(purposes.isRegistered(DS), "nothing registered");
    }

    function test_register_rejectsMalformedEntries() public {
        (uint32[] memory codes, IPurposeCodes.Purpose[] memory ps) = _one(DS, keccak256("DUO:0000007"), DUO_RELEASE, 0);
        uint32[] memory two = new uint32[](2);
        _expectRegisterRevert(two, ps, abi.encodeWithSelector(IPurposeCodes.InvalidPurpose.selector, uint32(0)));

        codes[0] = 0;
        _expectRegisterRevert(codes, ps, abi.encodeWithSelector(IPurposeCodes.InvalidPurpose.selector, uint32(0)));
        codes[0] = DS;
        ps[0].term = bytes32(0);
        _expectRegisterRevert(codes, ps, abi.encodeWithSelector(IPurposeCodes.InvalidPurpose.selector, DS));
        ps[0] = IPurposeCodes.Purpose(keccak256("DUO:0000007"), bytes32(0), 0);
        _expectRegisterRevert(codes, ps, abi.encodeWithSelector(IPurposeCodes.InvalidPurpose.selector, DS));
        ps[0] = IPurposeCodes.Purpose(keccak256("DUO:0000007"), DUO_RELEASE, 12345);
        _expectRegisterRevert(codes, ps, abi.encodeWithSelector(IPurposeCodes.UnknownPurpose.selector, uint32(12345)));
        ps[0].narrows = DS; // itself
        _expectRegisterRevert(codes, ps, abi.encodeWithSelector(IPurposeCodes.UnknownPurpose.selector, DS));
        vm.assertFalse(purposes.isRegistered(DS), "nothing registered");
    }

    /// @dev A code is bound for good: neither a new term nor a new release replaces it.
    function test_register_onceForGood() public {
        (uint32[] memory codes, IPurposeCodes.Purpose[] memory ps) =
            _one(GRU, keccak256("DUO:0000042"), keccak256("a later DUO release"), 0);
        _expectRegisterRevert(codes, ps, abi.encodeWithSelector(IPurposeCodes.PurposeAlreadyRegistered.selector, GRU));
        vm.assertEq(purposes.purposeOf(GRU).release, DUO_RELEASE, "the pinned release stays");
    }

    /// @dev Entries go in order: one may narrow an earlier one of the same call; a bad entry reverts the whole call.
    function test_register_inOrderAndAllOrNothing() public {
        uint32[] memory codes = new uint32[](2);
        IPurposeCodes.Purpose[] memory ps = new IPurposeCodes.Purpose[](2);
        (codes[0], ps[0]) = (DS, IPurposeCodes.Purpose(keccak256("DUO:0000007"), DUO_RELEASE, HMB));
        (codes[1], ps[1]) = (77, IPurposeCodes.Purpose(keccak256("a narrower study"), DUO_RELEASE, DS));
        vm.prank(ADMIN);
        purposes.register(codes, ps);
        vm.assertTrue(purposes.isNarrowing(77, DS), "narrows the entry before it");

        (codes[0], ps[0]) = (88, IPurposeCodes.Purpose(keccak256("fine"), DUO_RELEASE, 0));
        (codes[1], ps[1]) = (89, IPurposeCodes.Purpose(keccak256("bad"), DUO_RELEASE, 90)); // 90 comes nowhere
        _expectRegisterRevert(codes, ps, abi.encodeWithSelector(IPurposeCodes.UnknownPurpose.selector, uint32(90)));
        vm.assertFalse(purposes.isRegistered(88), "the good entry went with the bad");
    }

    function test_isNarrowing_strictTransitiveAndDirected() public {
        _register(DS, HMB);
        vm.assertTrue(purposes.isNarrowing(HMB, GRU), "HMB narrows GRU");
        vm.assertTrue(purposes.isNarrowing(DS, HMB), "DS narrows HMB");
        vm.assertTrue(purposes.isNarrowing(DS, GRU), "through HMB");
        vm.assertFalse(purposes.isNarrowing(GRU, HMB), "not upwards");
        vm.assertFalse(purposes.isNarrowing(GRU, GRU), "a code does not narrow itself");
        vm.assertFalse(purposes.isNarrowing(TREAT, GRU), "unrelated");
        vm.assertFalse(purposes.isNarrowing(HMB, 0), "nothing narrows 0");
        vm.assertFalse(purposes.isNarrowing(9999, GRU), "an unregistered code narrows nothing");
    }

    /// @dev isNarrowing follows at most eight steps up.
    function test_isNarrowing_boundedSteps() public {
        uint32 top = 500;
        _register(top, 0);
        for (uint32 code = top + 1; code <= top + 9; ++code) {
            _register(code, code - 1);
        }
        vm.assertTrue(purposes.isNarrowing(top + 8, top), "eight steps");
        vm.assertFalse(purposes.isNarrowing(top + 9, top), "nine steps: beyond the bound");
        vm.assertTrue(purposes.isNarrowing(top + 9, top + 1), "eight steps again");
    }

    function testFuzz_isNarrowing_onlyAlongRegisteredSteps(uint32 child, uint32 parent) public view {
        bool expected = (child == HMB && parent == GRU);
        vm.assertEq(purposes.isNarrowing(child, parent), expected, "only HMB -> GRU is registered");
    }

    function test_constructor_adminHoldsTheRole() public {
        PurposeRegistry fresh = new PurposeRegistry(STRANGER);
        vm.assertTrue(fresh.hasRole(bytes32(0), STRANGER), "the admin");
        vm.assertFalse(fresh.hasRole(bytes32(0), address(this)), "not the deployer");
    }
}
