"""Why the gateway refuses a request: one exception per answer, each with its HTTP status and code."""

from __future__ import annotations

from typing import ClassVar

from carechain.errors import CareChainError


class GatewayError(CareChainError):
    """A refused or failed gateway operation; `status` and `code` are what the HTTP answer carries."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"


class BadRequest(GatewayError):
    """A malformed request, or one addressed to another gateway or chain."""


class RequestExpired(GatewayError):
    """The signed request's timestamp lies outside the validity window."""

    code = "expired"


class BadSignature(GatewayError):
    """The signature is not the named provider's for this request."""

    status = 401
    code = "bad-signature"


class Unauthorized(GatewayError):
    """The custodian's API token is missing or wrong."""

    status = 401
    code = "unauthorized"


class AccessRefused(GatewayError):
    """The chain does not allow this provider to read this record."""

    status = 403
    code = "denied"


class UnknownRecord(GatewayError):
    """This gateway keeps no record with this id."""

    status = 404
    code = "unknown-record"


class UnknownReceipt(GatewayError):
    """This gateway signed no read receipt with this id."""

    status = 404
    code = "unknown-receipt"


class Replayed(GatewayError):
    """A request with this signature digest was seen already."""

    status = 409
    code = "replayed"


class Erased(GatewayError):
    """The record was erased (its data keys destroyed): it can never be served again."""

    status = 410
    code = "erased"


class IntegrityFailure(GatewayError):
    """The stored ciphertext does not match its anchored hash or does not decrypt: never served."""

    status = 500
    code = "integrity-failure"


class KeyUnavailable(GatewayError):
    """No custodian key this gateway holds unwraps the record's data key."""

    status = 500
    code = "key-unavailable"


class ChainUnreachable(GatewayError):
    """The Ethereum node did not answer, or refused the access-log transaction."""

    status = 502
    code = "chain-unreachable"


class ChainRefused(GatewayError):
    """The chain reverted the access-log transaction for a reason other than a denied read."""

    status = 502
    code = "chain-refused"
