"""A key's ECDSA signature as the contracts take it: 65 bytes r ‖ s ‖ v, v 27 or 28, s low (EIP-2).

The registries check signatures with OpenZeppelin's ECDSA, which refuses a high s (the malleable twin
of a valid signature) and any v but 27 or 28. Every tool that reads a signature before the chain does
(the relayer, the consent import, the compact batch) checks it here, so it refuses for the same reasons
the contract would, before anyone pays gas. A contract wallet's signature (ERC-1271) is any length and
only the registry can check it: nothing here applies to it.
"""

from __future__ import annotations

from typing import Final

from eth_keys.datatypes import PrivateKey, Signature
from eth_keys.exceptions import BadSignature
from eth_utils.exceptions import ValidationError

from carechain.errors import InputError

SECP256K1_N: Final = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141  # the curve's order
_HALF_N: Final = SECP256K1_N // 2
_LENGTH: Final = 65
_PARITY: Final = {0: 0, 1: 1, 27: 0, 28: 1}  # v as wallets give it -> the y parity


def check(signature: bytes) -> bytes:
    """`signature` if the registries would accept it from a key, else one InputError saying why."""
    if len(signature) != _LENGTH:
        raise InputError(f"malformed signature: {len(signature)} bytes, a key's signature is 65 (r, s, v)")
    if signature[64] not in (27, 28):
        raise InputError(f"malformed signature: its v is {signature[64]} (v must be 27 or 28)")
    if int.from_bytes(signature[32:64], "big") > _HALF_N:
        raise InputError(
            "malformed signature: its s is in the upper half of the curve order (EIP-2): ask for a new one"
        )
    return signature


def recover(digest: bytes, signature: bytes) -> str:
    """The checksummed address whose key signed `digest`; InputError when no key can have.

    v may be 0 or 1 as well as 27 or 28 (some hardware wallets give the bare parity); a high s is
    recovered too — `check` is what refuses it.
    """
    parity = _PARITY.get(signature[64]) if len(signature) == _LENGTH else None
    if parity is None:
        raise InputError("malformed signature: no public key can be recovered from it")
    try:
        key = Signature(signature[:64] + bytes([parity])).recover_public_key_from_msg_hash(digest)
    except (BadSignature, ValidationError):
        raise InputError("malformed signature: no public key can be recovered from it") from None
    return key.to_checksum_address()


def sign(key: PrivateKey, digest: bytes) -> bytes:
    """`key`'s signature of `digest` as a wallet gives it: r ‖ s ‖ v, v 27 or 28, s low."""
    signed = key.sign_msg_hash(digest)
    return signed.to_bytes()[:64] + bytes([signed.v + 27])


def compact_signature(signature: bytes) -> tuple[bytes, bytes]:
    """EIP-2098: a key's 65-byte r ‖ s ‖ v signature as the two words (r, vs = s | (v - 27) << 255).

    A signature of another length (a contract wallet's ERC-1271 signature has no compact form), a v other
    than 27 or 28 or a high s is refused with one InputError: the registry would refuse it anyway.
    """
    if len(signature) != _LENGTH:
        raise InputError(
            f"the signature is {len(signature)} bytes: only an EOA's 65-byte (r, s, v) signature has a "
            "compact form (EIP-2098); a contract wallet's goes through grantBySigBatch"
        )
    check(signature)
    s = int.from_bytes(signature[32:64], "big")
    return signature[:32], (s | (signature[64] - 27) << 255).to_bytes(32, "big")
