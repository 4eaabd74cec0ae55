// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {IPurposeCodes, IPurposeRegistry} from "./interfaces/IPurposeRegistry.sol";

/// @title PurposeRegistry
/// @notice The purpose codes grants name (GA4GH DUO and HL7 purposes of use, each pinned to its release), and
/// which code narrows which (HMB narrows GRU). Append-only: nobody can change or remove a code.
contract PurposeRegistry is IPurposeCodes, AccessControl {
    /// @dev How many narrowing steps `isNarrowing` follows (DUO's permission hierarchy is three deep).
    uint256 private constant MAX_STEPS = 8;

    mapping(uint32 code => Purpose) private _purposes;

    /// @notice Deploy with the admin who registers codes.
    /// @param admin Who registers codes (the deployer on a local chain, a multisig or timelock on a public one).
    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IPurposeCodes
    function register(uint32[] calldata codes, Purpose[] calldata purposes) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 n = codes.length;
        if (n != purposes.length) revert InvalidPurpose(0);
        for (uint256 i = 0; i < n; ++i) {
            uint32 code = codes[i];
            Purpose calldata p = purposes[i];
            if (code == 0 || p.term == bytes32(0) || p.release == bytes32(0)) revert InvalidPurpose(code);
            if (_purposes[code].term != bytes32(0)) revert PurposeAlreadyRegistered(code);
            if (p.narrows != 0 && (p.narrows == code || _purposes[p.narrows].term == bytes32(0))) {
                revert UnknownPurpose(p.narrows);
            }
            _purposes[code] = p;
            emit PurposeRegistered(code, p.term, p.release, p.narrows);
        }
    }

    /// @inheritdoc IPurposeRegistry
    function isNarrowing(uint32 childCode, uint32 parentCode) external view returns (bool) {
        if (parentCode == 0) return false;
        uint32 code = childCode;
        for (uint256 i = 0; i < MAX_STEPS; ++i) {
            code = _purposes[code].narrows;
            if (code == 0) return false;
            if (code == parentCode) return true;
        }
        return false;
    }

    /// @inheritdoc IPurposeCodes
    function isRegistered(uint32 code) external view returns (bool) {
        return _purposes[code].term != bytes32(0);
    }

    /// @inheritdoc IPurposeCodes
    function purposeOf(uint32 code) external view returns (Purpose memory) {
        return _purposes[code];
    }
}
