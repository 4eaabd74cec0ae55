"""Shared fixtures: a fresh ConsentRegistry per module, chain state rolled back after every test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import brownie
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from carechain import eip712
from carechain.purposes import Scope, purpose_id

HMB = purpose_id("HMB")
TREAT = purpose_id("TREAT")
LABS = int(Scope.LABS)
GENOMICS = int(Scope.GENOMICS)
IMAGING = int(Scope.IMAGING)
NEVER = 0


@pytest.fixture(scope="module")
def registry(ConsentRegistry, accounts):
    return ConsentRegistry.deploy({"from": accounts[0]})


@pytest.fixture(autouse=True)
def isolation(fn_isolation):
    """Every test starts from the state the module fixtures left."""


@pytest.fixture
def synced_clock(isolation):
    """Reads brownie's clock from the chain again at the start of a test that does time arithmetic.

    Anvil rewinds its clock to the snapshot's block on every revert, brownie keeps its wall-clock offset, so
    `chain.time()` runs ahead of Anvil by the wall time since the module's last kept block. The mined block
    is rolled back with the rest of the test.
    """
    brownie.chain.mine()


@pytest.fixture(scope="session")
def patient(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def grantee(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def delegate(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def relayer(accounts):
    return accounts[4]


@pytest.fixture(scope="session")
def stranger(accounts):
    return accounts[5]


@pytest.fixture
def signer() -> LocalAccount:
    """A patient who only signs: a fresh key with no ether, so relaying is the only way."""
    return Account.create()


@pytest.fixture
def funded_signer(signer, accounts):
    """The signer as a brownie account holding ether, for the calls a patient makes themself (useNonce)."""
    account = accounts.add(signer.key)
    accounts[0].transfer(account, "1 ether")
    return account


def now() -> int:
    return brownie.chain.time()


def sign_grant(registry: Any, account: LocalAccount, grantee: str, purpose: bytes = HMB, scopes: int = LABS,
               expires_at: int = NEVER, nonce: int | None = None, deadline: int | None = None,
               chain_id: int | None = None, verifying_contract: str | None = None, *,
               patient: str | None = None) -> tuple[Any, ...]:
    """A `SignedGrant` tuple as the contract takes it; domain overrides make cross-chain/contract forgeries.

    `patient` defaults to the signer; a contract wallet's owner signs for the wallet (ERC-1271).
    """
    patient = str(patient or account.address)
    message = {
        "patient": patient, "grantee": str(grantee), "purpose": purpose, "scopes": scopes,
        "expiresAt": expires_at, "nonce": registry.nonces(patient) if nonce is None else nonce,
        "deadline": now() + 3600 if deadline is None else deadline,
    }
    domain = eip712.consent_domain(chain_id or brownie.chain.id, verifying_contract or registry.address)
    signature = eip712.sign(account, eip712.typed_data(domain, "Grant", message))
    return (message["patient"], message["grantee"], purpose, scopes, expires_at, message["nonce"],
            message["deadline"], signature)


def sign_revoke(registry: Any, account: LocalAccount, grantee: str, purpose: bytes = HMB,
                nonce: int | None = None, deadline: int | None = None, *,
                patient: str | None = None) -> tuple[Any, ...]:
    """Arguments of `revokeBySig` signed by `account` (for `patient`, by default the signer)."""
    patient = str(patient or account.address)
    message = {
        "patient": patient, "grantee": str(grantee), "purpose": purpose,
        "nonce": registry.nonces(patient) if nonce is None else nonce,
        "deadline": now() + 3600 if deadline is None else deadline,
    }
    domain = eip712.consent_domain(brownie.chain.id, registry.address)
    signature = eip712.sign(account, eip712.typed_data(domain, "Revoke", message))
    return (message["patient"], message["grantee"], purpose, message["nonce"], message["deadline"], signature)


def _brownie_arg(value: Any) -> str:
    """How brownie prints a custom error's argument in its revert message."""
    if isinstance(value, bytes):
        return str(value)
    if isinstance(value, str) and value.startswith("0x"):
        return value.lower()
    return str(value)


@contextmanager
def reverts(error: str, *args: Any) -> Iterator[None]:
    """Expect a revert with custom error `error` and these arguments (`...` matches any one value)."""
    with pytest.raises(brownie.exceptions.VirtualMachineError) as caught:
        yield
    name, _, shown = (caught.value.revert_msg or "").partition(": ")
    assert name == error, f"reverted with {caught.value.revert_msg!r}, expected {error}"
    actual = shown.split(", ") if shown else []
    assert len(actual) == len(args), f"{error} arguments {actual}, expected {args}"
    for got, want in zip(actual, args, strict=True):
        if want is not ...:
            assert got == _brownie_arg(want), f"{error} arguments {actual}, expected {args}"


def hex32(value: bytes) -> str:
    """A bytes32 as brownie shows it in events (0x-hex; brownie refuses to compare raw bytes)."""
    return "0x" + value.hex()


def values(result: Any) -> tuple[int, ...]:
    """A brownie return value as plain ints (brownie's Wei does not compare with int tuples)."""
    return tuple(int(v) for v in result)
