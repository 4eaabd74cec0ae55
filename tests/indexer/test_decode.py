"""The indexer's own decoding (word slicing, EIP-55 by integer arithmetic) equals eth-abi's and json's."""

from __future__ import annotations

import json
import random

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_utils.address import to_checksum_address

from carechain.core.deployments import CONTRACTS, load_abi
from carechain.core.reverts import abi_type as _abi_type
from carechain.index.indexer import _address, _Event
from indexer.conftest import REPO


def test_checksums_equal_eth_utils_for_any_case_of_any_address():
    rng = random.Random(9)
    words = ["00" * 32, "00" * 12 + "ff" * 20, "00" * 12 + "88" * 20, "00" * 12 + "aa" * 20]
    words += ["00" * 12 + rng.randbytes(20).hex() for _ in range(5_000)]
    for word in words:
        assert _address(word) == to_checksum_address("0x" + word[24:])
        assert _address(word.upper()) == to_checksum_address("0x" + word[24:])


def _value(kind: str, rng: random.Random) -> object:
    if kind == "address":
        return to_checksum_address(rng.randbytes(20))
    if kind == "bool":
        return rng.random() < 0.5
    if kind.startswith("uint"):
        return rng.getrandbits(int(kind[4:] or 256))
    if kind.startswith("int"):
        bits = int(kind[3:] or 256)
        return rng.getrandbits(bits) - (1 << (bits - 1))
    return rng.randbytes(int(kind[5:]))


def _as_web3_shows(kind: str, value: object) -> object:
    """An eth-abi value as web3's event decoding gives it: checksummed addresses, bytes as 0x hex."""
    if kind == "address":
        return to_checksum_address(str(value))
    return "0x" + value.hex() if isinstance(value, bytes) else value


def test_every_carechain_event_decodes_as_eth_abi_does_and_its_json_is_json_dumps():
    rng = random.Random(6)
    seen = set()
    for contract in CONTRACTS:
        for entry in load_abi(REPO, contract):
            if entry.get("type") != "event" or entry.get("anonymous"):
                continue
            event = _Event(contract, "0x" + "00" * 20, entry)
            types = [_abi_type(i) for i in entry["inputs"]]
            assert event.static  # every CareChain event has only static fields
            for _ in range(20):
                values = [_value(kind, rng) for kind in types]
                topics, data_types, data_values = [], [], []
                for i, kind, value in zip(entry["inputs"], types, values, strict=True):
                    if i.get("indexed"):
                        topics.append("0x" + abi_encode([kind], [value]).hex())
                    else:
                        data_types.append(kind)
                        data_values.append(value)
                data = "0x" + abi_encode(data_types, data_values).hex()
                args = event.decode(topics, data)
                decoded = abi_decode(types, abi_encode(types, values))
                expected = {
                    i["name"]: _as_web3_shows(kind, v)
                    for i, kind, v in zip(entry["inputs"], types, decoded, strict=True)
                }
                assert args == expected and list(args) == [i["name"] for i in entry["inputs"]]
                assert event.json(args) == json.dumps(args)
            seen.add((event.name, event.template is None))
    assert ("ConsentGranted", False) in seen  # a templated event
    assert ("BreakGlassReviewed", True) in seen  # a bool: json.dumps writes it
