"""GatewayService.read: served only on a valid, fresh, unused request, canAccess and an intact blob."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from eth_account import Account

from carechain.clients.access import Basis
from carechain.errors import (
    AccessRefused,
    BadRequest,
    BadSignature,
    ChainUnreachable,
    IntegrityFailure,
    RecordNotFound,
    Replayed,
    RequestExpired,
)
from carechain.services.gateway.requests import ReadRequest
from carechain.services.gateway.store import versions_table

from .conftest import LAB_RESULT, TREAT, ask, logged, unreachable


def test_gp_with_a_grant_gets_the_record_and_the_read_is_logged(service, lab, gp_granted, patient):
    served = service.read(ask(service, gp_granted, lab))
    assert served.content == LAB_RESULT
    assert served.media_type == "application/fhir+json"
    assert (served.version, served.basis) == (0, Basis.CATEGORY_GRANT)
    (read,) = logged(service, lab)
    assert (read.provider, read.patient, read.purpose, read.basis) == (
        gp_granted.address,
        str(patient),
        TREAT,
        Basis.CATEGORY_GRANT,
    )
    assert read.tx_hash == served.log_tx


def test_a_record_grant_is_enough_too(service, lab, access, patient, gp):
    from brownie import chain

    access.grantRecordAccess(gp.address, lab, chain.time() + 3600, {"from": patient})
    assert service.read(ask(service, gp, lab)).basis == Basis.RECORD_GRANT


def test_provider_without_a_grant_is_refused_and_nothing_is_logged(service, lab, specialist):
    with pytest.raises(AccessRefused, match="canAccess is false") as refused:
        service.read(ask(service, specialist, lab))
    assert refused.value.status == 403
    assert logged(service, lab) == []


def test_break_glass_read_is_served_and_logged_with_its_episode(service, lab, er_in_glass, access):
    served = service.read(ask(service, er_in_glass, lab))
    assert served.content == LAB_RESULT and served.basis == Basis.BREAK_GLASS
    (read,) = logged(service, lab)
    assert (read.provider, read.basis, read.episode_id) == (
        er_in_glass.address,
        Basis.BREAK_GLASS,
        access.episodeCount(),
    )


def test_a_replayed_request_is_refused_and_logged_once(service, lab, gp_granted):
    request = ask(service, gp_granted, lab)
    service.read(request)
    with pytest.raises(Replayed) as replayed:
        service.read(request)
    assert replayed.value.status == 409
    assert len(logged(service, lab)) == 1


def test_a_refused_request_cannot_be_replayed_once_allowed(service, lab, access, patient, gp):
    """A denied request's digest is spent too: granting later does not revive a captured request."""
    from brownie import chain

    request = ask(service, gp, lab)
    with pytest.raises(AccessRefused):
        service.read(request)
    access.grantAccess(patient, gp.address, 1 << 7, chain.time() + 3600, {"from": patient})
    with pytest.raises(Replayed):
        service.read(request)
    assert logged(service, lab) == []


@pytest.mark.parametrize("age", [61, 3600], ids=["just-expired", "an-hour-old"])
def test_an_expired_request_is_refused(service, lab, gp_granted, age):
    import time

    with pytest.raises(RequestExpired, match="valid for 60s") as expired:
        service.read(ask(service, gp_granted, lab, issued_at=int(time.time()) - age))
    assert expired.value.status == 400
    assert logged(service, lab) == []


def test_a_request_from_the_future_is_refused(service, lab, gp_granted):
    import time

    with pytest.raises(RequestExpired, match="in the future"):
        service.read(ask(service, gp_granted, lab, issued_at=int(time.time()) + 120))


def test_a_short_window_is_honoured(make_service, lab, gp_granted):
    import time

    strict = make_service(window=5)
    with pytest.raises(RequestExpired, match="valid for 5s"):
        strict.read(ask(strict, gp_granted, lab, issued_at=int(time.time()) - 10))


def test_a_request_for_another_chain_is_refused(service, lab, gp_granted):
    with pytest.raises(BadRequest, match=f"for chain {service.chain_id + 1}"):
        service.read(ask(service, gp_granted, lab, chain_id=service.chain_id + 1))
    assert logged(service, lab) == []


def test_a_request_for_another_gateway_is_refused(service, lab, gp_granted):
    elsewhere = Account.create().address
    with pytest.raises(BadRequest, match=f"for gateway {elsewhere}"):
        service.read(ask(service, gp_granted, lab, gateway=elsewhere))
    assert logged(service, lab) == []


def test_a_request_signed_under_another_domain_fails_its_signature(service, lab, gp_granted):
    """Signed for another AccessGrants deployment: same fields, different domain, so not this signature."""
    with pytest.raises(BadSignature):
        service.read(ask(service, gp_granted, lab, access_grants=Account.create().address))


