"""ConsentRegistry.grantBySigBatch and grantBySigBatchCompact: many patients' signed consents in one tx."""

from dataclasses import replace

import brownie
import pytest
from brownie import web3
from conftest import GENOMICS, HMB, LABS, TREAT, hex32, reverts, sign_grant, values
from eth_account import Account

from carechain import errors
from carechain.clients.consent import ConsentClient, SignedGrant, compact_signature
from carechain.core.sender import Sender

SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@pytest.fixture
def cohort():
    """Three patients who only sign."""
    return [Account.create() for _ in range(3)]


def test_batch_grants_every_patients_consent(registry, cohort, grantee, relayer):
    batch = [sign_grant(registry, member, grantee, HMB, LABS << i) for i, member in enumerate(cohort)]
    tx = registry.grantBySigBatch(batch, {"from": relayer})
    for i, member in enumerate(cohort):
        assert values(registry.getConsent(member.address, grantee, HMB)) == (LABS << i, tx.timestamp, 0, 0)
        assert registry.nonces(member.address) == 1
    assert tx.events["ConsentGranted"] == [
        {
            "patient": member.address,
            "grantee": grantee,
            "purpose": hex32(HMB),
            "scopes": LABS << i,
            "expiresAt": 0,
            "actor": member.address,
        }
        for i, member in enumerate(cohort)
    ]


def test_batch_takes_one_patients_consecutive_nonces(registry, signer, grantee, relayer):
    batch = [
        sign_grant(registry, signer, grantee, HMB, LABS, nonce=0),
        sign_grant(registry, signer, grantee, TREAT, GENOMICS, nonce=1),
    ]
    tx = registry.grantBySigBatch(batch, {"from": relayer})
    assert registry.nonces(signer.address) == 2
    assert registry.isPermitted(signer.address, grantee, HMB, LABS)
    assert registry.isPermitted(signer.address, grantee, TREAT, GENOMICS)
    assert [event["purpose"] for event in tx.events["ConsentGranted"]] == [hex32(HMB), hex32(TREAT)]


def test_empty_batch_reverts(registry, relayer):
    with reverts("EmptyBatch"):
        registry.grantBySigBatch([], {"from": relayer})


def test_one_forged_item_reverts_the_whole_batch(registry, cohort, grantee, relayer):
    batch = [sign_grant(registry, member, grantee) for member in cohort]
    victim = cohort[1].address
    batch[1] = sign_grant(registry, Account.create(), grantee, patient=victim)
    with reverts("InvalidSignature", victim):
        registry.grantBySigBatch(batch, {"from": relayer})
    for member in cohort:
        assert values(registry.getConsent(member.address, grantee, HMB)) == (0, 0, 0, 0)
        assert registry.nonces(member.address) == 0


def test_one_expired_item_reverts_the_whole_batch(registry, cohort, grantee, relayer):
    batch = [sign_grant(registry, member, grantee) for member in cohort]
    batch[2] = sign_grant(registry, cohort[2], grantee, deadline=1)
    with reverts("SignatureExpired", 1, ...):
        registry.grantBySigBatch(batch, {"from": relayer})
    assert not registry.isPermitted(cohort[0].address, grantee, HMB, LABS)


def test_item_repeated_in_a_batch_reverts(registry, signer, grantee, relayer):
    signed = sign_grant(registry, signer, grantee)
    with reverts("InvalidAccountNonce", signer.address, 1):
        registry.grantBySigBatch([signed, signed], {"from": relayer})
    assert registry.nonces(signer.address) == 0
    assert not registry.isPermitted(signer.address, grantee, HMB, LABS)


def test_item_already_submitted_reverts_the_batch(registry, cohort, grantee, relayer):
    batch = [sign_grant(registry, member, grantee) for member in cohort]
    registry.grantBySig(batch[0], {"from": relayer})
    with reverts("InvalidAccountNonce", cohort[0].address, 1):
        registry.grantBySigBatch(batch, {"from": relayer})
    assert not registry.isPermitted(cohort[1].address, grantee, HMB, LABS)


