"""carechain.services.kernel.BodyLimit: a body over the service's limit is 413 too-large, unread (C.15)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from carechain.errors import ConfigError
from carechain.services.gateway.app import MAX_BYTES_ENV, max_bytes_from_env
from carechain.services.gateway.service import WINDOW_ENV, window_from_env
from carechain.services.kernel import DEFAULT_MAX_BODY, new_app

LIMIT = 1024
JSON = {"Content-Type": "application/json"}


@asynccontextmanager
async def _nothing(_: FastAPI) -> AsyncIterator[None]:
    yield


@pytest.fixture
def client() -> Iterator[tuple[TestClient, list[int]]]:
    app = new_app("test", "a service with a small limit", _nothing, max_body=LIMIT)
    read: list[int] = []

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        body = await request.body()
        read.append(len(body))
        return {"size": len(body)}

    with TestClient(app) as test_client:
        yield test_client, read


def test_a_body_at_the_limit_is_read(client):
    http, read = client
    answer = http.post("/echo", content=b"x" * LIMIT)
    assert answer.status_code == 200 and answer.json() == {"size": LIMIT} and read == [LIMIT]


def test_a_declared_length_over_the_limit_is_413_and_never_reaches_the_app(client):
    http, read = client
    answer = http.post("/echo", content=b"x" * (LIMIT + 1))
    assert answer.status_code == 413
    assert answer.json() == {
        "error": "too-large",
        "detail": "the request's body is over this service's limit of 1,024 bytes",
    }
    assert read == []


def test_a_streamed_body_is_stopped_once_it_passes_the_limit(client):
    http, read = client
    chunks = (b"x" * 512 for _ in range(4))  # no Content-Length: chunked
    answer = http.post("/echo", content=chunks)
    assert answer.status_code == 413 and answer.json()["error"] == "too-large" and read == []


def test_the_gateway_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(MAX_BYTES_ENV, raising=False)
    assert max_bytes_from_env() == DEFAULT_MAX_BODY == 16 * 2**20
    monkeypatch.setenv(MAX_BYTES_ENV, "4096")
    assert max_bytes_from_env() == 4096
    for bad in ("0", "-1", "16MiB", "9" * 40, "\u00b2", "\u0663", "1_000"):  # '²': isdigit() but not int()
        monkeypatch.setenv(MAX_BYTES_ENV, bad)
        with pytest.raises(ConfigError, match=f"{MAX_BYTES_ENV} is a number of bytes above 0"):
            max_bytes_from_env()


def test_the_gateway_window_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(WINDOW_ENV, raising=False)
    assert window_from_env() == 60
    monkeypatch.setenv(WINDOW_ENV, "300")
    assert window_from_env() == 300
    for bad in ("0", "-1", "1m", "9" * 40, "\u00b2", "\u0663"):
        monkeypatch.setenv(WINDOW_ENV, bad)
        with pytest.raises(ConfigError, match=f"{WINDOW_ENV} is a number of seconds above 0"):
            window_from_env()


def test_a_declared_length_of_thousands_of_digits_is_413_not_a_crash(client):
    """int() refuses over 4,300 digits (ValueError): a Content-Length that long is over any limit."""
    http, read = client
    answer = http.post("/echo", content=b"x", headers={"Content-Length": "9" * 5_000})
    assert answer.status_code == 413 and read == []


def test_a_body_nested_too_deep_is_400_before_it_is_parsed(client):
    """C.12: 100,000 `[` made json.loads raise RecursionError in FastAPI; the kernel counts depth first."""
    http, read = client
    app = new_app("test", "parses JSON", _nothing)

    @app.post("/json")
    def parse(body: dict[str, int]) -> dict[str, int]:
        return body

    with TestClient(app) as parsing:
        deep = parsing.post("/json", content=b"[" * 100_000, headers={"Content-Type": "application/json"})
        huge = parsing.post(
            "/json", content=b'{"nonce": ' + b"9" * 5000 + b"}", headers={"Content-Type": "application/json"}
        )
        fine = parsing.post("/json", json={"nonce": 1})
    assert deep.status_code == 400 and deep.json() == {
        "error": "bad-request",
        "detail": "the body nests 100,000 levels deep: at most 64.",
    }
    assert huge.status_code == 400 and huge.json()["error"] == "bad-request"
    assert huge.json()["detail"].startswith("malformed request")
    assert fine.status_code == 200 and fine.json() == {"nonce": 1}
    assert http.post("/echo", content=b"[[1]]").status_code == 200 and read == [5]


def test_a_body_that_is_not_utf8_is_400_before_it_is_parsed(client):
    """json.loads(bytes) reads UTF-16 and -32 too, and the depth count read the body as UTF-8: in UTF-16
    a '\u2200' in a string has the byte '"', which re-paired the counter's strings around 100,000 `[`, so
    they passed it at depth 1 and reached json.loads (RecursionError). JSON between systems is UTF-8
    (RFC 8259): any other body is refused before anything parses it."""
    http, read = client
    app = new_app("test", "parses JSON", _nothing)

    @app.post("/json")
    def parse(body: list[Any]) -> int:
        return len(body)

    deep = '["a\u2200", ' + "[" * 100_000 + "]" * 100_000 + ', "\u2200b"]'
    bodies = [deep.encode(codec) for codec in ("utf-16-le", "utf-16", "utf-32")] + [b'["\xff"]']
    with TestClient(app) as parsing:
        answers = [parsing.post("/json", content=body, headers=JSON) for body in bodies]
        fine = parsing.post("/json", content='["\u2200", [[1]]]'.encode(), headers=JSON)
    for answer in answers:
        assert answer.status_code == 400 and answer.json() == {
            "error": "bad-request",
            "detail": "the body is not UTF-8: JSON between systems is UTF-8 (RFC 8259).",
        }
    assert fine.status_code == 200 and fine.json() == 2
    assert http.post("/echo", content=b"\xef\xbb\xbf[1]").status_code == 200 and read == [6]  # BOM: UTF-8
