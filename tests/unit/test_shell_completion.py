"""Shell completion comes from click: the console script prints a shell script and completes commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CARECHAIN = Path(sys.executable).parent / "carechain"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_console_script_prints_a_completion_script(shell):
    env = {**os.environ, "_CARECHAIN_COMPLETE": f"{shell}_source"}
    script = subprocess.run([str(CARECHAIN)], env=env, capture_output=True, text=True, check=True).stdout
    assert "_CARECHAIN_COMPLETE" in script and "carechain" in script


def test_it_completes_command_groups_and_their_commands():
    env = {**os.environ, "_CARECHAIN_COMPLETE": "bash_complete"}
    env.update(COMP_WORDS="carechain tr", COMP_CWORD="1")
    groups = subprocess.run([str(CARECHAIN)], env=env, capture_output=True, text=True, check=True).stdout
    assert "plain,trial" in groups.splitlines()
    env.update(COMP_WORDS="carechain trial ver", COMP_CWORD="2")
    commands = subprocess.run([str(CARECHAIN)], env=env, capture_output=True, text=True, check=True).stdout
    assert "plain,verify" in commands.splitlines()
