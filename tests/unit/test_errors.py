"""Revert data decodes into the named exception with the custom error's arguments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_abi.abi import encode
from eth_utils.crypto import keccak

from carechain import errors
from carechain.core import deployments
from carechain.core.reverts import decode_revert

ROOT = Path(__file__).parents[2]
ABI = deployments.load_abi(ROOT, "ConsentRegistry")  # abi/, committed: no compile needed
PATIENT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
GRANTEE = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"


def _data(signature: str, types: list[str], values: list) -> str:
    return "0x" + (keccak(text=signature)[:4] + encode(types, values)).hex()


@pytest.mark.parametrize("contract", deployments.CONTRACTS)
def test_every_custom_error_of_the_abi_has_a_class(contract):
    abi = deployments.load_abi(ROOT, contract)
    names = {entry["name"] for entry in abi if entry["type"] == "error"}
    # ShortStrings' errors cannot surface from the entry points (EIP712's name and version are constants),
    # nor SafeCast's (AccessControlDefaultAdminRules casts only values it bounded).
    unreachable = {"InvalidShortString", "StringTooLong", "SafeCastOverflowedUintDowncast"}
    assert names - unreachable <= set(errors.ERROR_CLASSES)


def test_decodes_arguments_into_typed_exception():
    purpose = b"\x11" * 32
    err = decode_revert(
        ABI,
        _data(
            "ConsentAlreadyActive(address,address,bytes32)",
            ["address", "address", "bytes32"],
            [PATIENT, GRANTEE, purpose],
        ),
    )
    assert isinstance(err, errors.ConsentAlreadyActive)
    assert isinstance(err, errors.CareChainError)
    assert err.arguments == {"patient": PATIENT, "grantee": GRANTEE, "purpose": purpose}
    assert (
        str(err) == f"ConsentAlreadyActive(patient={PATIENT}, grantee={GRANTEE}, purpose=0x{purpose.hex()})"
    )


def test_decodes_inherited_nonce_error():
    err = decode_revert(
        ABI, _data("InvalidAccountNonce(address,uint256)", ["address", "uint256"], [PATIENT, 3])
    )
    assert isinstance(err, errors.InvalidAccountNonce)
    assert err.arguments == {"account": PATIENT, "currentNonce": 3}


def test_error_without_arguments():
    err = decode_revert(ABI, _data("EmptyScopes()", [], []))
    assert isinstance(err, errors.EmptyScopes)
    assert err.arguments == {}


@pytest.mark.parametrize("data", [None, "0x", "0xdeadbeef"])
def test_unknown_revert_is_still_a_contract_error(data):
    err = decode_revert(ABI, data)
    assert type(err) is errors.ContractError
    assert err.name == "UnknownRevert"


@pytest.mark.parametrize(
    "raised",
    [
        ValueError({"code": 3, "message": "execution reverted", "data": "{data}"}),  # Anvil through brownie
        ValueError(
            {"message": "VM Exception", "data": {"hash": None, "result": "{data}", "message": "revert"}}
        ),
        # Ganache 7's eth_call with a gas limit given (vmErrorsOnRPCResponse): keyed by the tx hash, "0x"
        ValueError(
            {
                "message": "VM Exception while processing transaction: revert",
                "code": -32000,
                "data": {"0x": {"error": "revert", "reason": "{data}"}},
            }
        ),
    ],
    ids=["anvil", "ganache", "ganache-call-by-hash"],
)
def test_revert_data_is_found_in_each_node_s_error_shape(raised):
    from carechain.core.reverts import revert_data as _revert_data

    data = _data("EmptyScopes()", [], [])
    shaped = ValueError(json.loads(json.dumps(raised.args[0]).replace("{data}", data)))
    assert _revert_data(shaped) == data
    assert isinstance(decode_revert(ABI, _revert_data(shaped)), errors.EmptyScopes)


# ---- the tree, and how the services answer it ------------------------------------------------------

SERVICE_CODES = {  # every refusal code the gateway and the relayer have ever answered, with its status
    "bad-request": 400,
    "expired": 400,
    "bad-signature": 401,
    "unauthorized": 401,
    "denied": 403,
    "unknown-record": 404,
    "unknown-receipt": 404,
    "unknown-submission": 404,
    "replayed": 409,
    "erased": 410,
    "too-large": 413,
    "refused": 422,
    "rate-limited": 429,
    "integrity-failure": 500,
    "key-unavailable": 500,
    "chain-unreachable": 502,
    "chain-refused": 502,
}


def _declared() -> list[type[errors.CareChainError]]:
    """The exception classes errors.py declares by name (the generated custom-error classes aside)."""
    generated = set(errors.ERROR_CLASSES.values())
    return [
        value
        for name, value in vars(errors).items()
        if isinstance(value, type)
        and issubclass(value, errors.CareChainError)
        and value not in generated
        and value.__name__ == name
    ]


def test_every_exception_is_drawn_in_the_module_docstring():
    tree = errors.__doc__ or ""
    for kind in _declared():
        parent = kind.__mro__[1].__name__
        assert f"── {kind.__name__} " in tree or kind is errors.CareChainError, kind
        assert parent == "Exception" or parent in tree


def test_chain_unavailable_is_not_a_config_error():
    assert issubclass(errors.ChainUnavailable, errors.CareChainError)
    assert not issubclass(errors.ChainUnavailable, errors.ConfigError)


def test_each_refusal_code_is_one_class_and_keeps_its_status():
    refusals = errors.ServiceError.__subclasses__()
    assert sorted(kind.code for kind in refusals) == sorted(SERVICE_CODES)
    assert {kind.code: kind.status for kind in refusals} == SERVICE_CODES
    assert errors.ERROR_CLASSES["UnknownRecord"] is not errors.RecordNotFound


def test_the_merkle_errors_are_input_errors():
    assert issubclass(errors.InvalidMerkleTree, errors.MerkleTreeError)
    assert issubclass(errors.MerkleTreeError, errors.InputError)


@pytest.mark.parametrize(
    ("raised", "status", "code"),
    [
        (errors.Replayed("seen"), 409, "replayed"),
        (errors.InputError("not an address"), 400, "bad-request"),
        (errors.MerkleTreeError("bad proof"), 400, "bad-request"),
        (errors.EmptyScopes("EmptyScopes", {}), 422, "refused"),
        (errors.ChainUnavailable("no node"), 502, "chain-unreachable"),
        (errors.TransactionFailed("reverted"), 502, "chain-unreachable"),
        (errors.OutOfGas("out of gas"), 502, "chain-unreachable"),
        (errors.ConfigError("no key"), 500, "internal"),
        (errors.DeploymentError("no manifest"), 500, "internal"),
    ],
)
def test_the_kernel_answers_library_errors_by_class(raised, status, code):
    from carechain.services.kernel import refusal

    answered, body, _ = refusal(raised)
    assert (answered, body["error"], body["detail"]) == (status, code, str(raised))


def test_a_revert_names_its_custom_error_and_a_rate_limit_its_wait():
    from carechain.services.kernel import refusal

    assert refusal(errors.NoConsent("NoConsent", {}))[1]["errorName"] == "NoConsent"
    assert refusal(errors.Refused("the registry would refuse", "InvalidSignature"))[1]["errorName"] == (
        "InvalidSignature"
    )
    assert refusal(errors.RateLimited("retry in 30s", 30))[2] == {"Retry-After": "30"}


def test_a_bug_is_a_500_that_shows_no_internals():
    from carechain.services.kernel import refusal

    status, body, _ = refusal(KeyError("custodian-secret"))
    assert (status, body["error"]) == (500, "internal")
    assert "custodian-secret" not in body["detail"] and "KeyError" in body["detail"]


def test_the_status_table_describes_every_refusal():
    from carechain.services.kernel import STATUSES

    for kind in errors.ServiceError.__subclasses__():
        assert kind.code in STATUSES[kind.status], kind
