"""carechain.dev.toolchain: the provisioned compiler answers like solc; a missing one: one clear error."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from carechain.dev import toolchain
from carechain.errors import ToolchainError

ROOT = Path(__file__).parents[2]


def test_provisioned_compiler_reports_pinned_version():
    path = toolchain.solc_path(ROOT)
    assert path.exists()
    assert toolchain.native_solc_version(str(path)) == toolchain.SOLC_VERSION


def test_standard_json_compiles_with_imports_from_disk():
    source = (
        'pragma solidity 0.8.28; import "@openzeppelin/contracts/utils/Nonces.sol"; contract N is Nonces {}'
    )
    request = {
        "language": "Solidity",
        "sources": {"N.sol": {"content": source}},
        "settings": {
            "evmVersion": "shanghai",
            "remappings": ["@openzeppelin/=node_modules/@openzeppelin/"],
            "outputSelection": {"*": {"*": ["abi"]}},
        },
    }
    out = subprocess.run(
        [str(toolchain.solc_path(ROOT)), "--standard-json", "--allow-paths", str(ROOT)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout
    result = json.loads(out)
    assert not [e for e in result.get("errors", []) if e["severity"] == "error"]
    assert any(f["name"] == "nonces" for f in result["contracts"]["N.sol"]["N"]["abi"])


def test_unsupported_flag_fails_with_message():
    proc = subprocess.run(
        [str(toolchain.solc_path(ROOT)), "--combined-json", "abi"], capture_output=True, text=True
    )
    assert proc.returncode == 1
    assert "only --version and --standard-json" in proc.stderr


def test_no_compiler_gives_one_clear_error(tmp_path, monkeypatch):
    (tmp_path / "brownie-config.yaml").write_text("")
    monkeypatch.setenv("PATH", str(tmp_path))  # no node, no solc
    monkeypatch.delenv("SOLC", raising=False)
    with pytest.raises(ToolchainError, match="npm ci"):
        toolchain.provision(tmp_path)


def test_native_solc_of_the_pinned_version_is_preferred(tmp_path, monkeypatch):
    fake = tmp_path / "bin" / "solc"
    fake.parent.mkdir()
    fake.write_text(
        "#!/bin/sh\necho 'solc, the solidity compiler commandline interface'\n"
        "echo 'Version: 0.8.28+commit.7893614a.Linux.g++'\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("SOLC", str(fake))
    path = toolchain.provision(tmp_path)
    assert path.is_symlink() and path.resolve() == fake.resolve()


def test_native_solc_of_another_version_is_ignored(tmp_path, monkeypatch):
    fake = tmp_path / "solc"
    fake.write_text("#!/bin/sh\necho 'Version: 0.8.20+commit.a1b79de6'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("SOLC", str(fake))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolchainError, match=r"no Solidity 0\.8\.28 compiler"):
        toolchain.provision(tmp_path)


def test_outside_a_project_is_reported(tmp_path, monkeypatch):
    monkeypatch.delenv("CARECHAIN_ROOT", raising=False)
    with pytest.raises(ToolchainError, match="not inside a CareChain project"):
        toolchain.project_root(tmp_path)


@pytest.mark.parametrize("tool", ["anvil", "forge"])
def test_foundry_tools_are_the_real_binaries(tool):
    """Not the npm node wrappers: forge's wrapper exits 0 even when a test fails."""
    link = ROOT / ".tools" / "bin" / tool
    assert link.resolve().read_bytes()[:4] == b"\x7fELF"
    assert subprocess.run(
        [str(link), "--version"], capture_output=True, text=True, check=True
    ).stdout.startswith(tool)


def test_missing_foundry_tools_say_how_to_fix(tmp_path):
    with pytest.raises(ToolchainError, match="npm ci"):
        toolchain.link_foundry_tools(tmp_path)
