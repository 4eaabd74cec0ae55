// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title IGuardianshipFactory
/// @notice Deploys guardianship accounts (one per grant) as minimal proxies of one implementation, at an address a
/// client computes before deployment: the grant's subject commitment is keccak256(abi.encode(subjectSalt, account)).
/// @dev The CREATE2 salt is keccak256(abi.encode(salt, guardianSigner, termEndsAt, successorSigner)): the address
/// commits to the account's set-up, so nobody who sees a pending deployment can take the address with other keys.
/// Anyone may deploy (the relayer does); deploying an account that exists returns it, and cannot differ from it.
interface IGuardianshipFactory {
    /// @notice A guardianship account was deployed and set up.
    /// @param account The account.
    event GuardianshipDeployed(address indexed account);

    /// @notice Deploy and set up the account for these parameters, or return it when it exists.
    /// @param salt The client's per-grant salt.
    /// @param guardianSigner The guardian's per-grant key.
    /// @param termEndsAt When the guardian's authority ends.
    /// @param successorSigner The patient's per-grant key (0: not named yet).
    /// @return account The account, at `predict(salt, guardianSigner, termEndsAt, successorSigner)`.
    function deploy(bytes32 salt, address guardianSigner, uint48 termEndsAt, address successorSigner)
        external
        returns (address account);

    /// @notice Where `deploy` puts the account for these parameters.
    /// @param salt The client's per-grant salt.
    /// @param guardianSigner The guardian's per-grant key.
    /// @param termEndsAt When the guardian's authority ends.
    /// @param successorSigner The patient's per-grant key (0: not named yet).
    /// @return The account's address.
    function predict(bytes32 salt, address guardianSigner, uint48 termEndsAt, address successorSigner)
        external
        view
        returns (address);

    /// @notice The GuardianshipAccount every account is a minimal proxy of.
    /// @return The implementation.
    function implementation() external view returns (address);
}
