"""The relayer's HTTP face: /info to sign with, CORS for local pages, the nonce, the spec, 502, receipts."""

from __future__ import annotations

import time

import httpx
import pytest
from brownie import chain
from conftest import HMB, LABS
from eth_account import Account
from fastapi.testclient import TestClient
from web3 import Web3

from carechain.clients.consent import ConsentClient
from carechain.core.sender import Sender
from carechain.dev.localnode import free_port
from carechain.services.relay.app import create_app

from .conftest import grantee_address, refused, signed_grant, soon


def test_info_has_what_a_page_signs_with(api, registry, relayer):
    info = api.get("/info").json()
    assert info["chainId"] == chain.id
    assert info["consentRegistry"] == registry.address and info["relayer"] == str(relayer)
    assert info["domain"] == {
        "name": "CareChain ConsentRegistry",
        "version": "1",
        "chainId": chain.id,
        "verifyingContract": registry.address,
    }
    assert [f["name"] for f in info["types"]["Grant"]] == [
        "patient",
        "grantee",
        "purpose",
        "scopes",
        "expiresAt",
        "nonce",
        "deadline",
    ]
    assert "EIP712Domain" not in info["types"]  # ethers v6 derives the domain type itself
    assert info["rate"] == {"requests": 100, "periodSeconds": 3600}


def test_a_request_signed_from_info_as_a_wallet_does_is_relayed(api, registry, patient_key):
    """As the portal will: signTypedData(info.domain, {Grant: info.types.Grant}, message), BigInts as text."""
    info = api.get("/info").json()
    nonce = api.get(f"/patients/{patient_key.address}/nonce").json()["nonce"]
    grantee = grantee_address()
    message = {
        "patient": patient_key.address,
        "grantee": grantee,
        "purpose": "0x" + HMB.hex(),
        "scopes": LABS,
        "expiresAt": 0,
        "nonce": nonce,
        "deadline": soon(600),
    }
    signed = Account.sign_typed_data(
        patient_key.key, info["domain"], {"Grant": info["types"]["Grant"]}, message
    )
    body = {
        **message,
        "nonce": str(nonce),
        "deadline": str(message["deadline"]),
        "signature": "0x" + bytes(signed.signature).hex(),
    }
    sent = api.post("/consents", json=body)
    assert sent.status_code == 202, sent.text
    assert registry.isPermitted(patient_key.address, grantee, HMB, LABS)
    assert api.get(f"/patients/{patient_key.address}/nonce").json()["nonce"] == nonce + 1


def test_a_nonce_of_something_that_is_no_address_is_400(api):
    assert "not an Ethereum address" in refused(api.get("/patients/nobody/nonce"), 400, "bad-request")


@pytest.mark.parametrize("origin", ["http://localhost:5173", "http://127.0.0.1:8080", "http://localhost"])
def test_local_pages_may_call_it(api, origin):
    preflight = api.options(
        "/consents",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin
    assert api.get("/info", headers={"Origin": origin}).headers["access-control-allow-origin"] == origin


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "http://localhost.evil.example", "https://localhost:5173"]
)
def test_other_origins_get_no_cors_grant(api, origin):
    assert "access-control-allow-origin" not in api.get("/info", headers={"Origin": origin}).headers


def test_the_openapi_spec_lists_the_endpoints(api):
    spec = api.get("/openapi.json").json()
    assert {"/consents", "/revocations", "/submissions/{submission_id}", "/info"} <= set(spec["paths"])
    assert {"202", "409", "422", "429", "502"} <= set(spec["paths"]["/consents"]["post"]["responses"])


def test_a_node_that_is_down_is_502(make_service, consents, patient_key, monkeypatch):
    body = signed_grant(consents, patient_key)
    service = make_service()
    monkeypatch.setenv("CARECHAIN_RPC_ATTEMPTS", "1")
    down = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{free_port()}", exception_retry_configuration=None))
    service.client = ConsentClient(
        down, consents.address, consents.abi, Sender(down, consents.sender.address)
    )
    with TestClient(create_app(service, poll=0)) as client:
        assert "did not answer" in refused(client.post("/consents", json=body), 502, "chain-unreachable")
        refused(client.get(f"/patients/{patient_key.address}/nonce"), 502, "chain-unreachable")


def test_the_server_follows_receipts_without_being_asked(service, http_server, consents, patient_key):
    """A real uvicorn with the background follower: the stored status becomes mined with no GET."""
    url = http_server(create_app(service, poll=0.1))
    with httpx.Client(base_url=url, timeout=60) as client:
        sent = client.post("/consents", json=signed_grant(consents, patient_key))
        assert sent.status_code == 202, sent.text
        key = bytes.fromhex(sent.json()["id"][2:])
        deadline = time.monotonic() + 20
        while service.store.get(key).status != "mined":
            assert time.monotonic() < deadline, "the follower did not settle the submission"
            time.sleep(0.1)
        assert (
            client.get(f"/submissions/{sent.json()['id']}").json()["block"]
            == service.store.get(key).block_number
        )
