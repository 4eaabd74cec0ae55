"""Settings from the environment and `.env`; keys from PRIVATE_KEY or an encrypted keystore.

A key never comes from the command line and is never printed or written anywhere. On a local
chain (Anvil, Ganache) with no key configured, the node's first unlocked account is used.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dotenv import load_dotenv
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from carechain.core.deployments import TIMELOCK_DELAY, Governance
from carechain.core.files import read_json
from carechain.core.sender import Sender
from carechain.core.transport import LOCAL_CHAIN_IDS
from carechain.core.values import ascii_whole, checksum
from carechain.errors import ConfigError, InputError, ToolchainError

DEFAULT_RPC_URL = "http://127.0.0.1:8545"


def project_root(start: Path | None = None) -> Path:
    """The folder holding brownie-config.yaml ($CARECHAIN_ROOT, else the nearest parent of `start`)."""
    if env := os.environ.get("CARECHAIN_ROOT"):
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "brownie-config.yaml").is_file():
            return folder
    raise ToolchainError(f"not inside a CareChain project (no brownie-config.yaml above {here})")


@dataclass(frozen=True)
class Settings:
    """Where to connect and which key to use; `repr` never shows the key."""

    root: Path
    rpc_url: str
    keystore: Path | None
    private_key: str | None = field(default=None, repr=False)


def load_settings(root: Path, rpc_url: str | None = None, keystore: str | None = None) -> Settings:
    """Command-line values win over the environment, which wins over `.env`."""
    load_dotenv(dotenv_path=root / ".env", override=False)
    keystore_path = keystore or os.environ.get("KEYSTORE")
    return Settings(
        root=root,
        rpc_url=rpc_url or os.environ.get("RPC_URL") or DEFAULT_RPC_URL,
        keystore=Path(keystore_path).expanduser() if keystore_path else None,
        private_key=os.environ.get("PRIVATE_KEY") or None,
    )


def load_account(settings: Settings, prompt: Callable[[str], str] = getpass.getpass) -> LocalAccount | None:
    """The configured key: PRIVATE_KEY, else the keystore (password: KEYSTORE_PASSWORD or a hidden prompt)."""
    if settings.private_key:
        try:
            account: LocalAccount = Account.from_key(settings.private_key)
        except (ValueError, TypeError):
            raise ConfigError("PRIVATE_KEY is not a valid private key (64 hex digits)") from None
        return account
    if settings.keystore is None:
        return None
    encrypted = read_keystore(settings.keystore)
    password = keystore_password(settings.keystore, "KEYSTORE_PASSWORD", prompt)
    key = decrypt_keystore(settings.keystore, encrypted, password)
    try:
        decrypted: LocalAccount = Account.from_key(key)
    except ValueError as err:
        raise ConfigError(f"keystore {settings.keystore} is corrupt ({err})") from None
    return decrypted


def keystore_password(
    path: Path, env: str, prompt: Callable[[str], str] = getpass.getpass, confirm: bool = False
) -> str:
    """The password of keystore `path`: $`env` when set, else asked for, hidden (twice with `confirm`)."""
    password = os.environ.get(env)
    if password is not None:
        return password
    password = prompt(f"Password for {path.name}: ")
    if confirm and prompt(f"Password for {path.name} again: ") != password:
        raise ConfigError("the two passwords differ")
    return password


def read_keystore(path: Path) -> dict[str, Any]:
    """The JSON of an encrypted keystore file (Web3 Secret Storage), or one ConfigError naming `path`."""
    try:
        encrypted = read_json(path, "JSON keystore file")
    except InputError as err:
        raise ConfigError(f"keystore: {err}") from None
    if not isinstance(encrypted, dict) or "crypto" not in {key.lower() for key in encrypted}:
        raise ConfigError(f"keystore {path} is not a JSON keystore file (no crypto section)")
    return encrypted


def decrypt_keystore(path: Path, encrypted: dict[str, Any], password: str) -> bytes:
    """The key `encrypted` (read from `path`) holds; a wrong password or a corrupt file is one ConfigError."""
    try:
        return bytes(Account.decrypt(encrypted, password))
    except ValueError as err:
        if "MAC mismatch" in str(err):
            raise ConfigError(f"wrong password for keystore {path}") from None
        raise ConfigError(f"keystore {path} is corrupt ({err})") from None
    except KeyError as err:
        raise ConfigError(f"keystore {path} is corrupt (no {err} field)") from None
    except (TypeError, NotImplementedError) as err:
        raise ConfigError(f"keystore {path} is not a keystore this tool reads ({err})") from None


def load_sender(w3: Web3, settings: Settings, prompt: Callable[[str], str] = getpass.getpass) -> Sender:
    """A Sender for the configured key; on a local chain without one, the node's first account."""
    account = load_account(settings, prompt)
    if account is not None:
        return Sender(w3, account)
    if w3.eth.chain_id in LOCAL_CHAIN_IDS and w3.eth.accounts:
        return Sender(w3, w3.eth.accounts[0])
    raise ConfigError(
        "no key configured: set PRIVATE_KEY in the environment or .env, or KEYSTORE=path/to/keystore.json"
    )


def require_account(settings: Settings, prompt: Callable[[str], str] = getpass.getpass) -> LocalAccount:
    """A key that can sign off chain (EIP-712): unlocked node accounts cannot."""
    account = load_account(settings, prompt)
    if account is None:
        raise ConfigError("signing needs a key: set PRIVATE_KEY in the environment or .env, or KEYSTORE")
    return account


_YES = {"1", "true", "yes", "on"}
_NO = {"", "0", "false", "no", "off"}


def load_governance(
    root: Path, multisig: str | None = None, timelock_delay: int | None = None, deployer_admin: bool = False
) -> Governance:
    """Who appoints registrars at deploy: command-line values win over CARECHAIN_ADMIN (the multisig),
    CARECHAIN_TIMELOCK_DELAY (seconds, default two days) and CARECHAIN_ALLOW_DEPLOYER_ADMIN (1 to keep
    the deployer as admin on a public chain), from the environment or `.env`."""
    load_dotenv(dotenv_path=root / ".env", override=False)
    env_multisig = os.environ.get("CARECHAIN_ADMIN", "").strip()
    if multisig is None and env_multisig:
        try:
            multisig = checksum(env_multisig, "CARECHAIN_ADMIN")
        except InputError as err:
            raise ConfigError(str(err)) from None
    if timelock_delay is None:
        text = os.environ.get("CARECHAIN_TIMELOCK_DELAY", "").strip()
        delay = ascii_whole(text, 12)
        if text and delay is None:
            raise ConfigError(f"CARECHAIN_TIMELOCK_DELAY {text[:40]!r} is not a number of seconds")
        timelock_delay = TIMELOCK_DELAY if delay is None else delay
    flag = os.environ.get("CARECHAIN_ALLOW_DEPLOYER_ADMIN", "").strip().lower()
    if flag not in _YES | _NO:
        raise ConfigError(f"CARECHAIN_ALLOW_DEPLOYER_ADMIN {flag!r} is not 1 or 0")
    return Governance(multisig, timelock_delay, deployer_admin or flag in _YES)
