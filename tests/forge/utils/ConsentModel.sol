// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IConsentRegistry} from "../../../contracts/interfaces/IConsentRegistry.sol";

/// @dev The consent rules as the interface states them, written apart from the contract so tests
/// can judge its answers: live = granted, not revoked, not yet at its expiry (0: never expires).
function isLive(IConsentRegistry.Consent memory c, uint64 time) pure returns (bool) {
    return c.grantedAt != 0 && c.revokedAt == 0 && (c.expiresAt == 0 || time < c.expiresAt);
}

/// @dev A live consent that holds every bit of `requiredScopes`.
function covers(IConsentRegistry.Consent memory c, uint64 requiredScopes, uint64 time) pure returns (bool) {
    return isLive(c, time) && c.scopes & requiredScopes == requiredScopes;
}