def test_batch_item_with_expiry(registry, signer, grantee, relayer):
    expires_at = 2**40
    tx = registry.grantBySigBatch(
        [sign_grant(registry, signer, grantee, expires_at=expires_at)], {"from": relayer}
    )
    assert values(registry.getConsent(signer.address, grantee, HMB)) == (LABS, tx.timestamp, expires_at, 0)
    assert tx.events["ConsentGranted"] == {
        "patient": signer.address,
        "grantee": grantee,
        "purpose": hex32(HMB),
        "scopes": LABS,
        "expiresAt": expires_at,
        "actor": signer.address,
    }


# ---- grantBySigBatchCompact: EOA patients' EIP-2098 (r, vs) signatures ----------------------------


def compact(signed):
    """A CompactSignedGrant tuple: the SignedGrant's fields, its 65-byte signature as (r, vs)."""
    return (*signed[:7], *compact_signature(bytes(signed[7])))


@pytest.fixture
def client(registry, relayer):
    """The library's client of the module's registry, sending as the relayer (a clinic)."""
    return ConsentClient(web3, registry.address, registry.abi, Sender(web3, relayer.address))


def as_signed(signed):
    return SignedGrant(*signed)


def test_compact_batch_grants_what_the_bytes_batch_grants(registry, cohort, grantee, relayer):
    batch = [sign_grant(registry, member, grantee, HMB, LABS << i) for i, member in enumerate(cohort)]
    tx = registry.grantBySigBatchCompact([compact(s) for s in batch], {"from": relayer})
    for i, member in enumerate(cohort):
        assert values(registry.getConsent(member.address, grantee, HMB)) == (LABS << i, tx.timestamp, 0, 0)
        assert registry.nonces(member.address) == 1
    assert tx.events["ConsentGranted"] == [
        {
            "patient": member.address,
            "grantee": grantee,
            "purpose": hex32(HMB),
            "scopes": LABS << i,
            "expiresAt": 0,
            "actor": member.address,
        }
        for i, member in enumerate(cohort)
    ]


def test_compact_batch_costs_less_than_the_bytes_batch(registry, grantee, relayer):
    """The same kind of cohort (fresh patients, one consent each): the compact items save calldata."""
    members = [Account.create() for _ in range(6)]
    by_bytes = registry.grantBySigBatch(
        [sign_grant(registry, m, grantee) for m in members[:3]], {"from": relayer}
    )
    by_compact = registry.grantBySigBatchCompact(
        [compact(sign_grant(registry, m, grantee)) for m in members[3:]], {"from": relayer}
    )
    assert by_compact.gas_used < by_bytes.gas_used


def test_compact_batch_empty_reverts(registry, relayer):
    with reverts("EmptyBatch"):
        registry.grantBySigBatchCompact([], {"from": relayer})


def test_compact_high_s_twin_reverts(registry, signer, grantee, relayer):
    signed = sign_grant(registry, signer, grantee)
    r, vs = compact(signed)[7:]
    s, parity = int.from_bytes(vs, "big") & (2**255 - 1), int.from_bytes(vs, "big") >> 255
    twin = (SECP256K1_ORDER - s) % 2**255 | (1 - parity) << 255  # (r, n - s), other parity, in 255 bits
    with reverts("InvalidSignature", signer.address):
        registry.grantBySigBatchCompact([(*signed[:7], r, twin.to_bytes(32, "big"))], {"from": relayer})
    assert registry.nonces(signer.address) == 0


def test_compact_batch_one_bad_item_reverts_the_whole_batch(registry, cohort, grantee, relayer):
    batch = [compact(sign_grant(registry, member, grantee)) for member in cohort]
    victim = cohort[1].address
    batch[1] = compact(sign_grant(registry, Account.create(), grantee, patient=victim))
    with reverts("InvalidSignature", victim):
        registry.grantBySigBatchCompact(batch, {"from": relayer})
    batch[1] = compact(sign_grant(registry, cohort[1], grantee, chain_id=brownie.chain.id + 1))
    with reverts("InvalidSignature", victim):
        registry.grantBySigBatchCompact(batch, {"from": relayer})
    batch[1] = compact(sign_grant(registry, cohort[1], grantee, nonce=1))
    with reverts("InvalidAccountNonce", victim, 0):
        registry.grantBySigBatchCompact(batch, {"from": relayer})
    batch[1] = compact(sign_grant(registry, cohort[1], grantee, deadline=1))
    with reverts("SignatureExpired", 1, ...):
        registry.grantBySigBatchCompact(batch, {"from": relayer})
    for member in cohort:
        assert values(registry.getConsent(member.address, grantee, HMB)) == (0, 0, 0, 0)
        assert registry.nonces(member.address) == 0


