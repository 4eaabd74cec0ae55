// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";

import {ICredentialRegistry} from "./interfaces/ICredentialRegistry.sol";
import {
    Clock,
    CUSTODIAN_CREDENTIAL,
    EMERGENCY_CREDENTIAL,
    IRB_CREDENTIAL,
    PROVIDER_CREDENTIAL,
    RESEARCHER_CREDENTIAL,
    REVIEWER_CREDENTIAL
} from "./utils/Common.sol";

/// @title CredentialRegistry
/// @notice Registrars attest credentials; everyone else asks `hasCredential`. The admin (two-step,
/// delayed transfer) only appoints and removes registrars.
contract CredentialRegistry is ICredentialRegistry, AccessControlDefaultAdminRules, Clock {
    /// @notice May attest, suspend, reinstate and revoke credentials.
    bytes32 public constant REGISTRAR_ROLE = keccak256("carechain.REGISTRAR");

    /* ---- credential roles (what a credential says about its holder; see utils/Common.sol) ---- */
    /// @notice A clinician who may be granted access to records.
    bytes32 public constant PROVIDER = PROVIDER_CREDENTIAL;
    /// @notice A trial site's investigator.
    bytes32 public constant RESEARCHER = RESEARCHER_CREDENTIAL;
    /// @notice An institutional review board that approves trial protocols.
    bytes32 public constant IRB = IRB_CREDENTIAL;
    /// @notice A clinician who may break the glass in an emergency.
    bytes32 public constant EMERGENCY = EMERGENCY_CREDENTIAL;
    /// @notice Who reviews break-glass episodes.
    bytes32 public constant REVIEWER = REVIEWER_CREDENTIAL;
    /// @notice A record's keeper: anchors records and logs reads of them.
    bytes32 public constant CUSTODIAN = CUSTODIAN_CREDENTIAL;

    mapping(address account => mapping(bytes32 role => Credential)) private _credentials;

    /// @notice Deploys with `admin` as the default admin and no registrar yet.
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
        // A suspension is lifted by `reinstate` only: neither a renewal nor revoke + attest bypasses it.
        Status status = _credentials[account][role].status;
        if (status == Status.Suspended || status == Status.RevokedWhileSuspended) {
            revert InvalidCredentialStatus(account, role, status);
        }
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
        Status status = _credentials[account][role].status;
        if (status == Status.Suspended) _credentials[account][role].status = Status.Active;
        else if (status == Status.RevokedWhileSuspended) _credentials[account][role].status = Status.Revoked;
        else revert InvalidCredentialStatus(account, role, status);
        emit CredentialReinstated(account, role, msg.sender);
    }

    /// @inheritdoc ICredentialRegistry
    function revoke(address account, bytes32 role) external onlyRole(REGISTRAR_ROLE) {
        Status status = _credentials[account][role].status;
        if (status == Status.Active) _credentials[account][role].status = Status.Revoked;
        else if (status == Status.Suspended) _credentials[account][role].status = Status.RevokedWhileSuspended;
        else revert InvalidCredentialStatus(account, role, status);
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
}
