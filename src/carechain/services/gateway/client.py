"""A provider's HTTP client of one record gateway: what to sign, the signed read, a read receipt.

`carechain gateway get|sign-read|receipt`, the demo and the gateway benchmark all read through it. A
refusal comes back as the gateway raised it, the ServiceError of its code (`AccessRefused` for 403
denied, ...), its message naming the status and the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from types import TracebackType
from typing import Any

import httpx
from eth_account.signers.local import LocalAccount

from carechain.core.values import ascii_whole
from carechain.errors import CareChainError, RateLimited, Refused, ServiceError
from carechain.services.gateway.requests import ReadRequest, Wallet, sign

# A refusal's code -> the class the gateway raised it as.
_REFUSALS: list[type[ServiceError]] = [ServiceError, *ServiceError.__subclasses__()]
_BY_CODE = {kind.code: kind for kind in _REFUSALS}


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


class GatewayClient:
    """The gateway at `url`, over one HTTP connection pool (thread-safe: reads may run in parallel)."""

    def __init__(self, url: str, timeout: float = 60.0) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(timeout=timeout)

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

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

    def _request(self, method: str, path: str, **options: Any) -> httpx.Response:
        try:
            return self._http.request(method, self.url + path, **options)
        except httpx.HTTPError as err:
            raise CareChainError(f"no gateway answers at {self.url}{path} ({type(err).__name__})") from None

    def _json(self, answer: httpx.Response) -> dict[str, Any]:
        try:
            data = answer.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise CareChainError(
                f"{self.url} answered {answer.status_code} without a CareChain gateway's JSON"
            )
        return data

    def _refusal(self, answer: httpx.Response, what: str) -> CareChainError:
        body = self._json(answer)
        code = str(body.get("error", "?"))
        message = (
            f"the gateway refused {what} ({answer.status_code} {code}): {body.get('detail', answer.text)}"
        )
        kind = _BY_CODE.get(code)
        if kind is Refused:
            return Refused(message, str(body.get("errorName") or ""))
        if kind is RateLimited:
            seconds = ascii_whole(answer.headers.get("Retry-After", "").strip())
            return RateLimited(message, 1 if seconds is None else seconds)
        return CareChainError(message) if kind is None else kind(message)
