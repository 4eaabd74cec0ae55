// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";

import {ICredentialRegistry} from "./interfaces/ICredentialRegistry.sol";

/// @title CredentialRegistry
/// @notice Registrars attest credentials; everyone else asks `hasCredential`. The admin (two-step,
/// delayed transfer) only appoints and removes registrars.
contract CredentialRegistry is ICredentialRegistry, AccessControlDefaultAdminRules {
    /// @notice May attest, suspend, reinstate and revoke credentials.
    bytes32 public constant REGISTRAR_ROLE = keccak256("carechain.REGISTRAR");

    /* ---- credential roles (what a credential says about its holder) ---- */
    bytes32 public constant PROVIDER = keccak256("carechain.credential.PROVIDER");
    bytes32 public constant RESEARCHER = keccak256("carechain.credential.RESEARCHER");
    bytes32 public constant IRB = keccak256("carechain.credential.IRB");
    bytes32 public constant EMERGENCY = keccak256("carechain.credential.EMERGENCY");
    bytes32 public constant REVIEWER = keccak256("carechain.credential.REVIEWER");
    bytes32 public constant CUSTODIAN = keccak256("carechain.credential.CUSTODIAN");

    mapping(address account => mapping(bytes32 role => Credential)) private _credentials;

    /// @param admin The default admin, who appoints registrars.
    /// @param adminDelay Seconds a transfer of the admin role must wait before it can be accepted.
    constructor(address admin, uint48 adminDelay) AccessControlDefaultAdminRules(adminDelay, admin) {}

    /// @inheritdoc ICredentialRegistry
    function attest(address account, bytes32 role, bytes32 licenseHash, uint64 validFrom, uint64 validUntil)
        external
        onlyRole(REGISTRAR_ROLE)
    {
        if (account == address(0)) revert InvalidAccount(account);
        _requireKnownRole(role);
        if (licenseHash == bytes32(0)) revert InvalidLicenseHash();
        if (validUntil != 0 && (validUntil <= validFrom || validUntil <= _time())) {
            revert InvalidValidity(validFrom, validUntil);
        }
        // A suspension is lifted by `reinstate` only: a renewal must not bypass it.
        Status status = _credentials[account][role].status;
        if (status == Status.Suspended) revert InvalidCredentialStatus(account, role, status);
        _credentials[account][role] = Credential(licenseHash, validFrom, validUntil, Status.Active);
        emit CredentialAttested(account, role, licenseHash, validFrom, validUntil, msg.sender);
    }

    /// @inheritdoc ICredentialRegistry
    function suspend(address account, bytes32 role) external onlyRole(REGISTRAR_ROLE) {
        _move(account, role, Status.Active, Status.Suspended);
        emit CredentialSuspended(account, role, msg.sender);
    }

    /// @inheritdoc ICredentialRegistry
    function reinstate(address account, bytes32 role) external onlyRole(REGISTRAR_ROLE) {
        _move(account, role, Status.Suspended, Status.Active);
        emit CredentialReinstated(account, role, msg.sender);
    }

    /// @inheritdoc ICredentialRegistry
    function revoke(address account, bytes32 role) external onlyRole(REGISTRAR_ROLE) {
        Status status = _credentials[account][role].status;
        if (status != Status.Active && status != Status.Suspended) {
            revert InvalidCredentialStatus(account, role, status);
        }
        _credentials[account][role].status = Status.Revoked;
        emit CredentialRevoked(account, role, msg.sender);
    }

    /// @inheritdoc ICredentialRegistry
    function hasCredential(address account, bytes32 role) external view returns (bool) {
        Credential storage c = _credentials[account][role];
        uint64 now_ = _time();
        return c.status == Status.Active && c.validFrom <= now_ && (c.validUntil == 0 || now_ < c.validUntil);
    }

    /// @inheritdoc ICredentialRegistry
    function getCredential(address account, bytes32 role) external view returns (Credential memory) {
        return _credentials[account][role];
    }

    function _move(address account, bytes32 role, Status from, Status to) private {
        Status status = _credentials[account][role].status;
        if (status != from) revert InvalidCredentialStatus(account, role, status);
        _credentials[account][role].status = to;
    }

    function _requireKnownRole(bytes32 role) private pure {
        if (
            role != PROVIDER && role != RESEARCHER && role != IRB && role != EMERGENCY && role != REVIEWER
                && role != CUSTODIAN
        ) revert UnknownRole(role);
    }

    /// @dev Block time as uint64; virtual so a test harness can move time without cheat codes.
    function _time() internal view virtual returns (uint64) {
        return uint64(block.timestamp);
    }
}
