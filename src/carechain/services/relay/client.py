"""A patient's HTTP client of the relayer's subject-act endpoints: it sends what the patient's keys signed.

`carechain.offchain.patient.Patient` takes it as its submitter (the CLI and the portal's backend will), so a
patient's acts reach the chain from the relayer's key and never from the patient's wallet.
"""

from __future__ import annotations

from typing import Any

from carechain.core.acts import SubjectAct, Submitted
from carechain.core.values import bytes32
from carechain.errors import CareChainError
from carechain.services.client import ServiceClient


class RelayClient(ServiceClient):
    """The relayer at `url`: `submit` posts a signed subject act, `status` follows it."""

    service = "relayer"

    def info(self) -> dict[str, Any]:
        """The relayer's ConsentGrants, chain, domain and types (GET /consent-grants/info)."""
        answer = self._request("GET", "/consent-grants/info")
        if answer.status_code != 200:
            raise self._refusal(answer, "the info request")
        return self._json(answer)

    def submit(self, act: SubjectAct) -> Submitted:
        """Post a signed act: the relayer's submission of it (the same one again for an act it has seen)."""
        answer = self._request("POST", "/subject-acts", json=act.as_json())
        if answer.status_code not in (200, 202):
            raise self._refusal(answer, f"the {act.kind} act")
        return self._submitted(self._json(answer))

    def status(self, act_id: bytes) -> Submitted:
        """How far the relayer got with an act it took on."""
        key = bytes32(act_id, "act id")
        answer = self._request("GET", f"/subject-acts/0x{key.hex()}")
        if answer.status_code != 200:
            raise self._refusal(answer, f"act 0x{key.hex()}")
        return self._submitted(self._json(answer))

    def _submitted(self, body: dict[str, Any]) -> Submitted:
        try:
            return Submitted(
                bytes32(str(body["id"]), "act id"),
                str(body["kind"]),
                str(body["status"]),
                None if body["tx"] is None else str(body["tx"]),
                None if body["error"] is None else str(body["error"]),
            )
        except (KeyError, TypeError, CareChainError):
            raise CareChainError(f"{self.url} answered without a CareChain relayer's submission") from None
