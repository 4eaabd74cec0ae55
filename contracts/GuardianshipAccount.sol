// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {IGuardianshipAccount} from "./interfaces/IGuardianshipAccount.sol";
import {Clock} from "./utils/Common.sol";

/// @title GuardianshipAccount
/// @notice The subject key of one grant for a minor or an incapacitated patient: the guardian's per-grant key signs
/// until the term ends, the patient's per-grant key after. docs/private-consent.md, "Guardianship".
/// @dev Deployed once as the implementation (locked) and used through GuardianshipFactory's minimal proxies. The
/// EIP-712 domain is each clone's: OpenZeppelin's EIP712 rebuilds the separator from `address(this)` when it is not
/// the implementation's, and reads name and version from the implementation's immutables.
contract GuardianshipAccount is IGuardianshipAccount, EIP712, Clock {
    bytes32 private constant SET_SUCCESSOR_TYPEHASH =
        keccak256("SetSuccessor(address successorSigner,uint256 nonce,uint256 deadline)");
    bytes32 private constant SHORTEN_TERM_TYPEHASH =
        keccak256("ShortenTerm(uint48 termEndsAt,uint256 nonce,uint256 deadline)");
    bytes32 private constant BURN_TYPEHASH = keccak256("BurnNonce(uint256 nonce)");
    bytes4 private constant INVALID = 0xffffffff;

    // One word for what every call reads (a clone's set-up writes it and, for a named successor, one more).
    address private _guardianSigner;
    uint48 private _termEndsAt;
    uint40 private _nonce;
    bool private _initialized;
    address private _successorSigner;

    /// @notice Lock the implementation: only clones are set up.
    constructor() EIP712("GuardianshipAccount", "1") {
        _initialized = true;
    }

    /* ------------------------------------------------------------------ */
    /*                               SET-UP                               */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IGuardianshipAccount
    function initialize(address guardianSigner_, uint48 termEndsAt_, address successorSigner_) external {
        if (_initialized) revert AlreadyInitialized();
        if (guardianSigner_ == address(0)) revert InvalidSigner(guardianSigner_);
        if (successorSigner_ == guardianSigner_) revert InvalidSigner(successorSigner_);
        uint64 now_ = _time();
        if (termEndsAt_ <= now_) revert InvalidTerm(termEndsAt_, now_);
        _guardianSigner = guardianSigner_;
        _termEndsAt = termEndsAt_;
        _initialized = true;
        if (successorSigner_ != address(0)) _successorSigner = successorSigner_;
        emit GuardianshipInitialized(guardianSigner_, termEndsAt_, successorSigner_);
    }

    /* ------------------------------------------------------------------ */
    /*                            GUARDIAN ACTS                           */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IGuardianshipAccount
    function setSuccessor(address successorSigner_, uint256 deadline, bytes calldata guardianSig) external {
        _termRunning();
        if (successorSigner_ == address(0) || successorSigner_ == _guardianSigner) {
            revert InvalidSigner(successorSigner_);
        }
        uint256 used = _useGuardianSig(
            keccak256(abi.encode(SET_SUCCESSOR_TYPEHASH, successorSigner_, _nonce, deadline)), deadline, guardianSig
        );
        _successorSigner = successorSigner_;
        emit SuccessorSet(successorSigner_, used);
    }

    /// @inheritdoc IGuardianshipAccount
    function shortenTerm(uint48 termEndsAt_, uint256 deadline, bytes calldata guardianSig) external {
        (uint64 now_, uint48 current) = _termRunning();
        if (termEndsAt_ >= current) revert TermNotShortened(termEndsAt_, current);
        if (termEndsAt_ < now_) revert InvalidTerm(termEndsAt_, now_);
        if (_successorSigner == address(0)) revert NoSuccessor();
        uint256 used = _useGuardianSig(
            keccak256(abi.encode(SHORTEN_TERM_TYPEHASH, termEndsAt_, _nonce, deadline)), deadline, guardianSig
        );
        _termEndsAt = termEndsAt_;
        emit TermShortened(current, termEndsAt_, used);
    }

    /// @inheritdoc IGuardianshipAccount
    function burnNonce(bytes calldata guardianSig) external {
        _termRunning();
        uint256 used = _useGuardianSig(keccak256(abi.encode(BURN_TYPEHASH, _nonce)), type(uint256).max, guardianSig);
        emit NonceBurned(used);
    }

    /* ------------------------------------------------------------------ */
    /*                                VIEWS                               */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc IERC1271
    /// @dev Only 65-byte signatures (r, s, v) with a low s.
    function isValidSignature(bytes32 digest, bytes calldata signature) external view returns (bytes4) {
        address signer = _time() < _termEndsAt ? _guardianSigner : _successorSigner;
        if (signer == address(0) || _recover(digest, signature) != signer) return INVALID;
        return IERC1271.isValidSignature.selector;
    }

    /// @inheritdoc IGuardianshipAccount
    function authorityEndsAt() external view returns (uint48) {
        uint48 end = _termEndsAt;
        return _time() < end ? end : type(uint48).max;
    }

    /// @inheritdoc IGuardianshipAccount
    function guardianSigner() external view returns (address) {
        return _guardianSigner;
    }

    /// @inheritdoc IGuardianshipAccount
    function successorSigner() external view returns (address) {
        return _successorSigner;
    }

    /// @inheritdoc IGuardianshipAccount
    function termEndsAt() external view returns (uint48) {
        return _termEndsAt;
    }

    /// @inheritdoc IGuardianshipAccount
    function nonce() external view returns (uint256) {
        return _nonce;
    }

    /* ------------------------------------------------------------------ */
    /*                              INTERNALS                             */
    /* ------------------------------------------------------------------ */

    /// @dev The guardian acts only while the term runs; returns the time and the term's end.
    function _termRunning() private view returns (uint64 now_, uint48 end) {
        now_ = _time();
        end = _termEndsAt;
        if (now_ >= end) revert TermEnded(end);
    }

    /// @dev Check the guardian's signature over `structHash` (which holds the current nonce) before `deadline`, and
    /// consume the nonce; returns the nonce consumed.
    function _useGuardianSig(bytes32 structHash, uint256 deadline, bytes calldata sig) private returns (uint256 used) {
        uint64 now_ = _time();
        if (now_ > deadline) revert SignatureExpired(deadline, now_);
        if (_recover(_hashTypedDataV4(structHash), sig) != _guardianSigner) revert InvalidGuardianSignature();
        used = _nonce;
        ++_nonce;
    }

    /// @dev The key that signed `digest` with a 65-byte (r, s, v) signature; 0 for any other length, a high s or a
    /// signature that recovers nothing (tryRecover answers 0 then, which is all its error values would tell).
    function _recover(bytes32 digest, bytes calldata sig) private pure returns (address recovered) {
        if (sig.length != 65) return address(0);
        // slither-disable-next-line unused-return
        (recovered,,) = ECDSA.tryRecover(digest, uint8(sig[64]), bytes32(sig[0:32]), bytes32(sig[32:64]));
    }
}
