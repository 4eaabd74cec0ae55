"""Ranges grow while answers are small, halve when the node refuses one, shrink after a big answer."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest
from web3 import Web3

from carechain.errors import CareChainError
from carechain.index.indexer import Indexer
from indexer.conftest import chain_counts, scripted_flow, without_ids


class CappedProvider(Web3.HTTPProvider):
    """A node that refuses eth_getLogs over more than `limit` blocks, as hosted RPCs do."""

    def __init__(self, endpoint_uri: str, limit: int | None = None) -> None:
        super().__init__(endpoint_uri)
        self.limit = limit
        self.calls: list[tuple[int, int]] = []  # every eth_getLogs range asked for, refused or not
        self.refused = 0

    def make_request(self, method: Any, params: Any) -> Any:
        if method == "eth_getLogs":
            start, end = int(params[0]["fromBlock"], 16), int(params[0]["toBlock"], 16)
            self.calls.append((start, end))
            if self.limit is not None and end - start + 1 > self.limit:
                self.refused += 1
                return {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "error": {"code": -32005, "message": f"block range is too large (max {self.limit})"},
                }
        return super().make_request(method, params)


def test_a_refused_range_is_halved_until_the_node_accepts_it(w3, root, tmp_path):
    scripted_flow(w3, root)
    provider = CappedProvider(w3.provider.endpoint_uri, limit=4)
    index = Indexer(Web3(provider), root, str(tmp_path / "index.db"), initial_range=64)
    result = index.sync()
    assert result.refused == provider.refused >= 4  # 64 -> 32 -> 16 -> 8 -> 4
    assert all(end - start + 1 <= 4 for start, end in result.ranges)
    assert index.counts() == dict(chain_counts(w3, index))
    plain = Indexer(w3, root, str(tmp_path / "plain.db"))
    plain.sync()
    assert without_ids(index) == without_ids(plain)


def test_a_big_answer_is_kept_and_only_the_next_range_shrinks(w3, root, tmp_path):
    scripted_flow(w3, root)
    provider = CappedProvider(w3.provider.endpoint_uri)
    index = Indexer(
        Web3(provider), root, str(tmp_path / "index.db"), initial_range=1, max_range=8, max_logs=4
    )
    result = index.sync()
    assert result.refused == 0 and result.oversized > 0
    assert provider.calls == result.ranges  # every range read once: no answer thrown away for its size
    assert all(a_end + 1 == b_start for (_, a_end), (b_start, _) in pairwise(result.ranges))
    sizes = [end - start + 1 for start, end in result.ranges]
    assert max(sizes) > 1  # quiet ranges grew
    logs = [len(index.events(from_block=start, to_block=end)) for start, end in result.ranges]
    shrunk = [
        (size, after)
        for size, after, count in zip(sizes, sizes[1:], logs, strict=False)
        if count > 4 and size > 1
    ]
    assert shrunk and all(after < size for size, after in shrunk)
    assert result.oversized == sum(count > 4 for count in logs)
    assert index.counts() == dict(chain_counts(w3, index))
    plain = Indexer(w3, root, str(tmp_path / "plain.db"))
    plain.sync()
    assert without_ids(index) == without_ids(plain)


def test_a_block_the_node_never_serves_is_one_clear_error(w3, root, tmp_path):
    scripted_flow(w3, root)
    index = Indexer(Web3(CappedProvider(w3.provider.endpoint_uri, limit=0)), root, str(tmp_path / "index.db"))
    with pytest.raises(CareChainError, match="refuses eth_getLogs even for block"):
        index.sync()
    assert index.last_block() is None and index.counts() == {}
