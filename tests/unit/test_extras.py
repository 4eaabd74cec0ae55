"""The base install (`pip install carechain`, no extras) is the library core and the CLI: `import carechain`
loads no FastAPI, SQLAlchemy or fhir.resources, and a command that needs an extra says which, in one line.

A fresh venv would take minutes, so the cases run in a subprocess whose importer refuses the extras'
packages, as a base install would.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest

# The packages the extras bring (pyproject's services, index and fhir), refused as if not installed;
# `cryptography` is not among them: the base install derives consent keys with it (carechain.core.keys).
EXTRA_PACKAGES = ("fastapi", "starlette", "uvicorn", "httpx", "sqlalchemy", "psycopg", "fhir")

WITHOUT_EXTRAS = textwrap.dedent(
    f"""
    import sys
    from importlib.abc import MetaPathFinder

    class NotInstalled(MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in {EXTRA_PACKAGES!r}:
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
            return None

    sys.meta_path.insert(0, NotInstalled())
    """
)


COMMANDS = {
    "help": ["--help"],
    "purposes": ["--json", "purposes"],
    "gateway serve": ["gateway", "serve", "--port", "8600"],
    "gateway serve --help": ["gateway", "serve", "--help"],
    "relay serve": ["relay", "serve"],
    "index": ["index"],
    "audit history": ["audit", "history", "0x1111111111111111111111111111111111111111"],
    "fhir export": ["fhir", "export", "0x1111111111111111111111111111111111111111"],
}

# One interpreter runs every case (an interpreter start costs seconds on a busy machine): the API, then
# each command as `carechain` runs it, its exit status and output kept apart.
PROBE = textwrap.dedent(
    f"""
    import json
    import carechain
    from click.testing import CliRunner
    from carechain.cli import cli

    report = {{"api": bool(carechain.ConsentClient and carechain.StandardMerkleTree and carechain.connect)}}
    try:
        carechain.Indexer
    except ModuleNotFoundError as missing:
        report["indexer"] = missing.name
    report["commands"] = {{}}
    for name, args in {COMMANDS!r}.items():
        done = CliRunner().invoke(cli, args, prog_name="carechain")
        report["commands"][name] = [done.exit_code, done.stdout, done.stderr]
    print(json.dumps(report))
    """
)


def run(code: str, *, extras: bool = False) -> subprocess.CompletedProcess[str]:
    """`code` in a fresh interpreter, with the extras' packages refused unless `extras`."""
    script = code if extras else WITHOUT_EXTRAS + code
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def base_install() -> dict[str, Any]:
    """What the API and the commands do when none of the extras is installed."""
    done = run(PROBE)
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def test_import_carechain_loads_no_extra_even_when_installed():
    done = run(
        "import sys, carechain\n"
        f"print(sorted({{m.partition('.')[0] for m in sys.modules}} & set({EXTRA_PACKAGES!r})))",
        extras=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_core_api_imports_without_extras_and_the_indexer_says_what_it_needs(base_install):
    assert base_install["api"] is True
    assert base_install["indexer"] == "sqlalchemy"


def test_help_works_without_extras_and_names_what_each_group_needs(base_install):
    status, out, err = base_install["commands"]["help"]
    assert status == 0, err
    assert "consent" in out and "trial" in out
    assert "gateway     (not installed: needs `pip install carechain[services]`)" in out
    assert "index       (not installed: needs `pip install carechain[index]`)" in out
    assert "fhir        (not installed: needs `pip install carechain[fhir]`)" in out


def test_a_core_command_runs_without_extras(base_install):
    status, out, err = base_install["commands"]["purposes"]
    assert status == 0, err
    assert '"HMB"' in out


@pytest.mark.parametrize(
    ("command", "extra"),
    [
        ("gateway serve", "services"),
        ("gateway serve --help", "services"),
        ("relay serve", "services"),
        ("index", "index"),
        ("audit history", "index"),
        ("fhir export", "fhir"),
    ],
)
def test_a_command_that_needs_a_missing_extra_is_one_line_and_fails(base_install, command, extra):
    status, out, err = base_install["commands"][command]
    assert status == 1
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    group = command.split()[0]
    assert lines[0].startswith(f"error: carechain {group} needs `pip install carechain[{extra}]`")
