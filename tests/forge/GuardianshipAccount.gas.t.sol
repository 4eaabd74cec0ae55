// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IConsentGrants} from "../../contracts/interfaces/IConsentGrants.sol";

import {GuardianTest} from "./utils/GuardianTest.sol";

/// @dev What a minor's grant costs the relayer, for `forge snapshot --match-test test_gas` (.gas-snapshot): deploy the
/// guardianship account (a clone), then the grant the guardian signed through it, then (once the term is over) the
/// patient's revocation. Each call is measured in a test of its own, the set-up having signed and deployed everything
/// before, so no call finds another's accounts warm; each ceiling is asserted on the call as a transaction of its own
/// (GrantsTest._asTransaction), as ConsentGrantsGasTest does for an EOA subject key. The ceilings hold in the
/// unoptimised coverage build too (`make forge` runs these tests under coverage), which costs some 4-6% more.
contract GuardianshipAccountGasTest is GuardianTest {
    Ward internal planned;
    bytes32 internal plannedSalt;
    Ward internal deployed;
    IConsentGrants.GrantInput internal input;
    bytes internal grantSig;
    bytes32 internal granted;
    bytes internal revokeSig;

    function setUp() public override {
        super.setUp();
        // A first grant interns the (profile, terms) pair, as any deployment's first grant of a template does.
        _mint(_subject(1), _simple(_subject(1), CLINIC));
        planned = _plannedWard(50, TERM_ENDS);
        plannedSalt = _accountSalt(50);

        deployed = _ward(51, TERM_ENDS);
        input = _wardInput(deployed, TERM_ENDS);
        grantSig = _viaAccount(deployed, deployed.guardianKey, _grantHash(input, 0));

        Ward memory ended = _ward(52, TERM_ENDS);
        granted = _guardianGrant(ended, _wardInput(ended, TERM_ENDS));
        _nameSuccessor(ended);
        revokeSig = _viaAccount(
            ended, ended.patientKey, keccak256(abi.encode(REVOKE_TYPEHASH, granted, bytes32(0), uint256(1)))
        );
    }

    function test_gas_guardian_deploy() public {
        (bytes32 salt, address guardian) = (plannedSalt, vm.addr(planned.guardianKey));
        vm.prank(RELAYER);
        uint256 before = gasleft();
        factory.deploy(salt, guardian, TERM_ENDS, address(0));
        uint256 used = before - gasleft();
        vm.assertEq(planned.account.guardianSigner(), guardian, "deployed and set up");
        vm.assertTrue(
            _asTransaction(used, abi.encodeCall(factory.deploy, (salt, guardian, TERM_ENDS, address(0)))) <= 110_000,
            "deploying a guardianship account: <= 110,000"
        );
    }

    function test_gas_guardian_grantThroughAccount() public {
        (IConsentGrants.GrantInput memory g, bytes memory sig) = (input, grantSig);
        vm.prank(RELAYER);
        uint256 before = gasleft();
        grants.grant(g, sig);
        uint256 used = before - gasleft();
        vm.assertTrue(grants.isGrantActive(deployed.commit), "granted");
        vm.assertTrue(
            _asTransaction(used, abi.encodeCall(grants.grant, (g, sig))) <= 145_000,
            "a relayed grant through a guardianship account: <= 145,000"
        );
    }

    function test_gas_guardian_revokeBySuccessor() public {
        (bytes32 id, bytes memory sig) = (granted, revokeSig);
        vm.warp(TERM_ENDS);
        vm.prank(RELAYER);
        uint256 before = gasleft();
        grants.revokeBySubjectWithSig(id, bytes32(0), sig);
        uint256 used = before - gasleft();
        vm.assertEq(grants.getGrant(id).status, uint8(IConsentGrants.Status.REVOKED_BY_SUBJECT), "revoked");
        vm.assertTrue(
            _asTransaction(used, abi.encodeCall(grants.revokeBySubjectWithSig, (id, bytes32(0), sig))) <= 70_000,
            "the patient's relayed revocation through the account: <= 70,000"
        );
    }
}
