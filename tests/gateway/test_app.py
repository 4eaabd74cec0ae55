"""The gateway over HTTP (a real uvicorn on a free port): ingest behind the custodian's token, the signed
read, one status per refusal."""

from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from carechain.services.gateway.requests import ReadRequest

from .conftest import LAB_RESULT, TOKEN, ask, logged, unreachable
from .test_read import tamper


@pytest.fixture
def http(http_server, app) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=http_server(app), timeout=60) as client:
        yield client


def read(http: httpx.Client, request: ReadRequest) -> httpx.Response:
    return http.post(f"/records/0x{request.record_id.hex()}/read", json=request.body())


def refused(response: httpx.Response, status: int, error: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    return str(body["detail"])


def ingest(http: httpx.Client, patient, content: bytes = LAB_RESULT, token: str | None = TOKEN, **extra):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {
        "patient": str(patient),
        "category": "labs",
        "content": base64.b64encode(content).decode(),
        **extra,
    }
    return http.post("/records", json=body, headers=headers)


def test_ingest_then_a_granted_read_over_http(http, service, patient, gp_granted):
    made = ingest(http, patient, mediaType="application/fhir+json")
    assert made.status_code == 201, made.text
    record_id = bytes.fromhex(made.json()["recordId"][2:])
    assert made.json()["version"] == 0 and made.json()["txHash"]
    got = read(http, ask(service, gp_granted, record_id))
    assert got.status_code == 200 and got.content == LAB_RESULT
    assert got.headers["content-type"] == "application/fhir+json"
    assert got.headers["X-CareChain-Basis"] == "CATEGORY_GRANT"
    (entry,) = logged(service, record_id)
    assert got.headers["X-CareChain-Log-Tx"] == entry.tx_hash


def test_re_ingest_over_http_anchors_nothing(http, patient):
    record_id = "0x" + os.urandom(32).hex()
    assert ingest(http, patient, recordId=record_id).json()["txHash"]
    again = ingest(http, patient, recordId=record_id)
    assert again.status_code == 201 and again.json()["txHash"] is None and again.json()["version"] == 0


@pytest.mark.parametrize("token", [None, "wrong-token"], ids=["no-token", "wrong-token"])
def test_ingest_needs_the_custodian_token(http, patient, token):
    refused(ingest(http, patient, token=token), 401, "unauthorized")


def test_ingest_is_off_without_a_configured_token(http_server, service, patient):
    from carechain.services.gateway.app import create_app

    with httpx.Client(base_url=http_server(create_app(service, None))) as tokenless:
        refused(ingest(tokenless, patient, token=TOKEN), 401, "unauthorized")


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"patient": "0xnope", "category": "labs", "content": "eA=="}, "not an Ethereum address"),
        ({"patient": None, "category": "labs", "content": "eA=="}, "invalid patient"),
        ({"category": "vibes", "content": "eA=="}, "unknown record category"),
        ({"category": "labs", "content": "not base64!"}, "not base64"),
        ({"category": "labs", "content": ""}, "the record is empty"),
    ],
)
def test_bad_ingest_bodies_are_400(http, patient, body, why):
    body = {"patient": str(patient), **body}
    answer = http.post("/records", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
    assert why in refused(answer, 400, "bad-request")


def test_an_empty_record_anchors_nothing(http, service, patient):
    """C.15: an empty body was anchored as a record; now it is 400 and the chain is untouched."""
    before = service.records.w3.eth.block_number
    answer = ingest(http, patient, content=b"", recordId="0x" + os.urandom(32).hex())
    assert "the record is empty" in refused(answer, 400, "bad-request")
    assert service.records.w3.eth.block_number == before


def test_a_body_over_the_gateway_limit_is_413_and_stores_nothing(http_server, service, patient):
    from carechain.services.gateway.app import create_app

    record_id = os.urandom(32)
    with httpx.Client(base_url=http_server(create_app(service, TOKEN, max_bytes=1024))) as small:
        before = service.records.w3.eth.block_number
        answer = ingest(small, patient, content=os.urandom(2048), recordId="0x" + record_id.hex())
        assert "limit of 1,024 bytes" in refused(answer, 413, "too-large")
        assert ingest(small, patient, content=b"small", recordId="0x" + record_id.hex()).status_code == 201
    assert service.records.w3.eth.block_number == before + 1  # the small one's anchor only
    assert [v.version for v in service.store.versions(record_id)] == [0]


def test_every_refusal_has_its_status_and_none_is_logged(http, service, lab, gp_granted, specialist):
    signed = ask(service, gp_granted, lab)
    cases = [
        (ask(service, specialist, lab), 403, "denied"),
        (ask(service, gp_granted, os.urandom(32)), 404, "unknown-record"),
        (ask(service, gp_granted, lab, issued_at=int(time.time()) - 600), 400, "expired"),
        (ask(service, gp_granted, lab, chain_id=1), 400, "bad-request"),
        (ReadRequest(**{**signed.__dict__, "provider": specialist.address}), 401, "bad-signature"),
    ]
    for request, status, error in cases:
        refused(read(http, request), status, error)
    assert logged(service, lab) == []
    assert read(http, signed).status_code == 200
    refused(read(http, signed), 409, "replayed")
    assert len(logged(service, lab)) == 1


def test_a_tampered_blob_is_500_integrity_failure_and_the_body_holds_no_record(
    http, service, lab, gp_granted
):
    tamper(service, lab)
    answer = read(http, ask(service, gp_granted, lab))
    refused(answer, 500, "integrity-failure")
    assert b"Glucose" not in answer.content
    assert logged(service, lab) == []


def test_a_revert_is_422_naming_the_contract_error_not_a_bad_request(
    http, patient, credentials, registrar, custodian
):
    from conftest import CUSTODIAN

    credentials.suspend(custodian, CUSTODIAN, {"from": registrar})
    answer = ingest(http, patient)
    assert "NotCustodian" in refused(answer, 422, "refused")
    assert answer.json()["errorName"] == "NotCustodian"


def test_an_erased_record_is_410(http, service, lab, gp_granted):
    service.erase(lab)
    refused(read(http, ask(service, gp_granted, lab)), 410, "erased")


def test_a_dead_chain_is_502(http, service, lab, gp_granted):
    from carechain.clients.access import AccessClient

    live = service.access
    service.access = AccessClient(unreachable(), live.address, live.abi, live.sender)
    refused(read(http, ask(service, gp_granted, lab)), 502, "chain-unreachable")


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"signature": "0x1234"}, "signature is not 65 bytes"),
        ({"purpose": "TREAT"}, "purpose is not 32 bytes"),
        ({"issuedAt": -1}, "issuedAt"),
        ({"nonce": -1}, "nonce is not an unsigned integer"),
        ({"chainId": 2**256}, "chainId is not an unsigned integer"),
        ({"gateway": "0x12"}, "gateway is not an Ethereum address"),
        ({"provider": "someone"}, "provider is not an Ethereum address"),
    ],
)
def test_malformed_read_bodies_are_400(http, service, lab, gp_granted, change, why):
    body = {**ask(service, gp_granted, lab).body(), **change}
    assert why in refused(http.post(f"/records/0x{lab.hex()}/read", json=body), 400, "bad-request")


