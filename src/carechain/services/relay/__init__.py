"""The relayer: submits patients' EIP-712 signed consents and revocations, so patients pay no gas.

`service.RelayService` is the logic (checks, simulation, rate limit, sending, receipts), `app` its
HTTP face (FastAPI, on `carechain.services.kernel`), `store` the database of submissions. Its
refusals are `carechain.errors.ServiceError`s.
"""

from carechain.services.relay.service import Rate, RelayService, grant_request, open_relay, revoke_request
from carechain.services.relay.store import Store, Submission

__all__ = [
    "Rate",
    "RelayService",
    "Store",
    "Submission",
    "grant_request",
    "open_relay",
    "revoke_request",
]
