"""A custodian's record gateway: encrypted records served only on on-chain permission, every read logged.

`service.GatewayService` is the logic (ingest, checked read, erasure, key rotation), `app` its HTTP
face (FastAPI, on `carechain.services.kernel`), `store` the database, `crypto` the envelope
encryption, `requests` the provider's signed read request, `client` the provider's HTTP client.
Its refusals are `carechain.errors.ServiceError`s.
"""

from carechain.services.gateway.requests import ReadRequest
from carechain.services.gateway.service import ERASED, GatewayService, PutResult, ServedRecord, open_gateway

__all__ = [
    "ERASED",
    "GatewayService",
    "PutResult",
    "ReadRequest",
    "ServedRecord",
    "open_gateway",
]
