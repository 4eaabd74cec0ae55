"""The relayer: submits patients' EIP-712 signed consents and revocations, so patients pay no gas.

`service.RelayService` is the logic (checks, simulation, rate limit, sending, receipts), `app` its
HTTP face (FastAPI), `store` the database of submissions, `errors` why a request is refused.
"""

from carechain.relay.errors import RelayError
from carechain.relay.service import Rate, RelayService, grant_request, open_relay, revoke_request
from carechain.relay.store import Store, Submission

__all__ = [
    "Rate",
    "RelayError",
    "RelayService",
    "Store",
    "Submission",
    "grant_request",
    "open_relay",
    "revoke_request",
]