def test_compact_batch_live_consent_reverts(registry, signer, grantee, relayer):
    registry.grantBySig(sign_grant(registry, signer, grantee, HMB, LABS), {"from": relayer})
    with reverts("ConsentAlreadyActive", signer.address, grantee.address, HMB):
        registry.grantBySigBatchCompact([compact(sign_grant(registry, signer, grantee))], {"from": relayer})
    assert registry.nonces(signer.address) == 1


def test_compact_batch_contract_wallet_patient_reverts(registry, ERC1271WalletMock, signer, grantee, relayer):
    """The owner's signature is the wallet's only through ERC-1271, which the compact path never asks."""
    wallet = ERC1271WalletMock.deploy(signer.address, {"from": relayer})
    signed = sign_grant(registry, signer, grantee, patient=wallet.address)
    with reverts("InvalidSignature", wallet.address):
        registry.grantBySigBatchCompact([compact(signed)], {"from": relayer})
    registry.grantBySigBatch([signed], {"from": relayer})
    assert registry.isPermitted(wallet, grantee, HMB, LABS)


# ---- ConsentClient.grant_by_sig_batch_compact ------------------------------------------------------------


def test_client_compact_batch_grants(registry, client, cohort, grantee):
    batch = [
        as_signed(sign_grant(registry, member, grantee, HMB, LABS, expires_at=2**40)) for member in cohort
    ]
    result = client.grant_by_sig_batch_compact(batch)
    assert result.gas_used > 21_000
    for member in cohort:
        assert client.get_consent(member.address, grantee.address, HMB).expires_at == 2**40
        assert client.nonce(member.address) == 1


def test_client_compact_revert_is_a_typed_error(registry, client, signer, grantee):
    signed = as_signed(sign_grant(registry, signer, grantee, deadline=1))
    with pytest.raises(errors.SignatureExpired):
        client.grant_by_sig_batch_compact([signed])


def test_client_refuses_a_signature_without_a_compact_form(registry, client, signer, grantee):
    good = as_signed(sign_grant(registry, signer, grantee))
    short = replace(good, signature=good.signature[:64])
    with pytest.raises(errors.InputError, match="64 bytes: only an EOA's 65-byte"):
        client.grant_by_sig_batch_compact([short])
    bad_v = replace(good, signature=good.signature[:64] + bytes([1]))
    with pytest.raises(errors.InputError, match="v is 1"):
        client.grant_by_sig_batch_compact([bad_v])
    s = int.from_bytes(good.signature[32:64], "big")
    high_s = (
        good.signature[:32] + (SECP256K1_ORDER - s).to_bytes(32, "big") + bytes([55 - good.signature[64]])
    )
    with pytest.raises(errors.InputError, match="upper half of the curve order"):
        client.grant_by_sig_batch_compact([replace(good, signature=high_s)])
    with pytest.raises(errors.InputError, match="at least one"):
        client.grant_by_sig_batch_compact([])
    assert client.nonce(signer.address) == 0


def test_client_refuses_a_contract_wallet_patient(
    registry, client, ERC1271WalletMock, signer, grantee, relayer
):
    wallet = ERC1271WalletMock.deploy(signer.address, {"from": relayer})
    eoa = as_signed(sign_grant(registry, Account.create(), grantee))
    for_wallet = as_signed(sign_grant(registry, signer, grantee, patient=wallet.address))
    with pytest.raises(errors.InputError, match=f"patient {wallet.address} is a contract wallet"):
        client.grant_by_sig_batch_compact([eoa, for_wallet])
    assert client.nonce(eoa.patient) == 0
    client.submit_grants([eoa, for_wallet])  # the 65-byte entry point asks the wallet
    assert client.is_permitted(wallet.address, grantee.address, HMB, LABS)
