"""The provider's signed read request (EIP-712 `ReadRequest`) and its checks at the gateway.

The request names the provider, the record, the purpose of the read, the gateway (its custodian
address) and the chain, and carries the time it was issued and a random nonce (so two reads in one
second are two requests), all under the provider's signature, so
a captured request cannot be replayed at another gateway, on another chain, or later: the gateway
accepts it only within a short window, and only once (the digest goes into the replay cache).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils.address import is_address, to_checksum_address

from carechain.core import eip712
from carechain.errors import BadRequest, BadSignature, InputError, RequestExpired

DOMAIN_NAME = "CareChain Gateway"
DOMAIN_VERSION = "1"
PRIMARY = "ReadRequest"
READ_REQUEST_TYPE = [
    {"name": "provider", "type": "address"},
    {"name": "recordId", "type": "bytes32"},
    {"name": "purpose", "type": "bytes32"},
    {"name": "gateway", "type": "address"},
    {"name": "chainId", "type": "uint256"},
    {"name": "issuedAt", "type": "uint64"},
    {"name": "nonce", "type": "uint64"},
]
DEFAULT_WINDOW = 60  # seconds a request stays valid after it was issued
CLOCK_SKEW = 5  # seconds a request may be issued ahead of the gateway's clock

Wallet = Callable[[dict[str, Any]], bytes]
"""A wallet's `eth_signTypedData_v4`: the payload in, the 65-byte signature out."""


def domain(chain_id: int, access_grants: str) -> eip712.Domain:
    """The request's EIP-712 domain: this chain and the AccessGrants deployment whose rules apply."""
    return eip712.Domain(DOMAIN_NAME, DOMAIN_VERSION, chain_id, access_grants)


@dataclass(frozen=True)
class ReadRequest:
    provider: str
    record_id: bytes
    purpose: bytes
    gateway: str
    chain_id: int
    issued_at: int
    nonce: int
    signature: bytes

    def message(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "recordId": self.record_id,
            "purpose": self.purpose,
            "gateway": self.gateway,
            "chainId": self.chain_id,
            "issuedAt": self.issued_at,
            "nonce": self.nonce,
        }

    def payload(self, access_grants: str) -> dict[str, Any]:
        """The `eth_signTypedData_v4` payload a wallet signs for this request."""
        return typed_data(domain(self.chain_id, access_grants), self.message())

    def body(self) -> dict[str, Any]:
        """The JSON body of POST /records/{id}/read (the record id is in the path)."""
        return {
            "provider": self.provider,
            "purpose": "0x" + self.purpose.hex(),
            "gateway": self.gateway,
            "chainId": self.chain_id,
            "issuedAt": self.issued_at,
            "nonce": self.nonce,
            "signature": "0x" + self.signature.hex(),
        }

    @classmethod
    def from_body(cls, record_id: bytes, body: dict[str, Any]) -> ReadRequest:
        """Parse a request body; anything malformed is one BadRequest naming the field."""
        missing = [
            name
            for name in ("provider", "purpose", "gateway", "chainId", "issuedAt", "nonce", "signature")
            if name not in body
        ]
        if missing:
            raise BadRequest(f"the read request misses {', '.join(missing)}")
        return cls(
            _address(body["provider"], "provider"),
            record_id,
            _hex(body["purpose"], "purpose", 32),
            _address(body["gateway"], "gateway"),
            _uint(body["chainId"], "chainId"),
            _uint(body["issuedAt"], "issuedAt"),
            _uint(body["nonce"], "nonce"),
            _hex(body["signature"], "signature", 65),
        )


def typed_data(request_domain: eip712.Domain, message: dict[str, Any]) -> dict[str, Any]:
    return eip712.struct_data(request_domain, PRIMARY, READ_REQUEST_TYPE, message)


def sign(
    provider: LocalAccount | str,
    record_id: bytes,
    purpose: bytes,
    gateway: str,
    chain_id: int,
    access_grants: str,
    issued_at: int | None = None,
    nonce: int | None = None,
    wallet: Wallet | None = None,
) -> ReadRequest:
    """The provider signs a read request: with its key, or (an address) in its `wallet`."""
    unsigned = ReadRequest(
        provider if isinstance(provider, str) else str(provider.address),
        record_id,
        purpose,
        to_checksum_address(gateway),
        chain_id,
        int(time.time()) if issued_at is None else issued_at,
        secrets.randbits(64) if nonce is None else nonce,
        b"",
    )
    payload = unsigned.payload(access_grants)
    if wallet is not None:
        signature = wallet(payload)
    elif isinstance(provider, str):
        raise InputError(f"provider {provider} is an address: its read request is signed in its wallet")
    else:
        signature = eip712.sign(provider, payload)
    return ReadRequest(**{**unsigned.__dict__, "signature": signature})


@dataclass(frozen=True)
class Verifier:
    """What one gateway accepts: its own address and chain, requests at most `window` seconds old."""

    gateway: str
    chain_id: int
    access_grants: str
    window: int = DEFAULT_WINDOW

    def verify(self, request: ReadRequest, now: int | None = None) -> bytes:
        """Check a request; returns its EIP-712 digest (the replay-cache key). Raises why it is refused."""
        if request.chain_id != self.chain_id:
            raise BadRequest(
                f"the request is for chain {request.chain_id}, this gateway is on {self.chain_id}"
            )
        if to_checksum_address(request.gateway) != to_checksum_address(self.gateway):
            raise BadRequest(f"the request is for gateway {request.gateway}, this is {self.gateway}")
        now = int(time.time()) if now is None else now
        if request.issued_at > now + CLOCK_SKEW:
            raise RequestExpired(f"the request was issued {request.issued_at - now}s in the future")
        if request.issued_at + self.window < now:
            raise RequestExpired(
                f"the request was issued {now - request.issued_at}s ago; it is valid for {self.window}s"
            )
        payload = request.payload(self.access_grants)
        try:
            signer = eip712.recover(payload, request.signature)
        except InputError:
            raise BadSignature("the signature is malformed") from None
        if signer != to_checksum_address(request.provider):
            raise BadSignature(f"the request is not signed by provider {request.provider}")
        return eip712.digest(payload)

    def expires_at(self, request: ReadRequest) -> int:
        """Until when the replay cache must remember the request."""
        return request.issued_at + self.window + CLOCK_SKEW


def _address(value: Any, what: str) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise BadRequest(f"{what} is not an Ethereum address")
    return to_checksum_address(value)


def _hex(value: Any, what: str, size: int) -> bytes:
    try:
        raw = bytes.fromhex(value.removeprefix("0x")) if isinstance(value, str) else b""
    except ValueError:
        raw = b""
    if len(raw) != size:
        raise BadRequest(f"{what} is not {size} bytes of 0x-hex")
    return raw


def _uint(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**64:
        raise BadRequest(f"{what} is not an unsigned integer")
    return value
