"""The HTTP kernel the gateway and the relayer share: the refusal model, the status table, the handlers.

Both apps are made by `new_app`, so both answer every refusal alike: JSON `{"error": code, "detail":
one line}` with the HTTP status of the exception's class, the first row that matches:

    raised                                        status  error
    ServiceError (carechain.errors' HTTP branch)  its own status and code
    a request FastAPI cannot validate             400     bad-request
    InputError (bad address, purpose, ...)        400     bad-request
    ContractError (a revert the caller can fix)   422     refused             + errorName
    ChainUnavailable (the node does not answer)   502     chain-unreachable
    TransactionFailed (not mined, or reverted)    502     chain-unreachable
    anything else                                 500     internal

A body over the service's size limit is refused (413 too-large) before the app reads it, by its
Content-Length or, when the client streams it, as soon as it passes the limit; a JSON body nested deeper
than `carechain.core.files.MAX_DEPTH` is refused (400 bad-request) before it is parsed, as every JSON
document from outside is, and one FastAPI cannot parse (a number of 5,000 digits) is 400 bad-request too.

A contract's revert or a lost node is not a bad request: the caller changes the request (422) or
tries again later (502). `Refused` carries `errorName` too, `RateLimited` a Retry-After header. Every
code is one class's, so an answer's code keeps the meaning it has in `carechain.errors`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from typing import TYPE_CHECKING, Any

import requests
from pydantic import BaseModel, Field

from carechain.core.files import MAX_DEPTH, nesting
from carechain.errors import (
    BadRequest,
    CareChainError,
    ChainUnavailable,
    ChainUnreachable,
    ContractError,
    InputError,
    RateLimited,
    Refused,
    ServiceError,
    TooLarge,
    TransactionFailed,
)

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_MAX_BODY = 16 * 2**20  # bytes of one request's body; a record of ~12 MiB, base64 in JSON

# What each refusal status means: the OpenAPI description of every route that may answer it.
STATUSES: dict[int, str] = {
    400: "bad-request: malformed, or for another gateway or chain; expired: the signed request's time is up",
    401: "bad-signature: not signed by the provider or patient it names; unauthorized: no custodian token",
    403: "denied: canAccess is false on chain",
    404: "unknown-record, unknown-receipt, unknown-submission: no such thing here",
    409: "replayed: the signed request, or its nonce, was used already",
    410: "erased: the record was erased",
    413: "too-large: the request's body is over the service's size limit",
    422: "refused: the contract would revert (errorName is its custom error); nothing sent, no gas spent",
    429: "rate-limited: the patient's requests for the period are used up (see Retry-After)",
    500: "integrity-failure or key-unavailable: the stored record is never served; internal: anything else",
    502: "chain-unreachable: the node did not answer or our transaction failed; chain-refused: the gateway's "
    "access-log transaction reverted for another reason than a denied read",
}

# Library errors outside the HTTP branch answer as the ServiceError of the same meaning.
_BY_CLASS: tuple[tuple[type[CareChainError], type[ServiceError]], ...] = (
    (InputError, BadRequest),
    (ContractError, Refused),
    (ChainUnavailable, ChainUnreachable),
    (TransactionFailed, ChainUnreachable),  # as `chain_reached` says it, on whichever path it surfaces
)


class Refusal(BaseModel):
    """The JSON body of every refusal."""

    error: str = Field(description="The refusal's code: bad-request, expired, denied, replayed...")
    detail: str = Field(description="One line saying what is wrong")
    errorName: str | None = Field(None, description="For 422: the contract's custom error")


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses=` of a route that may refuse with these statuses."""
    return {status: {"model": Refusal, "description": STATUSES[status]} for status in statuses}


def refusal(err: Exception) -> tuple[int, dict[str, Any], dict[str, str]]:
    """The status, JSON body and headers that answer `err`, chosen by its class (the table above)."""
    if isinstance(err, ServiceError):
        answer: type[ServiceError] = type(err)
    else:
        answer = next((http for raised, http in _BY_CLASS if isinstance(err, raised)), ServiceError)
    if isinstance(err, CareChainError):
        detail = str(err)
    else:  # a bug, not a refusal: its text may show internals, the service's log has the traceback
        detail = f"the service failed ({type(err).__name__}); its log has the details"
    body: dict[str, Any] = {"error": answer.code, "detail": detail}
    headers: dict[str, str] = {}
    if isinstance(err, Refused):
        body["errorName"] = err.error_name
    elif isinstance(err, ContractError):
        body["errorName"] = err.name
    if isinstance(err, RateLimited):
        headers["Retry-After"] = str(err.retry_after)
    return answer.status, body, headers


def malformed(errors: list[Any]) -> str:
    """One sentence naming every problem FastAPI found in a request (the detail of its 400)."""
    return f"malformed request: {'; '.join(dict.fromkeys(_problem(e) for e in errors))}."


