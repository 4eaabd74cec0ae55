"""A throwaway PostgreSQL server this process starts in a temporary folder and stops afterwards.

The indexer tests and the indexer bench each need one beside SQLite: `initdb` into a fresh folder,
`pg_ctl start` on a free port with its socket in that folder (no TCP listener, trust auth, no fsync),
and everything removed when the block exits, however it exits.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from carechain.dev.localnode import free_port
from carechain.errors import ToolchainError


def find_pg_bin() -> Path:
    """The folder of PostgreSQL's server tools: `initdb` on PATH, else Debian's newest."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not candidates:
        raise ToolchainError("PostgreSQL is not installed: run `make postgres` (Debian's postgresql)")
    return Path(candidates[-1]).parent


def _as_server_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the `postgres` system user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(_as_server_user(command), capture_output=True, text=True)
    if done.returncode != 0:
        reason = (done.stderr or done.stdout).strip().splitlines()
        raise ToolchainError(f"PostgreSQL {what} failed: {reason[-1] if reason else done.returncode}")


@contextmanager
def pg_server() -> Iterator[str]:
    """A started throwaway server; its admin URL (postgresql://postgres@/postgres?host=<folder>&port=<port>)."""
    pg_bin = find_pg_bin()
    folder = Path(tempfile.mkdtemp(prefix="carechain-pg-"))
    try:
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
        data, port = folder / "data", free_port()
        _run(
            [str(pg_bin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
            "initdb",
        )
        options = f"-p {port} -k {folder} -c listen_addresses='' -c fsync=off"
        _run(
            [
                str(pg_bin / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(folder / "log"),
                "-w",
                "start",
            ],
            "start",
        )
        try:
            yield f"postgresql://postgres@/postgres?host={folder}&port={port}"
        finally:
            subprocess.run(
                _as_server_user([str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                capture_output=True,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
