// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {GuardianshipFactory} from "../../../contracts/GuardianshipFactory.sol";
import {IConsentGrants} from "../../../contracts/interfaces/IConsentGrants.sol";
import {IGuardianshipAccount} from "../../../contracts/interfaces/IGuardianshipAccount.sol";

import {GrantsTest} from "./GrantsTest.sol";

/// @dev GrantsTest plus a guardianship factory and wards: one guardianship account per grant, its guardian's and
/// patient's per-grant keys, and the grant's subject commitment to the account. The account's typed data is written
/// here from IGuardianshipAccount's text, not read back from the contract under test.
abstract contract GuardianTest is GrantsTest {
    uint48 internal constant TERM_ENDS = START + 2 * 365 days;

    bytes32 internal constant SET_SUCCESSOR_TYPEHASH =
        keccak256("SetSuccessor(address successorSigner,uint256 nonce,uint256 deadline)");
    bytes32 internal constant SHORTEN_TERM_TYPEHASH =
        keccak256("ShortenTerm(uint48 termEndsAt,uint256 nonce,uint256 deadline)");
    bytes32 internal constant ACCOUNT_BURN_TYPEHASH = keccak256("BurnNonce(uint256 nonce)");
    bytes4 internal constant MAGIC = 0x1626ba7e;
    bytes4 internal constant INVALID = 0xffffffff;

    GuardianshipFactory internal factory;

    /// @dev One grant's guardianship: the account (the grant's subject key), the salt that opens the commitment to
    /// it, and the guardian's and patient's per-grant keys.
    struct Ward {
        IGuardianshipAccount account;
        bytes32 salt;
        bytes32 commit;
        uint256 guardianKey;
        uint256 patientKey;
        uint48 termEndsAt;
    }

    function setUp() public virtual override {
        super.setUp();
        factory = new GuardianshipFactory();
    }

    /* ---- WARDS ---- */

    function _key(string memory who, uint256 seed) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(who, seed))) % (SECP_N - 1) + 1;
    }

    function _accountSalt(uint256 seed) internal pure returns (bytes32) {
        return keccak256(abi.encode("account salt", seed));
    }

    /// @dev The ward as a client knows it before anything is deployed: the account's address is predicted.
    function _plannedWard(uint256 seed, uint48 termEndsAt) internal view returns (Ward memory w) {
        w.guardianKey = _key("guardian key", seed);
        w.patientKey = _key("patient key", seed);
        w.termEndsAt = termEndsAt;
        w.account =
            IGuardianshipAccount(factory.predict(_accountSalt(seed), vm.addr(w.guardianKey), termEndsAt, address(0)));
        w.salt = keccak256(abi.encode("subject salt", seed));
        w.commit = keccak256(abi.encode(w.salt, address(w.account)));
    }

    /// @dev A minor's ward: the relayer deploys the account with no successor (the minor has no wallet yet).
    function _ward(uint256 seed, uint48 termEndsAt) internal returns (Ward memory w) {
        w = _plannedWard(seed, termEndsAt);
        vm.prank(RELAYER);
        factory.deploy(_accountSalt(seed), vm.addr(w.guardianKey), termEndsAt, address(0));
    }

    /// @dev A one-year-or-shorter READ|QUERY grant for GRU over one resource, from now to `expiresAt`.
    function _wardInput(Ward memory w, uint48 expiresAt) internal view returns (IConsentGrants.GrantInput memory) {
        return IConsentGrants.GrantInput(
            _resource("labs"),
            PROFILE,
            TERMS,
            0,
            w.commit,
            CLINIC,
            address(0),
            _policy(uint48(block.timestamp), expiresAt, READ | QUERY, GRU, 0, 0, 0)
        );
    }

    /* ---- SIGNATURES ---- */

    function _packed(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @dev subjectSig for ConsentGrants with the account as the subject key: abi.encode(salt, account ++ signature).
    function _viaAccount(Ward memory w, uint256 signerKey, bytes32 structHash) internal view returns (bytes memory) {
        return abi.encode(w.salt, abi.encodePacked(address(w.account), _packed(signerKey, _digest(structHash))));
    }

    function _accountDigest(IGuardianshipAccount account, bytes32 structHash) internal view returns (bytes32) {
        bytes32 domain = keccak256(
            abi.encode(
                DOMAIN_TYPEHASH, keccak256("GuardianshipAccount"), keccak256("1"), block.chainid, address(account)
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    function _setSuccessorSig(Ward memory w, uint256 signerKey, address successor, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes memory)
    {
        bytes32 structHash = keccak256(abi.encode(SET_SUCCESSOR_TYPEHASH, successor, nonce, deadline));
        return _packed(signerKey, _accountDigest(w.account, structHash));
    }

    function _shortenSig(Ward memory w, uint48 termEndsAt, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes memory)
    {
        bytes32 structHash = keccak256(abi.encode(SHORTEN_TERM_TYPEHASH, termEndsAt, nonce, deadline));
        return _packed(w.guardianKey, _accountDigest(w.account, structHash));
    }

    /* ---- RELAYED ACTS ---- */

    /// @dev The guardian names the patient's per-grant key as successor; the relayer submits it.
    function _nameSuccessor(Ward memory w) internal {
        address successor = vm.addr(w.patientKey);
        bytes memory sig = _setSuccessorSig(w, w.guardianKey, successor, w.account.nonce(), block.timestamp);
        vm.prank(RELAYER);
        w.account.setSuccessor(successor, block.timestamp, sig);
    }

    /// @dev The guardian signs `g` through the account; the relayer submits it.
    function _guardianGrant(Ward memory w, IConsentGrants.GrantInput memory g) internal returns (bytes32 id) {
        bytes memory sig = _viaAccount(w, w.guardianKey, _grantHash(g, grants.nonces(w.commit)));
        vm.prank(RELAYER);
        id = grants.grant(g, sig);
    }
}
