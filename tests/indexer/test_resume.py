"""Stopped in the middle, the indexer resumes where it stopped: no duplicates, the same rows as one pass."""

from __future__ import annotations

from carechain.index.indexer import Indexer
from indexer.conftest import scripted_flow, without_ids


def test_two_passes_equal_one(w3, root, tmp_path):
    scripted_flow(w3, root)
    head = w3.eth.block_number
    middle = (Indexer(w3, root, str(tmp_path / "one.db")).deploy_block + head) // 2

    resumed = Indexer(w3, root, str(tmp_path / "two.db"), initial_range=3)
    first = resumed.sync(to_block=middle)
    assert first.to_block == middle and resumed.last_block() == middle
    resumed.close()
    again = Indexer(w3, root, str(tmp_path / "two.db"))  # a new process: state comes from the database
    second = again.sync()
    assert second.from_block == middle + 1 and second.to_block == head

    once = Indexer(w3, root, str(tmp_path / "one.db"))
    single = once.sync()
    assert first.events + second.events == single.events
    assert without_ids(again) == without_ids(once)
    assert again.sync().events == 0
    assert without_ids(again) == without_ids(once)


def test_confirmations_hold_back_the_last_blocks(w3, root, tmp_path):
    scripted_flow(w3, root)
    index = Indexer(w3, root, str(tmp_path / "index.db"))
    assert index.sync(confirmations=3).to_block == w3.eth.block_number - 3
    assert index.last_block() == w3.eth.block_number - 3