def test_a_request_signed_by_someone_else_is_refused(service, lab, gp_granted, specialist):
    forged = ask(service, specialist, lab)
    in_gp_name = ReadRequest(**{**forged.__dict__, "provider": gp_granted.address})
    with pytest.raises(BadSignature, match=f"not signed by provider {gp_granted.address}") as bad:
        service.read(in_gp_name)
    assert bad.value.status == 401
    assert logged(service, lab) == []


def test_a_request_changed_after_signing_is_refused(service, lab, gp_granted):
    signed = ask(service, gp_granted, lab)
    with pytest.raises(BadSignature):
        service.read(ReadRequest(**{**signed.__dict__, "purpose": os.urandom(32)}))


def test_a_garbage_signature_is_refused(service, lab, gp_granted):
    signed = ask(service, gp_granted, lab)
    with pytest.raises(BadSignature):
        service.read(ReadRequest(**{**signed.__dict__, "signature": b"\x00" * 65}))


def test_an_unknown_record_is_404(service, gp_granted):
    with pytest.raises(RecordNotFound) as unknown:
        service.read(ask(service, gp_granted, os.urandom(32)))
    assert unknown.value.status == 404


def tamper(service, record_id: bytes, blob: bytes | None = None, same_hash_column: bool = False) -> None:
    """Change the stored ciphertext behind the gateway's back (a disk fault, an intruder)."""
    from eth_utils.crypto import keccak

    (stored,) = service.store.versions(record_id)
    forged = blob if blob is not None else stored.blob[:-1] + bytes([stored.blob[-1] ^ 1])
    values: dict[str, bytes] = {"blob": forged}
    if same_hash_column:
        values["content_hash"] = keccak(forged)
    with service.store.engine.begin() as db:
        db.execute(sa.update(versions_table).where(versions_table.c.record_id == record_id).values(**values))


@pytest.mark.parametrize("cover", [False, True], ids=["blob-only", "blob-and-its-hash-column"])
def test_a_tampered_blob_is_an_integrity_failure_never_served(service, lab, gp_granted, cover):
    tamper(service, lab, same_hash_column=cover)
    with pytest.raises(IntegrityFailure, match="does not match its anchored hash") as failure:
        service.read(ask(service, gp_granted, lab))
    assert failure.value.status == 500
    assert logged(service, lab) == []


def test_a_blob_that_matches_the_anchor_but_does_not_decrypt_is_not_served(
    service, records, custodian, lab, gp_granted
):
    """Even a blob the chain vouches for is decrypted (and its GCM tag checked) before anything is served."""
    from eth_utils.crypto import keccak

    (stored,) = service.store.versions(lab)
    forged = stored.blob[:-1] + bytes([stored.blob[-1] ^ 1])
    records.amend(lab, keccak(forged), {"from": custodian})
    tamper(service, lab, blob=forged)
    with pytest.raises(IntegrityFailure, match="does not decrypt"):
        service.read(ask(service, gp_granted, lab))
    assert logged(service, lab) == []


def test_a_chain_that_does_not_answer_is_502(service, lab, gp_granted):
    from carechain.clients.access import AccessClient

    live = service.access
    service.access = AccessClient(unreachable(), live.address, live.abi, live.sender)
    with pytest.raises(ChainUnreachable) as down:
        service.read(ask(service, gp_granted, lab))
    assert down.value.status == 502


def test_the_latest_version_is_served(service, lab, gp_granted, patient):
    service.put(lab, str(patient), 7, b"corrected result")
    served = service.read(ask(service, gp_granted, lab))
    assert (served.version, served.content) == (1, b"corrected result")


def test_a_gateway_whose_custodian_credential_lapsed_serves_nothing(
    service, lab, gp_granted, credentials, registrar, custodian
):
    from conftest import CUSTODIAN

    from carechain.errors import ChainRefused

    credentials.suspend(custodian, CUSTODIAN, {"from": registrar})
    with pytest.raises(ChainRefused, match="NotRecordCustodian") as refused:
        service.read(ask(service, gp_granted, lab))
    assert refused.value.status == 502
    assert logged(service, lab) == []


def test_a_version_not_yet_anchored_is_not_served_the_anchored_one_is(
    service, lab, gp_granted, patient, node_down_for
):
    """A put whose anchor did not go through leaves the previous, anchored version the one served."""
    node_down_for(lab, str(patient), 7, b"not anchored yet")
    served = service.read(ask(service, gp_granted, lab))
    assert (served.version, served.content) == (0, LAB_RESULT)
