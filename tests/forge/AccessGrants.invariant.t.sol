// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAccessGrants} from "../../contracts/interfaces/IAccessGrants.sol";

import {AccessHandler} from "./handlers/AccessHandler.sol";
import {CareChainTest} from "./utils/CareChainTest.sol";

/// @dev Stateful fuzzing through AccessHandler (random grants, record grants, revocations,
/// break-glass episodes, reviews, credential changes, logged reads and warps). After every handler
/// call, for each of the four providers and four records:
///  - canAccess implies a live PROVIDER credential with a live grant covering the record, or a live
///    EMERGENCY credential with an unexpired, unflagged break-glass episode for the record's patient;
///  - a provider with no live PROVIDER or EMERGENCY credential has no access at all;
///  - logAccess never succeeds while canAccess is false (tried at every state, and counted by the
///    handler for its own calls);
///  - the contracts agree with the handler's model, and every call did what the model predicted.
/// Checks use `require`, not the assert cheat codes: they run dozens of times after every call,
/// and each cheat-code call costs the campaign time. Three invariants, not one per rule: each is
/// a campaign of its own (runs x depth handler calls), and the ci profile must stay quick.
contract AccessGrantsInvariantTest is CareChainTest {
    /// @dev Read by forge through `targetSelectors()` (the layout forge-std's StdInvariant uses).
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    bytes32 internal constant PURPOSE = keccak256("audit");

    AccessHandler internal handler;
    address[] internal _providers;
    bytes32[] internal _records;
    address[] internal _recordPatients;

    function setUp() public override {
        super.setUp();
        handler = new AccessHandler(registry, credentials, records, access, REGISTRAR, CUSTODIAN);
        for (uint256 i; i < handler.PROVIDERS(); ++i) {
            _providers.push(handler.provider(i));
        }
        for (uint256 k; k < handler.RECORDS(); ++k) {
            _records.push(handler.recordId(k));
            _recordPatients.push(handler.recordPatient(k));
        }
        vm.assertEq(handler.unexpectedOutcomes(), 0, "handler set-up");
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        bytes4[] memory selectors = new bytes4[](9);
        selectors[0] = AccessHandler.grant.selector;
        selectors[1] = AccessHandler.grantRecord.selector;
        selectors[2] = AccessHandler.revoke.selector;
        selectors[3] = AccessHandler.revokeRecord.selector;
        selectors[4] = AccessHandler.breakGlass.selector;
        selectors[5] = AccessHandler.review.selector;
        selectors[6] = AccessHandler.credential.selector;
        selectors[7] = AccessHandler.logAccess.selector;
        selectors[8] = AccessHandler.warp.selector;
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector({addr: address(handler), selectors: selectors});
    }

    /* ------------------------------------------------------------------ */
    /*                              INVARIANTS                            */
    /* ------------------------------------------------------------------ */

    /// @dev Both access rules in one pass over the pairs (canAccess asked once per pair): a
    /// provider the registry holds no live PROVIDER or EMERGENCY credential for reads nothing,
    /// and any access rests on a live basis in the handler's model.
    function invariant_accessNeedsALiveCredentialAndBasis() public {
        _syncClock();
        for (uint256 i; i < _providers.length; ++i) {
            address provider = _providers[i];
            bool credentialed =
                credentials.hasCredential(provider, PROVIDER) || credentials.hasCredential(provider, EMERGENCY);
            for (uint256 k; k < _records.length; ++k) {
                if (!access.canAccess(provider, _records[k])) continue;
                require(credentialed, "provider without a live credential has access");
                require(
                    (handler.credentialLive(provider, PROVIDER) && handler.liveGrantCovers(provider, k))
                        || (handler.credentialLive(provider, EMERGENCY)
                            && handler.hasOpenEpisode(_recordPatients[k], provider)),
                    "access without a live grant or an open break-glass episode"
                );
            }
        }
    }

    /// @dev Also tried here, at every state: whatever the custodian logs, canAccess allows, and a
    /// refused log is refused for want of access. (That the custodian's log goes through whenever
    /// canAccess says so follows from the model check and the handler's logAccess calls.)
    function invariant_logAccessNeverSucceedsWithoutAccess() public {
        require(handler.logsWithoutAccess() == 0, "logAccess succeeded while canAccess was false");
        _syncClock();
        for (uint256 i; i < _providers.length; ++i) {
            address provider = _providers[i];
            for (uint256 k; k < _records.length; ++k) {
                vm.prank(CUSTODIAN);
                try access.logAccess(provider, _records[k], PURPOSE) {
                    require(access.canAccess(provider, _records[k]), "logAccess succeeded while canAccess is false");
                } catch (bytes memory reason) {
                    require(
                        keccak256(reason)
                            == keccak256(
                                abi.encodeWithSelector(IAccessGrants.AccessDenied.selector, provider, _records[k])
                            ),
                        "custodian's logAccess refused for another reason than AccessDenied"
                    );
                }
            }
        }
    }

    function invariant_contractsMatchTheModel() public {
        vm.assertEq(handler.unexpectedOutcomes(), 0, handler.lastUnexpected());
        _syncClock();
        for (uint256 a; a < 4; ++a) {
            address account = handler.credentialAccount(a);
            for (uint256 r; r < 3; ++r) {
                bytes32 role = handler.credentialRole(r);
                require(
                    credentials.hasCredential(account, role) == handler.credentialLive(account, role),
                    "hasCredential against the model"
                );
            }
        }
        for (uint256 i; i < _providers.length; ++i) {
            address provider = _providers[i];
            for (uint256 k; k < _records.length; ++k) {
                (IAccessGrants.Basis basis, uint256 episodeId) = access.accessBasis(provider, _records[k]);
                (IAccessGrants.Basis expected, uint256 expectedEpisode) = handler.expectedBasis(provider, k);
                require(basis == expected && episodeId == expectedEpisode, "accessBasis against the model");
            }
        }
    }

    /* ------------------------------------------------------------------ */
    /*                               HELPERS                              */
    /* ------------------------------------------------------------------ */

    /// @dev Invariants are checked at the handler's time, whether or not the fuzzer kept the warp.
    function _syncClock() private {
        vm.warp(handler.currentTime());
    }
}
