"""A node killed mid-indexing: one clear error after the retries, then, once it is back, a correct resume."""

from __future__ import annotations

from typing import Any

import pytest
from web3 import Web3

from carechain.core.transport import RetryPolicy
from carechain.dev.localnode import LocalNode
from carechain.errors import ChainUnavailable
from carechain.index.indexer import Indexer
from indexer.conftest import deploy_on, make_project, scripted_flow, without_ids


class KillingProvider(Web3.HTTPProvider):
    """Stops `node` just before the `kill_at`-th eth_getLogs."""

    def __init__(self, node: LocalNode, kill_at: int) -> None:
        super().__init__(node.url)
        self.node, self.kill_at, self.calls = node, kill_at, 0

    def make_request(self, method: Any, params: Any) -> Any:
        if method == "eth_getLogs":
            self.calls += 1
            if self.calls == self.kill_at:
                self.node.stop()
        return super().make_request(method, params)


@pytest.fixture
def node(tmp_path):
    """An Anvil of this test's own that keeps its chain on disk across a restart."""
    local = LocalNode()
    local.args += ["--state", str(tmp_path / "anvil-state.json")]
    local.start()
    yield local
    local.stop()


def test_a_restarted_node_gives_a_clear_error_then_a_correct_resume(node, tmp_path):
    w3 = Web3(Web3.HTTPProvider(node.url))
    root = make_project(tmp_path / "project")
    deploy_on(w3, root)
    scripted_flow(w3, root)
    head = w3.eth.block_number

    provider = KillingProvider(node, kill_at=4)
    index = Indexer(
        Web3(provider),
        root,
        str(tmp_path / "index.db"),
        initial_range=2,
        max_range=2,
        retry=RetryPolicy(attempts=3, backoff=0.05),
    )
    with pytest.raises(ChainUnavailable, match=r"stopped answering during eth_getLogs.*re-run once the node"):
        index.sync()
    stopped_at = index.last_block()
    assert stopped_at is not None and stopped_at < head

    node.start()
    assert w3.eth.block_number == head  # the same chain, reloaded from its state file
    result = index.sync()
    assert result.from_block == stopped_at + 1 and result.rolled_back == 0
    fresh = Indexer(w3, root, str(tmp_path / "fresh.db"))
    fresh.sync()
    assert without_ids(index) == without_ids(fresh)
