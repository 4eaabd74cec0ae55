"""The demo, run with named fixture patients (names, medical record numbers, birth dates in the
hospital's and the trial site's files), leaves none of them on chain: not in any transaction's
calldata, any event's topics or data, nor any contract's storage; not in plain ASCII/UTF-8, as hex
text, in UTF-16, nor as the unsalted keccak256 of the value (a guessable value must only ever be
committed salted). A control run shows the scan finds a name put on chain on purpose, in each form."""

from __future__ import annotations

import gzip
import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from brownie import accounts, web3
from eth_utils.crypto import keccak

from carechain.dev.privacy_scan import Blob, Needle, find

REPO = Path(__file__).parents[2]

# Not the demo's own patients: the scan must look for what the run was actually given.
FIXTURE_PATIENTS = {
    "Alice": {"name": "Beatrix Holloway-Kim", "mrn": "MRN-77130452", "birth_date": "1969-08-23"},
    "Carol": {"name": "Ines Carvalho", "mrn": "MRN-77131876", "birth_date": "2001-01-30"},
    "Dan": {"name": "Tobias Lindqvist", "mrn": "MRN-77132290", "birth_date": "1958-12-09"},
}


def spellings(field: str, value: str) -> list[str]:
    """The ways a value may be written: a name whole and by part, a date in the usual notations."""
    found = [value, value.lower(), value.upper()]
    if field == "name":
        found += [
            part for part in value.replace("-", " ").split() if len(part) >= 4
        ]  # (3 bytes: chance hits)
    if field == "birth_date":
        year, month, day = value.split("-")
        found += [
            f"{year}{month}{day}",
            f"{day}/{month}/{year}",
            f"{month}/{day}/{year}",
            f"{day}.{month}.{year}",
        ]
    if field == "mrn":
        found.append(value.removeprefix("MRN-"))
    return list(dict.fromkeys(found))


def needles(patients: dict[str, dict[str, str]]) -> list[tuple[str, str, bytes]]:
    """(identifier, form, bytes to look for) for every identifier of every patient."""
    found = []
    for person in patients.values():
        for field, value in person.items():
            for text in spellings(field, value):
                raw = text.encode()
                found += [
                    (text, "utf-8", raw),
                    (text, "hex text", raw.hex().encode()),
                    (text, "HEX text", raw.hex().upper().encode()),
                    (text, "utf-16-le", text.encode("utf-16-le")),
                    (text, "utf-16-be", text.encode("utf-16-be")),
                    (text, "keccak256 unsalted", keccak(raw)),
                ]
    return found


def on_chain(since_block: int) -> Iterator[tuple[str, bytes]]:
    """(where, bytes) of everything the chain holds from `since_block` on: calldata, log topics and data,
    and the storage (slots and values) of every contract, read whole from Anvil's state dump."""
    for number in range(since_block, web3.eth.block_number + 1):
        for tx in web3.eth.get_block(number, full_transactions=True)["transactions"]:
            yield f"calldata of {tx['hash'].hex()}", bytes(tx["input"])
            for log in web3.eth.get_transaction_receipt(tx["hash"])["logs"]:
                where = f"log {log['logIndex']} of {tx['hash'].hex()}"
                yield where, b"".join(bytes(topic) for topic in log["topics"]) + bytes(log["data"])
    dump = web3.provider.make_request("anvil_dumpState", [])["result"]
    state = json.loads(gzip.decompress(bytes.fromhex(dump[2:])))
    for address, account in state["accounts"].items():
        for slot, value in (account.get("storage") or {}).items():
            yield (
                f"storage {address}[{slot}]",
                bytes.fromhex(slot[2:]) + bytes.fromhex(value[2:].rjust(64, "0")),
            )


