"""carechain.cli.core: progress goes to stderr only on a terminal and never under --json (C.16);
CARECHAIN_PROGRESS=1 forces it (as here, where stderr is no terminal), 0 hides it."""

from __future__ import annotations

import pytest
from rich.console import Console

from carechain.cli import core
from carechain.cli.core import Context, progress_console
from carechain.clients.records import content_hash


def _context(as_json: bool = False) -> Context:
    return Context(settings=None, as_json=as_json, console=Console())  # type: ignore[arg-type]


def test_no_progress_without_a_terminal_or_under_json(monkeypatch):
    monkeypatch.delenv("CARECHAIN_PROGRESS", raising=False)
    assert progress_console(as_json=False) is None  # pytest's stderr is no terminal
    monkeypatch.setenv("CARECHAIN_PROGRESS", "1")
    assert progress_console(as_json=True) is None
    assert progress_console(as_json=False) is not None
    monkeypatch.setenv("CARECHAIN_PROGRESS", "0")
    assert progress_console(as_json=False) is None


@pytest.mark.parametrize(
    ("forced", "as_json", "shown"), [("", False, False), ("1", True, False), ("1", False, True)]
)
def test_hashing_a_big_file_shows_a_bar_only_where_progress_belongs(
    tmp_path, monkeypatch, capsys, forced, as_json, shown
):
    monkeypatch.setenv("CARECHAIN_PROGRESS", forced)
    monkeypatch.setattr(core, "BIG_FILE", 1)
    record = tmp_path / "scan.enc"
    record.write_bytes(b"\x00\x01" * 70_000)
    assert _context(as_json).hash_file(record) == content_hash(record.read_bytes())
    captured = capsys.readouterr()
    assert captured.out == ""
    assert ("hashing scan.enc" in captured.err) is shown
    if not shown:
        assert captured.err == ""
