// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/* ------------------------------------------------------------------ */
/*                          CREDENTIAL ROLES                          */
/* ------------------------------------------------------------------ */

// What a CredentialRegistry credential says about its holder; the contracts that gate on a credential
// ask `hasCredential(account, <role>)` with one of these. The strings are part of the deployed
// protocol (clients hash the same names): never change them.

// A clinician who may be granted access to records.
bytes32 constant PROVIDER_CREDENTIAL = keccak256("carechain.credential.PROVIDER");
// A trial site's investigator.
bytes32 constant RESEARCHER_CREDENTIAL = keccak256("carechain.credential.RESEARCHER");
// An institutional review board that approves trial protocols.
bytes32 constant IRB_CREDENTIAL = keccak256("carechain.credential.IRB");
// A clinician who may break the glass in an emergency.
bytes32 constant EMERGENCY_CREDENTIAL = keccak256("carechain.credential.EMERGENCY");
// Who reviews break-glass episodes.
bytes32 constant REVIEWER_CREDENTIAL = keccak256("carechain.credential.REVIEWER");
// A record's keeper (a hospital, a lab): anchors records and logs reads of them.
bytes32 constant CUSTODIAN_CREDENTIAL = keccak256("carechain.credential.CUSTODIAN");

/* ------------------------------------------------------------------ */
/*                           SHARED ERRORS                            */
/* ------------------------------------------------------------------ */

/// @notice The caller is neither the patient nor a live delegate of the patient.
/// @param caller Who called.
/// @param patient The patient they tried to act for.
error NotPatientOrDelegate(address caller, address patient);

/// @notice An expiry must lie in the future (for a consent or a delegate, 0 means "never" and passes).
/// @param expiresAt The expiry asked for.
/// @param currentTime The block time it was checked against.
error InvalidExpiry(uint64 expiresAt, uint64 currentTime);

/// @notice A batch must hold at least one item (for a receipt batch: a non-zero root and count).
error EmptyBatch();

/* ------------------------------------------------------------------ */
/*                                TIME                                */
/* ------------------------------------------------------------------ */

/// @title Clock
/// @notice The one reading of the block time every CareChain contract uses.
abstract contract Clock {
    /// @dev Block time as uint64; virtual so a test harness can move time without cheat codes.
    function _time() internal view virtual returns (uint64) {
        return uint64(block.timestamp);
    }
}
