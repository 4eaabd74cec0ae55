"""Talking to a node: one retry policy, one retry loop, for every JSON-RPC request; and `connect`.

A node call that gets no answer (connection refused or reset, timeout, an HTTP error status) is tried
again with exponential backoff, a bounded number of times (`RetryPolicy`; CARECHAIN_RPC_ATTEMPTS,
CARECHAIN_RPC_BACKOFF and CARECHAIN_RPC_TIMEOUT override the defaults), then fails with one
`ChainUnavailable` naming the RPC URL. The loop is `RetryPolicy.run`, and each request goes through it
once: in the provider `connect` makes (`RetryingHTTPProvider`), or in `retrying` when the provider is
not ours. The sender, the reads and the indexer all call `retrying`.

Worst case: a request is sent `attempts` times (default 3), never more; eth_sendTransaction once (the
node signs: a second try could send a second transaction). Around a provider that is not ours,
`attempts` counts the tries of `retrying`, each of which that provider may retry on its own (web3.py's
`HTTPProvider` does unless built with `exception_retry_configuration=None`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import requests
from web3 import HTTPProvider, Web3
from web3.types import RPCEndpoint, RPCResponse

from carechain.errors import ChainUnavailable, ConfigError

LOCAL_CHAIN_IDS = frozenset({31337, 1337})
# No answer from the node: tried again. An HTTP error status is a proxy or a rate limit in the way.
NO_ANSWER = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.HTTPError,
)

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

    def run(self, fn: Callable[[], T]) -> T:
        """`fn()`, tried `attempts` times while the node does not answer; the last failure is raised."""
        for attempt in range(self.attempts - 1):
            try:
                return fn()
            except NO_ANSWER:
                time.sleep(self.delay(attempt))
        return fn()


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
        request = partial(super().make_request, method, params)
        return request() if method in self.NOT_RETRIED else self.policy.run(request)


def endpoint(w3: Web3) -> str:
    """The URL `w3` talks to, for error messages."""
    return str(getattr(w3.provider, "endpoint_uri", None) or type(w3.provider).__name__)


def policy_of(w3: Web3, retry: RetryPolicy | None = None) -> RetryPolicy:
    """The policy `w3`'s requests are retried by: its provider's when ours, else `retry` (or the env's)."""
    provider = w3.provider
    if isinstance(provider, RetryingHTTPProvider):
        return provider.policy
    return retry or RetryPolicy.from_env()


def retrying(w3: Web3, what: str, fn: Callable[[], T], retry: RetryPolicy | None = None) -> T:
    """`fn()`, its node requests tried per the policy while the node does not answer; then one clear error.

    On a `RetryingHTTPProvider` (what `connect` makes) the provider retries already: `fn` runs once.
    """
    policy = policy_of(w3, retry)
    try:
        return fn() if isinstance(w3.provider, RetryingHTTPProvider) else policy.run(fn)
    except NO_ANSWER as err:
        raise ChainUnavailable(
            f"the Ethereum node at {endpoint(w3)} did not answer {what} ({type(err).__name__}, "
            f"{policy.attempts} attempts); re-run once it is back"
        ) from err


def connect(rpc_url: str, timeout: float | None = None, retry: RetryPolicy | None = None) -> Web3:
    """A Web3 on `rpc_url` whose requests are retried (`RetryingHTTPProvider`), checked to answer:
    one clear error when the node is down, after the retries."""
    w3 = Web3(RetryingHTTPProvider(rpc_url, retry or RetryPolicy.from_env(), timeout))
    try:
        w3.eth.chain_id  # noqa: B018 - a cheap call that proves the node answers
    except (requests.exceptions.RequestException, OSError) as err:
        raise ChainUnavailable(f"no Ethereum node answers at {rpc_url} ({type(err).__name__})") from err
    return w3
