// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {SignedByPatient} from "../utils/SignedByPatient.sol";

/// @title CompactSignatureHarness
/// @notice Test-only: SignedByPatient's compact (EIP-2098) signature check on a digest the test
/// chooses, so a high-s signature whose signer is known can be built (ecrecover accepts it) and shown
/// to be refused by the low-s rule alone.
contract CompactSignatureHarness is SignedByPatient {
    constructor() EIP712("CompactSignatureHarness", "1") {}

    /// @notice `_checkCompactSignedDigest` as it is; the patient's nonce is consumed when it passes.
    /// @param patient Who should have signed.
    /// @param digest The digest signed.
    /// @param nonce The patient's current nonce.
    /// @param deadline Last block time at which the signature may be used.
    /// @param r The signature's r.
    /// @param vs The signature's s with the y parity in its top bit.
    function checkCompact(address patient, bytes32 digest, uint256 nonce, uint256 deadline, bytes32 r, bytes32 vs)
        external
    {
        _checkCompactSignedDigest(patient, digest, nonce, deadline, r, vs);
    }
}
