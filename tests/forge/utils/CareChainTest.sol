// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessGrants} from "../../../contracts/AccessGrants.sol";
import {CredentialRegistry} from "../../../contracts/CredentialRegistry.sol";
import {RecordRegistry} from "../../../contracts/RecordRegistry.sol";

import {ConsentTest} from "./ConsentTest.sol";

/// @dev The whole deployment on top of ConsentTest's registry (AccessGrants reads its delegates):
/// credentials with one registrar, records, access grants, and one credentialed custodian. Role
/// ids and EIP-712 types are written here from the spec, not read back from the contracts.
abstract contract CareChainTest is ConsentTest {
    address internal constant ADMIN = address(0xAD317);
    address internal constant REGISTRAR = address(0x4E6157);
    address internal constant CUSTODIAN = address(0xC057);
    uint48 internal constant ADMIN_DELAY = 2 days;

    bytes32 internal constant REGISTRAR_ROLE = keccak256("carechain.REGISTRAR");
    bytes32 internal constant PROVIDER = keccak256("carechain.credential.PROVIDER");
    bytes32 internal constant RESEARCHER = keccak256("carechain.credential.RESEARCHER");
    bytes32 internal constant IRB = keccak256("carechain.credential.IRB");
    bytes32 internal constant EMERGENCY = keccak256("carechain.credential.EMERGENCY");
    bytes32 internal constant REVIEWER = keccak256("carechain.credential.REVIEWER");
    bytes32 internal constant CUSTODIAN_ROLE = keccak256("carechain.credential.CUSTODIAN");
    bytes32 internal constant LICENSE = keccak256("licence: state medical board #1234");

    uint64 internal constant MAX_BREAK_GLASS = 24 hours;

    bytes32 internal constant ACCESS_GRANT_TYPEHASH = keccak256(
        "AccessGrant(address patient,address provider,uint64 categories,uint64 expiresAt,uint256 nonce,uint256 deadline)"
    );
    bytes32 internal constant ACCESS_REVOKE_TYPEHASH =
        keccak256("AccessRevoke(address patient,address provider,uint256 nonce,uint256 deadline)");

    CredentialRegistry internal credentials;
    RecordRegistry internal records;
    AccessGrants internal access;

    function setUp() public virtual override {
        super.setUp();
        credentials = new CredentialRegistry(ADMIN, ADMIN_DELAY);
        vm.prank(ADMIN);
        credentials.grantRole(REGISTRAR_ROLE, REGISTRAR);
        records = new RecordRegistry(credentials);
        access = new AccessGrants(registry, credentials, records);
        _attest(CUSTODIAN, CUSTODIAN_ROLE);
    }

    /* ---- INPUTS ---- */

    /// @dev A fuzzed account that is none of the fixed actors or contracts.
    function _assumeFresh(address account) internal view {
        _assumeAccount(account);
        vm.assume(
            account != ADMIN && account != REGISTRAR && account != CUSTODIAN && account != address(credentials)
                && account != address(records) && account != address(access) && account != address(this)
        );
    }

    /// @dev One of the six credential roles.
    function _role(uint256 seed) internal pure returns (bytes32) {
        return [PROVIDER, RESEARCHER, IRB, EMERGENCY, REVIEWER, CUSTODIAN_ROLE][seed % 6];
    }

    function _isCredentialRole(bytes32 role) internal pure returns (bool) {
        return role == PROVIDER || role == RESEARCHER || role == IRB || role == EMERGENCY || role == REVIEWER
            || role == CUSTODIAN_ROLE;
    }

    /* ---- ACTIONS ---- */

    /// @dev An open-ended credential, valid from now.
    function _attest(address account, bytes32 role) internal {
        vm.prank(REGISTRAR);
        credentials.attest(account, role, LICENSE, _now(), 0);
    }

    function _suspend(address account, bytes32 role) internal {
        vm.prank(REGISTRAR);
        credentials.suspend(account, role);
    }

    function _anchor(bytes32 recordId, address patient, uint8 category) internal {
        vm.prank(CUSTODIAN);
        records.anchor(recordId, patient, category, keccak256(abi.encode("ciphertext", recordId)));
    }

    /* ---- EIP-712 ---- */

    function _accessDigest(bytes32 structHash, uint256 chainId, address verifyingContract)
        internal
        pure
        returns (bytes32)
    {
        return _typedDataHash(_domainSeparator("CareChain AccessGrants", chainId, verifyingContract), structHash);
    }

    /// @dev A category grant signed by `privateKey` with `nonce`, for `chainId` and `verifyingContract`.
    function _signAccessGrant(
        uint256 privateKey,
        address provider,
        uint64 categories,
        uint64 expiresAt,
        uint256 nonce,
        uint256 deadline,
        uint256 chainId,
        address verifyingContract
    ) internal pure returns (bytes memory) {
        bytes32 structHash = keccak256(
            abi.encode(ACCESS_GRANT_TYPEHASH, vm.addr(privateKey), provider, categories, expiresAt, nonce, deadline)
        );
        return _sign(privateKey, _accessDigest(structHash, chainId, verifyingContract));
    }

    function _signAccessRevoke(
        uint256 privateKey,
        address provider,
        uint256 nonce,
        uint256 deadline,
        uint256 chainId,
        address verifyingContract
    ) internal pure returns (bytes memory) {
        bytes32 structHash = keccak256(
            abi.encode(ACCESS_REVOKE_TYPEHASH, vm.addr(privateKey), provider, nonce, deadline)
        );
        return _sign(privateKey, _accessDigest(structHash, chainId, verifyingContract));
    }
}
