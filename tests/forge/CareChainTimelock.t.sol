// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

import {AccessGrants} from "../../contracts/AccessGrants.sol";
import {CredentialRegistry} from "../../contracts/CredentialRegistry.sol";
import {RecordRegistry} from "../../contracts/RecordRegistry.sol";
import {CareChainTimelock} from "../../contracts/governance/CareChainTimelock.sol";

import {CareChainTest} from "./utils/CareChainTest.sol";

/// @dev Finding A.6: on a public chain the CredentialRegistry's default admin is a CareChainTimelock whose
/// only proposer and executor is the operator's multisig, so a registrar is appointed no sooner than
/// MIN_DELAY after the appointment was scheduled, in public, and can be cancelled meanwhile.
contract CareChainTimelockTest is CareChainTest {
    address internal constant MULTISIG = address(0x5AFE);
    address internal constant NEW_REGISTRAR = address(0x4E6158);
    address internal constant ER_DOCTOR = address(0xE4);
    address internal constant PATIENT_ADDRESS = address(0x9A71E);
    uint256 internal constant MIN_DELAY = 2 days;
    bytes32 internal constant DEFAULT_ADMIN_ROLE = 0x00;
    /// @dev TimelockUnexpectedOperationState's bitmap of the expected state: bit 2, OperationState.Ready.
    bytes32 internal constant READY_ONLY = bytes32(uint256(4));
    bytes32 internal constant UNCONSCIOUS = keccak256("carechain.break-glass.UNCONSCIOUS");

    CareChainTimelock internal timelock;
    CredentialRegistry internal governed;
    AccessGrants internal governedAccess;

    function setUp() public virtual override {
        super.setUp();
        address[] memory multisig = new address[](1);
        multisig[0] = MULTISIG;
        timelock = new CareChainTimelock(MIN_DELAY, multisig, multisig);
        governed = new CredentialRegistry(address(timelock), ADMIN_DELAY);
        governedAccess = new AccessGrants(registry, governed, new RecordRegistry(governed));
    }

    function _appointment() internal pure returns (bytes memory) {
        return abi.encodeCall(IAccessControl.grantRole, (REGISTRAR_ROLE, NEW_REGISTRAR));
    }

    function _schedule() internal returns (bytes32 id) {
        id = timelock.hashOperation(address(governed), 0, _appointment(), bytes32(0), bytes32(0));
        vm.prank(MULTISIG);
        timelock.schedule(address(governed), 0, _appointment(), bytes32(0), bytes32(0), MIN_DELAY);
    }

    function _execute() internal {
        vm.prank(MULTISIG);
        timelock.execute(address(governed), 0, _appointment(), bytes32(0), bytes32(0));
    }

    function test_timelock_isSelfAdministeredByTheMultisig() public view {
        vm.assertTrue(timelock.hasRole(timelock.PROPOSER_ROLE(), MULTISIG), "proposer");
        vm.assertTrue(timelock.hasRole(timelock.EXECUTOR_ROLE(), MULTISIG), "executor");
        vm.assertTrue(timelock.hasRole(timelock.CANCELLER_ROLE(), MULTISIG), "canceller");
        vm.assertTrue(timelock.hasRole(DEFAULT_ADMIN_ROLE, address(timelock)), "self-administered");
        vm.assertFalse(timelock.hasRole(DEFAULT_ADMIN_ROLE, address(this)), "the deployer keeps no role");
        vm.assertFalse(timelock.hasRole(timelock.EXECUTOR_ROLE(), address(0)), "no open executor");
        vm.assertEq(timelock.getMinDelay(), MIN_DELAY, "minDelay");
        vm.assertEq(governed.defaultAdmin(), address(timelock), "registry admin");
    }

    function test_grantRole_neitherDeployerNorMultisigAppointsDirectly() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, address(this), DEFAULT_ADMIN_ROLE
            )
        );
        governed.grantRole(REGISTRAR_ROLE, NEW_REGISTRAR);
        vm.prank(MULTISIG);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, MULTISIG, DEFAULT_ADMIN_ROLE
            )
        );
        governed.grantRole(REGISTRAR_ROLE, NEW_REGISTRAR);
    }

    function testFuzz_execute_waitsTheMinDelayThenTheRegistrarAttests(uint256 earlySeed) public {
        bytes32 id = _schedule();
        uint256 readyAt = block.timestamp + MIN_DELAY;
        vm.assertEq(timelock.getTimestamp(id), readyAt, "ready at");
        vm.warp(_bound(earlySeed, block.timestamp, readyAt - 1));
        vm.expectRevert(
            abi.encodeWithSelector(TimelockController.TimelockUnexpectedOperationState.selector, id, READY_ONLY)
        );
        _execute();
        vm.assertFalse(governed.hasRole(REGISTRAR_ROLE, NEW_REGISTRAR), "not yet a registrar");

        vm.warp(readyAt);
        _execute();
        vm.assertTrue(timelock.isOperationDone(id), "done");
        vm.prank(NEW_REGISTRAR);
        governed.attest(ER_DOCTOR, EMERGENCY, LICENSE, 0, 0);
        vm.prank(ER_DOCTOR);
        vm.assertEq(governedAccess.breakGlass(PATIENT_ADDRESS, UNCONSCIOUS, 1 hours), 1, "episode");
    }

    function test_cancel_aScheduledAppointmentNeverRuns() public {
        bytes32 id = _schedule();
        vm.prank(MULTISIG);
        timelock.cancel(id);
        vm.warp(block.timestamp + MIN_DELAY);
        vm.expectRevert(
            abi.encodeWithSelector(TimelockController.TimelockUnexpectedOperationState.selector, id, READY_ONLY)
        );
        _execute();
    }

    function testFuzz_schedule_onlyTheMultisigAndNoShorterThanTheMinDelay(address stranger, uint256 delay) public {
        vm.assume(stranger != MULTISIG);
        bytes32 proposer = timelock.PROPOSER_ROLE();
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, proposer)
        );
        timelock.schedule(address(governed), 0, _appointment(), bytes32(0), bytes32(0), MIN_DELAY);
        delay = _bound(delay, 0, MIN_DELAY - 1);
        vm.prank(MULTISIG);
        vm.expectRevert(abi.encodeWithSelector(TimelockController.TimelockInsufficientDelay.selector, delay, MIN_DELAY));
        timelock.schedule(address(governed), 0, _appointment(), bytes32(0), bytes32(0), delay);
    }
}
