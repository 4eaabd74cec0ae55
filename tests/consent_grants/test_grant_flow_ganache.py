"""The private-consent flow through the library, as `make test` runs it on Anvil and on Ganache 7: a
patient's per-grant keys from one wallet signature, a grant signed by the grant's key and relayed, active; a
signed withdrawal relayed, revoked; a batch relayed in one transaction; a signature in EIP-2098's 64 bytes.
Nothing here needs a node's extras (no cheat codes, no Anvil-only RPC)."""

from __future__ import annotations

import pytest
from eth_utils.crypto import keccak
from grants_support import HMB, grant_input

from carechain.core import grants
from carechain.core.grants import Op, Status, category_scope, resource_hash
from carechain.core.signatures import compact_signature

pytestmark = pytest.mark.usefixtures("wallet_never_on_chain")

WITHDRAWN = keccak(text="carechain:reason:withdrawn")


def test_derive_sign_relay_check_revoke(relay, hospital, key_root):
    subject = key_root.grant_keys("subject", 0)
    labs = resource_hash(subject.scope_salt, category_scope("labs"))

    relay.sign_and_grant(subject, grant_input(subject, hospital.sender.address))
    assert relay.is_active(subject.commitment)
    assert hospital.check_access(subject.commitment, HMB, Op.READ, labs)

    relay.sign_and_revoke(subject, subject.commitment, WITHDRAWN)
    assert not relay.is_active(subject.commitment)
    assert relay.effective_status(subject.commitment) is Status.REVOKED_BY_SUBJECT
    assert not hospital.check_access(subject.commitment, HMB, Op.READ, labs)


def test_a_batch_of_signed_grants_mints_each(relay, hospital, key_root):
    subjects = [key_root.grant_keys("subject", i) for i in range(1, 4)]
    items = []
    for subject in subjects:
        signed = grant_input(subject, hospital.sender.address)
        items.append((signed, relay.sign_grant(subject, signed)))

    batch = relay.grant_batch(items)

    assert (batch.minted, batch.failed) == ((0, 1, 2), ())
    assert all(relay.is_active(subject.commitment) for subject in subjects)


def test_a_grant_signed_in_eip2098_compact_form_is_taken(relay, hospital, key_root):
    subject = key_root.grant_keys("subject", 4)
    signed = grant_input(subject, hospital.sender.address)
    payload = grants.grant_typed_data(relay.domain(), signed, relay.nonce(subject.commitment))
    r, vs = compact_signature(grants.sign(subject, payload))

    relay.grant(signed, grants.subject_sig(subject.salt, r + vs))  # 64 bytes: r and s with v's bit

    assert relay.is_active(subject.commitment) and relay.nonce(subject.commitment) == 1
