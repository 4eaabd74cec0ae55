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
    /// @param recordId The custodian's opaque id of the record.
    /// @param patient Who the record is about.
    /// @param custodian Who keeps the record and anchored it.
    /// @param category The record's data category (a scope bit index).
    /// @param version The version anchored (0 for a new record).
    /// @param contentHash Hash of that version's ciphertext.
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

    /// @notice Anchor a new record about `patient` in `category` with its first content hash (the
    /// caller, who must hold a live CUSTODIAN credential, becomes its custodian).
    /// @param recordId The custodian's opaque id of the record (not zero, not yet anchored).
    /// @param patient Who the record is about (not the zero address).
    /// @param category The record's data category: a scope bit index, 0 to 63.
    /// @param contentHash Hash of the first version's ciphertext (not zero).
    function anchor(bytes32 recordId, address patient, uint8 category, bytes32 contentHash) external;

    /// @notice Append a new version of a record (its custodian only, with a live CUSTODIAN credential).
    /// @param recordId The record.
    /// @param contentHash Hash of the new version's ciphertext (not zero).
    function amend(bytes32 recordId, bytes32 contentHash) external;

    /// @notice The record's facts; reverts UnknownRecord if there is none.
    /// @param recordId The record.
    /// @return Its patient, category, number of versions and custodian.
    function getRecord(bytes32 recordId) external view returns (Record memory);

    /// @notice One version; reverts UnknownVersion past the last.
    /// @param recordId The record.
    /// @param version Which version, from 0 (the first) to the record's `versions` - 1.
    /// @return The version's content hash and when it was anchored.
    function getVersion(bytes32 recordId, uint32 version) external view returns (Version memory);

    /// @notice The latest version's content hash (what a gateway checks a blob against).
    /// @param recordId The record; reverts UnknownRecord if there is none.
    /// @return Hash of the latest version's ciphertext.
    function latestContentHash(bytes32 recordId) external view returns (bytes32);

    /// @notice Whether a record with this id was anchored.
    /// @param recordId The record.
    /// @return True if the record exists.
    function exists(bytes32 recordId) external view returns (bool);
}
