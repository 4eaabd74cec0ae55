// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IConsentGrants} from "../../contracts/interfaces/IConsentGrants.sol";
import {GrantReader} from "../../contracts/test/GrantReader.sol";

import {GrantsTest} from "./utils/GrantsTest.sol";

/// @dev Fixed-input calls for `forge snapshot --match-test test_gas` (.gas-snapshot), each with the ceiling issue 16
/// sets asserted on the call's own gas (gas is deterministic). The set-up signs everything, so a figure is the
/// call. `make bench` measures the same calls as whole transactions beside EAS and the ERC's printed layout.
contract ConsentGrantsGasTest is GrantsTest {
    IConsentGrants.GrantInput internal signedInput;
    bytes internal signedSig;
    bytes32 internal live;
    bytes internal revokeSig;
    IConsentGrants.GrantInput[] internal batch;
    bytes[] internal batchSigs;
    GrantReader internal reader;

    function setUp() public override {
        super.setUp();
        // A first grant interns the (profile, terms) pair, as any deployment's first grant of a template does.
        live = _mint(_subject(1), _simple(_subject(1), CLINIC));
        Subject memory s = _subject(2);
        signedInput = _simple(s, CLINIC);
        signedSig = _grantSig(s, signedInput, 0);
        revokeSig = _revokeSig(_subject(1), live, bytes32(0), 1);
        for (uint256 i = 0; i < 50; ++i) {
            Subject memory b = _subject(100 + i);
            batch.push(_simple(b, COMMITTEE));
            batchSigs.push(_grantSig(b, batch[i], 0));
        }
        reader = new GrantReader();
    }

    function test_gas_grant_relayedSigned() public {
        (IConsentGrants.GrantInput memory g, bytes memory sig) = (signedInput, signedSig);
        vm.prank(RELAYER);
        uint256 before = gasleft();
        grants.grant(g, sig);
        uint256 used = before - gasleft();
        vm.assertTrue(grants.isGrantActive(signedInput.subjectCommit), "granted");
        vm.assertTrue(
            _asTransaction(used, abi.encodeCall(grants.grant, (g, sig))) <= GRANT_CEILING,
            "a relayed signed grant: <= 135,000"
        );
    }

    function test_gas_grantBatch_50() public {
        (IConsentGrants.GrantInput[] memory gs, bytes[] memory sigs) = (batch, batchSigs);
        vm.prank(RELAYER);
        uint256 before = gasleft();
        uint256 minted = grants.grantBatch(gs, sigs);
        uint256 used = before - gasleft();
        vm.assertEq(minted, 50, "all minted");
        vm.assertTrue(
            _asTransaction(used, abi.encodeCall(grants.grantBatch, (gs, sigs))) / 50 <= BATCH_ITEM_CEILING,
            "a signed batch: <= 115,000 an item"
        );
    }

    function test_gas_revokeBySubjectWithSig() public {
        (bytes32 id, bytes memory sig) = (live, revokeSig);
        vm.prank(RELAYER);
        uint256 before = gasleft();
        grants.revokeBySubjectWithSig(id, bytes32(0), sig);
        uint256 used = before - gasleft();
        vm.assertFalse(grants.isGrantActive(live), "revoked");
        vm.assertTrue(
            _asTransaction(used, abi.encodeCall(grants.revokeBySubjectWithSig, (id, bytes32(0), sig))) <= REVOKE_CEILING,
            "a relayed signed revocation: <= 50,000"
        );
    }

    function test_gas_isGrantActive_fromContract() public view {
        (bool active, uint256 used) = reader.isGrantActive(grants, live);
        vm.assertTrue(active, "active");
        vm.assertTrue(used <= IS_ACTIVE_CEILING, "isGrantActive at depth 0 from a contract fits 10,000 gas");
    }
}
