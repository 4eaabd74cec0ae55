"""An RPC that times out: retried with exponential backoff, a bounded number of times, then one clear error.

The "node" is a local socket server that accepts every connection and never answers; it records when
each attempt connected, so the count and the growing gaps between attempts are measured, not assumed.
"""

from __future__ import annotations

import pytest
import requests
from click.testing import CliRunner
from eth_account import Account
from web3 import Web3

from carechain.cli import cli
from carechain.core.deployments import load_abi
from carechain.core.reverts import call
from carechain.core.sender import Sender
from carechain.core.transport import RetryingHTTPProvider, RetryPolicy, connect
from carechain.errors import ChainUnavailable
from reliability.support import HMB, LABS, REPO, silent_server

POLICY = RetryPolicy(attempts=3, backoff=0.1, timeout=0.3)
SOMEWHERE = "0x" + "33" * 20


def _silent_w3(url: str) -> Web3:
    return Web3(
        Web3.HTTPProvider(url, request_kwargs={"timeout": POLICY.timeout}, exception_retry_configuration=None)
    )


def _assert_backoff(gaps: list[float]) -> None:
    """Each gap is a timed-out request plus a wait that doubles: 0.3 + 0.1, then 0.3 + 0.2 seconds."""
    assert len(gaps) == POLICY.attempts - 1
    for attempt, gap in enumerate(gaps):
        assert gap >= POLICY.timeout + POLICY.delay(attempt) - 0.02, gaps


def test_connect_tries_three_times_then_names_the_url():
    with silent_server() as server:
        with pytest.raises(ChainUnavailable) as caught:
            connect(server.url, retry=POLICY)
        assert len(server.accepted) == POLICY.attempts
        _assert_backoff(server.gaps())
    assert str(caught.value) == f"no Ethereum node answers at {server.url} (ReadTimeout)"


def test_a_read_that_times_out_is_retried_then_fails_clearly():
    abi = load_abi(REPO, "ConsentRegistry")
    with silent_server() as server:
        registry = _silent_w3(server.url).eth.contract(SOMEWHERE, abi=abi)
        with pytest.raises(ChainUnavailable) as caught:
            call(registry.functions.nonces(SOMEWHERE), abi, retry=POLICY)
        assert len(server.accepted) == POLICY.attempts
        _assert_backoff(server.gaps())
    assert str(caught.value) == (
        f"the Ethereum node at {server.url} did not answer eth_call nonces (ReadTimeout, 3 attempts); "
        "re-run once it is back"
    )
    assert "\n" not in str(caught.value)


def test_a_send_that_times_out_is_retried_then_fails_clearly():
    abi = load_abi(REPO, "ConsentRegistry")
    with silent_server() as server:
        w3 = _silent_w3(server.url)
        grant = w3.eth.contract(SOMEWHERE, abi=abi).functions.grant(SOMEWHERE, HMB, LABS, 0)
        with pytest.raises(
            ChainUnavailable,
            match=rf"^the Ethereum node at {server.url} did not answer "
            r"eth_estimateGas \(ReadTimeout, 3 attempts\)",
        ):
            Sender(w3, Account.create(), retry=POLICY).send(grant, abi)
        assert len(server.accepted) == POLICY.attempts


def test_the_cli_gives_one_line_after_the_configured_attempts(tmp_path):
    with silent_server() as server:
        result = CliRunner().invoke(
            cli,
            [
                "--rpc-url",
                server.url,
                "--root",
                str(tmp_path),
                "consent",
                "check",
                SOMEWHERE,
                SOMEWHERE,
                "-p",
                "HMB",
                "-s",
                "labs",
            ],
            env={
                "CARECHAIN_RPC_ATTEMPTS": "2",
                "CARECHAIN_RPC_TIMEOUT": "0.3",
                "CARECHAIN_RPC_BACKOFF": "0.05",
                "PRIVATE_KEY": "",
                "KEYSTORE": "",
            },
        )
        assert len(server.accepted) == 2
    assert result.exit_code == 1
    assert result.output == f"error: no Ethereum node answers at {server.url} (ReadTimeout)\n"
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_connects_provider_retries_every_safe_request_and_only_once_per_policy():
    abi = load_abi(REPO, "ConsentRegistry")
    with silent_server() as server:
        w3 = Web3(RetryingHTTPProvider(server.url, POLICY))
        registry = w3.eth.contract(SOMEWHERE, abi=abi)
        with pytest.raises(requests.exceptions.ReadTimeout):
            registry.functions.nonces(SOMEWHERE).call()  # a plain web3 read, as some clients make
        assert len(server.accepted) == POLICY.attempts
        _assert_backoff(server.gaps())
        with pytest.raises(
            ChainUnavailable, match=r"did not answer eth_call nonces \(ReadTimeout, 3 attempts\)"
        ):
            call(registry.functions.nonces(SOMEWHERE), abi)  # not retried again on top: 3 tries, not 9
        assert len(server.accepted) == 2 * POLICY.attempts
        with pytest.raises(requests.exceptions.ReadTimeout):  # the node signs: a retry could send twice
            w3.provider.make_request(
                "eth_sendTransaction", [{"from": SOMEWHERE, "to": SOMEWHERE, "value": "0x1"}]
            )
        assert len(server.accepted) == 2 * POLICY.attempts + 1
