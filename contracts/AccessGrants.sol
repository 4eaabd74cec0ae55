// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {IAccessGrants} from "./interfaces/IAccessGrants.sol";
import {IConsentRegistry} from "./interfaces/IConsentRegistry.sol";
import {ICredentialRegistry} from "./interfaces/ICredentialRegistry.sol";
import {IRecordRegistry} from "./interfaces/IRecordRegistry.sol";
import {
    CUSTODIAN_CREDENTIAL,
    EMERGENCY_CREDENTIAL,
    EmptyBatch,
    InvalidExpiry,
    NotPatientOrDelegate,
    PROVIDER_CREDENTIAL,
    REVIEWER_CREDENTIAL
} from "./utils/Common.sol";
import {SignedByPatient} from "./utils/SignedByPatient.sol";

/// @title AccessGrants
/// @notice Who may read which record now, and the evidence of every read. Grants come from the
/// patient or a live delegate (ConsentRegistry's delegates); providers' credentials are re-checked
/// at every `canAccess`; break-glass episodes stay open until a reviewer closes them.
contract AccessGrants is IAccessGrants, SignedByPatient {
    /// @notice Longest break-glass access one episode opens.
    uint64 public constant MAX_BREAK_GLASS = 24 hours;

    /// @notice EIP-712 type of a signed category grant.
    bytes32 public constant ACCESS_GRANT_TYPEHASH = keccak256(
        "AccessGrant(address patient,address provider,uint64 categories,uint64 expiresAt,uint256 nonce,uint256 deadline)"
    );
    /// @notice EIP-712 type of a signed revocation of a category grant.
    bytes32 public constant ACCESS_REVOKE_TYPEHASH =
        keccak256("AccessRevoke(address patient,address provider,uint256 nonce,uint256 deadline)");
    /// @notice EIP-712 type of a signed one-record grant.
    bytes32 public constant RECORD_ACCESS_GRANT_TYPEHASH = keccak256(
        "RecordAccessGrant(address patient,address provider,bytes32 recordId,uint64 expiresAt,uint256 nonce,uint256 deadline)"
    );
    /// @notice EIP-712 type of a signed one-record revocation.
    bytes32 public constant RECORD_ACCESS_REVOKE_TYPEHASH = keccak256(
        "RecordAccessRevoke(address patient,address provider,bytes32 recordId,uint256 nonce,uint256 deadline)"
    );

    /// @notice Where patients' delegates are asked.
    IConsentRegistry public immutable consents;
    /// @notice Where providers', emergency clinicians', reviewers' and custodians' credentials are asked.
    ICredentialRegistry public immutable credentials;
    /// @notice Where records' patients and custodians are read.
    IRecordRegistry public immutable records;

    mapping(address patient => mapping(address provider => Grant)) private _grants;
    mapping(address provider => mapping(bytes32 recordId => Grant)) private _recordGrants;
    mapping(uint256 episodeId => Episode) private _episodes;
    mapping(address patient => mapping(address provider => uint256 episodeId)) private _lastEpisode;
    mapping(address provider => uint256) private _breakGlassCount;
    uint256 private _episodeCount;

    constructor(IConsentRegistry consents_, ICredentialRegistry credentials_, IRecordRegistry records_)
        EIP712("CareChain AccessGrants", "1")
    {
        consents = consents_;
        credentials = credentials_;
        records = records_;
    }

    /* ------------------------------------------------------------------ */
    /*                               GRANTS                               */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IAccessGrants
    function grantAccess(address patient, address provider, uint64 categories, uint64 expiresAt) external {
        _checkActor(patient);
        _grant(patient, provider, categories, expiresAt, msg.sender);
    }

    /// @inheritdoc IAccessGrants
    function grantRecordAccess(address provider, bytes32 recordId, uint64 expiresAt) external {
        address patient = records.getRecord(recordId).patient;
        _checkActor(patient);
        _grantRecord(patient, provider, recordId, expiresAt, msg.sender);
    }

    /// @inheritdoc IAccessGrants
    function revokeAccess(address patient, address provider) external {
        _checkActor(patient);
        _revoke(patient, provider, msg.sender);
    }

    /// @inheritdoc IAccessGrants
    function revokeRecordAccess(address provider, bytes32 recordId) external {
        address patient = records.getRecord(recordId).patient;
        _checkActor(patient);
        _revokeRecord(patient, provider, recordId, msg.sender);
    }

    /// @inheritdoc IAccessGrants
    function grantAccessBySig(
        address patient,
        address provider,
        uint64 categories,
        uint64 expiresAt,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash =
            keccak256(abi.encode(ACCESS_GRANT_TYPEHASH, patient, provider, categories, expiresAt, nonce, deadline));
        _checkSignature(patient, structHash, nonce, deadline, signature);
        _grant(patient, provider, categories, expiresAt, patient);
    }

    /// @inheritdoc IAccessGrants
    function revokeAccessBySig(
        address patient,
        address provider,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(abi.encode(ACCESS_REVOKE_TYPEHASH, patient, provider, nonce, deadline));
        _checkSignature(patient, structHash, nonce, deadline, signature);
        _revoke(patient, provider, patient);
    }

    /// @inheritdoc IAccessGrants
    function grantRecordAccessBySig(
        address patient,
        address provider,
        bytes32 recordId,
        uint64 expiresAt,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        _checkRecordPatient(recordId, patient);
        bytes32 structHash = keccak256(
            abi.encode(RECORD_ACCESS_GRANT_TYPEHASH, patient, provider, recordId, expiresAt, nonce, deadline)
        );
        _checkSignature(patient, structHash, nonce, deadline, signature);
        _grantRecord(patient, provider, recordId, expiresAt, patient);
    }

    /// @inheritdoc IAccessGrants
    function revokeRecordAccessBySig(
        address patient,
        address provider,
        bytes32 recordId,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        _checkRecordPatient(recordId, patient);
        bytes32 structHash =
            keccak256(abi.encode(RECORD_ACCESS_REVOKE_TYPEHASH, patient, provider, recordId, nonce, deadline));
        _checkSignature(patient, structHash, nonce, deadline, signature);
        _revokeRecord(patient, provider, recordId, patient);
    }

    /* ------------------------------------------------------------------ */
    /*                             BREAK-GLASS                            */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IAccessGrants
    function breakGlass(address patient, bytes32 reasonCode, uint64 duration) external returns (uint256 episodeId) {
        if (!credentials.hasCredential(msg.sender, EMERGENCY_CREDENTIAL)) revert NotEmergencyProvider(msg.sender);
        if (patient == address(0) || patient == msg.sender) revert InvalidPatient(patient);
        if (duration == 0 || duration > MAX_BREAK_GLASS) revert InvalidBreakGlassDuration(duration, MAX_BREAK_GLASS);
        episodeId = ++_episodeCount;
        uint64 expiresAt = _time() + duration;
        _episodes[episodeId] = Episode({
            provider: msg.sender,
            openedAt: _time(),
            expiresAt: expiresAt,
            patient: patient,
            review: Review.Open,
            reviewer: address(0),
            reasonCode: reasonCode
        });
        _lastEpisode[patient][msg.sender] = episodeId;
        uint256 count = ++_breakGlassCount[msg.sender];
        emit BreakGlassOpened(episodeId, patient, msg.sender, reasonCode, expiresAt, count);
    }

    /// @inheritdoc IAccessGrants
    function reviewBreakGlass(uint256 episodeId, bool approved, bytes32 noteHash) external {
        if (!credentials.hasCredential(msg.sender, REVIEWER_CREDENTIAL)) revert NotReviewer(msg.sender);
        Episode storage episode = _episodes[episodeId];
        if (episode.review != Review.Open) revert EpisodeNotOpen(episodeId);
        if (episode.provider == msg.sender) revert SelfReview(episodeId, msg.sender);
        episode.review = approved ? Review.Approved : Review.Flagged;
        episode.reviewer = msg.sender;
        if (!approved && episode.expiresAt > _time()) episode.expiresAt = _time();
        emit BreakGlassReviewed(episodeId, msg.sender, approved, noteHash);
    }

    /* ------------------------------------------------------------------ */
    /*                             ACCESS LOG                             */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IAccessGrants
    function logAccess(address provider, bytes32 recordId, bytes32 purpose) external {
        IRecordRegistry.Record memory record = records.getRecord(recordId);
        // The record's custodian, and only while its CUSTODIAN credential is live (as for `amend`).
        if (record.custodian != msg.sender || !credentials.hasCredential(msg.sender, CUSTODIAN_CREDENTIAL)) {
            revert NotRecordCustodian(recordId, msg.sender);
        }
        (Basis basis, uint256 episodeId) = _basis(provider, recordId, record);
        if (basis == Basis.None) revert AccessDenied(provider, recordId);
        emit RecordAccessed(recordId, record.patient, provider, purpose, basis, episodeId);
    }

    /// @inheritdoc IAccessGrants
    /// @dev The receipts stay with the gateway (each provider gets its own and a proof); the chain
    /// keeps the root, so no receipt can be added, dropped or changed after the commit.
    function logAccessBatch(bytes32 root, uint32 count) external {
        if (!credentials.hasCredential(msg.sender, CUSTODIAN_CREDENTIAL)) revert NotCustodian(msg.sender);
        if (root == bytes32(0) || count == 0) revert EmptyBatch();
        emit AccessBatchLogged(msg.sender, root, count);
    }

    /* ------------------------------------------------------------------ */
    /*                                VIEWS                               */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IAccessGrants
    function canAccess(address provider, bytes32 recordId) external view returns (bool) {
        (Basis basis,) = accessBasis(provider, recordId);
        return basis != Basis.None;
    }

    /// @inheritdoc IAccessGrants
    function accessBasis(address provider, bytes32 recordId) public view returns (Basis basis, uint256 episodeId) {
        if (!records.exists(recordId)) return (Basis.None, 0);
        return _basis(provider, recordId, records.getRecord(recordId));
    }

    /// @inheritdoc IAccessGrants
    function getGrant(address patient, address provider) external view returns (Grant memory) {
        return _grants[patient][provider];
    }

    /// @inheritdoc IAccessGrants
    function getRecordGrant(address provider, bytes32 recordId) external view returns (Grant memory) {
        return _recordGrants[provider][recordId];
    }

    /// @inheritdoc IAccessGrants
    function getEpisode(uint256 episodeId) external view returns (Episode memory) {
        return _episodes[episodeId];
    }

    /// @inheritdoc IAccessGrants
    function breakGlassCount(address provider) external view returns (uint256) {
        return _breakGlassCount[provider];
    }

    /// @inheritdoc IAccessGrants
    function episodeCount() external view returns (uint256) {
        return _episodeCount;
    }

    /* ------------------------------------------------------------------ */
    /*                              INTERNALS                             */
    /* ------------------------------------------------------------------ */

    /// @dev Credentials are asked now, not at grant time: a suspended or expired provider reads nothing.
    function _basis(address provider, bytes32 recordId, IRecordRegistry.Record memory record)
        private
        view
        returns (Basis, uint256)
    {
        if (credentials.hasCredential(provider, PROVIDER_CREDENTIAL)) {
            if (_isLive(_recordGrants[provider][recordId])) return (Basis.RecordGrant, 0);
            Grant storage grant = _grants[record.patient][provider];
            if (_isLive(grant) && grant.categories & (uint64(1) << record.category) != 0) {
                return (Basis.CategoryGrant, 0);
            }
        }
        uint256 episodeId = _lastEpisode[record.patient][provider];
        if (
            episodeId != 0 && _time() < _episodes[episodeId].expiresAt
                && credentials.hasCredential(provider, EMERGENCY_CREDENTIAL)
        ) {
            return (Basis.BreakGlass, episodeId);
        }
        return (Basis.None, 0);
    }

    function _grant(address patient, address provider, uint64 categories, uint64 expiresAt, address actor) private {
        if (categories == 0) revert EmptyCategories();
        _checkGrantee(provider, expiresAt);
        _grants[patient][provider] = Grant(categories, _time(), expiresAt, 0);
        emit AccessGranted(patient, provider, bytes32(0), categories, expiresAt, actor);
    }

    function _grantRecord(address patient, address provider, bytes32 recordId, uint64 expiresAt, address actor)
        private
    {
        _checkGrantee(provider, expiresAt);
        _recordGrants[provider][recordId] = Grant(0, _time(), expiresAt, 0);
        emit AccessGranted(patient, provider, recordId, 0, expiresAt, actor);
    }

    function _revokeRecord(address patient, address provider, bytes32 recordId, address actor) private {
        Grant storage grant = _recordGrants[provider][recordId];
        if (!_isLive(grant)) revert GrantNotActive(patient, provider, recordId);
        grant.revokedAt = _time();
        emit AccessRevoked(patient, provider, recordId, actor);
    }

    function _checkRecordPatient(bytes32 recordId, address patient) private view {
        if (records.getRecord(recordId).patient != patient) revert NotRecordPatient(recordId, patient);
    }

    function _revoke(address patient, address provider, address actor) private {
        Grant storage grant = _grants[patient][provider];
        if (!_isLive(grant)) revert GrantNotActive(patient, provider, bytes32(0));
        grant.revokedAt = _time();
        emit AccessRevoked(patient, provider, bytes32(0), actor);
    }

    function _checkGrantee(address provider, uint64 expiresAt) private view {
        if (expiresAt <= _time()) revert InvalidExpiry(expiresAt, _time());
        if (!credentials.hasCredential(provider, PROVIDER_CREDENTIAL)) revert UncredentialedProvider(provider);
    }

    function _checkActor(address patient) private view {
        if (patient == address(0)) revert InvalidPatient(patient);
        if (msg.sender != patient && !consents.isDelegate(patient, msg.sender)) {
            revert NotPatientOrDelegate(msg.sender, patient);
        }
    }

    function _isLive(Grant storage grant) private view returns (bool) {
        return grant.grantedAt != 0 && grant.revokedAt == 0 && _time() < grant.expiresAt;
    }
}
