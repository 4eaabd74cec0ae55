"""PurposeRegistryClient registers purpose codes in batches under the network's gas cap and reads them back;
GuardianshipFactoryClient deploys a guardianship account where it predicted; refusals as named exceptions."""

from __future__ import annotations

from pathlib import Path

import pytest
from brownie import GuardianshipAccount, GuardianshipFactory, PurposeRegistry, accounts, web3
from web3.logs import DISCARD

from carechain import errors
from carechain.clients import GuardianshipFactoryClient, PurposeRegistryClient
from carechain.clients.guardianship import term_end
from carechain.core.profiles import purpose_code, registry_entries
from carechain.core.sender import Sender

REPO = Path(__file__).parents[2]
FIRST = registry_entries()[:10]  # parents before the codes that narrow them
SMALL_CAP = 500_000  # four entries a transaction: (50,000 + 4 x 75,000) x 1.2 = 420,000


@pytest.fixture(scope="module")
def registry():
    return PurposeRegistry.deploy(accounts[0], {"from": accounts[0]})


@pytest.fixture(scope="module")
def factory():
    return GuardianshipFactory.deploy({"from": accounts[0]})


def purposes_as(registry, account, cap=None) -> PurposeRegistryClient:
    return PurposeRegistryClient.at(
        web3, REPO, registry.address, Sender(web3, account.address, tx_gas_cap=cap)
    )


def test_codes_are_registered_in_batches_under_the_cap_and_read_back(registry):
    admin = purposes_as(registry, accounts[0], SMALL_CAP)

    sent = admin.register(FIRST)

    assert len(sent) == 3  # 4 + 4 + 2
    for entry in FIRST:
        held = admin.purpose_of(entry.code)
        assert held.registered and (held.term, held.release, held.narrows) == (
            entry.term,
            entry.release_hash,
            entry.narrows,
        )
    narrowing = next(entry for entry in FIRST if entry.narrows)
    assert admin.is_registered(narrowing.code) and admin.is_narrowing(narrowing.code, narrowing.narrows)
    assert not admin.is_narrowing(narrowing.narrows, narrowing.code)
    assert not admin.purpose_of(purpose_code("COMMERCIAL")).registered


def test_a_registration_the_registry_refuses_is_its_named_exception(registry):
    admin = purposes_as(registry, accounts[0])
    admin.register(FIRST[:1])
    with pytest.raises(errors.ERROR_CLASSES["PurposeAlreadyRegistered"]) as again:
        admin.register(FIRST[:1])
    assert again.value.arguments == {"code": FIRST[0].code}
    hmb = next(entry for entry in registry_entries() if entry.code == purpose_code("HMB"))
    with pytest.raises(errors.ERROR_CLASSES["UnknownPurpose"]):  # its parent, GRU, is not registered
        admin.register([hmb])
    with pytest.raises(errors.ERROR_CLASSES["AccessControlUnauthorizedAccount"]):
        purposes_as(registry, accounts[5]).register(FIRST[1:2])
    with pytest.raises(errors.InputError, match="at least one"):
        admin.register([])
    assert not admin.is_registered(FIRST[1].code)


def test_a_guardianship_account_is_deployed_where_predicted(factory):
    relay = GuardianshipFactoryClient.at(web3, REPO, factory.address, Sender(web3, accounts[4].address))
    salt, guardian = bytes(range(32)), accounts[8].address
    term_ends_at = web3.eth.get_block("latest")["timestamp"] + 365 * 86400
    predicted = relay.predict(salt, guardian, term_ends_at)

    result, account = relay.deploy(salt, guardian, term_ends_at)

    assert account == predicted and web3.eth.get_code(account)
    (event,) = relay.contract.events.GuardianshipDeployed().process_receipt(result.receipt, errors=DISCARD)
    assert event["args"]["account"] == account
    held = GuardianshipAccount.at(account)
    assert (held.guardianSigner(), held.termEndsAt(), held.successorSigner()) == (
        guardian,
        term_end(term_ends_at),  # floored to its day by the client: an exact second would link accounts
        "0x" + "00" * 20,
    )
    again, same = relay.deploy(salt, guardian, term_ends_at)  # an existing account is returned as it is
    assert same == account and not again.receipt["logs"]
    assert relay.implementation() == factory.implementation()


def test_a_set_up_the_account_refuses_is_its_named_exception(factory):
    relay = GuardianshipFactoryClient.at(web3, REPO, factory.address, Sender(web3, accounts[4].address))
    now = web3.eth.get_block("latest")["timestamp"]
    with pytest.raises(errors.ERROR_CLASSES["InvalidTerm"]):  # the clone's own error, through the factory
        relay.deploy(bytes(32), accounts[8].address, now - 1)
    with pytest.raises(errors.ERROR_CLASSES["InvalidSigner"]) as same_key:
        relay.deploy(bytes(32), accounts[8].address, now + 3600, accounts[8].address)
    assert same_key.value.arguments == {"signer": accounts[8].address}
