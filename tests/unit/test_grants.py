"""carechain.core.grants and carechain.offchain.scopes: the ERC-8356 type strings, the policy word and its
reserved bits, the grant's fields, the subjectSig encodings and the scope tree."""

from __future__ import annotations

import pytest
from eth_abi.abi import decode
from eth_utils.crypto import keccak
from hypothesis import given
from hypothesis import strategies as st

from carechain.core import grants, keys, signatures
from carechain.core.grants import AgentKind, GrantInput, Op, Policy, Status
from carechain.core.purposes import SCOPES
from carechain.errors import InputError
from carechain.offchain.merkle import StandardMerkleTree
from carechain.offchain.scopes import LEAF_ENCODING, ScopeTree

CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
DOMAIN = grants.grant_domain(31337, CONTRACT)
GRANTEE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
ZERO = "0x" + "00" * 20
SALT = keccak(text="scope salt of a test")
SUBJECT = keys.KeyRoot.from_secret(bytes(range(32))).grant_keys("subject", 0)
POLICY = Policy(not_before=0, expires_at=2_000_000_000, ops=Op.READ, purpose_code=6)


def _grant(**changes: object) -> GrantInput:
    fields: dict[str, object] = {
        "scope_ref": grants.resource_hash(SALT, "carechain:category:labs"),
        "purpose_profile_ref": keccak(text="profile"),
        "terms_ref": keccak(text="terms"),
        "asset_token_id": 0,
        "subject_commit": SUBJECT.commitment,
        "grantee": GRANTEE,
        "agent": ZERO,
        "policy": POLICY,
    }
    return GrantInput(**{**fields, **changes})  # type: ignore[arg-type]


def test_the_type_strings_are_the_standards_and_carechains():
    assert grants.type_string("Grant") == (
        "Grant(bytes32 scopeRef,bytes32 purposeProfileRef,bytes32 termsRef,uint256 assetTokenId,"
        "bytes32 subjectCommit,address grantee,address agent,uint256 policy,uint256 nonce)"
    )
    assert (
        grants.type_string("RevokeBySubject")
        == "RevokeBySubject(bytes32 grantId,bytes32 reasonCode,uint256 nonce)"
    )
    assert (
        grants.type_string("RevokeScopeLeaf") == "RevokeScopeLeaf(bytes32 grantId,bytes32 leaf,uint256 nonce)"
    )
    assert grants.type_string("BurnNonce") == "BurnNonce(bytes32 subjectCommit,uint256 nonce)"
    assert DOMAIN.as_dict() == {
        "name": "ConsentGrant",
        "version": "1",
        "chainId": 31337,
        "verifyingContract": CONTRACT,
    }


def test_the_constants_are_the_standards():
    assert [int(s) for s in Status] == list(range(8)) and Status.SUPERSEDED == 7
    assert AgentKind.ASSERTED_UNVERIFIED == 4
    assert [int(op) for op in Op] == [0x01, 0x02, 0x04, 0x08, 0x10]
    assert (grants.FLAG_SCOPE_IS_ROOT, grants.FLAG_DELEGABLE, grants.FLAG_DESTROY_DERIVATIVES) == (1, 2, 4)


POLICIES = st.builds(
    Policy,
    not_before=st.integers(0, 2**48 - 1),
    expires_at=st.integers(0, 2**48 - 1),
    ops=st.integers(0, 0x1F),
    purpose_code=st.integers(0, 2**32 - 1),
    uses_max=st.integers(0, 2**16 - 1),
    agent_kind=st.integers(0, 4),
    flags=st.integers(0, 7),
)


@given(POLICIES)
def test_a_policy_unpacks_to_itself_and_stays_below_bit_192(policy: Policy):
    assert Policy.unpack(policy.pack()) == policy
    assert policy.pack() < 2**192


def test_each_field_sits_at_its_bits():
    every = Policy(1, 1, 1, 1, 1, 1, 1).pack()
    assert [bit for bit in range(192) if every >> bit & 1] == [0, 48, 96, 128, 160, 176, 184]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"ops": 0x20}, "reserved bits 0x20"),
        ({"ops": 0x1F | 0x100}, "reserved bits 0x100"),
        ({"flags": 0x08}, "reserved bits 0x8"),
        ({"flags": 0x80}, "reserved bits 0x80"),
        ({"agent_kind": 5}, "not an AgentKind"),
        ({"not_before": 2**48}, "not_before"),
        ({"expires_at": -1}, "expires_at"),
        ({"uses_max": 2**16}, "uses_max"),
        ({"purpose_code": 2**32}, "purpose_code"),
        ({"ops": True}, "not a whole number"),
    ],
)
def test_an_out_of_range_or_reserved_policy_field_is_refused(fields, message):
    with pytest.raises(InputError, match=message):
        Policy(**{"not_before": 0, "expires_at": 1, "ops": 1, "purpose_code": 1, **fields})


@pytest.mark.parametrize("word", [1 << 192, 1 << 255, POLICY.pack() | 1 << 200, 0x20 << 96, 0x08 << 184])
def test_a_policy_word_with_reserved_bits_is_refused(word):
    with pytest.raises(InputError, match="reserved bits"):
        Policy.unpack(word)


