"""Block ranges grow while answers are small, halve when the node refuses a range or sends too many logs."""

from __future__ import annotations

from typing import Any

import pytest
from web3 import Web3

from carechain.errors import CareChainError
from carechain.indexer import Indexer
from indexer.conftest import chain_counts, scripted_flow, without_ids

LIMIT = 4  # blocks per eth_getLogs this node accepts, like a hosted RPC's range cap


class CappedProvider(Web3.HTTPProvider):
    """A node that refuses eth_getLogs over more than LIMIT blocks, as hosted RPCs do."""

    refused = 0

    def make_request(self, method: Any, params: Any) -> Any:
        if method == "eth_getLogs":
            span = int(params[0]["toBlock"], 16) - int(params[0]["fromBlock"], 16) + 1
            if span > LIMIT:
                self.refused += 1
                return {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "error": {"code": -32005, "message": f"block range is too large (max {LIMIT})"},
                }
        return super().make_request(method, params)


def test_a_refused_range_is_halved_until_the_node_accepts_it(w3, root, tmp_path):
    scripted_flow(w3, root)
    provider = CappedProvider(w3.provider.endpoint_uri)
    capped = Web3(provider)
    index = Indexer(capped, root, str(tmp_path / "index.db"), initial_range=64)
    result = index.sync()
    assert result.refused == provider.refused >= 4  # 64 -> 32 -> 16 -> 8 -> 4
    assert all(end - start + 1 <= LIMIT for start, end in result.ranges)
    assert index.counts() == dict(chain_counts(w3, index))
    plain = Indexer(w3, root, str(tmp_path / "plain.db"))
    plain.sync()
    assert without_ids(index) == without_ids(plain)


def test_too_many_logs_halve_the_range_and_quiet_ranges_grow(w3, root, tmp_path):
    scripted_flow(w3, root)
    index = Indexer(w3, root, str(tmp_path / "index.db"), initial_range=1, max_range=8, max_logs=4)
    result = index.sync()
    sizes = [end - start + 1 for start, end in result.ranges]
    assert result.refused > 0 and max(sizes) > 1
    for start, end in result.ranges:
        assert len(index.events(from_block=start, to_block=end)) <= 4
    assert index.counts() == dict(chain_counts(w3, index))


def test_a_block_the_node_never_serves_is_one_clear_error(w3, root, tmp_path):
    scripted_flow(w3, root)
    index = Indexer(w3, root, str(tmp_path / "index.db"), max_logs=0)
    with pytest.raises(CareChainError, match="refuses eth_getLogs even for block"):
        index.sync()
