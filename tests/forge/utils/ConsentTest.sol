// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ConsentRegistry} from "../../../contracts/ConsentRegistry.sol";
import {IConsentRegistry} from "../../../contracts/interfaces/IConsentRegistry.sol";

import {Vm, VM_ADDRESS} from "./Vm.sol";

/// @dev Shared set-up and helpers: a fresh registry at a fixed time, input bounding, and EIP-712
/// digests computed here from the spec, not read back from the contract under test.
abstract contract ConsentTest {
    Vm internal constant vm = Vm(VM_ADDRESS);

    /// @dev 2023-11-14: far enough from 0 that "expired" and "granted" times stay distinguishable.
    uint64 internal constant START = 1_700_000_000;
    uint256 internal constant MAX_TTL = 100 * 365 days;
    uint256 internal constant SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    address internal constant ANY_GRANTEE = address(type(uint160).max);
    bytes32 internal constant GRU = keccak256("DUO:0000042"); // general research use
    bytes32 internal constant DS = keccak256("DUO:0000007"); // disease-specific research

    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant GRANT_TYPEHASH = keccak256(
        "Grant(address patient,address grantee,bytes32 purpose,uint64 scopes,uint64 expiresAt,uint256 nonce,uint256 deadline)"
    );
    bytes32 internal constant REVOKE_TYPEHASH =
        keccak256("Revoke(address patient,address grantee,bytes32 purpose,uint256 nonce,uint256 deadline)");

    ConsentRegistry internal registry;

    function setUp() public virtual {
        vm.warp(START);
        registry = new ConsentRegistry();
    }

    /* ---- INPUTS ---- */

    /// @dev Keeps in-range values as they are (so the fuzzer's edge values survive), folds the rest.
    function _bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        if (x >= min && x <= max) return x;
        return min + x % (max - min + 1);
    }

    /// @dev An address that can act as a patient, grantee or delegate without aliasing a special one.
    function _assumeAccount(address account) internal view {
        vm.assume(
            account != address(0) && account != ANY_GRANTEE && account != address(registry) && account != VM_ADDRESS
        );
    }

    function _nonEmpty(uint64 scopes) internal pure returns (uint64) {
        return uint64(_bound(scopes, 1, type(uint64).max));
    }

    /// @dev Lowest set bit: the smallest non-empty subset of `scopes` (which must not be empty).
    function _lowestBit(uint64 scopes) internal pure returns (uint64) {
        return scopes & (~scopes + 1);
    }

    /// @dev A set bit of `mask` (non-empty), searched cyclically from bit `start % 64`.
    function _someBit(uint64 mask, uint8 start) internal pure returns (uint64) {
        for (uint8 i; i < 64; ++i) {
            uint64 bit = uint64(1) << ((start % 64 + i) % 64);
            if (mask & bit != 0) return bit;
        }
        revert("empty mask");
    }

    function _now() internal view returns (uint64) {
        return uint64(block.timestamp);
    }

    /// @dev An expiry 1 s to 100 years from now.
    function _futureExpiry(uint256 ttlSeed) internal view returns (uint64) {
        return _now() + uint64(_bound(ttlSeed, 1, MAX_TTL));
    }

    /* ---- ACTIONS ---- */

    function _grant(address patient, address grantee, bytes32 purpose, uint64 scopes, uint64 expiresAt) internal {
        vm.prank(patient);
        registry.grant(grantee, purpose, scopes, expiresAt);
    }

    /* ---- EIP-712 ---- */

    function _domainSeparator(uint256 chainId, address verifyingContract) internal pure returns (bytes32) {
        return _domainSeparator("CareChain ConsentRegistry", chainId, verifyingContract);
    }

    /// @dev The domain of any CareChain contract that signs: its name, version "1".
    function _domainSeparator(string memory name, uint256 chainId, address verifyingContract)
        internal
        pure
        returns (bytes32)
    {
        return
            keccak256(abi.encode(DOMAIN_TYPEHASH, keccak256(bytes(name)), keccak256("1"), chainId, verifyingContract));
    }

    function _digest(bytes32 structHash, uint256 chainId, address verifyingContract) internal pure returns (bytes32) {
        return _typedDataHash(_domainSeparator(chainId, verifyingContract), structHash);
    }

    function _typedDataHash(bytes32 domainSeparator, bytes32 structHash) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator, structHash));
    }

    function _grantStructHash(IConsentRegistry.SignedGrant memory s) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(GRANT_TYPEHASH, s.patient, s.grantee, s.purpose, s.scopes, s.expiresAt, s.nonce, s.deadline)
        );
    }

    /// @dev 65-byte r ‖ s ‖ v, the layout OpenZeppelin's ECDSA expects.
    function _sign(uint256 privateKey, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(privateKey, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @dev A grant signed by `privateKey` with the patient's current nonce, for `chainId` and
    /// `verifyingContract` (pass the live ones for a valid request).
    function _signedGrant(
        uint256 privateKey,
        address grantee,
        bytes32 purpose,
        uint64 scopes,
        uint64 expiresAt,
        uint256 deadline,
        uint256 chainId,
        address verifyingContract
    ) internal view returns (IConsentRegistry.SignedGrant memory s) {
        address patient = vm.addr(privateKey);
        s = IConsentRegistry.SignedGrant({
            patient: patient,
            grantee: grantee,
            purpose: purpose,
            scopes: scopes,
            expiresAt: expiresAt,
            nonce: registry.nonces(patient),
            deadline: deadline,
            signature: ""
        });
        s.signature = _sign(privateKey, _digest(_grantStructHash(s), chainId, verifyingContract));
    }

    function _privateKey(uint256 seed) internal pure returns (uint256) {
        return _bound(seed, 1, SECP256K1_ORDER - 1);
    }
}
