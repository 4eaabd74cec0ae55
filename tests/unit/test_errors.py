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

ABI = json.loads((Path(__file__).parents[2] / "build" / "contracts" / "ConsentRegistry.json").read_text())[
    "abi"
]
PATIENT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
GRANTEE = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"


def _data(signature: str, types: list[str], values: list) -> str:
    return "0x" + (keccak(text=signature)[:4] + encode(types, values)).hex()


@pytest.mark.parametrize("contract", deployments.CONTRACTS)
def test_every_custom_error_of_the_abi_has_a_class(contract):
    abi = deployments.load_artifact(Path(__file__).parents[2], contract).abi
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
    ],
    ids=["anvil", "ganache"],
)
def test_revert_data_is_found_in_each_node_s_error_shape(raised):
    from carechain.core.reverts import revert_data as _revert_data

    data = _data("EmptyScopes()", [], [])
    shaped = ValueError(json.loads(json.dumps(raised.args[0]).replace("{data}", data)))
    assert _revert_data(shaped) == data
    assert isinstance(decode_revert(ABI, _revert_data(shaped)), errors.EmptyScopes)
