// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IConsentGrants} from "../../../contracts/interfaces/IConsentGrants.sol";
import {ReferenceConsentGrant} from "../../../contracts/test/ReferenceConsentGrant.sol";

import {GrantsTest} from "./GrantsTest.sol";

/// @dev GrantsTest's set-up, subjects and typed data, signing for the reference layout (ReferenceConsentGrant) on
/// the same purpose registry.
abstract contract ReferenceTest is GrantsTest {
    ReferenceConsentGrant internal ref;

    function setUp() public virtual override {
        super.setUp();
        ref = new ReferenceConsentGrant(purposes);
    }

    function _verifyingContract() internal view override returns (address) {
        return address(ref);
    }

    /// @dev Mint a root grant in the reference through the relayer.
    function _mintRef(Subject memory s, IConsentGrants.GrantInput memory g) internal returns (bytes32 id) {
        bytes memory sig = _grantSig(s, g, ref.nonces(s.commit));
        vm.prank(RELAYER);
        id = ref.grant(g, sig);
    }
}
