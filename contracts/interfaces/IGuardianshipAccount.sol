// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";

/// @title IGuardianshipAccount
/// @notice The ERC-1271 subject key of one grant made for a minor or an incapacitated patient: a guardian's
/// per-grant key signs for it until the term ends, the patient's per-grant key (the successor) from then on. The
/// account stores per-grant key addresses and times only, never a wallet address. Every guardian act on the account
/// is an EIP-712 signature relayed by someone else (name "GuardianshipAccount", version "1", the chain id and the
/// account's own address), so no transaction ever comes from a guardian's or a patient's key.
/// @dev ERC-1271's `isValidSignature(digest, signature)` answers 0x1626ba7e iff `signature` (65 bytes, low s) is by
/// the key in force at the block's time: the guardian's before the term ends, the successor's from then on (none
/// while no successor is named); 0xffffffff otherwise. One account per grant, a minimal proxy deployed by
/// GuardianshipFactory. ConsentGrants asks a contract subject key `authorityEndsAt()` (its IGuardianAuthority,
/// redeclared here with the same selector) and refuses a grant that expires later. The term can be shortened (the
/// patient regains capacity, a court ends the guardianship) by the guardian's signature, never extended.
/// docs/private-consent.md, "Guardianship", has the why.
interface IGuardianshipAccount is IERC1271 {
    /* ------------------------------------------------------------------ */
    /*                               EVENTS                               */
    /* ------------------------------------------------------------------ */

    /// @notice The account was set up.
    /// @param guardianSigner The guardian's per-grant key, in force until `termEndsAt`.
    /// @param termEndsAt When the guardian's authority ends (exclusive).
    /// @param successorSigner The patient's per-grant key, in force from `termEndsAt` (0: not named yet).
    event GuardianshipInitialized(address guardianSigner, uint48 termEndsAt, address successorSigner);

    /// @notice The guardian named (or changed) the key that signs once the term is over.
    /// @param successorSigner The patient's per-grant key.
    /// @param nonce The guardian's nonce the act consumed.
    event SuccessorSet(address successorSigner, uint256 nonce);

    /// @notice The guardian ended the term earlier than set.
    /// @param previousTermEndsAt The end it had.
    /// @param termEndsAt The end it has now.
    /// @param nonce The guardian's nonce the act consumed.
    event TermShortened(uint48 previousTermEndsAt, uint48 termEndsAt, uint256 nonce);

    /// @notice The guardian cancelled its unsubmitted signatures by consuming a nonce.
    /// @param nonce The nonce consumed.
    event NonceBurned(uint256 nonce);

    /* ------------------------------------------------------------------ */
    /*                               ERRORS                               */
    /* ------------------------------------------------------------------ */

    /// @notice The account is set up already (a clone once, the implementation never).
    error AlreadyInitialized();
    /// @notice A signer must be a key (not 0), and the successor must not be the guardian's key.
    /// @param signer The key given.
    error InvalidSigner(address signer);
    /// @notice A term must end in the future.
    /// @param termEndsAt The end asked for.
    /// @param currentTime The block time it was checked against.
    error InvalidTerm(uint48 termEndsAt, uint64 currentTime);
    /// @notice A term can only be shortened: the new end must come before the current one.
    /// @param termEndsAt The end asked for.
    /// @param currentTermEndsAt The end it has.
    error TermNotShortened(uint48 termEndsAt, uint48 currentTermEndsAt);
    /// @notice The term is over: the guardian can no longer act.
    /// @param termEndsAt When it ended.
    error TermEnded(uint48 termEndsAt);
    /// @notice A term ends early only into the hands of a named successor.
    error NoSuccessor();
    /// @notice The signature is malformed, or not by the guardian's key over this act with the current nonce.
    error InvalidGuardianSignature();
    /// @notice The signed act's deadline has passed.
    /// @param deadline The deadline.
    /// @param currentTime The block time.
    error SignatureExpired(uint256 deadline, uint64 currentTime);

    /* ------------------------------------------------------------------ */
    /*                              FUNCTIONS                             */
    /* ------------------------------------------------------------------ */

    /// @notice Set the account up, once (the factory does it in the transaction that deploys the clone).
    /// @param guardianSigner The guardian's per-grant key (not 0).
    /// @param termEndsAt When the guardian's authority ends, in the future. It is public and bounds the grant's
    /// expiry: a client sets it no later than the end of the guardianship, at a coarse time, never a birthday.
    /// @param successorSigner The patient's per-grant key (0: not yet; a minor has no wallet), not the guardian's.
    function initialize(address guardianSigner, uint48 termEndsAt, address successorSigner) external;

    /// @notice Name or change the successor, before the term ends, by the guardian's signature (anyone relays).
    /// @param successorSigner The patient's per-grant key (not 0, not the guardian's key).
    /// @param deadline The last second the signature may be submitted at.
    /// @param guardianSig 65-byte signature by the guardian's key over
    /// `SetSuccessor(address successorSigner,uint256 nonce,uint256 deadline)` with the account's nonce.
    function setSuccessor(address successorSigner, uint256 deadline, bytes calldata guardianSig) external;

    /// @notice End the term earlier (never later), by the guardian's signature, once a successor is named.
    /// Grants already made keep their expiry; the successor can revoke them.
    /// @param termEndsAt The new end: not before now, before the current end (now: the term ends at once).
    /// @param deadline The last second the signature may be submitted at.
    /// @param guardianSig 65-byte signature by the guardian's key over
    /// `ShortenTerm(uint48 termEndsAt,uint256 nonce,uint256 deadline)` with the account's nonce.
    function shortenTerm(uint48 termEndsAt, uint256 deadline, bytes calldata guardianSig) external;

    /// @notice Consume the guardian's nonce, cancelling every signed act made with it that was never submitted.
    /// @param guardianSig 65-byte signature by the guardian's key over `BurnNonce(uint256 nonce)`.
    function burnNonce(bytes calldata guardianSig) external;

    /// @notice ConsentGrants' IGuardianAuthority: nothing signed now may outlast this.
    /// @return The term's end while the guardian is in force; type(uint48).max once the patient's key is.
    function authorityEndsAt() external view returns (uint48);

    /// @notice The guardian's per-grant key (0: not set up).
    /// @return The key.
    function guardianSigner() external view returns (address);

    /// @notice The patient's per-grant key, in force from the term's end (0: none named).
    /// @return The key.
    function successorSigner() external view returns (address);

    /// @notice When the guardian's authority ends (exclusive).
    /// @return The time.
    function termEndsAt() external view returns (uint48);

    /// @notice The nonce the guardian's next signed act must carry.
    /// @return The nonce.
    function nonce() external view returns (uint256);
}
