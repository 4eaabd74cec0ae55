"""The provider-access flow end to end through the library; `make test` runs it on Anvil and Ganache 7."""

from __future__ import annotations

import os

import pytest
from brownie import accounts, web3

from carechain import errors
from carechain.clients import (
    AccessClient,
    Basis,
    CredentialClient,
    RecordClient,
    Review,
    category_bit,
    content_hash,
    license_hash,
)
from carechain.core.purposes import Scope, purpose_id
from smoke.conftest import as_


def test_grant_read_deny_break_glass_review_and_reads(root):
    authority, patient, hospital, gp, specialist, er, reviewer = (accounts[i] for i in range(7))
    registry = as_(CredentialClient, root, authority)
    registry.add_registrar(authority.address)
    salt = os.urandom(16)
    for account, role in (
        (hospital, "CUSTODIAN"),
        (gp, "PROVIDER"),
        (specialist, "PROVIDER"),
        (er, "EMERGENCY"),
        (reviewer, "REVIEWER"),
    ):
        registry.attest(account.address, role, license_hash(f"{account.address}{role}", salt))
        assert registry.has_credential(account.address, role)

    record = os.urandom(32)
    ciphertext = os.urandom(256)
    as_(RecordClient, root, hospital).anchor(
        record, patient.address, category_bit("labs"), content_hash(ciphertext)
    )
    assert as_(RecordClient, root, hospital).latest_content_hash(record) == content_hash(ciphertext)

    expires = web3.eth.get_block("latest").timestamp + 30 * 86_400
    as_(AccessClient, root, patient).grant_access(patient.address, gp.address, int(Scope.LABS), expires)
    log = as_(AccessClient, root, hospital)
    assert log.access_basis(gp.address, record) == (Basis.CATEGORY_GRANT, 0)
    log.log_access(gp.address, record, purpose_id("TREAT"))

    assert not log.can_access(specialist.address, record)
    with pytest.raises(errors.AccessDenied):
        log.log_access(specialist.address, record, purpose_id("TREAT"))

    _, episode = as_(AccessClient, root, er).break_glass(patient.address, purpose_id("ETREAT"), 3600)
    log.log_access(er.address, record, purpose_id("ETREAT"))
    as_(AccessClient, root, reviewer).review(episode, True)
    assert log.get_episode(episode).review is Review.APPROVED

    reads = log.reads(patient=patient.address)
    assert [(r.provider, r.basis, r.episode_id) for r in reads] == [
        (gp.address, Basis.CATEGORY_GRANT, 0),
        (er.address, Basis.BREAK_GLASS, episode),
    ]
    assert [e.episode_id for e in log.episodes(patient=patient.address)] == [episode]
