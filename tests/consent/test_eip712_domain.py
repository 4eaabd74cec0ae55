"""EIP-712 domain (ERC-5267) and typehashes: the contract and carechain.core.eip712 agree byte for byte."""

from brownie import chain
from conftest import HMB, LABS, NEVER, hex32, now
from eth_abi import encode
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from carechain.core import eip712

DOMAIN_TYPEHASH = keccak(
    text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)


def domain_separator(chain_id: int, address: str) -> bytes:
    """EIP-712 domainSeparator computed from the spec, independently of any library."""
    return keccak(encode(
        ["bytes32", "bytes32", "bytes32", "uint256", "address"],
        [DOMAIN_TYPEHASH, keccak(text="CareChain ConsentRegistry"), keccak(text="1"), chain_id, address],
    ))


def grant_payload(registry, patient: str, grantee: str, nonce: int, deadline: int) -> dict:
    message = {"patient": patient, "grantee": grantee, "purpose": HMB, "scopes": LABS, "expiresAt": NEVER,
               "nonce": nonce, "deadline": deadline}
    return eip712.typed_data(eip712.consent_domain(chain.id, registry.address), "Grant", message)


def test_eip712_domain_per_erc5267(registry):
    fields, name, version, chain_id, verifying_contract, salt, extensions = registry.eip712Domain()
    assert fields == "0x0f"  # name, version, chainId, verifyingContract
    assert (name, version) == ("CareChain ConsentRegistry", "1")
    assert chain_id == chain.id
    assert verifying_contract == registry.address
    assert salt == "0x" + "00" * 32
    assert extensions == ()


def test_python_domain_matches_eip712_domain(registry):
    _, name, version, chain_id, verifying_contract, _, _ = registry.eip712Domain()
    domain = eip712.consent_domain(chain_id, verifying_contract)
    assert (domain.name, domain.version) == (name, version)


def test_domain_separator_binds_chain_id_and_address(ConsentRegistry, registry, accounts):
    assert registry.DOMAIN_SEPARATOR() == hex32(domain_separator(chain.id, registry.address))
    second = ConsentRegistry.deploy({"from": accounts[0]})
    assert second.DOMAIN_SEPARATOR() == hex32(domain_separator(chain.id, second.address))
    assert second.DOMAIN_SEPARATOR() != registry.DOMAIN_SEPARATOR()


def test_domain_separator_matches_the_typed_data_header(registry, signer, grantee):
    payload = grant_payload(registry, signer.address, grantee.address, 0, 2**40)
    assert registry.DOMAIN_SEPARATOR() == hex32(encode_typed_data(full_message=payload).header)


def test_typehashes_are_keccak_of_the_python_type_strings(registry):
    assert registry.GRANT_TYPEHASH() == hex32(keccak(text=eip712.type_string("Grant")))
    assert registry.REVOKE_TYPEHASH() == hex32(keccak(text=eip712.type_string("Revoke")))


def test_python_digest_is_what_the_contract_checks(registry, signer, grantee, relayer):
    """Signing the bare Python digest yields a signature the contract accepts, so the two hash alike."""
    deadline = now() + 3600
    payload = grant_payload(registry, signer.address, grantee.address, 0, deadline)
    digest = eip712.digest(payload)
    struct_hash = keccak(encode(
        ["bytes32", "address", "address", "bytes32", "uint64", "uint64", "uint256", "uint256"],
        [bytes(registry.GRANT_TYPEHASH()), signer.address, grantee.address, HMB, LABS, NEVER, 0, deadline],
    ))
    assert digest == keccak(b"\x19\x01" + bytes(registry.DOMAIN_SEPARATOR()) + struct_hash)

    signature = bytes(signer.unsafe_sign_hash(digest).signature)
    assert eip712.recover(payload, signature) == signer.address
    signed = (signer.address, grantee, HMB, LABS, NEVER, 0, deadline, signature)
    tx = registry.grantBySig(signed, {"from": relayer})
    assert registry.isPermitted(signer.address, grantee, HMB, LABS)
    assert tx.events["ConsentGranted"]["patient"] == signer.address
