// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IConsentRegistry} from "../../../contracts/interfaces/IConsentRegistry.sol";

/// @dev EIP-2098: a 65-byte r ‖ s ‖ v signature as the two words (r, vs = s | (v - 27) << 255) of a
/// CompactSignedGrant, converted as a clinic's software does off chain.
abstract contract Compact {
    function _compactWords(bytes memory signature) internal pure returns (bytes32 r, bytes32 vs) {
        require(signature.length == 65, "not a 65-byte signature");
        bytes32 s;
        uint8 v;
        // solhint-disable-next-line no-inline-assembly
        assembly {
            r := mload(add(signature, 0x20))
            s := mload(add(signature, 0x40))
            v := byte(0, mload(add(signature, 0x60)))
        }
        vs = bytes32(uint256(v - 27) << 255 | uint256(s));
    }

    /// @dev The compact item of a signed grant (an EOA's 65-byte signature).
    function _compact(IConsentRegistry.SignedGrant memory s)
        internal
        pure
        returns (IConsentRegistry.CompactSignedGrant memory c)
    {
        (bytes32 r, bytes32 vs) = _compactWords(s.signature);
        c = IConsentRegistry.CompactSignedGrant({
            patient: s.patient,
            grantee: s.grantee,
            purpose: s.purpose,
            scopes: s.scopes,
            expiresAt: s.expiresAt,
            nonce: s.nonce,
            deadline: s.deadline,
            r: r,
            vs: vs
        });
    }
}
