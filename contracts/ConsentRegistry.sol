// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {IConsentRegistry} from "./interfaces/IConsentRegistry.sol";
import {EmptyBatch, InvalidExpiry, NotPatientOrDelegate} from "./utils/Common.sol";
import {SignedByPatient} from "./utils/SignedByPatient.sol";

/// @title ConsentRegistry
/// @notice Patients grant, update and revoke consents by purpose and data scope, themselves, through
/// a delegate, or by an EIP-712 signature that someone else submits. Other contracts ask
/// `isPermitted`, which honours revocation and expiry.
/// @dev No owner, no pause, no upgrade: a revocation can never be blocked.
contract ConsentRegistry is IConsentRegistry, SignedByPatient {
    /// @inheritdoc IConsentRegistry
    address public constant ANY_GRANTEE = address(type(uint160).max);

    /// @notice EIP-712 type of a signed grant.
    bytes32 public constant GRANT_TYPEHASH = keccak256(
        "Grant(address patient,address grantee,bytes32 purpose,uint64 scopes,uint64 expiresAt,uint256 nonce,uint256 deadline)"
    );

    /// @notice EIP-712 type of a signed revocation.
    bytes32 public constant REVOKE_TYPEHASH =
        keccak256("Revoke(address patient,address grantee,bytes32 purpose,uint256 nonce,uint256 deadline)");

    /// @dev Stored for a delegate appointed without an expiry.
    uint64 private constant _NO_EXPIRY = type(uint64).max;

    mapping(address patient => mapping(address grantee => mapping(bytes32 purpose => Consent))) private _consents;
    mapping(address patient => mapping(address delegate => uint64 until)) private _delegates;

    constructor() EIP712("CareChain ConsentRegistry", "1") {}

    /* ------------------------------------------------------------------ */
    /*                              CONSENTS                              */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IConsentRegistry
    function grant(address grantee, bytes32 purpose, uint64 scopes, uint64 expiresAt) external {
        _grant(msg.sender, grantee, purpose, scopes, expiresAt, msg.sender);
    }

    /// @inheritdoc IConsentRegistry
    function grantFor(address patient, address grantee, bytes32 purpose, uint64 scopes, uint64 expiresAt) external {
        _checkActor(patient);
        _grant(patient, grantee, purpose, scopes, expiresAt, msg.sender);
    }

    /// @inheritdoc IConsentRegistry
    function grantBatch(GrantRequest[] calldata requests) external {
        uint256 count = requests.length;
        if (count == 0) revert EmptyBatch();
        for (uint256 i; i < count; ++i) {
            GrantRequest calldata r = requests[i];
            _grant(msg.sender, r.grantee, r.purpose, r.scopes, r.expiresAt, msg.sender);
        }
    }

    /// @inheritdoc IConsentRegistry
    function update(address grantee, bytes32 purpose, uint64 scopes, uint64 expiresAt) external {
        _update(msg.sender, grantee, purpose, scopes, expiresAt);
    }

    /// @inheritdoc IConsentRegistry
    function updateFor(address patient, address grantee, bytes32 purpose, uint64 scopes, uint64 expiresAt) external {
        _checkActor(patient);
        _update(patient, grantee, purpose, scopes, expiresAt);
    }

    /// @inheritdoc IConsentRegistry
    function revoke(address grantee, bytes32 purpose) external {
        _revoke(msg.sender, grantee, purpose, msg.sender);
    }

    /// @inheritdoc IConsentRegistry
    function revokeFor(address patient, address grantee, bytes32 purpose) external {
        _checkActor(patient);
        _revoke(patient, grantee, purpose, msg.sender);
    }

    /* ------------------------------------------------------------------ */
    /*                          SIGNED (RELAYED)                          */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IConsentRegistry
    function grantBySig(SignedGrant calldata signed) external {
        _grantBySig(signed, _domainSeparatorV4());
    }

    /// @inheritdoc IConsentRegistry
    function grantBySigBatch(SignedGrant[] calldata signed) external {
        uint256 count = signed.length;
        if (count == 0) revert EmptyBatch();
        bytes32 domainSeparator = _domainSeparatorV4(); // read once for the whole batch
        for (uint256 i; i < count; ++i) {
            SignedGrant calldata s;
            // signed[i] without the generic accessor: the element's offset word, relative to the array
            // data, with the decoder's check that its eight head words lie inside the calldata.
            // solhint-disable-next-line no-inline-assembly
            assembly ("memory-safe") {
                let rel := calldataload(add(signed.offset, shl(5, i)))
                s := add(signed.offset, rel)
                if or(gt(rel, calldatasize()), gt(add(s, 0x100), calldatasize())) { revert(0, 0) }
            }
            _grantBySig(s, domainSeparator);
        }
    }

    /// @inheritdoc IConsentRegistry
    function grantBySigBatchCompact(CompactSignedGrant[] calldata signed) external {
        uint256 count = signed.length;
        if (count == 0) revert EmptyBatch();
        bytes32 domainSeparator = _domainSeparatorV4(); // read once for the whole batch
        // Static items: the decoder has checked on entry that all of them lie inside the calldata.
        for (uint256 i; i < count; ++i) {
            _grantBySigCompact(signed[i], domainSeparator);
        }
    }

    /// @inheritdoc IConsentRegistry
    function revokeBySig(
        address patient,
        address grantee,
        bytes32 purpose,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(abi.encode(REVOKE_TYPEHASH, patient, grantee, purpose, nonce, deadline));
        _checkSignature(patient, structHash, nonce, deadline, signature);
        _revoke(patient, grantee, purpose, patient);
    }

    /* ------------------------------------------------------------------ */
    /*                              DELEGATES                             */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IConsentRegistry
    function setDelegate(address delegate, uint64 expiresAt) external {
        if (delegate == address(0) || delegate == msg.sender) revert InvalidDelegate(delegate);
        _checkExpiry(expiresAt);
        _delegates[msg.sender][delegate] = expiresAt == 0 ? _NO_EXPIRY : expiresAt;
        emit DelegateSet(msg.sender, delegate, expiresAt);
    }

    /// @inheritdoc IConsentRegistry
    function removeDelegate(address delegate) external {
        if (_delegates[msg.sender][delegate] == 0) revert DelegateNotFound(msg.sender, delegate);
        delete _delegates[msg.sender][delegate];
        emit DelegateRemoved(msg.sender, delegate);
    }

    /* ------------------------------------------------------------------ */
    /*                                VIEWS                               */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IConsentRegistry
    function isPermitted(address patient, address grantee, bytes32 purpose, uint64 requiredScopes)
        external
        view
        returns (bool)
    {
        return _covers(_consents[patient][grantee][purpose], requiredScopes)
            || _covers(_consents[patient][ANY_GRANTEE][purpose], requiredScopes);
    }

    /// @inheritdoc IConsentRegistry
    function getConsent(address patient, address grantee, bytes32 purpose) external view returns (Consent memory) {
        return _consents[patient][grantee][purpose];
    }

    /// @inheritdoc IConsentRegistry
    function isDelegate(address patient, address delegate) public view returns (bool) {
        return _time() < _delegates[patient][delegate];
    }

    /// @inheritdoc IConsentRegistry
    function delegateExpiry(address patient, address delegate) external view returns (uint64) {
        return _delegates[patient][delegate];
    }

    /* ------------------------------------------------------------------ */
    /*                              INTERNALS                             */
    /* ------------------------------------------------------------------ */

    function _grant(address patient, address grantee, bytes32 purpose, uint64 scopes, uint64 expiresAt, address actor)
        private
    {
        uint64 now_ = _time();
        if (grantee == address(0)) revert InvalidGrantee(grantee);
        if (scopes == 0) revert EmptyScopes();
        if (expiresAt != 0 && expiresAt <= now_) revert InvalidExpiry(expiresAt, now_);
        Consent storage consent = _consents[patient][grantee][purpose];
        if (_isLive(consent)) revert ConsentAlreadyActive(patient, grantee, purpose);
        // A re-grant after revocation or expiry starts afresh: the whole slot is rewritten.
        _storeConsent(consent, scopes, now_, expiresAt);
        emit ConsentGranted(patient, grantee, purpose, scopes, expiresAt, actor);
    }

    function _update(address patient, address grantee, bytes32 purpose, uint64 scopes, uint64 expiresAt) private {
        if (scopes == 0) revert EmptyScopes();
        _checkExpiry(expiresAt);
        Consent storage consent = _consents[patient][grantee][purpose];
        if (!_isLive(consent)) revert ConsentNotActive(patient, grantee, purpose);
        consent.scopes = scopes;
        consent.expiresAt = expiresAt;
        emit ConsentUpdated(patient, grantee, purpose, scopes, expiresAt, msg.sender);
    }

    function _revoke(address patient, address grantee, bytes32 purpose, address actor) private {
        Consent storage consent = _consents[patient][grantee][purpose];
        // An expired consent may still be revoked, so its record shows the patient's will.
        if (consent.grantedAt == 0 || consent.revokedAt != 0) revert ConsentNotRevocable(patient, grantee, purpose);
        consent.revokedAt = _time();
        emit ConsentRevoked(patient, grantee, purpose, actor);
    }

    /// @dev The fields are read from calldata in assembly: Solidity's generic member accessors (a
    /// shared decode-and-validate routine per field) cost ~600 gas per item of a batch. The checks stay
    /// those of the ABI decoder: a non-canonical address or uint64 word, or a signature that does not
    /// lie inside the calldata, reverts without data, as before.
    function _grantBySig(SignedGrant calldata s, bytes32 domainSeparator) private {
        address patient;
        address grantee;
        uint64 scopes;
        uint64 expiresAt;
        bytes calldata signature;
        bytes32 digest;
        bytes32 typehash = GRANT_TYPEHASH;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            patient := calldataload(s)
            grantee := calldataload(add(s, 0x20))
            scopes := calldataload(add(s, 0x60))
            expiresAt := calldataload(add(s, 0x80))
            if or(or(shr(160, patient), shr(160, grantee)), or(shr(64, scopes), shr(64, expiresAt))) {
                revert(0, 0)
            }
            // `signature` (member 8) is a tail offset from the start of the struct to its length word;
            // the bytes must lie inside the calldata.
            let tail := add(s, calldataload(add(s, 0xe0)))
            signature.length := calldataload(tail)
            if gt(signature.length, 0xffffffffffffffff) { revert(0, 0) }
            signature.offset := add(tail, 0x20)
            if gt(add(signature.offset, signature.length), calldatasize()) { revert(0, 0) }
            // The EIP-712 digest, hashed straight from calldata: the seven fields of `Grant` are the
            // first seven (one-word) members of SignedGrant in the same order, so GRANT_TYPEHASH then
            // those words is exactly abi.encode(GRANT_TYPEHASH, patient, ..., deadline), without a copy
            // to newly allocated memory (free memory is scratch here); then "\x19\x01" ‖ domain ‖ struct
            // hash, as MessageHashUtils.toTypedDataHash.
            let m := mload(0x40)
            mstore(m, typehash)
            calldatacopy(add(m, 0x20), s, 0xe0)
            let structHash := keccak256(m, 0x100)
            mstore(m, hex"1901")
            mstore(add(m, 0x02), domainSeparator)
            mstore(add(m, 0x22), structHash)
            digest := keccak256(m, 0x42)
        }
        _checkSignedDigest(patient, digest, s.nonce, s.deadline, signature);
        _grant(patient, grantee, s.purpose, scopes, expiresAt, patient);
    }

    /// @dev One item of `grantBySigBatchCompact`, read as `_grantBySig` reads its item: the checked
    /// fields in assembly, with the ABI decoder's checks (a non-canonical address or uint64 word reverts
    /// without data), and the same digest hashed from calldata, the first seven members being those
    /// of `Grant` in its order (the three other words need no check: plain calldataload). Written out
    /// beside `_grantBySig` rather than sharing a reader of the seven words with it: the internal
    /// call and its five return values cost ~120 gas per item of either batch (measured).
    function _grantBySigCompact(CompactSignedGrant calldata s, bytes32 domainSeparator) private {
        address patient;
        address grantee;
        uint64 scopes;
        uint64 expiresAt;
        bytes32 digest;
        bytes32 typehash = GRANT_TYPEHASH;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            patient := calldataload(s)
            grantee := calldataload(add(s, 0x20))
            scopes := calldataload(add(s, 0x60))
            expiresAt := calldataload(add(s, 0x80))
            if or(or(shr(160, patient), shr(160, grantee)), or(shr(64, scopes), shr(64, expiresAt))) {
                revert(0, 0)
            }
            // abi.encode(GRANT_TYPEHASH, patient, ..., deadline) in scratch memory, then
            // "\x19\x01" ‖ domain ‖ struct hash (MessageHashUtils.toTypedDataHash).
            let m := mload(0x40)
            mstore(m, typehash)
            calldatacopy(add(m, 0x20), s, 0xe0)
            let structHash := keccak256(m, 0x100)
            mstore(m, hex"1901")
            mstore(add(m, 0x02), domainSeparator)
            mstore(add(m, 0x22), structHash)
            digest := keccak256(m, 0x42)
        }
        _checkCompactSignedDigest(patient, digest, s.nonce, s.deadline, s.r, s.vs);
        _grant(patient, grantee, s.purpose, scopes, expiresAt, patient);
    }

    /// @dev One SSTORE of a whole Consent {scopes, grantedAt, expiresAt, revokedAt: 0}, without the
    /// SLOAD a Solidity struct assignment does to keep bits that, here, every field overwrites.
    /// Packing as the compiler lays the struct out: scopes in bits 0-63, grantedAt 64-127,
    /// expiresAt 128-191, revokedAt 192-255.
    function _storeConsent(Consent storage consent, uint64 scopes, uint64 grantedAt, uint64 expiresAt) private {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let mask := 0xffffffffffffffff // uint64 values may carry dirty high bits in assembly
            sstore(
                consent.slot,
                or(and(scopes, mask), or(shl(64, and(grantedAt, mask)), shl(128, and(expiresAt, mask))))
            )
        }
    }

    function _checkActor(address patient) private view {
        if (msg.sender != patient && !isDelegate(patient, msg.sender)) {
            revert NotPatientOrDelegate(msg.sender, patient);
        }
    }

    function _checkExpiry(uint64 expiresAt) private view {
        if (expiresAt != 0 && expiresAt <= _time()) revert InvalidExpiry(expiresAt, _time());
    }

    function _isLive(Consent storage consent) private view returns (bool) {
        return consent.grantedAt != 0 && consent.revokedAt == 0
            && (consent.expiresAt == 0 || _time() < consent.expiresAt);
    }

    function _covers(Consent storage consent, uint64 requiredScopes) private view returns (bool) {
        return _isLive(consent) && consent.scopes & requiredScopes == requiredScopes;
    }
}
