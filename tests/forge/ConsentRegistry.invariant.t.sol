// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IConsentRegistry} from "../../contracts/interfaces/IConsentRegistry.sol";

import {ConsentHandler} from "./handlers/ConsentHandler.sol";
import {ConsentTest} from "./utils/ConsentTest.sol";
import {covers} from "./utils/ConsentModel.sol";

/// @dev Stateful fuzzing through ConsentHandler (random grant / update / revoke / warp by three
/// patients). After every handler call, for each (patient, grantee, purpose) the handler uses and
/// a spread of required-scope masks:
///  - isPermitted implies a stored consent (direct or wildcard) granted, not revoked, not expired,
///    covering the mask;
///  - a pair the handler revoked since its last grant is permitted nothing on its own account;
///  - the registry agrees with the handler's model, and every call did what the model predicted.
/// Checks use `require`, not the assert cheat codes: they run about a hundred times after every
/// call, and each cheat-code call costs the campaign time.
contract ConsentRegistryInvariantTest is ConsentTest {
    /// @dev Read by forge through `targetSelectors()` (the layout forge-std's StdInvariant uses).
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    ConsentHandler internal handler;
    address[] internal _patients;
    address[] internal _grantees; // the last one is ANY_GRANTEE
    bytes32[] internal _purposes;

    function setUp() public override {
        super.setUp();
        handler = new ConsentHandler(registry);
        for (uint256 i; i < handler.PATIENTS(); ++i) {
            _patients.push(handler.patient(i));
        }
        for (uint256 i; i < handler.GRANTEES(); ++i) {
            _grantees.push(handler.grantee(i));
        }
        for (uint256 i; i < handler.PURPOSES(); ++i) {
            _purposes.push(handler.purpose(i));
        }
        vm.assertEq(_grantees[_grantees.length - 1], ANY_GRANTEE, "wildcard last");
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        bytes4[] memory selectors = new bytes4[](5);
        selectors[0] = ConsentHandler.grant.selector;
        selectors[1] = ConsentHandler.update.selector;
        selectors[2] = ConsentHandler.revoke.selector;
        selectors[3] = ConsentHandler.warp.selector;
        selectors[4] = ConsentHandler.warpToExpiry.selector;
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector({addr: address(handler), selectors: selectors});
    }

    /* ------------------------------------------------------------------ */
    /*                              INVARIANTS                            */
    /* ------------------------------------------------------------------ */

    function invariant_permittedImpliesALiveStoredConsent() public {
        uint64 time = _syncClock();
        for (uint256 i; i < _patients.length; ++i) {
            for (uint256 k; k < _purposes.length; ++k) {
                (address p, bytes32 pur) = (_patients[i], _purposes[k]);
                IConsentRegistry.Consent[] memory stored = _stored(p, pur);
                IConsentRegistry.Consent memory wildcard = stored[stored.length - 1];
                for (uint256 j; j < stored.length; ++j) {
                    uint64[4] memory masks = _masks(stored[j].scopes, wildcard.scopes);
                    for (uint256 m; m < masks.length; ++m) {
                        if (!registry.isPermitted(p, _grantees[j], pur, masks[m])) continue;
                        require(
                            covers(stored[j], masks[m], time) || covers(wildcard, masks[m], time),
                            "permitted without a live covering consent"
                        );
                    }
                }
            }
        }
    }

    function invariant_revokedPairPermitsNothingOfItsOwn() public {
        uint64 time = _syncClock();
        for (uint256 i; i < _patients.length; ++i) {
            for (uint256 k; k < _purposes.length; ++k) {
                (address p, bytes32 pur) = (_patients[i], _purposes[k]);
                // What a revoked pair may still get: a wildcard consent the handler has not revoked.
                IConsentRegistry.Consent memory wildcard = registry.getConsent(p, ANY_GRANTEE, pur);
                bool wildcardRevoked = handler.revokedSinceGrant(p, ANY_GRANTEE, pur);
                for (uint256 j; j < _grantees.length; ++j) {
                    address g = _grantees[j];
                    if (!handler.revokedSinceGrant(p, g, pur)) continue;
                    IConsentRegistry.Consent memory direct = registry.getConsent(p, g, pur);
                    require(direct.revokedAt != 0, "revocation not on record");
                    uint64[4] memory masks = _masks(direct.scopes, wildcard.scopes);
                    for (uint256 m; m < masks.length; ++m) {
                        if (!registry.isPermitted(p, g, pur, masks[m])) continue;
                        require(
                            g != ANY_GRANTEE && !wildcardRevoked && covers(wildcard, masks[m], time),
                            "revoked pair still permitted"
                        );
                    }
                }
            }
        }
    }

    function invariant_registryMatchesTheModel() public {
        vm.assertEq(handler.unexpectedOutcomes(), 0, handler.lastUnexpected());
        uint64 time = _syncClock();
        for (uint256 i; i < _patients.length; ++i) {
            for (uint256 k; k < _purposes.length; ++k) {
                (address p, bytes32 pur) = (_patients[i], _purposes[k]);
                IConsentRegistry.Consent[] memory stored = _stored(p, pur);
                IConsentRegistry.Consent memory modelWildcard = handler.model(p, ANY_GRANTEE, pur);
                for (uint256 j; j < stored.length; ++j) {
                    address g = _grantees[j];
                    IConsentRegistry.Consent memory modelled = handler.model(p, g, pur);
                    require(
                        stored[j].scopes == modelled.scopes && stored[j].grantedAt == modelled.grantedAt
                            && stored[j].expiresAt == modelled.expiresAt && stored[j].revokedAt == modelled.revokedAt,
                        "stored consent differs from the model"
                    );
                    uint64[4] memory masks = _masks(modelled.scopes, modelWildcard.scopes);
                    for (uint256 m; m < masks.length; ++m) {
                        bool expected = covers(modelled, masks[m], time) || covers(modelWildcard, masks[m], time);
                        require(registry.isPermitted(p, g, pur, masks[m]) == expected, "isPermitted against the model");
                    }
                }
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

    /// @dev The stored consents of `p` for `pur`, towards each grantee (the wildcard's last).
    function _stored(address p, bytes32 pur) private view returns (IConsentRegistry.Consent[] memory stored) {
        stored = new IConsentRegistry.Consent[](_grantees.length);
        for (uint256 j; j < _grantees.length; ++j) {
            stored[j] = registry.getConsent(p, _grantees[j], pur);
        }
    }

    /// @dev One bit, a bit the handler never grants, and the pair's and the wildcard's own scopes
    /// (other small sets when those are empty).
    function _masks(uint64 ownScopes, uint64 wildcardScopes) private pure returns (uint64[4] memory) {
        return [uint64(0x01), 0x100, ownScopes == 0 ? 0x02 : ownScopes, wildcardScopes == 0 ? 0x06 : wildcardScopes];
    }
}
