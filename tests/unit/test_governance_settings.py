"""config.load_governance: who appoints registrars, from the command line, the environment or .env."""

from __future__ import annotations

import pytest

from carechain.core.config import load_governance
from carechain.core.deployments import TIMELOCK_DELAY, Governance
from carechain.errors import ConfigError, DeploymentError

SAFE = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
VARIABLES = ("CARECHAIN_ADMIN", "CARECHAIN_TIMELOCK_DELAY", "CARECHAIN_ALLOW_DEPLOYER_ADMIN")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_defaults_to_the_deployer_and_two_days(tmp_path):
    assert load_governance(tmp_path) == Governance(None, TIMELOCK_DELAY, False)


def test_dotenv_names_the_multisig_and_delay(tmp_path):
    (tmp_path / ".env").write_text(f"CARECHAIN_ADMIN={SAFE.lower()}\nCARECHAIN_TIMELOCK_DELAY=3600\n")
    assert load_governance(tmp_path) == Governance(SAFE, 3600, False)


def test_the_command_line_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("CARECHAIN_TIMELOCK_DELAY", "3600")
    assert load_governance(tmp_path, SAFE, 60).timelock_delay == 60


def test_the_opt_out_is_read(tmp_path, monkeypatch):
    monkeypatch.setenv("CARECHAIN_ALLOW_DEPLOYER_ADMIN", "1")
    assert load_governance(tmp_path).deployer_admin


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CARECHAIN_ADMIN", "0x1234", "CARECHAIN_ADMIN '0x1234' is not an Ethereum address"),
        ("CARECHAIN_TIMELOCK_DELAY", "2d", "is not a number of seconds"),
        ("CARECHAIN_TIMELOCK_DELAY", "-5", "is not a number of seconds"),
        (
            "CARECHAIN_TIMELOCK_DELAY",
            "\u00b2",
            "CARECHAIN_TIMELOCK_DELAY '\u00b2' is not a number of seconds",
        ),
        ("CARECHAIN_TIMELOCK_DELAY", "\u0663", "is not a number of seconds"),  # int() reads it as 3
        ("CARECHAIN_ALLOW_DEPLOYER_ADMIN", "maybe", "is not 1 or 0"),
    ],
)
def test_a_bad_setting_is_one_config_error(tmp_path, monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        load_governance(tmp_path)


def test_a_public_chain_needs_a_multisig_or_the_opt_out():
    with pytest.raises(DeploymentError, match="CARECHAIN_ADMIN=<multisig address>"):
        Governance().check(11155111, SAFE)
    Governance(deployer_admin=True).check(11155111, SAFE)
    Governance().check(31337, SAFE)  # a local chain keeps the deployer
    Governance(SAFE, timelock_delay=0).check(31337, SAFE)  # a local rehearsal may wait nothing
