// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ICredentialRegistry} from "./interfaces/ICredentialRegistry.sol";
import {IRecordRegistry} from "./interfaces/IRecordRegistry.sol";
import {Clock, CUSTODIAN_CREDENTIAL} from "./utils/Common.sol";

/// @title RecordRegistry
/// @notice Record anchors: the chain knows that a record exists, whose it is, its category, its
/// custodian and the hash of every encrypted version; the record itself stays with its custodian.
contract RecordRegistry is IRecordRegistry, Clock {
    uint8 private constant _MAX_CATEGORY = 63;

    /// @notice Where custodians' credentials are checked.
    ICredentialRegistry public immutable credentials;

    mapping(bytes32 recordId => Record) private _records;
    mapping(bytes32 recordId => mapping(uint32 version => Version)) private _versions;

    constructor(ICredentialRegistry credentials_) {
        credentials = credentials_;
    }

    /// @inheritdoc IRecordRegistry
    function anchor(bytes32 recordId, address patient, uint8 category, bytes32 contentHash) external {
        if (!credentials.hasCredential(msg.sender, CUSTODIAN_CREDENTIAL)) revert NotCustodian(msg.sender);
        if (recordId == bytes32(0) || patient == address(0) || category > _MAX_CATEGORY || contentHash == bytes32(0))
        {
            revert InvalidRecord(recordId, patient, category, contentHash);
        }
        if (_records[recordId].versions != 0) revert RecordExists(recordId);
        _records[recordId] = Record({patient: patient, category: category, versions: 1, custodian: msg.sender});
        _versions[recordId][0] = Version(contentHash, _time());
        emit RecordAnchored(recordId, patient, msg.sender, category, 0, contentHash);
    }

    /// @inheritdoc IRecordRegistry
    function amend(bytes32 recordId, bytes32 contentHash) external {
        Record storage record = _records[recordId];
        if (record.versions == 0) revert UnknownRecord(recordId);
        if (record.custodian != msg.sender) revert NotRecordCustodian(recordId, msg.sender);
        if (!credentials.hasCredential(msg.sender, CUSTODIAN_CREDENTIAL)) revert NotCustodian(msg.sender);
        if (contentHash == bytes32(0)) revert InvalidRecord(recordId, record.patient, record.category, contentHash);
        // The value before the increment is the new version (post-increment on purpose).
        // solhint-disable-next-line gas-increment-by-one
        uint32 version = record.versions++;
        _versions[recordId][version] = Version(contentHash, _time());
        emit RecordAnchored(recordId, record.patient, msg.sender, record.category, version, contentHash);
    }

    /// @inheritdoc IRecordRegistry
    function getRecord(bytes32 recordId) public view returns (Record memory) {
        Record memory record = _records[recordId];
        if (record.versions == 0) revert UnknownRecord(recordId);
        return record;
    }

    /// @inheritdoc IRecordRegistry
    function getVersion(bytes32 recordId, uint32 version) external view returns (Version memory) {
        if (version >= getRecord(recordId).versions) revert UnknownVersion(recordId, version);
        return _versions[recordId][version];
    }

    /// @inheritdoc IRecordRegistry
    function latestContentHash(bytes32 recordId) external view returns (bytes32) {
        return _versions[recordId][getRecord(recordId).versions - 1].contentHash;
    }

    /// @inheritdoc IRecordRegistry
    function exists(bytes32 recordId) external view returns (bool) {
        return _records[recordId].versions != 0;
    }}
