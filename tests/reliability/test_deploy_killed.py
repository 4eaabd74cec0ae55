"""The node killed in the middle of a multi-contract deploy; the re-run finishes it without duplicates.

The node keeps its chain on disk (anvil --state): stopped mid-deploy it is started again on the same
state, as a crashed devnet or a restarted provider would be, and the same `deploy` is run again.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from web3 import Web3

from carechain.core.deployments import CONTRACTS, deploy
from carechain.core.sender import Sender
from carechain.dev.localnode import LocalNode
from carechain.errors import ChainUnavailable
from reliability.support import FAST, HookedProvider, make_project, mined_from, patient


@pytest.fixture
def anvil(tmp_path):
    """An Anvil of the test's own that keeps its chain in a state file across a restart."""
    local = LocalNode()
    local.args += ["--state", str(tmp_path / "anvil-state.json")]
    local.start()
    yield local
    local.stop()


@pytest.mark.parametrize(
    ("hook", "method", "nth", "recorded", "pending"),
    [
        # after the first contract is mined and recorded, before the second is sent
        ("before", "eth_estimateGas", 2, ["ConsentRegistry"], None),
        # the second contract sent (and mined), the node gone before its receipt was read
        ("after", "eth_sendRawTransaction", 2, ["ConsentRegistry"], "CredentialRegistry"),
        # three of five done
        ("before", "eth_estimateGas", 4, ["ConsentRegistry", "CredentialRegistry", "RecordRegistry"], None),
    ],
    ids=["after-first-mined", "second-sent-not-recorded", "after-third-mined"],
)
def test_the_re_run_deploys_only_what_is_missing(anvil, tmp_path, hook, method, nth, recorded, pending):
    root = make_project(tmp_path / "project")
    key = patient()
    provider = HookedProvider(anvil.url)
    seen = {"n": 0}

    def count_and_kill(*_: Any) -> None:
        seen["n"] += 1
        if seen["n"] == nth:
            anvil.stop()
        else:  # hooks run once: re-arm until the nth
            getattr(provider, hook)[method] = count_and_kill

    getattr(provider, hook)[method] = count_and_kill
    w3 = Web3(provider)
    with pytest.raises(ChainUnavailable, match=rf"node at {anvil.url} did not answer .*3 attempts"):
        deploy(w3, Sender(w3, key, retry=FAST), root)
    manifest_path = root / "deployments" / "31337.json"
    interrupted = json.loads(manifest_path.read_text())["contracts"]
    assert [name for name, entry in interrupted.items() if "address" in entry] == recorded
    assert [name for name, entry in interrupted.items() if entry.get("status") == "pending"] == (
        [pending] if pending else []
    )

    anvil.start()  # the same chain, reloaded from its state file
    w3 = Web3(Web3.HTTPProvider(anvil.url))
    logged: list[str] = []
    manifest = deploy(w3, Sender(w3, key, retry=FAST), root, log=logged.append)

    mined = mined_from(w3, key.address)
    assert [tx["nonce"] for tx in mined] == list(range(len(mined)))
    deploys = [tx for tx in mined if tx["to"] is None]
    assert len(deploys) == len(CONTRACTS)  # one creation per contract: nothing deployed twice
    # The private-consent set-up (purpose codes, template pairs, the issuer role): each call sent once.
    calls = [(tx["to"], bytes(tx["input"])) for tx in mined if tx["to"] is not None]
    assert calls and len(set(calls)) == len(calls)
    final = json.loads(manifest_path.read_text())["contracts"]
    assert list(final) == list(CONTRACTS) and all("status" not in entry for entry in final.values())
    creations = {w3.eth.get_transaction_receipt(tx["hash"])["contractAddress"] for tx in deploys}
    assert {manifest.address(name) for name in CONTRACTS} == creations
    for name in recorded:
        assert final[name] == interrupted[name]  # reused as recorded
        assert any(line.startswith(f"{name}: reusing") for line in logged)
    if pending:
        assert final[pending]["txHash"] == interrupted[pending]["txHash"]  # adopted, not sent again
    assert all(w3.eth.get_code(manifest.address(name)) for name in CONTRACTS)
