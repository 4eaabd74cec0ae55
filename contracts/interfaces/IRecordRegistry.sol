// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title IRecordRegistry
/// @notice Anchors of health records kept off chain by their custodian (a hospital, a lab): who the
/// record is about, its data category, and the hash of each encrypted version. Versions append;
/// nothing is overwritten. Only the custodian who anchored a record writes to it.
/// @dev `recordId` is opaque (the custodian derives it, e.g. a salted hash of its own id) and
/// `contentHash` is the hash of the ciphertext: no identifier or content reaches the chain.
interface IRecordRegistry {
    /// @notice A record's fixed facts. `category` is a scope bit index (see `abi/purposes.json`).
    struct Record {
        address patient;
        uint8 category;
        uint32 versions;
        address custodian;
    }

    /// @notice One version of a record.
    struct Version {
        bytes32 contentHash;
        uint64 anchoredAt;
    }

    /// @notice A custodian anchored a new record (version 0) or appended a version.
    event RecordAnchored(
        bytes32 indexed recordId,
        address indexed patient,
        address indexed custodian,
        uint8 category,
        uint32 version,
        bytes32 contentHash
    );

    /// @notice The caller holds no live CUSTODIAN credential.
    error NotCustodian(address account);
    /// @notice The record belongs to another custodian.
    error NotRecordCustodian(bytes32 recordId, address custodian);
    /// @notice A record with this id exists already; append with `amend`.
    error RecordExists(bytes32 recordId);
    /// @notice No record with this id.
    error UnknownRecord(bytes32 recordId);
    /// @notice Zero record id, patient or content hash, or a category outside the 64 scope bits.
    error InvalidRecord(bytes32 recordId, address patient, uint8 category, bytes32 contentHash);
    /// @notice No such version.
    error UnknownVersion(bytes32 recordId, uint32 version);

    /// @notice Anchor a new record about `patient` in `category` with its first content hash.
    function anchor(bytes32 recordId, address patient, uint8 category, bytes32 contentHash) external;

    /// @notice Append a new version of a record (its custodian only).
    function amend(bytes32 recordId, bytes32 contentHash) external;

    /// @notice The record's facts; reverts UnknownRecord if there is none.
    function getRecord(bytes32 recordId) external view returns (Record memory);

    /// @notice One version; reverts UnknownVersion past the last.
    function getVersion(bytes32 recordId, uint32 version) external view returns (Version memory);

    /// @notice The latest version's content hash (what a gateway checks a blob against).
    function latestContentHash(bytes32 recordId) external view returns (bytes32);

    /// @notice True if the record exists.
    function exists(bytes32 recordId) external view returns (bool);
}
