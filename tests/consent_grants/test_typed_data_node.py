"""ConsentGrants' typed data as abi/eip712.json publishes it: ethers 6 in node
(tests/node/sign_consent_grant.mjs) signs a Grant and a RevokeBySubject from that file alone, a relayer
submits them, the contract accepts them; and eth-account over the same entry hashes what the contract
checks."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from brownie import ZERO_ADDRESS, web3
from conftest import reverts
from eth_abi.abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from unit.merkle.reference import as_json

from carechain.core import eip712

ROOT = Path(__file__).resolve().parents[2]
SIGNER = ROOT / "tests" / "node" / "sign_consent_grant.mjs"
ENTRIES = json.loads((ROOT / "abi" / "eip712.json").read_text())
# A per-grant subject key and its salt, fixed here (a wallet derives real ones: docs/private-consent.md).
SUBJECT_KEY = keccak(text="carechain test: per-grant subject key")
SUBJECT_SALT = keccak(text="carechain test: per-grant subject salt")
RESEARCH = 1  # the purpose code the fixture registers (DUO's general research use)
READ, QUERY = 0x01, 0x02
ACTIVE, REVOKED_BY_SUBJECT = 1, 2
WITHDRAWN = keccak(text="carechain:reason:withdrawn")
YEAR = 365 * 24 * 3600


@pytest.fixture(scope="module")
def purposes(PurposeRegistry, accounts):
    registry = PurposeRegistry.deploy(accounts[0], {"from": accounts[0]})
    gru = (
        keccak(text="DUO:0000042"),
        keccak(text="http://purl.obolibrary.org/obo/duo/releases/2021-02-23"),
        0,
    )
    registry.register([RESEARCH], [gru], {"from": accounts[0]})
    return registry


@pytest.fixture(scope="module")
def grants(ConsentGrants, purposes, accounts):
    return ConsentGrants.deploy(accounts[0], purposes, {"from": accounts[0]})


@pytest.fixture(scope="module")
def subject() -> LocalAccount:
    account: LocalAccount = Account.from_key(SUBJECT_KEY)
    return account


@pytest.fixture
def grant_input(subject, grantee) -> tuple[Any, ...]:
    """IConsentGrants.GrantInput: labs for a year, READ and QUERY, for research, under the commitment."""
    start = web3.eth.get_block("latest")["timestamp"]
    policy = start | (start + YEAR) << 48 | (READ | QUERY) << 96 | RESEARCH << 128
    commitment = keccak(encode(["bytes32", "address"], [SUBJECT_SALT, subject.address]))
    scope = keccak(text="carechain test: salted scope labs")
    profile, terms = keccak(text="purpose profile v1"), keccak(text="consent terms v1")
    return (scope, profile, terms, 0, commitment, grantee.address, ZERO_ADDRESS, policy)


def message(entry: str, values: tuple[Any, ...]) -> dict[str, Any]:
    """An entry's message: its fields, in the file's order, named over `values`."""
    fields = ENTRIES[entry]["types"][ENTRIES[entry]["primaryType"]]
    return dict(zip([f["name"] for f in fields], values, strict=True))


def run_signer(request: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    """sign_consent_grant.mjs run on `request` (through stdin: the key never on a command line)."""
    node = shutil.which("node")
    assert node, "node is missing: `make test` installs Node.js (and ethers, npm ci)"
    return subprocess.run(
        [node, str(SIGNER)], input=json.dumps(request), capture_output=True, text=True, cwd=ROOT, timeout=60
    )


def node_sign(
    key: bytes, chain_id: int, contract: str, messages: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """What sign_consent_grant.mjs prints for these messages: the signer, a signature and digest per entry."""
    done = run_signer(
        {
            "key": "0x" + key.hex(),
            "chainId": chain_id,
            "verifyingContract": contract,
            "sign": {
                entry: {name: as_json(value) for name, value in fields.items()}
                for entry, fields in messages.items()
            },
        }
    )
    assert done.returncode == 0, f"sign_consent_grant.mjs failed: {done.stderr}"
    signed: dict[str, Any] = json.loads(done.stdout)
    return signed


def subject_sig(signature: str) -> bytes:
    """ConsentGrants' subjectSig: abi.encode(bytes32 subjectSalt, bytes signature)."""
    return encode(["bytes32", "bytes"], [SUBJECT_SALT, bytes.fromhex(signature[2:])])