def _problem(err: Any) -> str:
    field = ".".join(str(part) for part in err["loc"][1:]) or "the body"
    kind = err["type"]
    if kind == "json_invalid":
        return "the body is not valid JSON"
    if kind == "missing":
        return f"{field} is missing"
    if kind == "extra_forbidden":
        return f"{field} is not a field of this signed request"
    if kind == "literal_error":
        return f"{field} must be {err['ctx']['expected']}"
    text = str(err["msg"]).removeprefix("Value error, ")
    return f"invalid {field}: {text[:1].lower()}{text[1:]}"


class BodyLimit:
    """ASGI middleware: a request whose body is over `limit` bytes is answered 413 too-large, unread by
    the app (the body is held until complete, as FastAPI would hold it anyway); one that is not UTF-8,
    or nests deeper than MAX_DEPTH, is answered 400 bad-request before anything parses it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and (len(declared) > 18 or int(declared) > self.limit):  # ASCII (bytes)
            await self._refuse(scope, receive, send, self._too_large())
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":  # the client left
                break
            size += len(message.get("body", b""))
            if size > self.limit:
                await self._refuse(scope, receive, send, self._too_large())
                return
            if not message.get("more_body", False):
                break
        text = _utf8(b"".join(m.get("body", b"") for m in messages))
        if text is None:
            not_utf8 = BadRequest("the body is not UTF-8: JSON between systems is UTF-8 (RFC 8259).")
            await self._refuse(scope, receive, send, not_utf8)
            return
        depth = nesting(text)
        if depth > MAX_DEPTH:
            too_deep = BadRequest(f"the body nests {depth:,} levels deep: at most {MAX_DEPTH}.")
            await self._refuse(scope, receive, send, too_deep)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    def _too_large(self) -> TooLarge:
        return TooLarge(f"the request's body is over this service's limit of {self.limit:,} bytes")

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, err: ServiceError) -> None:
        from fastapi.responses import JSONResponse

        status, body, headers = refusal(err)
        await JSONResponse(body, status, {**headers, "Connection": "close"})(scope, receive, send)


def _utf8(body: bytes) -> str | None:
    """`body` as UTF-8 text, as json.loads(body) reads it, or None: json.loads also takes UTF-16 and -32
    (told by a BOM or the NULs of the first bytes; ASCII in UTF-16 is valid UTF-8 too), text the depth
    count would read otherwise than the parser."""
    if json.detect_encoding(body) not in {"utf-8", "utf-8-sig"}:
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def new_app(
    title: str,
    description: str,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    max_body: int = DEFAULT_MAX_BODY,
) -> FastAPI:
    """A service's FastAPI app (OpenAPI at /openapi.json and /docs) with the kernel's handlers installed;
    a request body over `max_body` bytes is refused (413 too-large)."""
    # FastAPI loads only when an app is made: the CLI's gateway commands use the services without it.
    from fastapi import FastAPI, Request
    from fastapi.exception_handlers import http_exception_handler
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, Response
    from starlette.exceptions import HTTPException

    app = FastAPI(title=title, version="1", description=description, lifespan=lifespan)

    async def refused(_: Request, err: Exception) -> JSONResponse:
        status, body, headers = refusal(err)
        return JSONResponse(body, status_code=status, headers=headers)

    async def invalid(_: Request, err: Exception) -> JSONResponse:
        assert isinstance(err, RequestValidationError)
        return JSONResponse({"error": BadRequest.code, "detail": malformed(list(err.errors()))}, 400)

    async def unparsed(request: Request, err: Exception) -> Response:
        """FastAPI's own 400 (a body it cannot parse) in the refusals' shape; other statuses as they are."""
        assert isinstance(err, HTTPException)
        if err.status_code == 400:
            return JSONResponse(
                {"error": BadRequest.code, "detail": f"malformed request: {err.detail}."}, 400
            )
        return await http_exception_handler(request, err)

    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, unparsed)
    app.add_exception_handler(CareChainError, refused)
    app.add_exception_handler(Exception, refused)  # answered as 500 internal, then logged by the server
    app.add_middleware(BodyLimit, limit=max_body)
    return app


@contextmanager
def chain_reached() -> Iterator[None]:
    """A node that does not answer, whatever layer says so, or a transaction that was not mined, is a
    ChainUnreachable (502): callers of a service catch one class."""
    try:
        yield
    except (requests.exceptions.RequestException, OSError, ChainUnavailable) as err:
        raise ChainUnreachable(f"the Ethereum node did not answer ({type(err).__name__}).") from None
    except TransactionFailed as err:
        raise ChainUnreachable(sentence(str(err))) from None


def sentence(text: str) -> str:
    """`text` ending as a sentence does (the relayer's details are one sentence each)."""
    return text if text.endswith((".", "?", "!")) else text + "."
