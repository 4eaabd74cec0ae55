// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {ISignedByPatient} from "./ISignedByPatient.sol";

/// @title IAccessGrants
/// @notice Patients (or their live delegates) grant credentialed providers time-boxed access to
/// record categories or to one record; emergency clinicians can break the glass, always audited;
/// custodians log every read. `canAccess(provider, recordId)` is the one check everything uses.
/// @dev Also reverts with the shared errors of `utils/Common.sol`: NotPatientOrDelegate, InvalidExpiry
/// (an access grant must end in the future) and EmptyBatch (a receipt batch needs a non-zero root and count).
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
    /// @param patient Whose records.
    /// @param provider Who may read them.
    /// @param recordId The one record granted (0: a category grant).
    /// @param categories Bitmask of the data categories granted (0: a one-record grant).
    /// @param expiresAt When the access ends.
    /// @param actor Who granted: the patient or their delegate.
    event AccessGranted(
        address indexed patient,
        address indexed provider,
        bytes32 indexed recordId,
        uint64 categories,
        uint64 expiresAt,
        address actor
    );
    /// @notice Access revoked. `recordId` is 0 for a category grant.
    /// @param patient Whose records.
    /// @param provider Who may no longer read them.
    /// @param recordId The one record (0: the category grant).
    /// @param actor Who revoked: the patient or their delegate.
    event AccessRevoked(address indexed patient, address indexed provider, bytes32 indexed recordId, address actor);
    /// @notice An emergency clinician broke the glass: the patient and reviewers are told.
    /// @param episodeId The new episode.
    /// @param patient Whose records were opened.
    /// @param provider The emergency clinician.
    /// @param reasonCode Why, as a code (no free text on chain).
    /// @param expiresAt When the episode's access ends (unless a reviewer flags it earlier).
    /// @param providerEpisodes How many times this provider has broken the glass, this one included.
    event BreakGlassOpened(
        uint256 indexed episodeId,
        address indexed patient,
        address indexed provider,
        bytes32 reasonCode,
        uint64 expiresAt,
        uint256 providerEpisodes
    );
    /// @notice A reviewer closed an episode, approved or flagged (a flagged episode's access ends now).
    /// @param episodeId The episode.
    /// @param reviewer Who reviewed it.
    /// @param approved True if approved, false if flagged.
    /// @param noteHash Hash of the reviewer's note (kept off chain).
    event BreakGlassReviewed(uint256 indexed episodeId, address indexed reviewer, bool approved, bytes32 noteHash);
    /// @notice A custodian's gateway served a record to a provider, on this basis.
    /// @param recordId The record read.
    /// @param patient Who it is about.
    /// @param provider Who read it.
    /// @param purpose Why, as a purpose-of-use code hash.
    /// @param basis What allowed the read.
    /// @param episodeId The break-glass episode that allowed it (0 for a grant).
    event RecordAccessed(
        bytes32 indexed recordId,
        address indexed patient,
        address indexed provider,
        bytes32 purpose,
        Basis basis,
        uint256 episodeId
    );
    /// @notice A custodian's gateway committed `count` signed read receipts as one Merkle `root`.
    /// @param custodian Who committed them.
    /// @param root The Merkle root of the receipts.
    /// @param count How many receipts the root commits to.
    event AccessBatchLogged(address indexed custodian, bytes32 indexed root, uint32 count);

    /// @notice The provider holds no live PROVIDER credential.
    error UncredentialedProvider(address provider);
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

    /// @notice Grant `provider` access to `patient`'s records in `categories` until `expiresAt` (the
    /// patient or their live delegate; replaces any earlier category grant to the provider).
    /// @param patient Whose records.
    /// @param provider Who may read them: a live PROVIDER credential, asked again at every read.
    /// @param categories Bitmask of data categories (scope bits; at least one).
    /// @param expiresAt When the access ends (in the future).
    function grantAccess(address patient, address provider, uint64 categories, uint64 expiresAt) external;

    /// @notice Grant `provider` access to one record until `expiresAt` (its patient or their delegate).
    /// @param provider Who may read it: a live PROVIDER credential, asked again at every read.
    /// @param recordId The record (its patient is read from RecordRegistry).
    /// @param expiresAt When the access ends (in the future).
    function grantRecordAccess(address provider, bytes32 recordId, uint64 expiresAt) external;

    /// @notice Revoke a live category grant (the patient or their live delegate).
    /// @param patient Whose records.
    /// @param provider Whose access ends.
    function revokeAccess(address patient, address provider) external;

    /// @notice Revoke a live one-record grant (the record's patient or their live delegate).
    /// @param provider Whose access ends.
    /// @param recordId The record.
    function revokeRecordAccess(address provider, bytes32 recordId) external;

    /// @notice Submit a category grant the patient signed (EIP-712 `AccessGrant`); anyone may submit it.
    /// @param patient Who signed, and whose records.
    /// @param provider Who may read them.
    /// @param categories Bitmask of data categories (at least one).
    /// @param expiresAt When the access ends (in the future).
    /// @param nonce The patient's current nonce (`nonces(patient)`), consumed here.
    /// @param deadline Last block time at which the signature may be submitted.
    /// @param signature The patient's 65-byte ECDSA signature (low s), or a contract wallet's ERC-1271 one.
    function grantAccessBySig(
        address patient,
        address provider,
        uint64 categories,
        uint64 expiresAt,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Submit a revocation the patient signed (EIP-712 `AccessRevoke`); anyone may submit it.
    /// @param patient Who signed, and whose records.
    /// @param provider Whose category grant ends.
    /// @param nonce The patient's current nonce (`nonces(patient)`), consumed here.
    /// @param deadline Last block time at which the signature may be submitted.
    /// @param signature The patient's 65-byte ECDSA signature (low s), or a contract wallet's ERC-1271 one.
    function revokeAccessBySig(
        address patient,
        address provider,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Submit a one-record grant the record's patient signed (EIP-712 `RecordAccessGrant`).
    /// @param patient Who signed: the record's patient.
    /// @param provider Who may read the record.
    /// @param recordId The record.
    /// @param expiresAt When the access ends (in the future).
    /// @param nonce The patient's current nonce (`nonces(patient)`), consumed here.
    /// @param deadline Last block time at which the signature may be submitted.
    /// @param signature The patient's 65-byte ECDSA signature (low s), or a contract wallet's ERC-1271 one.
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
    /// @param patient Who signed: the record's patient.
    /// @param provider Whose access ends.
    /// @param recordId The record.
    /// @param nonce The patient's current nonce (`nonces(patient)`), consumed here.
    /// @param deadline Last block time at which the signature may be submitted.
    /// @param signature The patient's 65-byte ECDSA signature (low s), or a contract wallet's ERC-1271 one.
    function revokeRecordAccessBySig(
        address patient,
        address provider,
        bytes32 recordId,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice An EMERGENCY-credentialed provider opens access to `patient`'s records for `duration`.
    /// @param patient Whose records (not the zero address, not the caller).
    /// @param reasonCode Why, as a code (no free text on chain).
    /// @param duration Seconds of access, 1 to MAX_BREAK_GLASS.
    /// @return episodeId The new episode's id, which a REVIEWER later closes.
    function breakGlass(address patient, bytes32 reasonCode, uint64 duration) external returns (uint256 episodeId);

    /// @notice A REVIEWER closes an episode: approved, or flagged (which also ends its access).
    /// @param episodeId The open episode (not the reviewer's own).
    /// @param approved True to approve, false to flag.
    /// @param noteHash Hash of the reviewer's note (kept off chain).
    function reviewBreakGlass(uint256 episodeId, bool approved, bytes32 noteHash) external;

    /// @notice The record's custodian logs a read; reverts AccessDenied if `canAccess` is false.
    /// @param provider Who reads the record.
    /// @param recordId The record.
    /// @param purpose Why, as a purpose-of-use code hash.
    function logAccess(address provider, bytes32 recordId, bytes32 purpose) external;

    /// @notice A credentialed custodian commits the Merkle root of `count` read receipts it signed.
    /// @param root The Merkle root of the receipts (not zero).
    /// @param count How many receipts it commits to (at least one).
    function logAccessBatch(bytes32 root, uint32 count) external;

    /// @notice The single check: may `provider` read `recordId` now?
    /// @param provider Who would read.
    /// @param recordId The record.
    /// @return True if a live grant (with a live PROVIDER credential) or an open break-glass episode
    /// (with a live EMERGENCY credential) allows the read now.
    function canAccess(address provider, bytes32 recordId) external view returns (bool);

    /// @notice Why `provider` may read `recordId` now (None if not), and the break-glass episode if any.
    /// @param provider Who would read.
    /// @param recordId The record (an unknown record gives None).
    /// @return basis What allows the read: a one-record grant first, then a category grant, then break-glass.
    /// @return episodeId The episode that allows it (0 unless `basis` is BreakGlass).
    function accessBasis(address provider, bytes32 recordId) external view returns (Basis basis, uint256 episodeId);

    /// @notice A patient's category grant to a provider, whatever its state.
    /// @param patient Whose records.
    /// @param provider Who was granted.
    /// @return The grant's categories and times (all zero if never granted).
    function getGrant(address patient, address provider) external view returns (Grant memory);

    /// @notice A provider's one-record grant, whatever its state.
    /// @param provider Who was granted.
    /// @param recordId The record.
    /// @return The grant's times, `categories` 0 (all zero if never granted).
    function getRecordGrant(address provider, bytes32 recordId) external view returns (Grant memory);

    /// @notice A break-glass episode.
    /// @param episodeId The episode (1 to `episodeCount()`).
    /// @return Who opened it for whom, when, until when, why, and its review (all zero if none).
    function getEpisode(uint256 episodeId) external view returns (Episode memory);

    /// @notice How many times `provider` broke the glass.
    /// @param provider The clinician.
    /// @return The number of episodes they opened.
    function breakGlassCount(address provider) external view returns (uint256);

    /// @notice How many break-glass episodes were opened.
    /// @return The number of episodes; ids run from 1 to it.
    function episodeCount() external view returns (uint256);
}
