"""Talking to a node: one retry policy for every JSON-RPC request, and `connect`.

A node call that gets no answer (connection refused or reset, timeout) is tried again with exponential
backoff, a bounded number of times (`RetryPolicy`; CARECHAIN_RPC_ATTEMPTS, CARECHAIN_RPC_BACKOFF and
CARECHAIN_RPC_TIMEOUT override the defaults), then fails with one `ChainUnavailable` naming the RPC URL.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from web3 import HTTPProvider, Web3
from web3.types import RPCEndpoint, RPCResponse

from carechain.errors import ChainUnavailable, ConfigError

LOCAL_CHAIN_IDS = frozenset({31337, 1337})
NO_ANSWER = (requests.exceptions.ConnectionError, requests.exceptions.Timeout)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often a node call that gets no answer is tried, and how long to wait between the tries."""

    attempts: int = 3  # tries in all, the first included
    backoff: float = 0.5  # seconds before the second try; doubled before each next one
    timeout: float = 30.0  # seconds one HTTP request may take (for the providers `connect` makes)

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.backoff < 0 or self.timeout <= 0:
            raise ConfigError(
                f"RPC retries need attempts >= 1, backoff >= 0 and timeout > 0, not {self.attempts}, "
                f"{self.backoff} and {self.timeout}"
            )

    @classmethod
    def from_env(cls) -> RetryPolicy:
        """The defaults, overridden by CARECHAIN_RPC_ATTEMPTS, _BACKOFF and _TIMEOUT when set."""
        values: dict[str, Any] = {}
        for field, kind in (("attempts", int), ("backoff", float), ("timeout", float)):
            name = f"CARECHAIN_RPC_{field.upper()}"
            text = os.environ.get(name)
            if text:
                try:
                    values[field] = kind(text)
                except ValueError:
                    raise ConfigError(f"{name}={text!r} is not a number") from None
        return cls(**values)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed try number `attempt` (0 for the first)."""
        return float(self.backoff * 2**attempt)


class RetryingHTTPProvider(HTTPProvider):
    """An HTTP provider that asks again, per `policy`, whenever the node does not answer a request that
    cannot make a duplicate: every one but eth_sendTransaction (the node would sign a second transaction).
    Once the tries are used up the last `requests` exception is raised (see `retrying`)."""

    NOT_RETRIED = frozenset({"eth_sendTransaction", "personal_sendTransaction"})

    def __init__(self, endpoint_uri: str, policy: RetryPolicy, timeout: float | None = None) -> None:
        super().__init__(
            endpoint_uri,
            request_kwargs={"timeout": timeout or policy.timeout},
            exception_retry_configuration=None,  # retried here, for every safe method, by `policy`
        )
        self.policy = policy

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        tries = 1 if method in self.NOT_RETRIED else self.policy.attempts
        for attempt in range(tries):
            try:
                return super().make_request(method, params)
            except NO_ANSWER:
                if attempt + 1 == tries:
                    raise
                time.sleep(self.policy.delay(attempt))
        raise AssertionError("unreachable: attempts >= 1")  # pragma: no cover



def endpoint(w3: Web3) -> str:
    """The URL `w3` talks to, for error messages."""
    return str(getattr(w3.provider, "endpoint_uri", None) or type(w3.provider).__name__)


def retrying(w3: Web3, what: str, fn: Callable[[], T], retry: RetryPolicy | None = None) -> T:
    """`fn()`, tried again with exponential backoff while the node does not answer; then one clear error.

    On a `RetryingHTTPProvider` (what `connect` makes) the provider retries already: one call here.
    """
    provider = w3.provider
    policy = (
        provider.policy if isinstance(provider, RetryingHTTPProvider) else retry or RetryPolicy.from_env()
    )
    tries = 1 if isinstance(provider, RetryingHTTPProvider) else policy.attempts
    for attempt in range(tries):
        try:
            return fn()
        except NO_ANSWER as err:
            if attempt + 1 == tries:
                raise ChainUnavailable(
                    f"the Ethereum node at {endpoint(w3)} did not answer {what} ({type(err).__name__}, "
                    f"{policy.attempts} attempts); re-run once it is back"
                ) from err
            time.sleep(policy.delay(attempt))
    raise AssertionError("unreachable: attempts >= 1")  # pragma: no cover


def connect(rpc_url: str, timeout: float | None = None, retry: RetryPolicy | None = None) -> Web3:
    """A Web3 on `rpc_url` whose requests are retried (`RetryingHTTPProvider`), checked to answer:
    one clear error when the node is down, after the retries."""
    w3 = Web3(RetryingHTTPProvider(rpc_url, retry or RetryPolicy.from_env(), timeout))
    try:
        w3.eth.chain_id  # noqa: B018 - a cheap call that proves the node answers
    except (requests.exceptions.RequestException, OSError) as err:
        raise ChainUnavailable(f"no Ethereum node answers at {rpc_url} ({type(err).__name__})") from err
    return w3
