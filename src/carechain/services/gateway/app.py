"""The gateway over HTTP (FastAPI, so the OpenAPI spec is served at /openapi.json and /docs).

`POST /records` is the custodian's own ingest, behind a bearer token (CARECHAIN_GATEWAY_TOKEN);
`POST /records/{id}/read` is the provider's signed read; `GET /info` tells a provider's client
what to sign; in log mode "receipts", `GET /receipts/{id}` is a read's signed receipt with its
Merkle proof and the on-chain commit of its root. Every refusal is JSON
`{"error": code, "detail": message}` with its HTTP status.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from carechain.clients.base import bytes32
from carechain.clients.records import category_bit, new_record_id
from carechain.errors import CareChainError
from carechain.services.gateway.errors import BadRequest, GatewayError, Unauthorized
from carechain.services.gateway.requests import ReadRequest
from carechain.services.gateway.service import DEFAULT_MEDIA_TYPE, GatewayService

TOKEN_ENV = "CARECHAIN_GATEWAY_TOKEN"


class IngestBody(BaseModel):
    """A record version from the custodian's own systems (a FHIR resource or any document)."""

    recordId: str | None = Field(None, description="0x bytes32; a fresh random id when absent")
    patient: str = Field(description="The patient's address")
    category: str = Field(description="One data scope: labs, imaging, genomics...")
    content: str = Field(description="The record, base64")
    mediaType: str = DEFAULT_MEDIA_TYPE


class IngestAnswer(BaseModel):
    recordId: str
    version: int
    contentHash: str
    txHash: str | None = Field(description="The anchor/amend transaction; null when nothing was anchored")


class ReadBody(BaseModel):
    """The provider's EIP-712 ReadRequest (its record id is the path's) and signature."""

    provider: str
    purpose: str = Field(description="0x bytes32 purpose code (carechain purposes)")
    gateway: str = Field(description="The gateway's custodian address (GET /info)")
    chainId: int
    issuedAt: int = Field(description="Unix time the request was signed")
    nonce: int = Field(description="A random uint64: two requests in one second differ")
    signature: str = Field(description="0x 65-byte EIP-712 signature")


class Refusal(BaseModel):
    error: str
    detail: str


_REFUSALS: dict[int | str, dict[str, object]] = {
    status: {"model": Refusal, "description": text}
    for status, text in (
        (400, "malformed, expired, or for another gateway or chain"),
        (401, "bad signature (or, for ingest, a bad token)"),
        (403, "canAccess is false on chain"),
        (404, "no such record (or receipt) at this gateway"),
        (409, "the signed request was used already"),
        (410, "the record was erased"),
        (500, "integrity failure: the stored record does not match its anchor (never served)"),
        (502, "the Ethereum node did not answer, or refused the access-log transaction"),
    )
}


def create_app(service: GatewayService, token: str | None) -> FastAPI:
    """The ASGI app of one gateway; `token` authenticates the custodian's ingest (None: ingest off)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        service.start()  # receipts mode: the batcher commits pending receipts every few seconds
        try:
            yield
        finally:
            service.stop()  # after a last commit of what is pending

    app = FastAPI(
        title="CareChain record gateway",
        version="1",
        description="Encrypted records served only on on-chain permission; every read logged on chain.",
        lifespan=lifespan,
    )

    @app.exception_handler(GatewayError)
    async def refused(_: Request, err: GatewayError) -> JSONResponse:
        return JSONResponse({"error": err.code, "detail": str(err)}, status_code=err.status)

    @app.exception_handler(CareChainError)
    async def bad_input(_: Request, err: CareChainError) -> JSONResponse:
        return JSONResponse({"error": BadRequest.code, "detail": str(err)}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, err: RequestValidationError) -> JSONResponse:
        fields = ", ".join(".".join(str(p) for p in e["loc"][1:]) or "body" for e in err.errors())
        return JSONResponse({"error": BadRequest.code, "detail": f"invalid {fields}"}, status_code=400)

    @app.get("/info")
    def info() -> dict[str, object]:
        """The gateway's address, chain and EIP-712 domain and types: what a read request signs."""
        return service.info()

    @app.post("/records", status_code=201, response_model=IngestAnswer, responses=_REFUSALS)
    def ingest(body: IngestBody, authorization: Annotated[str | None, Header()] = None) -> IngestAnswer:
        """(Custodian) encrypt, store and anchor a record version; identical content anchors nothing."""
        given = (authorization or "").removeprefix("Bearer ").encode()
        if not token or not hmac.compare_digest(given, token.encode()):
            raise Unauthorized("ingest needs the custodian's bearer token")
        try:
            content = base64.b64decode(body.content, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("content is not base64") from None
        record_id = bytes32(body.recordId, "record id") if body.recordId else new_record_id()
        put = service.put(record_id, body.patient, category_bit(body.category), content, body.mediaType)
        return IngestAnswer(
            recordId="0x" + put.record_id.hex(),
            version=put.version,
            contentHash="0x" + put.content_hash.hex(),
            txHash=put.tx_hash,
        )

    @app.post(
        "/records/{record_id}/read",
        response_class=Response,
        responses={200: {"content": {"application/octet-stream": {}}}, **_REFUSALS},
    )
    def read(record_id: str, body: ReadBody) -> Response:
        """(Provider) the record, once the signature, canAccess, the on-chain log and the hash check pass."""
        try:
            rid = bytes32(record_id, "record id")
        except CareChainError as err:
            raise BadRequest(str(err)) from None
        served = service.read(ReadRequest.from_body(rid, body.model_dump()))
        headers = {"X-CareChain-Version": str(served.version), "X-CareChain-Basis": served.basis.name}
        if served.log_tx is not None:
            headers["X-CareChain-Log-Tx"] = served.log_tx
        if served.receipt_id is not None and served.receipt_signature is not None:
            headers["X-CareChain-Receipt"] = "0x" + served.receipt_id.hex()
            headers["X-CareChain-Receipt-Signature"] = "0x" + served.receipt_signature.hex()
        return Response(served.content, media_type=served.media_type, headers=headers)

    @app.get("/receipts/{receipt_id}", responses=_REFUSALS)
    def receipt(receipt_id: str) -> dict[str, Any]:
        """(Provider, patient, auditor) a read receipt, the gateway's signature over it and, once its
        batch is committed, the Merkle root, the proof and the commit transaction (else null)."""
        try:
            rid = bytes32(receipt_id, "receipt id")
        except CareChainError as err:
            raise BadRequest(str(err)) from None
        return service.receipt(rid)

    return app
