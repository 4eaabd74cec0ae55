"""carechain.offchain.consent_import: plan, then submit a cohort's signed consents; a bad item loses none."""

from __future__ import annotations

import pytest
from brownie import accounts, chain, web3
from conftest import GENOMICS, HMB, LABS, NEVER
from conftest import sign_grant as sign_with_brownie
from eth_account import Account

from carechain import Sender, connect
from carechain.clients import ConsentClient
from carechain.core import eip712
from carechain.errors import InputError
from carechain.offchain import consent_import
from carechain.offchain.consent_import import (
    domain_separator,
    grant_digest,
    import_consents,
    max_batch_size,
    plan_import,
    read_csv,
    sign_grant,
    submit_plan,
    write_csv,
)

DEADLINE = 4_102_444_800  # 2100-01-01


@pytest.fixture(scope="module")
def client(registry):
    """The brownie-deployed registry through the library; the node's first account is the clinic."""
    w3 = connect(web3.provider.endpoint_uri)
    return ConsentClient(w3, registry.address, registry.abi, Sender(w3, accounts[0].address))


@pytest.fixture(scope="module")
def domain(client):
    return client.domain()


def cohort(domain, count, grantee=None, nonce=0):
    keys = [Account.create().key for _ in range(count)]
    grantee = grantee or accounts[2].address
    return [sign_grant(key, domain, grantee, HMB, LABS, NEVER, nonce, DEADLINE) for key in keys]


def csv_of(tmp_path, grants, name="cohort.csv"):
    path = tmp_path / name
    write_csv(path, grants)
    return path


def test_the_fast_digest_and_signature_are_what_eip712_and_the_contract_take(registry, domain):
    patient = Account.create()
    grant = sign_grant(patient.key, domain, accounts[2].address, HMB, LABS | GENOMICS, NEVER, 0, DEADLINE)
    message = {
        "patient": patient.address,
        "grantee": accounts[2].address,
        "purpose": HMB,
        "scopes": LABS | GENOMICS,
        "expiresAt": NEVER,
        "nonce": 0,
        "deadline": DEADLINE,
    }
    payload = eip712.typed_data(domain, "Grant", message)
    assert grant_digest(domain_separator(domain), grant) == eip712.digest(payload)
    assert domain_separator(domain) == bytes(registry.DOMAIN_SEPARATOR())
    reference = sign_with_brownie(
        registry, patient, accounts[2].address, HMB, LABS | GENOMICS, NEVER, 0, DEADLINE
    )
    assert grant.as_tuple() == reference
    tx = registry.grantBySig(grant.as_tuple(), {"from": accounts[4]})
    assert tx.events["ConsentGranted"]["patient"] == patient.address


def test_an_item_that_reverts_on_chain_is_bisected_out_and_the_others_land(
    client, registry, domain, tmp_path
):
    grants = cohort(domain, 7)
    plan = plan_import(client, read_csv(csv_of(tmp_path, grants)))
    assert len(plan.rows) == 7 and not plan.rejected
    key = Account.create().key
    spoiler = accounts.add(key)  # a patient who burns the nonce after the check
    accounts[0].transfer(spoiler, "1 ether")
    late = sign_grant(key, domain, accounts[2].address, HMB, LABS, NEVER, 0, DEADLINE)
    plan = plan_import(client, read_csv(csv_of(tmp_path, [*grants, late], "with-spoiler.csv")))
    assert len(plan.rows) == 8
    registry.useNonce({"from": spoiler})  # between the check and the submission

    seen = []
    result = submit_plan(client, plan, batch_size=8, progress=lambda done, total: seen.append((done, total)))
    assert result.submitted == [2, 3, 4, 5, 6, 7, 8]
    assert [issue.line for issue in result.rejected] == [9]
    assert "InvalidAccountNonce" in result.rejected[0].reason
    assert seen[0] == (0, 8) and seen[-1] == (8, 8) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert len(result.transactions) >= 2  # no transaction carried the bad item
    for grant in grants:
        assert registry.isPermitted(grant.patient, accounts[2].address, HMB, LABS)
    assert not registry.isPermitted(spoiler.address, accounts[2].address, HMB, LABS)


def test_an_interrupted_import_resumes_with_only_what_is_missing(client, domain, tmp_path):
    grants = cohort(domain, 6)
    path = csv_of(tmp_path, grants)
    client.submit_grants(grants[:4])  # the first run stopped after its first batch
    result = import_consents(client, path)
    assert result.submitted == [6, 7] and len(result.transactions) == 1
    assert [(i.line, i.reason) for i in result.skipped] == [
        (line, "already on chain") for line in range(2, 6)
    ]


def test_a_row_submitted_meanwhile_by_someone_else_is_skipped_not_rejected(client, domain, tmp_path):
    grants = cohort(domain, 3)
    plan = plan_import(client, read_csv(csv_of(tmp_path, grants)))
    client.submit_grant(grants[1])  # another relayer was quicker
    result = submit_plan(client, plan)
    assert result.submitted == [2, 4] and not result.rejected
    assert [i.line for i in result.skipped] == [3] and "meanwhile" in result.skipped[0].reason