def test_a_grant_and_its_revocation_signed_by_ethers_from_the_file_go_through(
    grants, grant_input, subject, relayer
):
    grant_id = grant_input[4]
    grant = message("ConsentGrants.Grant", (*grant_input, 0))
    signed = node_sign(SUBJECT_KEY, web3.eth.chain_id, grants.address, {"ConsentGrants.Grant": grant})
    assert signed["signer"] == subject.address
    assert signed["digests"]["ConsentGrants.Grant"] == grants.grantDigest(grant_input, 0)

    tx = grants.grant(
        grant_input, subject_sig(signed["signatures"]["ConsentGrants.Grant"]), {"from": relayer}
    )
    granted = tx.events["ConsentGranted"]
    assert granted["grantId"] == "0x" + grant_id.hex() and granted["grantee"] == grant_input[5]
    assert granted["purposeCode"] == RESEARCH
    assert grants.isGrantActive(grant_id) and grants.effectiveStatus(grant_id) == ACTIVE
    assert grants.nonces(grant_id) == 1

    revoke = message("ConsentGrants.RevokeBySubject", (grant_id, WITHDRAWN, 1))
    signed = node_sign(
        SUBJECT_KEY, web3.eth.chain_id, grants.address, {"ConsentGrants.RevokeBySubject": revoke}
    )
    sig = subject_sig(signed["signatures"]["ConsentGrants.RevokeBySubject"])
    tx = grants.revokeBySubjectWithSig(grant_id, WITHDRAWN, sig, {"from": relayer})
    revoked = tx.events["ConsentRevoked"]
    assert revoked["grantId"] == "0x" + grant_id.hex() and revoked["by"] == "0x" + grant_id.hex()
    assert revoked["status"] == REVOKED_BY_SUBJECT and revoked["reasonCode"] == "0x" + WITHDRAWN.hex()
    assert not grants.isGrantActive(grant_id)
    assert grants.effectiveStatus(grant_id) == REVOKED_BY_SUBJECT
    assert grants.getGrant(grant_id)["status"] == REVOKED_BY_SUBJECT


def test_eth_account_over_the_entry_hashes_what_the_contract_checks(grants, grant_input):
    entry = ENTRIES["ConsentGrants.Grant"]
    domain = {**entry["domain"], "chainId": web3.eth.chain_id, "verifyingContract": grants.address}
    for nonce in (0, 7):
        signable = encode_typed_data(
            domain, entry["types"], message("ConsentGrants.Grant", (*grant_input, nonce))
        )
        digest = keccak(b"\x19" + signable.version + signable.header + signable.body)
        assert "0x" + digest.hex() == grants.grantDigest(grant_input, nonce)
    library = eip712.contract_domain("ConsentGrants", web3.eth.chain_id, grants.address)
    assert "0x" + eip712.domain_separator(library).hex() == grants.DOMAIN_SEPARATOR()


def test_a_signature_for_another_chain_is_refused(grants, grant_input, relayer):
    grant = message("ConsentGrants.Grant", (*grant_input, 0))
    signed = node_sign(SUBJECT_KEY, web3.eth.chain_id + 1, grants.address, {"ConsentGrants.Grant": grant})
    with reverts("InvalidSubjectSignature", grant_input[4]):
        grants.grant(grant_input, subject_sig(signed["signatures"]["ConsentGrants.Grant"]), {"from": relayer})
    assert not grants.isGrantActive(grant_input[4])


def test_the_signer_refuses_an_entry_the_file_lacks(grants):
    done = run_signer(
        {
            "key": "0x" + SUBJECT_KEY.hex(),
            "chainId": web3.eth.chain_id,
            "verifyingContract": grants.address,
            "sign": {"ConsentGrants.Grants": {}},
        }
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip() == "sign_consent_grant: abi/eip712.json has no entry ConsentGrants.Grants"
