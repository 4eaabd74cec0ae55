"""The gateway over HTTP (FastAPI, so the OpenAPI spec is served at /openapi.json and /docs).

`POST /records` is the custodian's own ingest, behind a bearer token (CARECHAIN_GATEWAY_TOKEN);
`POST /records/{id}/read` is the provider's signed read; `GET /info` tells a provider's client
what to sign; in log mode "receipts", `GET /receipts/{id}` is a read's signed receipt with its
Merkle proof and the on-chain commit of its root. A request body over CARECHAIN_GATEWAY_MAX_BYTES
(default 16 MiB) is refused 413 too-large, an empty record 400 bad-request. Every refusal is JSON
`{"error": code, "detail": message}` with the HTTP status of its class (`carechain.services.kernel`).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, Header
from fastapi.responses import Response
from pydantic import BaseModel, Field

from carechain.clients.base import bytes32
from carechain.clients.records import category_bit, new_record_id
from carechain.core.values import ascii_whole
from carechain.errors import BadRequest, ConfigError, Unauthorized
from carechain.services.gateway.requests import ReadRequest
from carechain.services.gateway.service import DEFAULT_MEDIA_TYPE, GatewayService
from carechain.services.kernel import DEFAULT_MAX_BODY, new_app, responses

TOKEN_ENV = "CARECHAIN_GATEWAY_TOKEN"
MAX_BYTES_ENV = "CARECHAIN_GATEWAY_MAX_BYTES"


def max_bytes_from_env() -> int:
    """The largest request body the gateway reads: CARECHAIN_GATEWAY_MAX_BYTES, else 16 MiB."""
    text = os.environ.get(MAX_BYTES_ENV, "").strip() or str(DEFAULT_MAX_BODY)
    limit = ascii_whole(text)
    if not limit:
        raise ConfigError(f"{MAX_BYTES_ENV} is a number of bytes above 0, got {text[:40]!r}")
    return limit


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


_REFUSALS = responses(400, 401, 403, 404, 409, 410, 413, 422, 500, 502)


def create_app(service: GatewayService, token: str | None, max_bytes: int | None = None) -> FastAPI:
    """The ASGI app of one gateway; `token` authenticates the custodian's ingest (None: ingest off);
    a request body over `max_bytes` (None: CARECHAIN_GATEWAY_MAX_BYTES, else 16 MiB) is refused."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        service.start()  # receipts mode: the batcher commits pending receipts every few seconds
        try:
            yield
        finally:
            service.stop()  # after a last commit of what is pending

    app = new_app(
        "CareChain record gateway",
        "Encrypted records served only on on-chain permission; every read logged on chain.",
        lifespan,
        max_bytes_from_env() if max_bytes is None else max_bytes,
    )

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
        rid = bytes32(record_id, "record id")  # an InputError: 400 bad-request
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
        return service.receipt(bytes32(receipt_id, "receipt id"))

    return app
