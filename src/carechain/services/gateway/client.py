"""A provider's HTTP client of one record gateway: what to sign, the signed read, a read receipt.

`carechain gateway get|sign-read|receipt`, the demo and the gateway benchmark all read through it. A
refusal comes back as the gateway raised it, the ServiceError of its code (`AccessRefused` for 403
denied, ...), its message naming the status and the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from eth_account.signers.local import LocalAccount

from carechain.errors import CareChainError
from carechain.services.client import ServiceClient
from carechain.services.gateway.requests import ReadRequest, Wallet, sign


@dataclass(frozen=True)
class GatewayInfo:
    """What a read request for this gateway signs (from its GET /info)."""

    gateway: str
    chain_id: int
    access_grants: str


@dataclass(frozen=True)
class ServedRead:
    """A record the gateway served, and how it logged the read."""

    content: bytes
    media_type: str
    version: int
    basis: str | None
    log_tx: str | None  # log mode "tx": the logAccess transaction
    receipt_id: str | None  # log mode "receipts": the signed receipt (GET /receipts/{id})


class GatewayClient(ServiceClient):
    """The gateway at `url`, over one HTTP connection pool (thread-safe: reads may run in parallel)."""

    service = "gateway"

    @cached_property
    def info(self) -> GatewayInfo:
        """The gateway's address, chain and AccessGrants, asked once."""
        answer = self._json(self._request("GET", "/info"))
        try:
            return GatewayInfo(str(answer["gateway"]), int(answer["chainId"]), str(answer["accessGrants"]))
        except (KeyError, TypeError, ValueError):
            raise CareChainError(f"{self.url}/info is not a CareChain gateway's answer") from None

    def sign_read(
        self, provider: LocalAccount | str, record_id: bytes, purpose: bytes, wallet: Wallet | None = None
    ) -> ReadRequest:
        """A read request for this gateway, signed with the provider's key (or, an address, in `wallet`)."""
        info = self.info
        return sign(
            provider, record_id, purpose, info.gateway, info.chain_id, info.access_grants, wallet=wallet
        )

    def read(self, request: ReadRequest) -> ServedRead:
        """The record, once the gateway has checked and logged the read; else its refusal, raised."""
        answer = self._request("POST", f"/records/0x{request.record_id.hex()}/read", json=request.body())
        if answer.status_code != 200:
            raise self._refusal(answer, "the read")
        headers = answer.headers
        return ServedRead(
            answer.content,
            headers.get("content-type", "application/octet-stream"),
            int(headers.get("X-CareChain-Version", "0")),
            headers.get("X-CareChain-Basis"),
            headers.get("X-CareChain-Log-Tx"),
            headers.get("X-CareChain-Receipt"),
        )

    def receipt(self, receipt_id: bytes) -> dict[str, Any]:
        """A read receipt as the gateway serves it (check it with `receipts.verify`)."""
        answer = self._request("GET", f"/receipts/0x{receipt_id.hex()}")
        if answer.status_code != 200:
            raise self._refusal(answer, f"receipt 0x{receipt_id.hex()}")
        return self._json(answer)
