// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// solhint-disable avoid-low-level-calls
// (a test wallet: it calls back into whichever contract it was told to, with any calldata)

/// @title ReentrantWalletMock
/// @notice Test-only ERC-1271 wallet that, asked whether a signature is valid, first calls back into a
/// contract (the registry asking, say) with a state-changing call, and says "valid" only if that call
/// went through. Asked under STATICCALL, as OpenZeppelin's SignatureChecker asks, the call-back cannot
/// change state: it fails, the wallet reverts, and the signature counts as invalid.
contract ReentrantWalletMock {
    /// @notice The call-back failed (under STATICCALL: it tried to change state).
    error ReentryFailed(bytes reason);

    /// @notice Where the call-back goes.
    address public reenterTarget;
    /// @notice What it calls.
    bytes public reenterCall;

    /// @notice Sets the call-back made on every `isValidSignature`.
    /// @param target Where the call-back goes.
    /// @param data Its calldata.
    function setReentry(address target, bytes calldata data) external {
        reenterTarget = target;
        reenterCall = data;
    }

    /// @notice ERC-1271's selector, deliberately not `view`: it tries to change state first.
    /// @return Its own selector (ERC-1271's "valid") if the call-back went through.
    function isValidSignature(bytes32, bytes calldata) external returns (bytes4) {
        (bool ok, bytes memory reason) = reenterTarget.call(reenterCall);
        if (!ok) revert ReentryFailed(reason);
        return this.isValidSignature.selector;
    }
}