def scan(patients: dict[str, dict[str, str]], since_block: int) -> list[tuple[str, str, str]]:
    """(where, identifier, form) of each identifier found on chain: as bytes, or in the hex at any nibble."""
    looked_for = needles(patients)
    found = []
    for where, data in on_chain(since_block):
        blob, lowered, nibbles = Blob(where, data), data.lower(), data.hex().encode()
        for identifier, form, needle in looked_for:
            # privacy_scan.find's byte and half-byte search; "bytes": each spelling is its own needle, the
            # case-blind hex-text search is for addresses
            if any(find(Needle(0, "bytes", needle), blob, lowered, nibbles)):
                found.append((where, identifier, form))
    return found


def load_demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("carechain_demo", REPO / "scripts" / "demo.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> Iterator[tuple[int, str]]:
    """The whole demo, on a project folder of its own, with the fixture patients; (first block, output)."""
    root = tmp_path_factory.mktemp("privacy")
    (root / "build").symlink_to(REPO / "build")
    demo = load_demo()
    first = web3.eth.block_number + 1
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CARECHAIN_ROOT", str(root))
        patch.delenv("PRIVATE_KEY", raising=False)
        patch.setattr(demo, "PATIENTS", FIXTURE_PATIENTS)
        output: list[str] = []
        patch.setattr("builtins.print", lambda *parts, **_: output.append(" ".join(map(str, parts))))
        demo.main()
    yield first, "\n".join(output)


def test_demo_ran_every_walkthrough(demo_run):
    first, output = demo_run
    assert web3.eth.block_number - first > 40
    for sign in ("read logged", "results reported", "An auditor verifies", "Done:"):
        assert sign in output


def test_no_patient_identifier_anywhere_on_chain(demo_run):
    first, _ = demo_run
    assert scan(FIXTURE_PATIENTS, first) == []


def test_the_scan_reads_storage_and_logs_of_the_demo(demo_run):
    """The haystack is not empty: the demo's contracts hold storage and emitted events."""
    first, _ = demo_run
    kinds = {where.split()[0] for where, _ in on_chain(first)}
    assert kinds == {"calldata", "log", "storage"}


CONTROL = {"Control": {"name": "Zebulon Featherstonehaugh"}}


@pytest.mark.parametrize("form", ["utf-8", "hex text", "utf-16-le", "keccak256 unsalted"])
def test_scan_finds_a_name_put_in_calldata_on_purpose(form, accounts):
    name = CONTROL["Control"]["name"]
    payload = {
        "utf-8": name.encode(),
        "hex text": name.encode().hex().encode(),
        "utf-16-le": name.encode("utf-16-le"),
        "keccak256 unsalted": keccak(text=name),
    }[form]
    first = web3.eth.block_number + 1
    accounts[0].transfer(accounts[1], 0, data="0x" + (b"\x01\x02" + payload + b"\x03").hex())
    found = scan(CONTROL, first)
    assert any(
        where.startswith("calldata") and identifier == name and kind == form
        for where, identifier, kind in found
    ), found


def test_scan_finds_an_unsalted_hash_in_storage_and_events(credentials, registrar):
    """A registrar anchors keccak256(name) as a licence hash: the scan sees it in storage and the event."""
    first = web3.eth.block_number + 1
    credentials.attest(
        accounts[2],
        keccak(text="carechain.credential.PROVIDER"),
        keccak(text=CONTROL["Control"]["name"]),
        0,
        0,
        {"from": registrar},
    )
    where = {place.split()[0] for place, _, form in scan(CONTROL, first) if form == "keccak256 unsalted"}
    assert where == {"calldata", "log", "storage"}


def test_scan_finds_a_name_half_a_byte_out_of_step(accounts):
    """Packed at an odd nibble (as a careless encoder might), the name is still found through the hex."""
    name = CONTROL["Control"]["name"]
    first = web3.eth.block_number + 1
    accounts[0].transfer(accounts[1], 0, data="0x0" + name.encode().hex() + "0")
    assert name.encode() not in bytes(web3.eth.get_block("latest", True)["transactions"][0]["input"])
    assert any(identifier == name and form == "utf-8" for _, identifier, form in scan(CONTROL, first))