def test_a_policy_word_past_uint256_is_refused():
    with pytest.raises(InputError, match="policy"):
        Policy.unpack(2**256)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"scope_ref": b"\x01" * 31}, "scopeRef is 32 bytes"),
        ({"subject_commit": "0x12"}, "subjectCommit is 32 bytes"),
        ({"grantee": "0x70997970c51812dc3a010c7d01b50e0d17dc79C8"}, "grantee .* bad checksum"),
        ({"agent": "nobody"}, "agent 'nobody' is not an Ethereum address"),
        ({"asset_token_id": -1}, "assetTokenId"),
        ({"policy": POLICY.pack()}, "Policy.unpack"),
    ],
)
def test_a_malformed_grant_field_is_refused(changes, message):
    with pytest.raises(InputError, match=message):
        _grant(**changes)


def test_the_grant_payload_carries_the_packed_policy_and_the_nonce():
    payload = grants.grant_typed_data(DOMAIN, _grant(asset_token_id=2**200), 7)
    assert payload["message"]["policy"] == str(POLICY.pack())
    assert payload["message"]["assetTokenId"] == str(2**200)
    assert all(not isinstance(value, int) or value < 2**53 for value in payload["message"].values())
    assert payload["message"]["nonce"] == 7
    assert payload["message"]["subjectCommit"] == "0x" + SUBJECT.commitment.hex()
    with pytest.raises(InputError, match="nonce"):
        grants.grant_typed_data(DOMAIN, _grant(), -1)


def test_a_signed_act_recovers_to_the_grants_own_key_and_its_salt_opens_the_commitment():
    payload = grants.revoke_typed_data(DOMAIN, SUBJECT.commitment, bytes(32), 0)
    salt, signature = decode(["bytes32", "bytes"], grants.signed_by_subject(SUBJECT, payload))
    assert signatures.recover(grants.eip712.digest(payload), signature) == SUBJECT.address
    assert keys.subject_commitment(salt, SUBJECT.address) == SUBJECT.commitment


def test_a_high_s_signature_makes_no_subject_sig():
    signature = grants.sign(SUBJECT, grants.burn_nonce_typed_data(DOMAIN, SUBJECT.commitment, 0))
    s = int.from_bytes(signature[32:64], "big")
    high = signature[:32] + (signatures.SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - signature[64]])
    with pytest.raises(InputError, match="upper half"):
        grants.subject_sig(SUBJECT.salt, high)


def test_a_compact_signature_goes_into_a_subject_sig_as_given():
    signature = grants.sign(SUBJECT, grants.burn_nonce_typed_data(DOMAIN, SUBJECT.commitment, 0))
    r, vs = signatures.compact_signature(signature)
    assert decode(["bytes32", "bytes"], grants.subject_sig(SUBJECT.salt, r + vs)) == (SUBJECT.salt, r + vs)


def test_a_contract_subject_keys_sig_carries_the_key_before_the_inner_signature():
    account = "0x" + "ab" * 20
    inner = b"\x01\x02\x03"
    salt, packed = decode(["bytes32", "bytes"], grants.subject_sig_1271(SALT, account, inner))
    assert (salt, packed) == (SALT, bytes.fromhex("ab" * 20) + inner)


def test_a_sub_grant_id_changes_with_the_parent_and_with_any_field():
    parent = SUBJECT.commitment
    base = grants.sub_grant_id(parent, _grant())
    assert grants.sub_grant_id(keccak(text="other parent"), _grant()) != base
    assert grants.sub_grant_id(parent, _grant(policy=Policy(0, 2_000_000_000, Op.QUERY, 6))) != base


def test_every_data_category_has_its_resource_name():
    assert [grants.category_scope(info.name) for info in SCOPES] == [
        f"carechain:category:{info.name}" for info in SCOPES
    ]
    assert grants.category_scope("labs") == "carechain:category:labs"
    with pytest.raises(InputError, match="unknown data category 'lab'"):
        grants.category_scope("lab")


def test_the_scope_leaf_is_openzeppelins_standard_leaf():
    name = "carechain:category:genomics"
    assert grants.scope_leaf(SALT, name) == keccak(keccak(grants.resource_id(SALT, name)))
    expected = StandardMerkleTree.hash_leaf(LEAF_ENCODING, [SALT, keccak(text=name)])
    assert "0x" + grants.scope_leaf(SALT, name).hex() == expected


def test_a_scope_tree_proves_each_name_and_a_single_name_is_its_own_root():
    names = [grants.category_scope(c) for c in ("labs", "imaging", "genomics", "vitals")]
    tree = ScopeTree(SALT, names)
    for name in names:
        assert StandardMerkleTree.verify_proof(
            tree.root, LEAF_ENCODING, [SALT, keccak(text=name)], tree.proof(name)
        )
        assert tree.leaf(name) == grants.scope_leaf(SALT, name)
    single = ScopeTree(SALT, names[:1])
    assert single.root == grants.scope_leaf(SALT, names[0])
    assert single.proof(names[0]) == []


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ([], "at least one"),
        (["a", "b", "a"], "each resource once"),
        ("carechain:category:labs", "not one string"),
        (["a", ""], "non-empty string"),
        (["a", 7], "non-empty string"),
    ],
)
def test_a_bad_scope_tree_is_refused(names, message):
    with pytest.raises(InputError, match=message):
        ScopeTree(SALT, names)


def test_a_name_outside_the_scope_has_no_proof():
    with pytest.raises(InputError, match="not in this scope"):
        ScopeTree(SALT, ["a", "b"]).proof("c")
