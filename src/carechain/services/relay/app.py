"""The relayer over HTTP (FastAPI, so the OpenAPI spec is served at /openapi.json and /docs).

A patient's page signs with its wallet (`GET /info` has the EIP-712 domain and types, `GET
/patients/{address}/nonce` the nonce to sign) and posts the signed request as JSON, the same JSON
`carechain consent sign -o` writes; the answer's id is followed at `GET /submissions/{id}`. Pages
on http://localhost and http://127.0.0.1 (any port) may call it from the browser (CORS). Every
refusal is JSON `{"error": code, "detail": one sentence}` with the HTTP status of its class
(`carechain.services.kernel`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware
from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field

from carechain.clients.base import bytes32
from carechain.core.values import ascii_whole
from carechain.errors import BadRequest, CareChainError
from carechain.services.kernel import new_app, responses
from carechain.services.relay.acts import SubjectActRelay, act_request
from carechain.services.relay.service import Relay, RelayService, grant_request, revoke_request
from carechain.services.relay.store import Submission

LOCAL_ORIGINS = r"^http://(localhost|127\.0\.0\.1)(:\d+)?$"
MAX_BODY = 64 * 2**10  # bytes: a signed request or subject act is a few KiB at most
log = logging.getLogger("carechain.relay")  # the service's name in logging configs, not its module path


def _whole(value: object) -> object:
    """A whole number as JSON number or decimal string (a browser's BigInt); never true/false."""
    if isinstance(value, bool) or (isinstance(value, str) and ascii_whole(value.strip(), 4_300) is None):
        raise ValueError("expected a whole number (a JSON number or a decimal string)")
    return value


Whole = Annotated[int, BeforeValidator(_whole)]


class _Signed(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patient: str = Field(description="The patient's address (the signer)")
    grantee: str = Field(description="The grantee's address (ANY_GRANTEE for everyone)")
    purpose: str = Field(description="0x bytes32 purpose id, or a code / CURIE (HMB, DUO:0000006)")
    nonce: Whole = Field(description="The patient's ConsentRegistry nonce (GET /patients/{address}/nonce)")
    deadline: Whole = Field(description="Unix time until which the signature may be submitted")
    signature: str = Field(description="0x 65-byte EIP-712 signature (r, s, v)")


class GrantBody(_Signed):
    """A signed EIP-712 `Grant`, as `carechain consent sign -o` writes it or a wallet signs it."""

    kind: Literal["Grant"] | None = None
    scopes: Whole = Field(description="Data scopes bitmask (uint64)")
    expiresAt: Whole = Field(
        validation_alias=AliasChoices("expiresAt", "expires_at"),
        description="Unix time the consent lapses, 0 for never (`expires_at` accepted too)",
    )


class RevokeBody(_Signed):
    """A signed EIP-712 `Revoke`, as `carechain consent sign-revoke -o` writes it."""

    kind: Literal["Revoke"] | None = None


class GrantFields(BaseModel):
    """ERC-8356's `Grant` fields but the nonce, as `carechain.core.acts.SubjectAct.as_json` writes them."""

    model_config = ConfigDict(extra="forbid")

    scopeRef: str
    purposeProfileRef: str
    termsRef: str
    assetTokenId: Whole
    subjectCommit: str
    grantee: str
    agent: str
    policy: Whole = Field(description="notBefore ... flags packed as ERC-8356 says (a decimal string)")


class SubjectActBody(BaseModel):
    """A subject act on ConsentGrants signed by the grant's own key (`SubjectAct.as_json`)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["Grant", "RevokeBySubject", "RevokeScopeLeaf", "BurnNonce"]
    target: str = Field(description="0x bytes32: the subjectCommit (Grant, BurnNonce) or the grant id")
    nonce: Whole = Field(description="The commitment's nonce (GET /subjects/{commitment}/nonce)")
    subjectSig: str = Field(description="0x abi.encode(bytes32 subjectSalt, bytes signature)")
    grant: GrantFields | None = Field(None, description="Grant only")
    reasonCode: str | None = Field(None, description="RevokeBySubject only: 0x bytes32")
    leaf: str | None = Field(None, description="RevokeScopeLeaf only: 0x bytes32 scope leaf")


class SubmissionAnswer(BaseModel):
    id: str = Field(description="0x EIP-712 digest of the signed request")
    kind: str
    patient: str = Field(description="The patient's address; for a subject act, the subject commitment")
    nonce: int
    status: Literal["pending", "submitted", "mined", "failed"]
    tx: str | None = Field(description="The relayer's transaction")
    block: int | None
    gasUsed: int | None
    error: str | None = Field(description="The contract's error name when the transaction failed")


_REFUSALS = responses(400, 401, 409, 413, 422, 429, 500, 502)

_SEEN: dict[int | str, dict[str, Any]] = {
    200: {"model": SubmissionAnswer, "description": "seen before: the same submission, nothing sent"}
}


def answer(submission: Submission) -> SubmissionAnswer:
    return SubmissionAnswer(
        id="0x" + submission.id.hex(),
        kind=submission.kind,
        patient=submission.patient,
        nonce=submission.nonce,
        status=submission.status,  # type: ignore[arg-type]
        tx=submission.tx_hash,
        block=submission.block_number,
        gasUsed=submission.gas_used,
        error=submission.error,
    )


def create_app(
    service: RelayService | None, poll: float = 2.0, acts: SubjectActRelay | None = None
) -> FastAPI:
    """The ASGI app of one relayer; every `poll` seconds (0: never) it follows the receipts in flight.
    `service` takes ConsentRegistry's signed requests (`/info`, `/consents`, `/revocations`), `acts`
    ConsentGrants' subject acts (`/consent-grants/info`, `/subject-acts`)."""
    relays: list[Relay] = [relay for relay in (service, acts) if relay is not None]

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_follow_receipts(relays, poll)) if poll > 0 else None
        yield
        if task is not None:
            task.cancel()

    app = new_app(
        "CareChain relayer",
        "Submits patients' EIP-712 signed consents and revocations; the patient pays no gas.",
        lifespan,
        max_body=MAX_BODY,
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origin_regex=LOCAL_ORIGINS,
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type"],
        expose_headers=["Retry-After"],
    )

    if service is not None:
        _add_signed_requests(app, service)
    if acts is not None:
        _add_subject_acts(app, acts)
    return app


def _add_signed_requests(app: FastAPI, service: RelayService) -> None:
    """The routes of ConsentRegistry's signed consents and revocations (removed with that registry)."""

    @app.get("/info")
    def info() -> dict[str, Any]:
        """Chain id, ConsentRegistry, relayer address, EIP-712 domain and types: what a page signs."""
        return service.info()

    @app.get("/patients/{patient}/nonce", responses=_REFUSALS)
    def nonce(patient: str) -> dict[str, Any]:
        """The nonce the patient's next signed request carries."""
        return service.nonce(patient)

    @app.post(
        "/consents",
        status_code=202,
        response_model=SubmissionAnswer,
        responses=_SEEN | _REFUSALS,
    )
    def consent(body: GrantBody, response: Response) -> SubmissionAnswer:
        """Submit a signed consent (grantBySig); 202 when sent now, 200 when this signature was seen."""
        submission, new = service.submit(grant_request(body.model_dump()))
        response.status_code = 202 if new else 200
        return answer(submission)

    @app.post(
        "/revocations",
        status_code=202,
        response_model=SubmissionAnswer,
        responses=_SEEN | _REFUSALS,
    )
    def revocation(body: RevokeBody, response: Response) -> SubmissionAnswer:
        """Submit a signed revocation (revokeBySig); 202 when sent now, 200 when seen before."""
        submission, new = service.submit(revoke_request(body.model_dump()))
        response.status_code = 202 if new else 200
        return answer(submission)

    @app.get(
        "/submissions/{submission_id}",
        response_model=SubmissionAnswer,
        responses=responses(404) | _REFUSALS,
    )
    def submission(submission_id: str) -> SubmissionAnswer:
        """A submission's status: pending, submitted, mined (block, gas) or failed (the error's name)."""
        return answer(service.status(_submission_id(submission_id, "submission id")))


def _add_subject_acts(app: FastAPI, acts: SubjectActRelay) -> None:
    """The routes of ConsentGrants' subject acts, each relayed in a transaction of its own."""

    @app.get("/consent-grants/info")
    def grants_info() -> dict[str, Any]:
        """Chain id, ConsentGrants, relayer, EIP-712 domain and the four subject acts' types."""
        return acts.info()

    @app.get("/subjects/{subject_commit}/nonce", responses=_REFUSALS)
    def subject_nonce(subject_commit: str, request: Request) -> dict[str, Any]:
        """The nonce a subject commitment's next signed act carries."""
        return acts.nonce(subject_commit, _client(request))

    @app.post(
        "/subject-acts",
        status_code=202,
        response_model=SubmissionAnswer,
        responses=_SEEN | _REFUSALS,
    )
    def subject_act(body: SubjectActBody, request: Request, response: Response) -> SubmissionAnswer:
        """Submit a signed grant, revocation, scope-leaf withdrawal or nonce burn; 202 when sent now, 200
        when this act was seen before."""
        submission, new = acts.submit(act_request(body.model_dump(exclude_none=True)), _client(request))
        response.status_code = 202 if new else 200
        return answer(submission)

    @app.get(
        "/subject-acts/{act_id}",
        response_model=SubmissionAnswer,
        responses=responses(404) | _REFUSALS,
    )
    def subject_act_status(act_id: str) -> SubmissionAnswer:
        """A subject act's status: pending, submitted, mined (block, gas) or failed (the error's name)."""
        return answer(acts.status(_submission_id(act_id, "act id")))


def _client(request: Request) -> str:
    """The client's address for its rate limit: held in memory only, never logged or stored."""
    return request.client.host if request.client is not None else "unknown"


def _submission_id(text: str, what: str) -> bytes:
    try:
        return bytes32(text, what)
    except CareChainError as err:
        raise BadRequest(f"{err}.") from None


async def _follow_receipts(relays: list[Relay], poll: float) -> None:
    while True:
        await asyncio.sleep(poll)
        for relay in relays:
            try:
                await run_in_threadpool(relay.follow)
            except CareChainError as err:  # the node is down for now: the next round tries again
                log.warning("following receipts: %s", err)
