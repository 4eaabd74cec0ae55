// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title ICredentialRegistry
/// @notice Who is a provider, researcher, IRB, emergency clinician, break-glass reviewer or record
/// custodian, as attested by a registrar, with the hash of the licence that backs it and a validity
/// window. Other contracts ask `hasCredential(account, role)` at call time.
/// @dev Only the hash of a licence is stored; the licence itself stays with the registrar.
interface ICredentialRegistry {
    /// @notice A credential's lifecycle. `Revoked` is final; a new attestation starts afresh.
    /// `RevokedWhileSuspended` is a revocation that keeps its suspension: only `reinstate` lifts a
    /// suspension, so revoke + attest cannot replace a suspended credential; `reinstate` then leaves
    /// it `Revoked`, and only after that may a new attestation start afresh.
    enum Status {
        None,
        Active,
        Suspended,
        Revoked,
        RevokedWhileSuspended
    }

    /// @notice One credential; `validUntil` 0 means no end date.
    struct Credential {
        bytes32 licenseHash;
        uint64 validFrom;
        uint64 validUntil;
        Status status;
    }

    /// @notice A registrar attested `account` in `role` (a new credential or a renewal).
    /// @param account Who holds the credential.
    /// @param role Which credential (one of the `carechain.credential.*` role ids).
    /// @param licenseHash Hash of the licence that backs it (the licence stays with the registrar).
    /// @param validFrom When the credential starts to count.
    /// @param validUntil When it stops counting (0: no end date).
    /// @param registrar Who attested it.
    event CredentialAttested(
        address indexed account,
        bytes32 indexed role,
        bytes32 licenseHash,
        uint64 validFrom,
        uint64 validUntil,
        address registrar
    );
    /// @notice A registrar suspended a credential (reversible).
    /// @param account Who holds the credential.
    /// @param role Which credential.
    /// @param registrar Who suspended it.
    event CredentialSuspended(address indexed account, bytes32 indexed role, address registrar);
    /// @notice A registrar lifted a suspension.
    /// @param account Who holds the credential.
    /// @param role Which credential.
    /// @param registrar Who reinstated it.
    event CredentialReinstated(address indexed account, bytes32 indexed role, address registrar);
    /// @notice A registrar revoked a credential (final).
    /// @param account Who held the credential.
    /// @param role Which credential.
    /// @param registrar Who revoked it.
    event CredentialRevoked(address indexed account, bytes32 indexed role, address registrar);

    /// @notice The role is not one of the credential roles this registry knows.
    error UnknownRole(bytes32 role);
    /// @notice The account is the zero address.
    error InvalidAccount(address account);
    /// @notice The validity window is empty or already over.
    error InvalidValidity(uint64 validFrom, uint64 validUntil);
    /// @notice The licence hash is zero.
    error InvalidLicenseHash();
    /// @notice The credential is not in the state this action needs.
    error InvalidCredentialStatus(address account, bytes32 role, Status status);

    /// @notice Attest (or renew) `account` in `role` from `validFrom` until `validUntil` (0: no end).
    /// A suspended credential is not renewed, nor one revoked while suspended: `reinstate` alone lifts
    /// a suspension.
    /// @param account Who receives the credential (not the zero address).
    /// @param role Which credential: one of the six credential role ids.
    /// @param licenseHash Hash of the licence that backs it (not zero).
    /// @param validFrom When it starts to count (may lie in the past or the future).
    /// @param validUntil When it stops counting: after `validFrom` and in the future, or 0 for no end.
    function attest(address account, bytes32 role, bytes32 licenseHash, uint64 validFrom, uint64 validUntil)
        external;

    /// @notice Suspend an active credential.
    /// @param account Who holds the credential.
    /// @param role Which credential.
    function suspend(address account, bytes32 role) external;

    /// @notice Lift a suspension: a suspended credential is active again; one revoked while suspended
    /// stays revoked (`Revoked`), and may then be attested afresh.
    /// @param account Who holds the suspended credential.
    /// @param role Which credential.
    function reinstate(address account, bytes32 role) external;

    /// @notice Revoke a credential for good (active or suspended). A suspended credential becomes
    /// `RevokedWhileSuspended`: the suspension outlives the revocation until a registrar reinstates.
    /// @param account Who holds the credential.
    /// @param role Which credential.
    function revoke(address account, bytes32 role) external;

    /// @notice Whether `account` holds a live `role` credential now: what other contracts ask at call time.
    /// @param account Whose credential.
    /// @param role Which credential.
    /// @return True only while the credential is active (not suspended or revoked) and inside its
    /// validity window.
    function hasCredential(address account, bytes32 role) external view returns (bool);

    /// @notice The stored credential, whatever its state.
    /// @param account Whose credential.
    /// @param role Which credential.
    /// @return The licence hash, validity window and status (all zero if never attested).
    function getCredential(address account, bytes32 role) external view returns (Credential memory);
}
