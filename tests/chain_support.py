"""Fixtures and helpers for the tests that run on a chain: fresh contracts per module, state rolled back after
every test.

A pytest plugin that tests/conftest.py loads only when brownie runs the tests; chain tests import the helpers
through conftest (`from conftest import reverts, now`), the fixtures come by name.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import brownie
import pytest
from conftest import (
    CUSTODIAN,
    EMERGENCY,
    HMB,
    LAB_RECORD,
    LAB_V0,
    LABS,
    NEVER,
    PROVIDER,
    REGISTRAR_ROLE,
    REVIEWER,
    attest,
    category,
)
from eth_account.signers.local import LocalAccount

from carechain.core import eip712
from carechain.core.profiles import registry_entries

PURPOSES_PER_CALL = 30  # register() calls of about 2M gas each, far under a block


@pytest.fixture(scope="module")
def registry(ConsentRegistry, accounts):
    return ConsentRegistry.deploy({"from": accounts[0]})


@pytest.fixture(scope="module")
def credentials(CredentialRegistry, accounts, registrar):
    """A CredentialRegistry whose default admin (no transfer delay) has appointed one registrar."""
    deployed = CredentialRegistry.deploy(accounts[0], 0, {"from": accounts[0]})
    deployed.grantRole(REGISTRAR_ROLE, registrar, {"from": accounts[0]})
    return deployed


@pytest.fixture(scope="module")
def records(RecordRegistry, credentials, accounts):
    return RecordRegistry.deploy(credentials, {"from": accounts[0]})


@pytest.fixture(scope="module")
def access(AccessGrants, registry, credentials, records, accounts):
    return AccessGrants.deploy(registry, credentials, records, {"from": accounts[0]})


@pytest.fixture(scope="module")
def purpose_registry(PurposeRegistry, accounts):
    """A PurposeRegistry holding CareChain's purpose codes (carechain.core.profiles), parents first."""
    deployed = PurposeRegistry.deploy(accounts[0], {"from": accounts[0]})
    entries = registry_entries()
    for start in range(0, len(entries), PURPOSES_PER_CALL):
        chunk = entries[start : start + PURPOSES_PER_CALL]
        purposes = [(entry.term, entry.release_hash, entry.narrows) for entry in chunk]
        deployed.register([entry.code for entry in chunk], purposes, {"from": accounts[0]})
    return deployed


@pytest.fixture(scope="module")
def consent_grants(ConsentGrants, purpose_registry, accounts):
    """ConsentGrants over the purpose registry; accounts[0] is its admin, who appoints issuers."""
    return ConsentGrants.deploy(accounts[0], purpose_registry, {"from": accounts[0]})


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


@pytest.fixture(scope="session")
def registrar(accounts):
    return accounts[7]


@pytest.fixture(scope="module")
def custodian(accounts, credentials, registrar):
    """A hospital's record gateway, holding a CUSTODIAN credential."""
    attest(credentials, registrar, accounts[6], CUSTODIAN)
    return accounts[6]


@pytest.fixture(scope="module")
def provider(grantee, credentials, registrar):
    """The grantee as a credentialed PROVIDER."""
    attest(credentials, registrar, grantee, PROVIDER)
    return grantee


@pytest.fixture(scope="module")
def er_doctor(accounts, credentials, registrar):
    """An emergency clinician: EMERGENCY (break-glass) and PROVIDER credentials."""
    attest(credentials, registrar, accounts[8], EMERGENCY)
    attest(credentials, registrar, accounts[8], PROVIDER)
    return accounts[8]


@pytest.fixture(scope="module")
def reviewer(accounts, credentials, registrar):
    """A break-glass reviewer (REVIEWER credential)."""
    attest(credentials, registrar, accounts[9], REVIEWER)
    return accounts[9]


@pytest.fixture
def lab_record(records, custodian, patient):
    """The custodian has anchored one of the patient's lab results (category LABS)."""
    records.anchor(LAB_RECORD, patient, category(LABS), LAB_V0, {"from": custodian})
    return LAB_RECORD


@pytest.fixture
def funded_signer(signer, accounts):
    """The signer as a brownie account holding ether, for the calls a patient makes themself (useNonce)."""
    account = accounts.add(signer.key)
    accounts[0].transfer(account, "1 ether")
    return account


def now() -> int:
    return brownie.chain.time()


def at_next_block(timestamp: int) -> None:
    """Make the next block's time exactly `timestamp` (Anvil), for boundary cases."""
    response = brownie.web3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])
    assert "error" not in response, response


def mine_at(timestamp: int) -> None:
    """Mine a block at exactly `timestamp`, so views see that time; brownie's clock follows the block.

    (brownie's own `chain.mine(timestamp=...)` sends Anvil malformed params.)
    """
    at_next_block(timestamp)
    brownie.chain.mine()


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


def _access_domain(access: Any, chain_id: int | None, verifying_contract: str | None) -> eip712.Domain:
    chain_id = chain_id or brownie.chain.id
    return eip712.contract_domain("AccessGrants", chain_id, verifying_contract or access.address)


def sign_access_grant(access: Any, account: LocalAccount, provider: str, categories: int = LABS,
                      expires_at: int | None = None, nonce: int | None = None, deadline: int | None = None,
                      chain_id: int | None = None, verifying_contract: str | None = None, *,
                      patient: str | None = None) -> tuple[Any, ...]:
    """Arguments of `grantAccessBySig` signed by `account` (EIP-712 `AccessGrant`), for `patient` (by default
    the signer); a day's access unless `expires_at` says otherwise; domain overrides make forgeries."""
    patient = str(patient or account.address)
    message = {
        "patient": patient, "provider": str(provider), "categories": categories,
        "expiresAt": now() + 86400 if expires_at is None else expires_at,
        "nonce": access.nonces(patient) if nonce is None else nonce,
        "deadline": now() + 3600 if deadline is None else deadline,
    }
    payload = eip712.typed_data(_access_domain(access, chain_id, verifying_contract), "AccessGrant", message,
                                "AccessGrants")
    return (*message.values(), eip712.sign(account, payload))


def sign_access_revoke(access: Any, account: LocalAccount, provider: str, nonce: int | None = None,
                       deadline: int | None = None, chain_id: int | None = None,
                       verifying_contract: str | None = None, *,
                       patient: str | None = None) -> tuple[Any, ...]:
    """Arguments of `revokeAccessBySig` signed by `account` (EIP-712 `AccessRevoke`)."""
    patient = str(patient or account.address)
    message = {
        "patient": patient, "provider": str(provider),
        "nonce": access.nonces(patient) if nonce is None else nonce,
        "deadline": now() + 3600 if deadline is None else deadline,
    }
    payload = eip712.typed_data(_access_domain(access, chain_id, verifying_contract), "AccessRevoke", message,
                                "AccessGrants")
    return (*message.values(), eip712.sign(account, payload))


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
