"""carechain.core.signatures and carechain.core.signed: one check, one recovery, one signed-action model."""

from __future__ import annotations

import json
import re

import pytest
from eth_account import Account
from eth_keys.datatypes import PrivateKey
from eth_utils.crypto import keccak

from carechain.clients.consent import SignedGrant, SignedRevoke, load_signed
from carechain.core import eip712, signatures
from carechain.core.signed import SignedAction
from carechain.errors import InputError

REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
DOMAIN = eip712.consent_domain(31337, REGISTRY)
ACCESS = eip712.contract_domain("AccessGrants", 31337, REGISTRY)
PURPOSE = b"\x33" * 32
KEY = keccak(text="signatures-test")


def _grant(account=None) -> SignedGrant:
    account = account or Account.from_key(KEY)
    unsigned = SignedGrant(account.address, "0x" + "22" * 20, PURPOSE, 5, 0, 3, 2_000_000_000, b"")
    return SignedGrant(*unsigned.args()[:7], eip712.sign(account, unsigned.typed_data(DOMAIN)))


def _high_s(signature: bytes) -> bytes:
    s = int.from_bytes(signature[32:64], "big")
    return signature[:32] + (signatures.SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - signature[64]])


def test_sign_and_recover_round_trip_with_a_low_s():
    digest = keccak(b"a message")
    signature = signatures.sign(PrivateKey(KEY), digest)
    assert signatures.check(signature) == signature
    assert signatures.recover(digest, signature) == Account.from_key(KEY).address


def test_recover_takes_the_bare_parity_too_and_refuses_what_cannot_recover():
    digest = keccak(b"a message")
    signature = signatures.sign(PrivateKey(KEY), digest)
    assert (
        signatures.recover(digest, signature[:64] + bytes([signature[64] - 27]))
        == Account.from_key(KEY).address
    )
    for bad in (signature[:64], signature[:64] + b"\x05", bytes(64) + b"\x1b"):
        with pytest.raises(InputError, match="no public key can be recovered"):
            signatures.recover(digest, bad)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda s: s[:64], "64 bytes, a key's signature is 65"),
        (lambda s: s[:64] + b"\x00", "its v is 0 (v must be 27 or 28)"),
        (_high_s, "upper half of the curve order"),
    ],
)
def test_check_refuses_what_the_registry_would(change, fragment):
    signature = signatures.sign(PrivateKey(KEY), keccak(b"x"))
    with pytest.raises(InputError, match=re.escape(fragment)):
        signatures.check(change(signature))


def test_the_compact_form_packs_the_parity_into_the_top_bit():
    signature = signatures.sign(PrivateKey(KEY), keccak(b"x"))
    r, vs = signatures.compact_signature(signature)
    assert r == signature[:32]
    assert int.from_bytes(vs, "big") >> 255 == signature[64] - 27
    assert (int.from_bytes(vs, "big") & (2**255 - 1)).to_bytes(32, "big") == signature[32:64]
    with pytest.raises(InputError, match="only an EOA's 65-byte"):
        signatures.compact_signature(signature + b"\x00")
    with pytest.raises(InputError, match="upper half of the curve order"):
        signatures.compact_signature(_high_s(signature))


@pytest.mark.parametrize(
    ("contract", "primary"), [(c, p) for c, types in eip712.TYPES.items() for p in types]
)
def test_the_fast_digest_is_eth_accounts(contract, primary):
    values = {"address": "0x" + "1a" * 20, "bytes32": "0x" + "2b" * 32, "uint64": 2**64 - 1, "uint256": 7}
    message = {f["name"]: values[f["type"]] for f in eip712.TYPES[contract][primary]}
    domain = eip712.contract_domain(contract, 5, REGISTRY)
    fast = eip712.typed_digest(eip712.domain_separator(domain), primary, message, contract)
    assert fast == eip712.digest(eip712.typed_data(domain, primary, message, contract))


def test_a_signed_grant_recovers_to_its_patient_and_round_trips_its_file():
    grant = _grant()
    assert grant.signer == grant.patient
    assert signatures.recover(grant.digest(DOMAIN), grant.signature) == grant.patient
    assert grant.digest(DOMAIN) == eip712.digest(grant.typed_data(DOMAIN))
    assert SignedGrant.from_json(grant.to_json()) == grant
    assert grant.as_tuple() == (*grant.args()[:7], grant.signature)