def test_a_patients_several_consents_go_in_nonce_order_and_a_gap_is_rejected(
    client, registry, domain, tmp_path
):
    patient = Account.create()
    second = sign_grant(patient.key, domain, accounts[3].address, HMB, LABS, NEVER, 1, DEADLINE)
    first = sign_grant(patient.key, domain, accounts[2].address, HMB, LABS, NEVER, 0, DEADLINE)
    other = Account.create()
    gap = sign_grant(other.key, domain, accounts[2].address, HMB, LABS, NEVER, 1, DEADLINE)
    result = import_consents(client, csv_of(tmp_path, [second, first, gap]), batch_size=1)
    assert result.submitted == [2, 3] and registry.nonces(patient.address) == 2
    assert [i.line for i in result.rejected] == [4]
    assert "nonce 1 is not the patient's next one (the chain expects 0)" in result.rejected[0].reason


def test_a_used_nonce_for_another_action_or_a_different_live_consent_is_rejected(
    client, registry, domain, tmp_path
):
    key = Account.create().key
    patient = accounts.add(key)
    accounts[0].transfer(patient, "1 ether")
    registry.grant(accounts[3].address, HMB, GENOMICS, NEVER, {"from": patient})  # a different live consent
    registry.useNonce({"from": patient})
    reused = sign_grant(key, domain, accounts[2].address, HMB, LABS, NEVER, 0, DEADLINE)
    clash = sign_grant(key, domain, accounts[3].address, HMB, LABS, NEVER, 1, DEADLINE)
    plan = plan_import(client, read_csv(csv_of(tmp_path, [reused, clash])))
    assert plan.rows == [] and [i.line for i in plan.rejected] == [2, 3]
    assert "nonce 0 was used by another signed action" in plan.rejected[0].reason
    assert "another consent for this grantee and purpose is live" in plan.rejected[1].reason


def test_the_default_batch_fits_the_block_gas_limit(client):
    size = max_batch_size(client.w3)
    gas_limit = client.w3.eth.get_block("latest")["gasLimit"]
    assert size > 1 and size * 59_000 * 1.2 < gas_limit
    assert chain.id == client.w3.eth.chain_id


def test_a_streamed_plan_is_the_in_memory_plan_and_second_nonces_follow_the_first(client, domain, tmp_path):
    """C.16: plan_import(path) streams; it decides as plan_import(read_csv(path)) did, and the rows it
    sends are read again from the file, one pass a rank (a patient's first row to submit, then its
    second), each patient's in nonce order."""
    keys = [Account.create().key for _ in range(3)]
    second = [sign_grant(k, domain, accounts[2].address, HMB, LABS, NEVER, 1, DEADLINE) for k in keys]
    first = [sign_grant(k, domain, accounts[3].address, HMB, LABS, NEVER, 0, DEADLINE) for k in keys]
    path = csv_of(tmp_path, [*second, first[0], first[0], first[1], first[2]])  # line 6 repeats line 5
    streamed = plan_import(client, path)
    assert streamed == plan_import(client, read_csv(path))
    assert streamed.rows == [(0, 5, 0), (0, 7, 0), (0, 8, 0), (1, 2, 1), (1, 3, 1), (1, 4, 1)]
    assert [(i.line, i.reason) for i in streamed.rejected] == [
        (6, "duplicate of line 5 (the same patient and nonce)")
    ]
    result = submit_plan(client, streamed, batch_size=2)
    assert result.submitted == [2, 3, 4, 5, 7, 8] and [i.line for i in result.rejected] == [6]
    assert all(client.nonce(Account.from_key(k).address) == 2 for k in keys)


def test_a_second_campaign_is_read_again_once_a_rank_not_once_a_nonce(client, domain, tmp_path, monkeypatch):
    """Patients already at chain nonces 2, 1 and 0 (a second campaign): the file was read once per
    distinct nonce (0, 1 and 2: three passes); now once per rank, so two passes, for the one patient
    with two consents, whose nonce 1 (line 2) still lands after its nonce 0 (line 5)."""
    grantees = [accounts[2].address, accounts[3].address, accounts[4].address]
    keys = [Account.create().key for _ in range(3)]

    def signed(who, nonce):
        return sign_grant(keys[who], domain, grantees[nonce], HMB, LABS, NEVER, nonce, DEADLINE)

    first = import_consents(client, csv_of(tmp_path, [signed(0, 1), signed(0, 0), signed(1, 0)], "first.csv"))
    assert first.submitted == [2, 3, 4] and not first.rejected
    patients = [Account.from_key(k).address for k in keys]
    assert [client.nonce(p) for p in patients] == [2, 1, 0]
    path = csv_of(tmp_path, [signed(2, 1), signed(0, 2), signed(1, 1), signed(2, 0)], "second.csv")
    plan = plan_import(client, path)
    assert plan.rows == [(0, 3, 2), (0, 4, 1), (0, 5, 0), (1, 2, 1)]
    passes = []
    reader = consent_import.read_rows
    monkeypatch.setattr(consent_import, "read_rows", lambda p, d=None: passes.append(p) or reader(p, d))
    result = submit_plan(client, plan, batch_size=2)
    assert result.submitted == [2, 3, 4, 5] and not result.rejected and len(passes) == 2
    assert [client.nonce(p) for p in patients] == [3, 2, 2]


def test_a_file_changed_after_its_check_is_one_error_and_sends_nothing(client, domain, tmp_path):
    grants = cohort(domain, 2)
    path = csv_of(tmp_path, grants)
    plan = plan_import(client, path)
    write_csv(path, cohort(domain, 1))  # a row appended between the check and the submission
    with pytest.raises(InputError, match="changed since it was checked"):
        submit_plan(client, plan)
    assert [client.nonce(g.patient) for g in grants] == [0, 0]