def test_a_malformed_record_id_in_the_path_is_400(http, service, lab, gp_granted):
    body = ask(service, gp_granted, lab).body()
    assert "record id" in refused(http.post("/records/0x12/read", json=body), 400, "bad-request")


def test_info_tells_the_client_what_to_sign(http, service):
    info = http.get("/info").json()
    assert (info["gateway"], info["chainId"], info["accessGrants"]) == (
        service.gateway,
        service.chain_id,
        service.access.address,
    )
    assert info["domain"]["name"] == "CareChain Gateway"
    assert [f["name"] for f in info["types"]["ReadRequest"]] == [
        "provider",
        "recordId",
        "purpose",
        "gateway",
        "chainId",
        "issuedAt",
        "nonce",
    ]


def test_the_openapi_spec_describes_every_route_and_refusal(http):
    spec = http.get("/openapi.json").json()
    assert set(spec["paths"]) == {"/info", "/records", "/records/{record_id}/read", "/receipts/{receipt_id}"}
    responses = spec["paths"]["/records/{record_id}/read"]["post"]["responses"]
    assert {"200", "400", "401", "403", "404", "409", "410", "413", "500", "502"} <= set(responses)


def test_concurrent_reads_are_each_logged_once(http, service, lab, gp_granted):
    """Eight requests at once, one of them sent twice: eight served, eight log entries, one 409."""
    url = str(http.base_url).rstrip("/")
    requests = [ask(service, gp_granted, lab) for _ in range(8)]
    answers: list[httpx.Response] = []

    def fetch(request: ReadRequest) -> None:
        answers.append(httpx.post(f"{url}/records/0x{lab.hex()}/read", json=request.body(), timeout=60))

    threads = [threading.Thread(target=fetch, args=(r,)) for r in [*requests, requests[0]]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * 8 + [409]
    entries = logged(service, lab)
    assert len(entries) == 8
    assert {a.headers["X-CareChain-Log-Tx"] for a in answers if a.status_code == 200} == {
        e.tx_hash for e in entries
    }
