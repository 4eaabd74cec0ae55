"""carechain.core.keys against docs/vectors/key-derivation.json: every vector recomputed by hand (RFC 5869
with the standard library, EIP-712 word by word), by eth-account and by a JS implementation; then the
refusals (high s, an index out of range, a wallet that signs twice differently) and the keystore secret."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from eth_abi.abi import decode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak

from carechain.core import keys
from carechain.dev import vectors
from carechain.errors import ConfigError, InputError, NondeterministicSignature

ROOT = Path(__file__).resolve().parents[2]
VECTORS = json.loads((ROOT / "docs" / "vectors" / "key-derivation.json").read_text())
INPUTS = VECTORS["inputs"]
SIGNATURE = bytes.fromhex(VECTORS["keyDerivation"]["signature"][2:])
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141  # secp256k1's order (SEC 2)
SIGNED_ACTS = ("grant", "revokeBySubject", "revokeScopeLeaf", "burnNonce")
FAST_SCRYPT = 2**10  # scrypt's n in these tests; a real keystore keeps eth-account's 2^18


def _bytes(text: str) -> bytes:
    return bytes.fromhex(text[2:])


def _hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> tuple[bytes, bytes]:
    """RFC 5869 with the standard library's HMAC: (PRK, OKM)."""
    prk = hmac.digest(salt, ikm, hashlib.sha256)
    okm, block = b"", b""
    for counter in range(1, -(-length // 32) + 1):
        block = hmac.digest(prk, block + info + bytes([counter]), hashlib.sha256)
        okm += block
    return prk, okm[:length]


def _word(kind: str, value: object) -> bytes:
    """One member of an EIP-712 struct as its 32-byte word (the types these structs use)."""
    if kind == "string":
        return keccak(text=str(value))
    if kind == "address":
        return bytes(12) + _bytes(str(value))
    if kind == "bytes32":
        return _bytes(str(value))
    return int(str(value)).to_bytes(32, "big")


def _type_string(name: str, fields: list[dict[str, str]]) -> str:
    return f"{name}({','.join(field['type'] + ' ' + field['name'] for field in fields)})"


def _struct_hash(name: str, fields: list[dict[str, str]], values: dict) -> bytes:
    words = b"".join(_word(f["type"], values[f["name"]]) for f in fields)
    return keccak(keccak(text=_type_string(name, fields)) + words)


def _check_hashes(vector: dict) -> None:
    """The vector's type string, type hash, domain separator and digest, each recomputed word by word."""
    typed = vector["typedData"]
    primary = typed["primaryType"]
    separator = _struct_hash("EIP712Domain", typed["types"]["EIP712Domain"], typed["domain"])
    assert vector["typeString"] == _type_string(primary, typed["types"][primary])
    assert _bytes(vector["typeHash"]) == keccak(text=vector["typeString"])
    assert _bytes(vector["domainSeparator"]) == separator
    digest = keccak(
        b"\x19\x01" + separator + _struct_hash(primary, typed["types"][primary], typed["message"])
    )
    assert _bytes(vector["digest"]) == digest


def _high_s(signature: bytes) -> bytes:
    s = int.from_bytes(signature[32:64], "big")
    return signature[:32] + (N - s).to_bytes(32, "big") + bytes([55 - signature[64]])


# ---- the vectors ---------------------------------------------------------------------------------------


def test_the_committed_vectors_are_what_the_generator_writes():
    assert vectors.generate() == VECTORS


def test_the_reference_hkdf_of_these_tests_gives_rfc5869_test_case_1():
    prk, okm = _hkdf(bytes(range(13)), b"\x0b" * 22, bytes(range(0xF0, 0xFA)), 42)
    assert prk.hex() == "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"
    assert okm.hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )


def test_the_key_derivation_message_is_the_specified_one_and_the_wallet_signs_it_as_vectored():
    typed = keys.derivation_typed_data(INPUTS["chainId"], INPUTS["verifyingContract"])
    assert typed == VECTORS["keyDerivation"]["typedData"]
    assert typed["domain"]["name"] == "CareChain key derivation"
    assert typed["message"]["scheme"] == "carechain/keys/v1"
    assert typed["message"]["notice"].startswith("This signature creates the private keys of your CareChain")
    assert VECTORS["keyDerivation"]["typeString"] == "KeyDerivation(string notice,string scheme)"
    _check_hashes(VECTORS["keyDerivation"])
    signed = Account.sign_typed_data(INPUTS["walletPrivateKey"], full_message=typed)
    assert bytes(signed.signature) == SIGNATURE
    assert (
        Account.recover_message(encode_typed_data(full_message=typed), signature=SIGNATURE)
        == (INPUTS["walletAddress"])
    )


@pytest.mark.parametrize("entry", VECTORS["grantKeys"], ids=lambda e: f"{e['root']}-{e['role']}-{e['index']}")
def test_each_grant_keys_vector_recomputed_by_hand_and_by_the_library(entry):
    ikm = SIGNATURE if entry["root"] == "signature" else _bytes(VECTORS["keystoreSecret"]["ikm"])
    info = b"carechain/v1/" + entry["role"].encode() + b"/" + entry["index"].to_bytes(4, "big")
    prk, okm = _hkdf(b"carechain/keys/v1", ikm, info, 96)
    key = (int.from_bytes(okm[:32], "big") % (N - 1) + 1).to_bytes(32, "big")
    address = Account.from_key(key).address
    salt = okm[32:64]
    commitment = keccak(salt + bytes(12) + _bytes(address))
    assert (entry["info"], entry["okm"]) == ("0x" + info.hex(), "0x" + okm.hex())
    assert (entry["privateKey"], entry["address"]) == ("0x" + key.hex(), address)
    assert (entry["subjectSalt"], entry["scopeSalt"]) == ("0x" + salt.hex(), "0x" + okm[64:].hex())
    assert entry["subjectCommit"] == "0x" + commitment.hex()

    source = VECTORS["keyDerivation"] if entry["root"] == "signature" else VECTORS["keystoreSecret"]
    assert source["prk"] == "0x" + prk.hex()
    root = keys.KeyRoot.from_signature(ikm) if entry["root"] == "signature" else keys.KeyRoot.from_secret(ikm)
    granted = root.grant_keys(entry["role"], entry["index"])
    assert (granted.private_key, granted.address, granted.salt) == (key, address, salt)
    assert (granted.scope_salt, granted.commitment) == (okm[64:], commitment)
    assert keys.subject_commitment(salt, address) == commitment


def test_the_vectors_cover_both_roots_both_roles_and_the_last_index():
    covered = {(e["root"], e["role"], e["index"]) for e in VECTORS["grantKeys"]}
    assert ("signature", "subject", 2**32 - 1) in covered
    assert ("signature", "guardian", 2**32 - 1) in covered
    assert {("keystoreSecret", role, 0) for role in keys.ROLES} <= covered
    assert len({e["address"] for e in VECTORS["grantKeys"]}) == len(VECTORS["grantKeys"])  # no key repeats


@pytest.mark.parametrize("act", SIGNED_ACTS)
def test_each_signed_act_digest_by_hand_and_by_eth_account(act):
    vector = VECTORS[act]
    typed = vector["typedData"]
    assert typed["domain"]["name"] == "ConsentGrant" and typed["domain"]["version"] == "1"
    signable = encode_typed_data(full_message=typed)
    _check_hashes(vector)
    assert keccak(b"\x19" + signable.version + signable.header + signable.body) == _bytes(vector["digest"])
    assert Account.recover_message(signable, signature=_bytes(vector["signature"])) == vector["signer"]
    salt, signature = decode(["bytes32", "bytes"], _bytes(vector["subjectSig"]))
    assert signature == _bytes(vector["signature"])
    assert keccak(salt + bytes(12) + _bytes(vector["signer"])) == _bytes(
        VECTORS["grantKeys"][0]["subjectCommit"]
    )


def test_the_policy_vector_packs_each_field_at_its_bits():
    policy = VECTORS["policy"]
    offsets = {"notBefore": 0, "expiresAt": 48, "ops": 96, "purposeCode": 128, "usesMax": 160}
    packed = sum(policy[name] << first for name, first in offsets.items())
    packed |= policy["agentKind"] << 176 | policy["flags"] << 184
    assert hex(packed) == policy["packed"]
    assert str(packed) == VECTORS["grant"]["typedData"]["message"]["policy"]


def test_the_scope_vector_leaves_and_proofs_lead_to_its_root():
    scope = VECTORS["scope"]
    salt = _bytes(scope["scopeSalt"])
    assert [leaf["name"] for leaf in scope["leaves"]] == [
        "carechain:category:labs",
        "carechain:category:imaging",
        "carechain:category:genomics",
    ]
    for leaf in scope["leaves"]:
        resource_id = salt + keccak(text=leaf["name"])
        assert leaf["resourceId"] == "0x" + resource_id.hex()
        assert leaf["resourceHash"] == "0x" + keccak(resource_id).hex()
        node = keccak(keccak(resource_id))
        assert leaf["leaf"] == "0x" + node.hex()
        for sibling in map(_bytes, leaf["proof"]):
            node = keccak(min(node, sibling) + max(node, sibling))
        assert "0x" + node.hex() == scope["root"]
    assert VECTORS["grant"]["typedData"]["message"]["scopeRef"] == scope["root"]


def test_the_sub_grant_id_is_the_hash_of_the_parent_id_and_the_static_tuple():
    sub = VECTORS["subGrant"]
    child = sub["grant"]
    kinds = ("bytes32", "bytes32", "bytes32", "uint256", "bytes32", "address", "address", "uint256")
    fields = (
        "scopeRef",
        "purposeProfileRef",
        "termsRef",
        "assetTokenId",
        "subjectCommit",
        "grantee",
        "agent",
    )
    words = b"".join(_word(kind, child[name]) for kind, name in zip(kinds, (*fields, "policy"), strict=True))
    assert keccak(_bytes(sub["parentGrantId"]) + words) == _bytes(sub["subGrantId"])


def test_a_javascript_implementation_agrees_with_every_vector():
    node = shutil.which("node")
    assert node, "node is not on PATH: `make` installs Node.js"
    done = subprocess.run(
        [node, str(Path(__file__).with_name("key_derivation.mjs"))],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    checks = json.loads(done.stdout)
    assert len(checks) >= len(VECTORS["grantKeys"]) + 4 * len(SIGNED_ACTS)
    assert [name for name, ok in checks.items() if not ok] == []


# ---- refusals ------------------------------------------------------------------------------------------


def test_a_high_s_signature_is_refused():
    with pytest.raises(InputError, match="upper half of the curve order"):
        keys.KeyRoot.from_signature(_high_s(SIGNATURE))


def test_a_bare_parity_v_gives_the_same_keys_as_27_or_28():
    bare = SIGNATURE[:64] + bytes([SIGNATURE[64] - 27])
    assert keys.KeyRoot.from_signature(bare) == keys.KeyRoot.from_signature(SIGNATURE)


@pytest.mark.parametrize(
    ("signature", "message"),
    [
        (SIGNATURE[:64], "malformed signature: 64 bytes"),
        (SIGNATURE + b"\x00", "malformed signature: 66 bytes"),
        (SIGNATURE[:64] + b"\x1d", "its v is 29"),
        ("0x" + SIGNATURE.hex() + "00", "not 0x-hex bytes"),
        (None, "bytes or 0x-hex"),
    ],
)
def test_a_signature_not_of_65_bytes_with_v_27_or_28_is_refused(signature, message):
    with pytest.raises(InputError, match=message):
        keys.KeyRoot.from_signature(signature)


@pytest.mark.parametrize("index", [-1, 2**32, True, "0"])
def test_a_grant_index_outside_uint32_is_refused(index):
    with pytest.raises(InputError, match="grant index"):
        keys.KeyRoot.from_signature(SIGNATURE).grant_keys("subject", index)


def test_a_role_other_than_subject_or_guardian_is_refused():
    with pytest.raises(InputError, match="subject or guardian"):
        keys.KeyRoot.from_signature(SIGNATURE).grant_keys("patient", 0)  # type: ignore[arg-type]


def test_two_equal_signatures_pass_the_determinism_check_as_bytes_or_hex():
    hexed = "0x" + SIGNATURE.hex()
    assert keys.check_deterministic(SIGNATURE, hexed) == SIGNATURE
    assert keys.KeyRoot.from_signature(hexed) == keys.KeyRoot.from_signature(SIGNATURE)


def test_a_wallet_that_signs_twice_differently_is_told_to_use_a_keystore_secret():
    other = Account.create().unsafe_sign_hash(_bytes(VECTORS["keyDerivation"]["digest"])).signature
    with pytest.raises(NondeterministicSignature, match="keystore secret") as refused:
        keys.check_deterministic(SIGNATURE, bytes(other))
    assert isinstance(refused.value, InputError)
    assert "RFC 6979" in str(refused.value)


def test_another_deployment_gives_other_keys():
    wallet = Account.from_key(INPUTS["walletPrivateKey"])
    elsewhere = keys.sign_derivation(wallet, 1, INPUTS["verifyingContract"])
    assert (
        keys.KeyRoot.from_signature(elsewhere).grant_keys("subject", 0).address
        != (VECTORS["grantKeys"][0]["address"])
    )


@pytest.mark.parametrize(
    ("chain_id", "contract", "message"),
    [(0, INPUTS["verifyingContract"], "chain id"), (31337, "0x1234", "ConsentGrants address")],
)
def test_a_bad_deployment_is_refused(chain_id, contract, message):
    with pytest.raises(InputError, match=message):
        keys.derivation_typed_data(chain_id, contract)


def test_the_keys_repr_shows_no_secret():
    granted = keys.KeyRoot.from_signature(SIGNATURE).grant_keys("subject", 0)
    shown = repr(granted) + repr(keys.KeyRoot.from_signature(SIGNATURE))
    assert granted.address in shown
    for secret in (granted.private_key, granted.salt, granted.scope_salt):
        assert secret.hex() not in shown


# ---- the keystore secret -------------------------------------------------------------------------------


def test_a_secret_is_32_random_bytes_and_a_valid_key():
    first, second = keys.create_secret(), keys.create_secret()
    assert len(first) == 32 and first != second
    assert 0 < int.from_bytes(first, "big") < N


def test_a_saved_secret_loads_back_from_a_file_only_its_owner_reads(tmp_path):
    secret = keys.create_secret()
    path = keys.save_secret(tmp_path / "keys.json", secret, "correct horse", iterations=FAST_SCRYPT)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text())
    assert stored["scheme"] == "carechain/keys/v1"
    assert stored["crypto"]["kdf"] == "scrypt" and stored["crypto"]["kdfparams"]["n"] == FAST_SCRYPT
    assert "address" not in stored and secret.hex() not in path.read_text()
    loaded = keys.load_secret(path, "correct horse")
    assert loaded == secret
    assert keys.KeyRoot.from_secret(loaded) == keys.KeyRoot.from_secret(secret)


def test_an_existing_file_is_never_overwritten(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text("another secret")
    with pytest.raises(InputError, match="exists"):
        keys.save_secret(path, keys.create_secret(), "correct horse", iterations=FAST_SCRYPT)
    assert path.read_text() == "another secret"


def test_a_wrong_password_is_a_config_error(tmp_path):
    path = keys.save_secret(tmp_path / "keys.json", keys.create_secret(), "correct horse", FAST_SCRYPT)
    with pytest.raises(ConfigError, match="wrong password"):
        keys.load_secret(path, "battery staple")


def test_a_wallet_keystore_is_not_taken_for_a_secret(tmp_path):
    path = tmp_path / "wallet.json"
    path.write_text(
        json.dumps(Account.encrypt(keys.create_secret(), "pw", kdf="scrypt", iterations=FAST_SCRYPT))
    )
    with pytest.raises(ConfigError, match="not a CareChain key-derivation secret"):
        keys.load_secret(path, "pw")


def test_a_file_that_is_no_keystore_is_a_config_error(tmp_path):
    path = tmp_path / "notes.json"
    path.write_text('{"hello": 1}')
    with pytest.raises(ConfigError, match="not a JSON keystore file"):
        keys.load_secret(path, "pw")


@pytest.mark.parametrize(
    ("secret", "password", "message"),
    [
        (b"\x01" * 31, "pw", "32 bytes"),
        (bytes(32), "pw", "from 1 to the secp256k1 order"),
        (N.to_bytes(32, "big"), "pw", "from 1 to the secp256k1 order"),
        (b"\x01" * 32, "", "needs a password"),
    ],
)
def test_a_bad_secret_or_an_empty_password_is_refused(tmp_path, secret, password, message):
    with pytest.raises(InputError, match=message):
        keys.save_secret(tmp_path / "keys.json", secret, password, FAST_SCRYPT)
    assert not (tmp_path / "keys.json").exists()


def test_a_secret_of_another_length_makes_no_root():
    with pytest.raises(InputError, match="32 bytes"):
        keys.KeyRoot.from_secret(b"\x01" * 16)
