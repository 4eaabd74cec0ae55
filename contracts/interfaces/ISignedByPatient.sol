// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title ISignedByPatient
/// @notice What every CareChain contract that takes a patient's EIP-712 signature shares: a nonce per
/// patient (consumed by each signed action, so a signature works once), a deadline, and the errors.
interface ISignedByPatient {
    /// @notice A patient burned their current signature nonce, voiding every signature made with it.
    /// @param patient Whose nonce it was.
    /// @param nonce The nonce burned; the patient's next signature must carry nonce + 1.
    event NonceUsed(address indexed patient, uint256 nonce);

    /// @notice The patient is the zero address (or, for break-glass, the provider themself).
    error InvalidPatient(address patient);
    /// @notice The signed request's deadline has passed.
    error SignatureExpired(uint256 deadline, uint64 currentTime);
    /// @notice The signature is not the patient's (EOA or ERC-1271) for this request.
    error InvalidSignature(address patient);

    /// @notice Burns the caller's current nonce, voiding signatures not yet submitted.
    /// @return nonce The nonce burned (the one those signatures carry).
    function useNonce() external returns (uint256 nonce);
}
