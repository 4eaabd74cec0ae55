"""The tests' shared vocabulary: purposes, scopes, credential roles, ids, and helpers that need no chain.

This module imports no brownie, so the chain-free tests (`make test-unit`) run under plain pytest. The
fixtures and helpers that need a chain live in chain_support.py, loaded as a plugin only when brownie runs
the tests (`brownie test`); chain tests still import its helpers from here (`from conftest import reverts`).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from carechain.core.purposes import Scope, purpose_id

HMB = purpose_id("HMB")
TREAT = purpose_id("TREAT")
LABS = int(Scope.LABS)
GENOMICS = int(Scope.GENOMICS)
IMAGING = int(Scope.IMAGING)
NEVER = 0

# CredentialRegistry roles: what a credential says about its holder, and who may attest one.
PROVIDER = keccak(text="carechain.credential.PROVIDER")
RESEARCHER = keccak(text="carechain.credential.RESEARCHER")
IRB = keccak(text="carechain.credential.IRB")
EMERGENCY = keccak(text="carechain.credential.EMERGENCY")
REVIEWER = keccak(text="carechain.credential.REVIEWER")
CUSTODIAN = keccak(text="carechain.credential.CUSTODIAN")
CREDENTIAL_ROLES = {
    "PROVIDER": PROVIDER,
    "RESEARCHER": RESEARCHER,
    "IRB": IRB,
    "EMERGENCY": EMERGENCY,
    "REVIEWER": REVIEWER,
    "CUSTODIAN": CUSTODIAN,
}
REGISTRAR_ROLE = keccak(text="carechain.REGISTRAR")
# ConsentGrants: who may terminate the grants made to it (a trial registry).
ISSUER_ROLE = keccak(text="carechain.ISSUER")
DEFAULT_ADMIN_ROLE = bytes(32)
NO_END = 0  # a credential's validUntil 0: valid until revoked

# ICredentialRegistry.Status as the ABI returns it.
NONE, ACTIVE, SUSPENDED, REVOKED, REVOKED_WHILE_SUSPENDED = range(5)


def category(scope: int) -> int:
    """A record's category: the bit index of a one-bit scope mask (LABS 1 << 7 -> 7)."""
    return int(scope).bit_length() - 1


def record_id(label: str) -> bytes:
    """An opaque record id, as a custodian derives it: a salted hash of its own identifier."""
    return keccak(b"custodian-salt:" + label.encode())


def content_hash(label: str) -> bytes:
    """The hash of one encrypted version of a record: all the chain learns of its content."""
    return keccak(b"ciphertext:" + label.encode())


LAB_RECORD = record_id("lab-result-1")
LAB_V0 = content_hash("lab-result-1 v0")

# The helpers of chain_support.py that chain tests import from here; loaded on first use, so importing this
# module never imports brownie.
CHAIN_HELPERS = frozenset(
    {
        "now",
        "at_next_block",
        "mine_at",
        "sign_grant",
        "sign_revoke",
        "sign_access_grant",
        "sign_access_revoke",
        "reverts",
    }
)


def __getattr__(name: str) -> Any:
    """`from conftest import reverts` in a chain test: the helper from chain_support.py."""
    if name in CHAIN_HELPERS:
        return getattr(importlib.import_module("chain_support"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _NoBrownie(MetaPathFinder):
    """Refuses `import brownie` in a chain-free run: a test that needs it belongs with the chain tests."""

    def find_spec(
        self, fullname: str, path: Any = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname.partition(".")[0] == "brownie":
            raise ImportError(f"{fullname}: a chain-free run (plain pytest, no brownie plugin) imports none")
        return None


def pytest_configure(config: pytest.Config) -> None:
    """Under brownie's plugin (`brownie test`) the chain fixtures load; without it no test imports brownie."""
    if config.pluginmanager.has_plugin("pytest-brownie"):
        config.pluginmanager.import_plugin("chain_support")
        config.pluginmanager.import_plugin("grants_support")
    elif "brownie" not in sys.modules:
        sys.meta_path.insert(0, _NoBrownie())


def license_hash(holder: Any, role: bytes) -> bytes:
    """A salted licence hash, as a registrar would anchor one: the licence itself never goes on chain."""
    return keccak(b"licence-salt" + bytes.fromhex(str(holder)[2:]) + role)


def attest(
    credentials: Any, registrar: Any, holder: Any, role: bytes, valid_from: int = 0, valid_until: int = NO_END
) -> Any:
    """The registrar attests `holder` in `role`; returns the transaction."""
    return credentials.attest(
        holder, role, license_hash(holder, role), valid_from, valid_until, {"from": registrar}
    )


def _environment_restored() -> Iterator[None]:
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)


# A tool run in-process (a CLI command under CliRunner, a library call that loads a project's `.env` into
# os.environ) must not leave, say, CARECHAIN_ADMIN behind for whichever test the same process runs next: the
# order differs under xdist (tests/rehearsal's module fixtures run the CLI in-process on a `.env` naming a
# multisig; a later module's deploy in the same worker then came out timelocked). Restored after each test
# and after each module's fixtures.
@pytest.fixture(autouse=True)
def environment_restored() -> Iterator[None]:
    yield from _environment_restored()


@pytest.fixture(autouse=True, scope="module")
def module_environment_restored() -> Iterator[None]:
    yield from _environment_restored()


@pytest.fixture
def signer() -> LocalAccount:
    """A patient who only signs: a fresh key with no ether, so relaying is the only way."""
    return Account.create()


def hex32(value: bytes) -> str:
    """A bytes32 as brownie shows it in events (0x-hex; brownie refuses to compare raw bytes)."""
    return "0x" + value.hex()


def values(result: Any) -> tuple[int, ...]:
    """A brownie return value as plain ints (brownie's Wei does not compare with int tuples)."""
    return tuple(int(v) for v in result)
