// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";

import {GuardianshipAccount} from "./GuardianshipAccount.sol";
import {IGuardianshipAccount} from "./interfaces/IGuardianshipAccount.sol";
import {IGuardianshipFactory} from "./interfaces/IGuardianshipFactory.sol";

/// @title GuardianshipFactory
/// @notice Deploys one GuardianshipAccount per grant, deterministically, as a minimal proxy (ERC-1167): a clone costs
/// a fraction of the account's own deployment. docs/private-consent.md, "Guardianship".
contract GuardianshipFactory is IGuardianshipFactory {
    address private immutable _implementation;

    /// @notice Deploy the (locked) implementation the accounts are clones of.
    constructor() {
        _implementation = address(new GuardianshipAccount());
    }

    /// @inheritdoc IGuardianshipFactory
    function deploy(bytes32 salt, address guardianSigner, uint48 termEndsAt, address successorSigner)
        external
        returns (address account)
    {
        bytes32 create2Salt = _create2Salt(salt, guardianSigner, termEndsAt, successorSigner);
        address existing = Clones.predictDeterministicAddress(_implementation, create2Salt);
        if (existing.code.length != 0) return existing;
        account = Clones.cloneDeterministic(_implementation, create2Salt);
        emit GuardianshipDeployed(account);
        IGuardianshipAccount(account).initialize(guardianSigner, termEndsAt, successorSigner);
    }

    /// @inheritdoc IGuardianshipFactory
    function predict(bytes32 salt, address guardianSigner, uint48 termEndsAt, address successorSigner)
        external
        view
        returns (address)
    {
        return Clones.predictDeterministicAddress(
            _implementation, _create2Salt(salt, guardianSigner, termEndsAt, successorSigner)
        );
    }

    /// @inheritdoc IGuardianshipFactory
    function implementation() external view returns (address) {
        return _implementation;
    }

    function _create2Salt(bytes32 salt, address guardianSigner, uint48 termEndsAt, address successorSigner)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(salt, guardianSigner, termEndsAt, successorSigner));
    }
}
