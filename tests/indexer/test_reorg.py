"""A reorg (Anvil snapshot, revert, other transactions at the same heights) is rolled back and re-read."""

from __future__ import annotations

from carechain.index.indexer import Indexer
from indexer.conftest import scripted_flow, without_ids


def _rpc(w3, method, *params):
    response = w3.provider.make_request(method, list(params))
    assert "error" not in response, response
    return response["result"]


def test_replaced_blocks_are_rolled_back_and_read_again(w3, root, tmp_path):
    snapshot = _rpc(w3, "evm_snapshot")
    scripted_flow(w3, root, salt="first history")
    index = Indexer(w3, root, str(tmp_path / "index.db"))
    index.sync()
    old_hashes = {e["block_hash"] for e in index.events()}
    height = w3.eth.block_number

    _rpc(w3, "evm_revert", snapshot)
    scripted_flow(w3, root, salt="second history")
    _rpc(w3, "anvil_mine", hex(2))  # the new chain is longer than the old one
    assert w3.eth.block_number == height + 2

    result = index.sync()
    assert result.rolled_back > 0
    fresh = Indexer(w3, root, str(tmp_path / "fresh.db"))
    fresh.sync()
    assert without_ids(index) == without_ids(fresh)
    new_hashes = {e["block_hash"] for e in index.events()}
    assert old_hashes - new_hashes  # blocks were replaced (the first ones may be identical on both chains)
    assert all(
        e["block_hash"] == w3.eth.get_block(e["block_number"])["hash"].to_0x_hex() for e in index.events()
    )
    assert index.block_count() == fresh.block_count()


def test_a_shorter_new_chain_is_rolled_back_too(w3, root, tmp_path):
    snapshot = _rpc(w3, "evm_snapshot")
    scripted_flow(w3, root, salt="long")
    index = Indexer(w3, root, str(tmp_path / "index.db"))
    index.sync()

    _rpc(w3, "evm_revert", snapshot)
    w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": w3.eth.accounts[1], "value": 1})
    index.sync()
    fresh = Indexer(w3, root, str(tmp_path / "fresh.db"))
    fresh.sync()
    assert without_ids(index) == without_ids(fresh)
    assert index.last_block() == w3.eth.block_number
