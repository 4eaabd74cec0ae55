"""carechain.cli.core.output_console: piped or redirected, a table keeps every character (C.17)."""

from __future__ import annotations

from click.testing import CliRunner
from rich.table import Table

from carechain.cli import cli
from carechain.cli.core import output_console

EXPIRY = "2027-01-31 12:00:00 UTC"


def test_a_table_is_not_cut_at_80_columns_when_stdout_is_not_a_terminal(capsys, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    table = Table("patient", "grantee", "purpose", "expires", title="Consents")
    table.add_row("0x" + "ab" * 20, "0x" + "cd" * 20, "HMB", EXPIRY)
    output_console().print(table)
    out = capsys.readouterr().out
    assert EXPIRY in out and "…" not in out
    assert max(len(line) for line in out.splitlines()) > 80  # one row a line, as wide as it needs


def test_a_command_s_table_is_whole_in_a_pipe(monkeypatch, tmp_path):
    monkeypatch.delenv("COLUMNS", raising=False)
    done = CliRunner().invoke(cli, ["--root", str(tmp_path), "purposes"], prog_name="carechain")
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert "…" not in done.output
    assert any("population origins or ancestry research prohibited" in line for line in lines)


def test_columns_still_chooses_the_width(monkeypatch):
    monkeypatch.setenv("COLUMNS", "118")  # as docs/transcripts.py sets it
    assert output_console().width == 118
