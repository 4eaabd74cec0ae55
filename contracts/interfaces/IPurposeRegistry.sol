// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title IPurposeRegistry
/// @notice ERC-8356's purpose registry: whether one registered purpose code narrows another.
interface IPurposeRegistry {
    /// @notice Whether `childCode` is a registered narrowing of `parentCode` (strict: a code does not narrow itself).
    /// @param childCode The narrower purpose.
    /// @param parentCode The broader purpose.
    /// @return True when the registry records `childCode` under `parentCode`, directly or through registered steps.
    function isNarrowing(uint32 childCode, uint32 parentCode) external view returns (bool);
}

/// @title IPurposeCodes
/// @notice CareChain's purpose registry: uint32 codes, each bound for good to one ontology term (the keccak256 of
/// its CURIE, e.g. "DUO:0000006" for health/medical/biomedical research) and to the pinned ontology release it was
/// taken from, so a code's meaning cannot drift. Registration is the admin's (behind the timelock on public chains);
/// a code once registered never changes or goes away: grants name it for good.
interface IPurposeCodes is IPurposeRegistry {
    /// @notice What a code means.
    /// @param term keccak256 of the term's CURIE (0: the code is not registered).
    /// @param release keccak256 of the ontology release the term is taken from (e.g. a DUO release IRI).
    /// @param narrows The code this one narrows (0: none).
    struct Purpose {
        bytes32 term;
        bytes32 release;
        uint32 narrows;
    }

    /// @notice A code was registered.
    /// @param code The code.
    /// @param term keccak256 of the term's CURIE.
    /// @param release keccak256 of the pinned ontology release.
    /// @param narrows The code it narrows (0: none).
    event PurposeRegistered(uint32 indexed code, bytes32 term, bytes32 release, uint32 narrows);

    /// @notice Code 0 means "none" and cannot be registered; neither can a zero term or release.
    /// @param code The code.
    error InvalidPurpose(uint32 code);
    /// @notice A code is registered once, for good.
    /// @param code The code.
    error PurposeAlreadyRegistered(uint32 code);
    /// @notice A code can only narrow a registered code.
    /// @param narrows The code it was to narrow.
    error UnknownPurpose(uint32 narrows);

    /// @notice Register codes (admin only); each entry's `narrows` must already be registered or come earlier.
    /// @param codes The codes.
    /// @param purposes What each means.
    function register(uint32[] calldata codes, Purpose[] calldata purposes) external;

    /// @notice Whether a code is registered.
    /// @param code The code.
    /// @return True when registered.
    function isRegistered(uint32 code) external view returns (bool);

    /// @notice What a code means.
    /// @param code The code.
    /// @return The registration (a zero term: not registered).
    function purposeOf(uint32 code) external view returns (Purpose memory);
}
