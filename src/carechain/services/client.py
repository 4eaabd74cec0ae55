"""What the HTTP clients of CareChain's services share: one connection pool, JSON answers, refusals raised.

A refusal comes back as the service raised it, the ServiceError of its code (`AccessRefused` for 403
denied, `Replayed` for 409, ...), its message naming the status and the code.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

import httpx

from carechain.core.values import ascii_whole
from carechain.errors import CareChainError, RateLimited, Refused, ServiceError

# A refusal's code -> the class the service raised it as.
_REFUSALS: list[type[ServiceError]] = [ServiceError, *ServiceError.__subclasses__()]
_BY_CODE = {kind.code: kind for kind in _REFUSALS}


class ServiceClient:
    """The service at `url` (its kind named by `service`), over one HTTP connection pool (thread-safe), or
    over `http` (an in-process client such as FastAPI's TestClient)."""

    service = "service"

    def __init__(self, url: str, timeout: float = 60.0, http: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(timeout=timeout) if http is None else http

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, path: str, **options: Any) -> httpx.Response:
        try:
            return self._http.request(method, self.url + path, **options)
        except httpx.HTTPError as err:
            raise CareChainError(
                f"no {self.service} answers at {self.url}{path} ({type(err).__name__})"
            ) from None

    def _json(self, answer: httpx.Response) -> dict[str, Any]:
        try:
            data = answer.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise CareChainError(
                f"{self.url} answered {answer.status_code} without a CareChain {self.service}'s JSON"
            )
        return data

    def _refusal(self, answer: httpx.Response, what: str) -> CareChainError:
        body = self._json(answer)
        code = str(body.get("error", "?"))
        message = (
            f"the {self.service} refused {what} ({answer.status_code} {code}): "
            f"{body.get('detail', answer.text)}"
        )
        kind = _BY_CODE.get(code)
        if kind is Refused:
            return Refused(message, str(body.get("errorName") or ""))
        if kind is RateLimited:
            seconds = ascii_whole(answer.headers.get("Retry-After", "").strip())
            return RateLimited(message, 1 if seconds is None else seconds)
        return CareChainError(message) if kind is None else kind(message)
