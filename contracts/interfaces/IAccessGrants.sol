// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {ISignedByPatient} from "./ISignedByPatient.sol";

/// @title IAccessGrants
/// @notice Patients (or their live delegates) grant credentialed providers time-boxed access to
/// record categories or to one record; emergency clinicians can break the glass, always audited;
/// custodians log every read. `canAccess(provider, recordId)` is the one check everything uses.
interface IAccessGrants is ISignedByPatient {
    /// @notice Why a provider may read a record now.
    enum Basis {
        None,
        RecordGrant,
        CategoryGrant,
        BreakGlass
    }

    /// @notice Where a break-glass episode stands. Only a REVIEWER closes an episode.
    enum Review {
        None,
        Open,
        Approved,
        Flagged
    }

    /// @notice An access grant in one slot. For a one-record grant `categories` is 0.
    struct Grant {
        uint64 categories;
        uint64 grantedAt;
        uint64 expiresAt;
        uint64 revokedAt;
    }

    /// @notice A break-glass episode.
    struct Episode {
        address provider;
        uint64 openedAt;
        uint64 expiresAt;
        address patient;
        Review review;
        address reviewer;
        bytes32 reasonCode;
    }

    /// @notice Access granted (or renewed). `recordId` is 0 for a category grant.
    event AccessGranted(
        address indexed patient,
        address indexed provider,
        bytes32 indexed recordId,
        uint64 categories,
        uint64 expiresAt,
        address actor
    );
    /// @notice Access revoked. `recordId` is 0 for a category grant.
    event AccessRevoked(address indexed patient, address indexed provider, bytes32 indexed recordId, address actor);
    /// @notice An emergency clinician broke the glass: the patient and reviewers are told.
    event BreakGlassOpened(
        uint256 indexed episodeId,
        address indexed patient,
        address indexed provider,
        bytes32 reasonCode,
        uint64 expiresAt,
        uint256 providerEpisodes
    );
    /// @notice A reviewer closed an episode, approved or flagged (a flagged episode's access ends now).
    event BreakGlassReviewed(uint256 indexed episodeId, address indexed reviewer, bool approved, bytes32 noteHash);
    /// @notice A custodian's gateway served a record to a provider, on this basis.
    event RecordAccessed(
        bytes32 indexed recordId,
        address indexed patient,
        address indexed provider,
        bytes32 purpose,
        Basis basis,
        uint256 episodeId
    );
    /// @notice A custodian's gateway committed `count` signed read receipts as one Merkle `root`.
    event AccessBatchLogged(address indexed custodian, bytes32 indexed root, uint32 count);

    /// @notice The provider holds no live PROVIDER credential.
    error UncredentialedProvider(address provider);
    /// @notice The caller is neither the patient nor a live delegate of the patient.
    error NotPatientOrDelegate(address caller, address patient);
    /// @notice An access grant must end in the future.
    error InvalidExpiry(uint64 expiresAt, uint64 currentTime);
    /// @notice A category grant must cover at least one category.
    error EmptyCategories();
    /// @notice No live grant to revoke.
    error GrantNotActive(address patient, address provider, bytes32 recordId);
    /// @notice The caller holds no live EMERGENCY credential.
    error NotEmergencyProvider(address account);
    /// @notice The caller holds no live REVIEWER credential.
    error NotReviewer(address account);
    /// @notice Break-glass access lasts more than nothing and at most `maxDuration`.
    error InvalidBreakGlassDuration(uint64 duration, uint64 maxDuration);
    /// @notice No such episode, or it was already reviewed.
    error EpisodeNotOpen(uint256 episodeId);
    /// @notice A clinician cannot review their own break-glass episode.
    error SelfReview(uint256 episodeId, address reviewer);
    /// @notice Only the record's custodian, with a live CUSTODIAN credential, logs reads of it.
    error NotRecordCustodian(bytes32 recordId, address caller);
    /// @notice `canAccess` is false: the read is refused, not logged.
    error AccessDenied(address provider, bytes32 recordId);
    /// @notice A signed one-record grant or revocation names a patient the record is not about.
    error NotRecordPatient(bytes32 recordId, address patient);
    /// @notice Only an account with a live CUSTODIAN credential commits read receipts.
    error NotCustodian(address caller);
    /// @notice A receipt batch has a non-zero root and at least one receipt.
    error EmptyBatch();

    /// @notice Grant `provider` access to `patient`'s records in `categories` until `expiresAt`.
    function grantAccess(address patient, address provider, uint64 categories, uint64 expiresAt) external;

    /// @notice Grant `provider` access to one record until `expiresAt` (its patient or their delegate).
    function grantRecordAccess(address provider, bytes32 recordId, uint64 expiresAt) external;

    /// @notice Revoke a category grant.
    function revokeAccess(address patient, address provider) external;

    /// @notice Revoke a one-record grant.
    function revokeRecordAccess(address provider, bytes32 recordId) external;

    /// @notice Submit a category grant the patient signed (EIP-712 `AccessGrant`).
    function grantAccessBySig(
        address patient,
        address provider,
        uint64 categories,
        uint64 expiresAt,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Submit a revocation the patient signed (EIP-712 `AccessRevoke`).
    function revokeAccessBySig(
        address patient,
        address provider,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Submit a one-record grant the record's patient signed (EIP-712 `RecordAccessGrant`).
    function grantRecordAccessBySig(
        address patient,
        address provider,
        bytes32 recordId,
        uint64 expiresAt,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Submit a one-record revocation the record's patient signed (EIP-712 `RecordAccessRevoke`).
    function revokeRecordAccessBySig(
        address patient,
        address provider,
        bytes32 recordId,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice An EMERGENCY-credentialed provider opens access to `patient`'s records for `duration`.
    function breakGlass(address patient, bytes32 reasonCode, uint64 duration) external returns (uint256 episodeId);

    /// @notice A REVIEWER closes an episode: approved, or flagged (which also ends its access).
    function reviewBreakGlass(uint256 episodeId, bool approved, bytes32 noteHash) external;

    /// @notice The record's custodian logs a read; reverts AccessDenied if `canAccess` is false.
    function logAccess(address provider, bytes32 recordId, bytes32 purpose) external;

    /// @notice A credentialed custodian commits the Merkle root of `count` read receipts it signed.
    function logAccessBatch(bytes32 root, uint32 count) external;

    /// @notice The single check: may `provider` read `recordId` now?
    function canAccess(address provider, bytes32 recordId) external view returns (bool);

    /// @notice Why `provider` may read `recordId` now (None if not), and the break-glass episode if any.
    function accessBasis(address provider, bytes32 recordId) external view returns (Basis basis, uint256 episodeId);

    /// @notice A patient's category grant to a provider.
    function getGrant(address patient, address provider) external view returns (Grant memory);

    /// @notice A provider's one-record grant.
    function getRecordGrant(address provider, bytes32 recordId) external view returns (Grant memory);

    /// @notice A break-glass episode.
    function getEpisode(uint256 episodeId) external view returns (Episode memory);

    /// @notice How many times `provider` broke the glass.
    function breakGlassCount(address provider) external view returns (uint256);

    /// @notice How many episodes exist (ids are 1..episodeCount).
    function episodeCount() external view returns (uint256);
}