def test_a_grant_file_written_before_keeps_loading(tmp_path):
    """Files of `carechain consent sign` name the fields as Python does and put the kind last."""
    grant = _grant()
    old = {
        "patient": grant.patient,
        "grantee": grant.grantee,
        "purpose": "0x" + PURPOSE.hex(),
        "scopes": 5,
        "expires_at": 0,
        "nonce": 3,
        "deadline": 2_000_000_000,
        "signature": "0x" + grant.signature.hex(),
        "kind": "Grant",
    }
    path = tmp_path / "grant.json"
    path.write_text(json.dumps(old, indent=2))
    assert load_signed(path) == grant
    assert json.loads(grant.to_json()) == old


def _grant_file(**changes):
    grant = _grant()
    body = {**json.loads(grant.to_json()), **changes}
    return json.dumps({name: value for name, value in body.items() if value is not None})


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("{", "c.json is not valid JSON: Expecting property name"),
        ("[1]", "c.json is not a signed Grant (not a JSON object)"),
        ('{"kind": "Grant", "patient": "0x0"}', "c.json: patient '0x0' is not an Ethereum address"),
        ('{"kind": ["Grant"]}', "kind is ['Grant']"),
        # C.12: hostile files were tracebacks (RecursionError) or reached web3 (nonce -1, 2^256, 1.5, true)
        ("[" * 100_000, "c.json nests 100,000 levels deep: at most 64 are read"),
        ('{"kind": "Grant", "nonce": ' + "9" * 5000 + "}", "c.json is not JSON this tool reads"),
        (_grant_file(scopes="labs"), "c.json: scopes 'labs' is not a whole number"),
        (_grant_file(scopes=2**64), "c.json: scopes 18446744073709551616 is out of range"),
        (_grant_file(nonce=-1), "c.json: nonce -1 is out of range: a whole number from 0 to 2^256 - 1"),
        (_grant_file(nonce=2**256), "c.json: nonce 1157920892373161954235709850086879078532699846656405640"),
        (_grant_file(deadline=1.5), "c.json: deadline 1.5 is not a whole number"),
        (_grant_file(expires_at=True), "c.json: expires_at True is not a whole number"),
        (_grant_file(patient=None), "c.json: patient is missing"),
        (_grant_file(grantee=["0x12"]), "c.json: grantee ['0x12'] is not an Ethereum address"),
        (_grant_file(purpose=7), "c.json: purpose 7 is not 0x-hex"),
        (_grant_file(signature=65), "c.json: signature 65 is not 0x-hex bytes"),
        (_grant_file(expiresAt=0), "c.json: expiresAt is not a field of a signed Grant"),
    ],
)
def test_a_malformed_consent_file_is_one_input_error(body, fragment):
    with pytest.raises(InputError, match=re.escape(fragment)) as caught:
        SignedGrant.from_json(body, "c.json")
    assert "\n" not in str(caught.value)


def test_load_signed_names_the_file_and_reads_either_kind(tmp_path):
    path = tmp_path / "consent.json"
    path.write_text(_grant_file(scopes="labs"))
    with pytest.raises(InputError, match=re.escape(f"{path}: scopes 'labs' is not a whole number")):
        load_signed(path)
    path.write_text("[" * 100_000)
    with pytest.raises(InputError, match="nests 100,000 levels deep"):
        load_signed(path)
    with pytest.raises(InputError, match="nests 100,000 levels deep"):
        SignedAction.load(path)


def test_a_revocation_and_an_access_action_share_the_model():
    account = Account.from_key(KEY)
    revoke = SignedRevoke(account.address, "0x" + "22" * 20, PURPOSE, 0, 2_000_000_000, b"")
    assert revoke.args() == [account.address, "0x" + "22" * 20, PURPOSE, 0, 2_000_000_000, b""]
    fields = {"patient": account.address, "provider": "0x" + "22" * 20, "nonce": 0, "deadline": 9}
    action = SignedAction.sign(account, ACCESS, "AccessRevoke", fields)
    assert SignedAction.from_json(action.to_json()) == action
    assert signatures.recover(action.digest(ACCESS), action.signature) == action.signer == account.address
    with pytest.raises(InputError, match="not a signed action \\(kind is 'Nope'\\)"):
        SignedAction.from_json(json.dumps({"kind": "Nope"}))
