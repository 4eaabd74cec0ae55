"""POST /consents and /revocations: a signed request checked, simulated, sent, followed to its block."""

from __future__ import annotations

from brownie import chain
from conftest import HMB, LABS
from eth_account import Account

from carechain.core import eip712

from .conftest import grantee_address, mine, refused, relayer_state, signed_grant, signed_revoke, soon


def test_a_signed_grant_is_submitted_then_mined_and_permits(
    api, consents, registry, patient_key, relayer, w3
):
    grantee = grantee_address()
    body = signed_grant(consents, patient_key, grantee)
    sent = api.post("/consents", json=body)
    assert sent.status_code == 202, sent.text
    answer = sent.json()
    assert answer["status"] == "submitted" and answer["kind"] == "Grant"
    assert answer["patient"] == patient_key.address and answer["nonce"] == 0
    tx = w3.eth.get_transaction(answer["tx"])
    # the relayer paid; the patient has no ether
    assert tx["from"] == str(relayer) and tx["to"] == registry.address
    assert registry.isPermitted(patient_key.address, grantee, HMB, LABS)
    assert registry.nonces(patient_key.address) == 1
    status = api.get(f"/submissions/{answer['id']}").json()
    receipt = w3.eth.get_transaction_receipt(answer["tx"])
    assert status["status"] == "mined" and status["error"] is None
    assert (status["block"], status["gasUsed"]) == (receipt["blockNumber"], receipt["gasUsed"])
    (event,) = registry.events.ConsentGranted().process_receipt(receipt)
    assert event["args"]["patient"] == patient_key.address and event["args"]["actor"] == patient_key.address


def test_status_follows_a_submission_from_submitted_to_mined(api, consents, patient_key, w3, no_automine):
    sent = api.post("/consents", json=signed_grant(consents, patient_key))
    assert sent.status_code == 202, sent.text
    url = f"/submissions/{sent.json()['id']}"
    assert api.get(url).json()["status"] == "submitted"  # in the node's pool, not in a block
    mine(w3)
    mined = api.get(url).json()
    assert mined["status"] == "mined" and mined["block"] == w3.eth.block_number and mined["gasUsed"] > 0


def test_a_submission_that_reverts_in_its_block_is_failed_with_the_error_name(
    api, consents, registry, patient_key, stranger, w3, no_automine
):
    """Someone submits the same signed grant themself, with a higher tip: it takes the nonce first."""
    body = signed_grant(consents, patient_key)
    sent = api.post("/consents", json=body)
    assert sent.status_code == 202, sent.text
    fields = ("patient", "grantee", "purpose", "scopes", "expires_at", "nonce", "deadline", "signature")
    direct = w3.eth.contract(address=registry.address, abi=registry.abi).functions.grantBySig(
        tuple(body[name] for name in fields)
    )
    direct.transact({"from": str(stranger), "maxPriorityFeePerGas": 10**11, "maxFeePerGas": 2 * 10**11})
    mine(w3)
    failed = api.get(f"/submissions/{sent.json()['id']}").json()
    receipt = w3.eth.get_transaction_receipt(sent.json()["tx"])
    assert receipt["status"] == 0
    assert failed["status"] == "failed" and failed["error"] == "InvalidAccountNonce"
    assert (failed["block"], failed["gasUsed"]) == (receipt["blockNumber"], receipt["gasUsed"])
    assert registry.isPermitted(patient_key.address, body["grantee"], HMB, LABS)  # through the other tx
    again = api.post("/consents", json=body)
    assert again.status_code == 200 and again.json()["status"] == "failed"


def test_a_signed_revocation_is_submitted_and_revokes(api, consents, registry, patient_key):
    grantee = grantee_address()
    assert api.post("/consents", json=signed_grant(consents, patient_key, grantee)).status_code == 202
    sent = api.post("/revocations", json=signed_revoke(consents, patient_key, grantee))
    assert sent.status_code == 202, sent.text
    assert sent.json()["kind"] == "Revoke" and sent.json()["nonce"] == 1
    assert not registry.isPermitted(patient_key.address, grantee, HMB, LABS)
    assert registry.getConsent(patient_key.address, grantee, HMB)[3] > 0  # revokedAt
    assert api.get(f"/submissions/{sent.json()['id']}").json()["status"] == "mined"


def test_the_same_signature_twice_gives_the_same_submission_and_one_transaction(
    api, consents, patient_key, relayer, w3
):
    body = signed_grant(consents, patient_key)
    first = api.post("/consents", json=body)
    after_first = relayer_state(w3, relayer)
    again = api.post("/consents", json=body)
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["id"] == first.json()["id"] and again.json()["tx"] == first.json()["tx"]
    assert again.json()["status"] == "mined"  # the repeat answers with what became of the first
    assert relayer_state(w3, relayer) == after_first  # no second transaction, no gas


