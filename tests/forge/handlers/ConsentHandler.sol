// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ConsentRegistry} from "../../../contracts/ConsentRegistry.sol";
import {IConsentRegistry} from "../../../contracts/interfaces/IConsentRegistry.sol";
import {InvalidExpiry} from "../../../contracts/utils/Common.sol";

import {isLive} from "../utils/ConsentModel.sol";
import {Vm, VM_ADDRESS} from "../utils/Vm.sol";

/// @dev Drives the registry for the invariant test: random grant / update / revoke calls by three
/// patients towards two grantees and the wildcard, over two purposes, while time moves forward.
/// It keeps its own model of every consent and predicts each call's outcome, including the exact
/// error of a revert; a call that does not do what the model predicts is counted, not thrown, so
/// the invariant (which asserts the count is zero) reports it.
contract ConsentHandler {
    Vm internal constant vm = Vm(VM_ADDRESS);

    uint256 public constant PATIENTS = 3;
    uint256 public constant GRANTEES = 3;
    uint256 public constant PURPOSES = 2;
    address public constant ANY_GRANTEE = address(type(uint160).max);

    ConsentRegistry public immutable registry;

    /// @dev The handler's clock: it re-applies it on every call, whether or not the fuzzer keeps
    /// block.timestamp between calls.
    uint64 public currentTime;

    mapping(bytes32 key => IConsentRegistry.Consent) private _model;
    mapping(bytes32 key => bool) private _revokedSinceGrant;

    struct Triple {
        address patient;
        address grantee;
        bytes32 purpose;
    }

    /// @dev Every triple granted at least once. With 18 triples and short sequences, purely random
    /// picks would mostly hit empty ones: grant re-aims at these half the time (re-grants, and
    /// grants over a live consent), update and revoke three times in four.
    Triple[] private _granted;

    uint256 public unexpectedOutcomes;
    string public lastUnexpected;

    constructor(ConsentRegistry registry_) {
        registry = registry_;
        currentTime = uint64(block.timestamp);
    }

    /* ---- ACTORS ---- */

    function patient(uint256 i) public pure returns (address) {
        return [address(0xCA7E01), address(0xCA7E02), address(0xCA7E03)][i];
    }

    function grantee(uint256 i) public pure returns (address) {
        return [address(0x6E01), address(0x6E02), ANY_GRANTEE][i];
    }

    function purpose(uint256 i) public pure returns (bytes32) {
        return i == 0 ? keccak256("DUO:0000042") : keccak256("DUO:0000007");
    }

    /* ---- ACTIONS ---- */

    function grant(
        uint256 patientSeed,
        uint256 granteeSeed,
        uint256 purposeSeed,
        uint256 scopesSeed,
        uint256 expirySeed
    ) external {
        vm.warp(currentTime);
        (address p, address g, bytes32 pur) = purposeSeed % 2 == 0
            ? _pick(patientSeed, granteeSeed, purposeSeed >> 1)
            : _pickMostlyGranted(patientSeed, granteeSeed, purposeSeed);
        uint64 scopes = _scopes(scopesSeed);
        uint64 expiresAt = _expiry(expirySeed);
        IConsentRegistry.Consent storage m = _model[_key(p, g, pur)];

        bytes memory expected;
        if (scopes == 0) {
            expected = abi.encodeWithSelector(IConsentRegistry.EmptyScopes.selector);
        } else if (!_validExpiry(expiresAt)) {
            expected = _invalidExpiry(expiresAt);
        } else if (isLive(m, currentTime)) {
            expected = abi.encodeWithSelector(IConsentRegistry.ConsentAlreadyActive.selector, p, g, pur);
        }

        vm.prank(p);
        try registry.grant(g, pur, scopes, expiresAt) {
            if (expected.length != 0) return _unexpected("grant succeeded against the model");
            if (m.grantedAt == 0) _granted.push(Triple(p, g, pur));
            _model[_key(p, g, pur)] =
                IConsentRegistry.Consent({scopes: scopes, grantedAt: currentTime, expiresAt: expiresAt, revokedAt: 0});
            _revokedSinceGrant[_key(p, g, pur)] = false;
        } catch (bytes memory reason) {
            _checkRevert(reason, expected, "grant");
        }
    }

    function update(
        uint256 patientSeed,
        uint256 granteeSeed,
        uint256 purposeSeed,
        uint256 scopesSeed,
        uint256 expirySeed
    ) external {
        vm.warp(currentTime);
        (address p, address g, bytes32 pur) = _pickMostlyGranted(patientSeed, granteeSeed, purposeSeed);
        uint64 scopes = _scopes(scopesSeed);
        uint64 expiresAt = _expiry(expirySeed);
        IConsentRegistry.Consent storage m = _model[_key(p, g, pur)];

        bytes memory expected;
        if (scopes == 0) {
            expected = abi.encodeWithSelector(IConsentRegistry.EmptyScopes.selector);
        } else if (!_validExpiry(expiresAt)) {
            expected = _invalidExpiry(expiresAt);
        } else if (!isLive(m, currentTime)) {
            expected = abi.encodeWithSelector(IConsentRegistry.ConsentNotActive.selector, p, g, pur);
        }

        vm.prank(p);
        try registry.update(g, pur, scopes, expiresAt) {
            if (expected.length != 0) return _unexpected("update succeeded against the model");
            m.scopes = scopes;
            m.expiresAt = expiresAt;
        } catch (bytes memory reason) {
            _checkRevert(reason, expected, "update");
        }
    }

    function revoke(uint256 patientSeed, uint256 granteeSeed, uint256 purposeSeed) external {
        vm.warp(currentTime);
        (address p, address g, bytes32 pur) = _pickMostlyGranted(patientSeed, granteeSeed, purposeSeed);
        IConsentRegistry.Consent storage m = _model[_key(p, g, pur)];

        bytes memory expected;
        if (m.grantedAt == 0 || m.revokedAt != 0) {
            expected = abi.encodeWithSelector(IConsentRegistry.ConsentNotRevocable.selector, p, g, pur);
        }

        vm.prank(p);
        try registry.revoke(g, pur) {
            if (expected.length != 0) return _unexpected("revoke succeeded against the model");
            m.revokedAt = currentTime;
            _revokedSinceGrant[_key(p, g, pur)] = true;
        } catch (bytes memory reason) {
            _checkRevert(reason, expected, "revoke");
        }
    }

    /// @dev Up to a day forward.
    function warp(uint256 secondsSeed) external {
        // casting to 'uint64' is safe because the value is at most one day
        // forge-lint: disable-next-line(unsafe-typecast)
        currentTime += uint64(1 + secondsSeed % 1 days);
        vm.warp(currentTime);
    }

    /// @dev Straight to a consent's expiry, the first second it no longer permits anything.
    function warpToExpiry(uint256 patientSeed, uint256 granteeSeed, uint256 purposeSeed) external {
        (address p, address g, bytes32 pur) = _pickMostlyGranted(patientSeed, granteeSeed, purposeSeed);
        uint64 expiresAt = _model[_key(p, g, pur)].expiresAt;
        if (expiresAt > currentTime) currentTime = expiresAt;
        vm.warp(currentTime);
    }

    /* ---- MODEL ---- */

    function model(address p, address g, bytes32 pur) external view returns (IConsentRegistry.Consent memory) {
        return _model[_key(p, g, pur)];
    }

    function revokedSinceGrant(address p, address g, bytes32 pur) external view returns (bool) {
        return _revokedSinceGrant[_key(p, g, pur)];
    }

    /* ---- INTERNALS ---- */

    function _pick(uint256 patientSeed, uint256 granteeSeed, uint256 purposeSeed)
        private
        pure
        returns (address, address, bytes32)
    {
        return (patient(patientSeed % PATIENTS), grantee(granteeSeed % GRANTEES), purpose(purposeSeed % PURPOSES));
    }

    function _pickMostlyGranted(uint256 patientSeed, uint256 granteeSeed, uint256 purposeSeed)
        private
        view
        returns (address, address, bytes32)
    {
        if (_granted.length == 0 || purposeSeed % 4 == 0) return _pick(patientSeed, granteeSeed, purposeSeed >> 2);
        Triple storage t = _granted[patientSeed % _granted.length];
        return (t.patient, t.grantee, t.purpose);
    }

    /// @dev Eight scope bits, so subsets and supersets collide often; 0 (EmptyScopes) 1 time in 256.
    function _scopes(uint256 seed) private pure returns (uint64) {
        // casting to 'uint64' is safe because the value is below 256
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint64(seed % 256);
    }

    /// @dev A quarter "never", an eighth "now" (invalid: the boundary), the rest within two days.
    function _expiry(uint256 seed) private view returns (uint64) {
        uint256 mode = seed % 8;
        if (mode < 2) return 0;
        if (mode == 2) return currentTime;
        // casting to 'uint64' is safe because the value is below two days
        // forge-lint: disable-next-line(unsafe-typecast)
        return currentTime + 1 + uint64((seed >> 8) % 2 days);
    }

    function _validExpiry(uint64 expiresAt) private view returns (bool) {
        return expiresAt == 0 || expiresAt > currentTime;
    }

    function _invalidExpiry(uint64 expiresAt) private view returns (bytes memory) {
        return abi.encodeWithSelector(InvalidExpiry.selector, expiresAt, currentTime);
    }

    function _key(address p, address g, bytes32 pur) private pure returns (bytes32) {
        return keccak256(abi.encode(p, g, pur));
    }

    function _checkRevert(bytes memory reason, bytes memory expected, string memory action) private {
        if (expected.length == 0) return _unexpected(string.concat(action, " reverted against the model"));
        if (keccak256(reason) != keccak256(expected)) _unexpected(string.concat(action, ": wrong revert"));
    }

    function _unexpected(string memory what) private {
        ++unexpectedOutcomes;
        lastUnexpected = what;
    }
}
