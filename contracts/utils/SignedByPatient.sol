// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

import {ISignedByPatient} from "../interfaces/ISignedByPatient.sol";

/// @title SignedByPatient
/// @notice EIP-712 signatures of patients, checked once: the domain binds chain id and contract,
/// a per-patient nonce is consumed by every signed action, and a deadline bounds when it may be used.
abstract contract SignedByPatient is ISignedByPatient, EIP712, Nonces {
    /// @inheritdoc ISignedByPatient
    function useNonce() external returns (uint256 nonce) {
        nonce = _useNonce(msg.sender);
        emit NonceUsed(msg.sender, nonce);
    }

    /// @notice The EIP-712 domain separator of this deployment (chain id and address bound).
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @dev Deadline, then nonce (consumed, so a signature works once), then the signature itself:
    /// an EOA's 65-byte ECDSA signature (low-s only; OZ 5.0 rejects the 64-byte EIP-2098 form) or an
    /// ERC-1271 contract wallet's answer, asked under STATICCALL so it cannot change state.
    function _checkSignature(
        address patient,
        bytes32 structHash,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) internal {
        if (patient == address(0)) revert InvalidPatient(patient);
        if (_time() > deadline) revert SignatureExpired(deadline, _time());
        _useCheckedNonce(patient, nonce);
        if (!SignatureChecker.isValidSignatureNow(patient, _hashTypedDataV4(structHash), signature)) {
            revert InvalidSignature(patient);
        }
    }

    /// @dev Block time as uint64; virtual so a test harness can move time without cheat codes.
    function _time() internal view virtual returns (uint64) {
        return uint64(block.timestamp);
    }
}
