"""Why the relayer refuses a request: one exception per answer, each with its HTTP status and code."""

from __future__ import annotations

from typing import ClassVar

from carechain.errors import CareChainError


class RelayError(CareChainError):
    """A refused or failed relay; `status` and `code` are what the HTTP answer carries."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"


class BadRequest(RelayError):
    """A malformed signed request: a missing field, a bad address, an unknown purpose..."""


class Expired(RelayError):
    """The signature's deadline has passed."""

    code = "expired"


class BadSignature(RelayError):
    """The signature was not made by the patient the request names."""

    status = 401
    code = "bad-signature"


class UnknownSubmission(RelayError):
    """No submission with this id."""

    status = 404
    code = "unknown-submission"


class Replayed(RelayError):
    """The nonce was used on chain already, or another request of the patient holds it here."""

    status = 409
    code = "replayed"


class Refused(RelayError):
    """The contract would revert (simulated with eth_call): nothing was sent, no gas spent."""

    status = 422
    code = "refused"

    def __init__(self, message: str, error_name: str) -> None:
        super().__init__(message)
        self.error_name = error_name


class RateLimited(RelayError):
    """The patient sent more requests than the relayer pays for in the period."""

    status = 429
    code = "rate-limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ChainUnreachable(RelayError):
    """The Ethereum node did not answer."""

    status = 502
    code = "chain-unreachable"