def test_a_nonce_used_on_chain_is_replayed(api, consents, registry, patient_key, stranger):
    """Someone else submitted the patient's nonce-0 request; another one signed for nonce 0 is a replay."""
    first = signed_grant(consents, patient_key)
    registry.grantBySig(
        (
            first["patient"],
            first["grantee"],
            first["purpose"],
            first["scopes"],
            first["expires_at"],
            first["nonce"],
            first["deadline"],
            first["signature"],
        ),
        {"from": stranger},
    )
    detail = refused(
        api.post("/consents", json=signed_grant(consents, patient_key, nonce=0)), 409, "replayed"
    )
    assert "nonce 0" in detail and "used on chain" in detail


def test_a_nonce_another_request_holds_here_is_replayed(api, consents, patient_key, relayer, w3, no_automine):
    """Two different requests for one nonce while the first is in flight: only the first is paid for."""
    first = api.post("/consents", json=signed_grant(consents, patient_key))
    assert first.status_code == 202
    before = relayer_state(w3, relayer)
    detail = refused(
        api.post("/consents", json=signed_grant(consents, patient_key, nonce=0)), 409, "replayed"
    )
    assert first.json()["id"] in detail
    assert w3.eth.get_transaction_count(str(relayer), "pending") == before[1] + 1  # only the first is pending


def test_an_expired_deadline_is_refused_before_any_gas(api, consents, patient_key, relayer, w3):
    before = relayer_state(w3, relayer)
    body = signed_grant(consents, patient_key, deadline=chain.time() - 60)
    detail = refused(api.post("/consents", json=body), 400, "expired")
    assert "deadline" in detail
    assert relayer_state(w3, relayer) == before


def test_a_signature_by_someone_else_is_refused(api, consents, patient_key):
    body = signed_grant(consents, patient_key)
    body["patient"] = grantee_address()  # claims another patient than the signer
    assert "not " + body["patient"] in refused(api.post("/consents", json=body), 401, "bad-signature")


def test_a_changed_field_no_longer_matches_its_signature(api, consents, patient_key):
    body = signed_grant(consents, patient_key)
    body["scopes"] = body["scopes"] | 1  # the patient signed labs only
    refused(api.post("/consents", json=body), 401, "bad-signature")


def test_a_grant_the_contract_refuses_is_422_and_costs_nothing(api, consents, patient_key, relayer, w3):
    grantee = grantee_address()
    assert api.post("/consents", json=signed_grant(consents, patient_key, grantee)).status_code == 202
    before = relayer_state(w3, relayer)
    again = api.post("/consents", json=signed_grant(consents, patient_key, grantee))  # nonce 1, same consent
    refused(again, 422, "refused")
    assert again.json()["errorName"] == "ConsentAlreadyActive"
    assert relayer_state(w3, relayer) == before  # simulated only: no transaction, no gas


def test_a_revocation_of_nothing_is_422(api, consents, patient_key, relayer, w3):
    before = relayer_state(w3, relayer)
    answer = api.post("/revocations", json=signed_revoke(consents, patient_key, grantee_address()))
    refused(answer, 422, "refused")
    assert answer.json()["errorName"] == "ConsentNotRevocable"
    assert relayer_state(w3, relayer) == before


def test_a_refused_request_holds_no_nonce(api, consents, patient_key):
    """After a 422, the patient's next valid request with the same nonce goes through."""
    grantee = grantee_address()
    refused(api.post("/revocations", json=signed_revoke(consents, patient_key, grantee)), 422, "refused")
    assert (
        api.post("/consents", json=signed_grant(consents, patient_key, grantee, nonce=0)).status_code == 202
    )


def test_a_contract_wallets_signed_grant_is_left_to_the_registry(
    api, consents, registry, ERC1271WalletMock, accounts, patient_key
):
    """The wallet's owner signs for the wallet (ERC-1271): the relayer cannot recover it, the eth_call can."""
    wallet = ERC1271WalletMock.deploy(patient_key.address, {"from": accounts[0]})
    grantee = grantee_address()
    # a stranger's key: the wallet refuses it in the eth_call; then the owner's
    for signer, status in ((Account.create(), 422), (patient_key, 202)):
        message = {
            "patient": wallet.address,
            "grantee": grantee,
            "purpose": HMB,
            "scopes": LABS,
            "expiresAt": 0,
            "nonce": 0,
            "deadline": soon(),
        }
        signature = eip712.sign(signer, eip712.typed_data(consents.domain(), "Grant", message))
        body = {**message, "purpose": "0x" + HMB.hex(), "signature": "0x" + signature.hex()}
        sent = api.post("/consents", json=body)
        assert sent.status_code == status, sent.text
        assert sent.json().get("errorName") == ("InvalidSignature" if status == 422 else None)
    assert sent.json()["patient"] == wallet.address
    assert registry.isPermitted(wallet.address, grantee, HMB, LABS)
