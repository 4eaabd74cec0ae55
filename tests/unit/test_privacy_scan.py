"""carechain.dev.privacy_scan's rules on made-up transactions, no chain: each form of an address is found
where it is put and nowhere else, the sender and funding rules follow ether, the grant rules follow sub-grant
trees and honour the allow-list."""

from __future__ import annotations

from dataclasses import replace

import pytest
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from carechain.core.grants import Op, Policy
from carechain.dev.privacy_scan import (
    SUB_GRANTED,
    AllowList,
    Blob,
    Log,
    Patient,
    Rule,
    Transaction,
    check,
    find,
    needles,
    read_chain,
)
from carechain.errors import ConfigError

WALLET = "0x" + "ab" * 19 + "cd"
RAW = bytes.fromhex(WALLET[2:])
PADDED = bytes(12) + RAW
CONTRACT = "0x" + "c0" * 20
RELAYER = bytes.fromhex("e1" * 20)
HOSPITAL = bytes.fromhex("40" * 20)
ROOT_A, ROOT_B, CHILD = keccak(text="grant A"), keccak(text="grant B"), keccak(text="sub-grant of A")
SELECTOR = bytes.fromhex("12345678")
SALT = keccak(text="a scope salt used twice")
NOTHING = AllowList()


def tx(
    name: str,
    *words: bytes,
    sender: bytes = RELAYER,
    logs: tuple[Log, ...] = (),
    value: int = 0,
    credited: tuple[bytes, ...] = (),
) -> Transaction:
    """A call to the contract whose calldata is the selector and `words`."""
    return Transaction(
        name, sender, bytes.fromhex(CONTRACT[2:]), value, SELECTOR + b"".join(words), logs, credited=credited
    )


def forms(
    data: bytes, field: str = "calldata", calldata: bytes = b"", *, also: tuple[Blob, ...] = ()
) -> list[tuple[str, str, int | None]]:
    key = field.startswith("storage key")
    blob = Blob(field, data, RELAYER, int.from_bytes(data, "big"), key=True) if key else Blob(field, data)
    found = check(
        [Transaction("0x01", RELAYER, None, 0, calldata, state=(*also, blob))],
        [Patient.of(WALLET)],
        NOTHING,
        CONTRACT,
    )
    return [(f.field, f.detail.split(" as ", 1)[1], f.offset) for f in found]


@pytest.mark.parametrize(
    ("data", "form", "offset"),
    [
        (b"\x01" * 4 + PADDED, "32-byte padded", 4),
        (b"\x01" * 3 + RAW + b"\x02", "20 bytes", 3),
        (b"x" + WALLET[2:].encode(), "hex text", 1),
        (b"x" + WALLET[2:].upper().encode(), "hex text", 1),
        (to_checksum_address(WALLET).encode(), "hex text", 2),
        (bytes(5) + keccak(RAW), "keccak256 of the 20 bytes", 5),
        (keccak(PADDED), "keccak256 of the padded word", 0),
        (keccak(RAW).hex().encode(), "keccak256 of the 20 bytes, as hex text", 0),
        (keccak(PADDED).hex().upper().encode(), "keccak256 of the padded word, as hex text", 0),
        (bytes.fromhex("0" + RAW.hex() + "0"), "20 bytes, half a byte out of step", 0),
    ],
)
def test_each_form_of_the_address_is_found_once_where_it_is(data, form, offset):
    assert forms(data) == [("calldata", form, offset)]


def test_a_mapping_slot_keyed_by_the_address_is_found_by_its_key():
    key = keccak(PADDED + (3).to_bytes(32, "big"))
    assert forms(key, "storage key 0xc0 slot 0x..") == [
        ("storage key 0xc0 slot 0x..", "mapping key (slot 3)", None)
    ]


def test_a_mapping_in_an_erc7201_namespace_is_found_by_its_key():
    """The namespace's base is keccak256(...) & ~0xff; a field of it touched (base + 1) puts the mapping at
    base + 3 in reach."""
    base = int.from_bytes(keccak(text="carechain.storage.Example"), "big") - 1 & ~0xFF
    field = Blob("storage key nsfield", (base + 1).to_bytes(32, "big"), RELAYER, base + 1, key=True)
    key = keccak(PADDED + (base + 3).to_bytes(32, "big"))
    assert forms(key, "storage key ns", also=(field,)) == [
        ("storage key ns", f"mapping key (slot {base + 3:#x})", None)
    ]


def test_a_nested_mapping_keyed_by_the_address_and_a_calldata_word_is_found():
    x = keccak(text="a record id")
    outer = keccak(x + keccak(PADDED + (2).to_bytes(32, "big")))
    inner = keccak(PADDED + keccak(x + (9).to_bytes(32, "big")))
    assert forms(outer, "storage key a", x) == [
        ("storage key a", "nested mapping key (address outer, slot 2)", None)
    ]
    assert forms(inner, "storage key b", x) == [
        ("storage key b", "nested mapping key (address inner, slot 9)", None)
    ]


def test_other_addresses_and_near_misses_are_not_findings():
    near = bytes.fromhex(WALLET[2:-2] + "ce")
    assert forms(bytes(12) + near + keccak(near) + RELAYER + WALLET[2:-1].encode()) == []


def test_the_envelope_and_logs_are_scanned():
    log = Log(0, HOSPITAL, (keccak(text="Event()"), PADDED), b"")
    sent = Transaction("0x02", RELAYER, RAW, 0, b"", (log,))
    found = {(f.rule, f.field) for f in check([sent], [Patient.of(WALLET)], NOTHING, CONTRACT)}
    assert found == {(Rule.ADDRESS, "to"), (Rule.ADDRESS, "log 0 topic 1")}


def test_find_names_the_offset_in_the_blob():
    (needle,) = [n for n in needles([Patient.of(WALLET)]) if n.form == "32-byte padded"]
    assert list(find(needle, Blob("calldata", PADDED + PADDED))) == [
        (0, "32-byte padded"),
        (32, "32-byte padded"),
    ]


def test_a_patient_wallet_that_sends_and_the_accounts_it_funds():
    friend, friends_friend = bytes.fromhex("f1" * 20), bytes.fromhex("f2" * 20)
    chain = [
        tx("0x01", sender=RAW, value=1, credited=(friend,)),
        tx("0x02", sender=friend, credited=(friends_friend,)),
        tx("0x03", sender=friend),
        tx("0x04", sender=friends_friend),
        tx("0x05", sender=RELAYER),
    ]
    found = [
        (f.rule, f.tx)
        for f in check(chain, [Patient.of(WALLET)], NOTHING, CONTRACT)
        if f.rule != Rule.ADDRESS
    ]
    assert found == [(Rule.SENDER, "0x01"), (Rule.FUNDER, "0x02"), (Rule.FUNDER, "0x04")]


def grant_rules(
    chain: list[Transaction], addresses: tuple[bytes, ...] = (), words: tuple[bytes, ...] = ()
) -> list[tuple[Rule, str, str]]:
    """The grant rules' findings (rule, tx, field), the contract and the relayer allowed."""
    patients = [Patient.of(WALLET, [ROOT_A, ROOT_B]), Patient.of("0x" + "99" * 20, [keccak(text="other")])]
    public = [CONTRACT] + [to_checksum_address(address) for address in (RELAYER, *addresses)]
    return [(f.rule, f.tx, f.field) for f in check(chain, patients, AllowList.of(public, words), CONTRACT)]


def test_a_word_in_two_grants_of_one_patient_links_them():
    chain = [tx("0x0a", ROOT_A, SALT), tx("0x0b", ROOT_B, SALT)]
    assert grant_rules(chain) == [(Rule.LINKED, "0x0b", "calldata")]


def test_allowed_values_zero_and_small_values_do_not_link():
    small = (2**48 - 1).to_bytes(32, "big")
    chain = [
        tx("0x0a", ROOT_A, SALT, small, bytes(32), bytes(12) + HOSPITAL),
        tx("0x0b", ROOT_B, SALT, small, bytes(32), bytes(12) + HOSPITAL),
    ]
    assert grant_rules(chain, (HOSPITAL,), (SALT,)) == []
    assert grant_rules(chain, words=(SALT,)) == [(Rule.LINKED, "0x0b", "calldata")]
    assert grant_rules(chain, addresses=(HOSPITAL,)) == [(Rule.LINKED, "0x0b", "calldata")]


def test_only_the_signature_v_words_are_allowed_padded_on_the_right():
    """A signature's v ends an ABI `bytes` as 0x1b00..00 or 0x1c00..00: allowed. Any other value of a few
    bytes padded on the right (a bytes6 salt, say) is not below 2^48 and links."""
    v27, v28 = bytes([27]) + bytes(31), bytes([28]) + bytes(31)
    assert grant_rules([tx("0x0a", ROOT_A, v27, v28), tx("0x0b", ROOT_B, v27, v28)]) == []
    for padded in (bytes([29]) + bytes(31), bytes(range(1, 7)) + bytes(26)):
        assert grant_rules([tx("0x0a", ROOT_A, padded), tx("0x0b", ROOT_B, padded)]) == [
            (Rule.LINKED, "0x0b", "calldata")
        ]


def test_the_event_signature_and_a_word_of_another_patient_do_not_link():
    other = keccak(text="other")
    topic = keccak(text="ConsentGranted(bytes32,uint256,address,uint32,uint48)")
    chain = [
        tx("0x0a", ROOT_A, logs=(Log(0, RELAYER, (topic, ROOT_A), b""),)),
        tx("0x0b", ROOT_B, logs=(Log(0, RELAYER, (topic, ROOT_B), b""),)),
        tx("0x0c", other, SALT),
        tx("0x0d", ROOT_A, SALT),
    ]
    assert grant_rules(chain) == []


def test_two_grants_of_one_patient_in_one_transaction():
    assert grant_rules([tx("0x0a", ROOT_A, ROOT_B, SALT)]) == [(Rule.SAME_TX, "0x0a", "calldata and logs")]


def test_a_sub_grant_belongs_to_its_root():
    sub_granted = Log(0, bytes.fromhex(CONTRACT[2:]), (SUB_GRANTED, CHILD, ROOT_A), b"")
    chain = [
        tx("0x0a", ROOT_A),
        tx("0x0b", ROOT_A, logs=(sub_granted,)),
        tx("0x0c", CHILD, SALT),
        tx("0x0d", ROOT_B, SALT),
        tx("0x0e", CHILD, ROOT_B),
    ]
    assert grant_rules(chain) == [
        (Rule.SAME_TX, "0x0e", "calldata and logs"),
        (Rule.LINKED, "0x0d", "calldata"),
    ]


def test_a_sub_grant_event_from_another_contract_is_not_believed():
    forged = Log(0, RELAYER, (SUB_GRANTED, CHILD, ROOT_A), b"")
    chain = [tx("0x0a", ROOT_A, logs=(forged,)), tx("0x0c", CHILD, SALT), tx("0x0d", ROOT_B, SALT)]
    assert grant_rules(chain) == []


def test_a_finding_reads_as_a_sentence():
    (finding,) = check([tx("0x0a", PADDED)], [Patient.of(WALLET)], NOTHING, CONTRACT)
    assert str(finding) == (
        f"patient address on chain: tx 0x0a, calldata at byte 4: patient 0's wallet "
        f"{to_checksum_address(WALLET)} as 32-byte padded"
    )


class StubNode:
    """Just enough of web3 for read_chain: one block holding one call (with an access list), the block's
    receipts and the two traces a prestateTracer gives for the block (plain: the slots touched, with their
    values before; diffMode: what changed), answered as a node does, in hex. Counts the calls."""

    def __init__(self, traces: dict[bool, object]) -> None:
        self.eth, self.provider, self.traces = self, self, traces
        self.block_number = 1
        self.calls: list[str] = []
        self.steps: list[dict[str, object]] = []

    def get_block(self, number: int, full_transactions: bool) -> dict[str, object]:
        self.calls.append("eth_getBlockByNumber")
        access = [{"address": CONTRACT, "storageKeys": ["0x" + PADDED.hex()]}]
        call = {"hash": bytes(32), "from": "0x" + "e1" * 20, "to": CONTRACT, "value": 0, "input": b"\x01"}
        return {"miner": "0x" + "00" * 20, "transactions": [call | {"accessList": access}]}

    def get_transaction_receipt(self, tx_hash: bytes) -> dict[str, object]:
        self.calls.append("eth_getTransactionReceipt")
        return {"logs": [{"logIndex": 0, "address": CONTRACT, "topics": [PADDED], "data": b""}]}  # as web3's

    def make_request(self, method: str, params: list[object]) -> dict[str, object]:
        self.calls.append(method)
        if method == "eth_getBlockReceipts":
            log = {"logIndex": "0x0", "address": CONTRACT, "topics": ["0x" + PADDED.hex()], "data": "0x"}
            return {"result": [{"transactionHash": "0x" + "00" * 32, "logs": [log]}]}
        if method == "debug_traceTransaction":  # a struct log, as Anvil --steps-tracing gives it
            return {"result": {"structLogs": self.steps}}
        assert method == "debug_traceBlockByNumber"
        answer = self.traces[params[1]["tracerConfig"]["diffMode"]]  # type: ignore[index]
        if "error" in answer:  # type: ignore[operator]
            return answer  # type: ignore[return-value]
        return {"result": [{"txHash": "0x" + "00" * 32} | answer]}  # type: ignore[operator]


def test_read_chain_takes_storage_code_and_credits_from_the_traces():
    slot, friend = "0x" + "00" * 31 + "05", "0x" + "f1" * 20
    touched = {CONTRACT: {"code": "0x6000", "storage": {slot: "0x" + "00" * 32}}}
    diff = {
        "pre": {
            friend: {"balance": "0x1"},
            "0x" + "00" * 20: {"balance": "0x0"},
            CONTRACT: {"balance": "0x3"},
        },
        "post": {
            CONTRACT: {"storage": {slot: "0x" + PADDED.hex()}, "balance": "0x2"},
            friend: {"balance": "0x2"},
            "0x" + "00" * 20: {"balance": "0x9"},
        },
    }
    node = StubNode({False: {"result": touched}, True: {"result": diff}})
    (read,) = read_chain(node, 1)  # type: ignore[arg-type]
    assert node.calls == [
        "eth_getBlockByNumber",
        "eth_getBlockReceipts",
        "debug_traceBlockByNumber",
        "debug_traceBlockByNumber",
    ]
    assert [blob.field for blob in read.state] == [
        f"storage key {CONTRACT} slot {slot}",
        f"storage {CONTRACT} slot {slot} before",
        f"code {CONTRACT}",
        f"storage {CONTRACT} slot {slot} after",
    ]
    assert read.credited == (bytes.fromhex("f1" * 20),)  # the block's fee recipient is not funded
    assert read.debited == (bytes.fromhex("c0" * 20),)
    found = check([read], [Patient.of(WALLET)], NOTHING, CONTRACT)
    assert [(f.field, f.offset) for f in found] == [
        ("access list 0 key 0", 0),
        ("log 0 topic 0", 0),
        (f"storage {CONTRACT} slot {slot} after", 0),
    ]


def test_a_node_that_cannot_trace_is_a_config_error():
    refused = {"error": {"code": -32601, "message": "Method not found"}}
    with pytest.raises(ConfigError, match="prestateTracer"):
        read_chain(StubNode({False: refused, True: refused}), 1)  # type: ignore[arg-type]


KEY = bytes.fromhex("1271" * 10)  # a guardianship account that is two grants' ERC-1271 subject key


def test_an_address_in_a_trailing_partial_word_links():
    """An ERC-2771 forwarder appends the 20-byte sender to the calldata: a partial word at the end."""
    chain = [tx("0x0a", ROOT_A, KEY), tx("0x0b", ROOT_B, bytes(32), KEY)]
    assert grant_rules(chain) == [(Rule.LINKED, "0x0b", "calldata")]


def test_an_address_at_the_left_of_a_word_links():
    """subjectSig of an ERC-1271 key is abi.encode(salt, key ‖ inner): the key opens a word, the rest of
    the word (the inner signature) differs from grant to grant."""
    chain = [
        tx("0x0a", ROOT_A, KEY + keccak(text="inner a")[:12]),
        tx("0x0b", ROOT_B, KEY + keccak(text="inner b")[:12]),
    ]
    assert grant_rules(chain) == [(Rule.LINKED, "0x0b", "calldata")]


def test_an_account_seen_on_chain_links_at_any_offset():
    """An account that sent a transaction shows inside two grants' calldata, out of word alignment."""
    chain = [
        tx("0x01", sender=KEY),
        tx("0x0a", ROOT_A, b"\x01\x02\x03" + KEY + bytes(9)),
        tx("0x0b", ROOT_B, b"\x05" * 7 + KEY + bytes(5)),
    ]
    found = grant_rules(chain)
    assert found == [(Rule.LINKED, "0x0b", "calldata")]
    assert grant_rules(chain, addresses=(KEY,)) == []


def test_topic_0_links_unless_it_is_a_known_event_signature():
    """An anonymous event's first topic is data like any other; a known event's signature is not."""
    abi = [{"type": "event", "name": "Noted", "anonymous": False, "inputs": [{"type": "bytes32"}]}]
    for topic, expected in (
        (SALT, [(Rule.LINKED, "0x0b", "log 0 topic 0")]),
        (keccak(text="Noted(bytes32)"), []),
    ):
        chain = [
            tx(name, root, logs=(Log(0, HOSPITAL, (topic,), b""),))
            for name, root in (("0x0a", ROOT_A), ("0x0b", ROOT_B))
        ]
        patients = [Patient.of(WALLET, [ROOT_A, ROOT_B])]
        allowed = AllowList.of(
            [CONTRACT, to_checksum_address(HOSPITAL), to_checksum_address(RELAYER)], abis=[abi]
        )
        assert [(f.rule, f.tx, f.field) for f in check(chain, patients, allowed, CONTRACT)] == expected


def stores(name: str, root: bytes, *slots: tuple[int, bytes]) -> Transaction:
    """A call naming `root` that wrote `slots` (slot, value) of the contract, each a first write."""
    raw = bytes.fromhex(CONTRACT[2:])
    state = []
    for slot, value in slots:
        state += [
            Blob(f"storage key slot {slot:#x}", slot.to_bytes(32, "big"), raw, slot, key=True),
            Blob(f"storage slot {slot:#x} after", value, raw, slot),
        ]
    return replace(tx(name, root), state=tuple(state))


def record(grant_id: bytes, word: int = 0) -> int:
    """The slot of word `word` of ConsentGrants' record of `grant_id` (_records in base slot 4)."""
    return int.from_bytes(keccak(grant_id + (4).to_bytes(32, "big")), "big") + word


def test_storage_keys_and_values_link():
    assert grant_rules([stores("0x0a", ROOT_A, (7, SALT)), stores("0x0b", ROOT_B, (8, SALT))]) == [
        (Rule.LINKED, "0x0b", "storage slot 0x8 after")
    ]
    shared_key = int.from_bytes(keccak(SALT + bytes(32)), "big")
    assert grant_rules(
        [stores("0x0a", ROOT_A, (shared_key, bytes(32))), stores("0x0b", ROOT_B, (shared_key, bytes(32)))]
    ) == [(Rule.LINKED, "0x0b", f"storage key slot {shared_key:#x}")]
    assert (
        grant_rules(  # a mapping entry keyed by an allowed word
            [
                stores("0x0a", ROOT_A, (shared_key, bytes(32))),
                stores("0x0b", ROOT_B, (shared_key, bytes(32))),
            ],
            words=(SALT,),
        )
        == []
    )


def test_a_grant_record_is_compared_field_by_field():
    """Word 0 (status, window, usage, nonce: small fields) and word 1 (grantee | ops | purpose | refs index)
    of two grants to one hospital on one policy are equal, and link nothing; the same word 1 naming a
    grantee nobody allowed links, and so does the same value in word 2 (the scope)."""
    word0 = (1 | 1_700_006_400 << 8 | 1_731_542_400 << 56 | 1 << 216).to_bytes(32, "big")
    word1 = (int.from_bytes(HOSPITAL, "big") | 1 << 160 | 0x484D42 << 192 | 1 << 224).to_bytes(32, "big")

    def grants(*extra: tuple[int, bytes]) -> list[Transaction]:
        return [
            stores(
                name,
                root,
                (record(root), word0),
                (record(root, 1), word1),
                *((record(root, w), v) for w, v in extra),
            )
            for name, root in (("0x0a", ROOT_A), ("0x0b", ROOT_B))
        ]

    assert grant_rules(grants(), (HOSPITAL,)) == []
    assert grant_rules(grants()) == [(Rule.LINKED, "0x0b", f"storage slot {record(ROOT_B, 1):#x} after")]
    assert grant_rules(grants((2, SALT)), (HOSPITAL,)) == [
        (Rule.LINKED, "0x0b", f"storage slot {record(ROOT_B, 2):#x} after")
    ]


def test_one_policy_for_two_grants_does_not_link_but_a_word_shaped_almost_like_one_does():
    """Two grants from one midnight for a year, read, health research: one `policy` word, made of fields
    each below 2^48. The same word with a reserved ops bit is no policy, and links."""
    day = 1_765_065_600
    policy = Policy(day, day + 365 * 86400, Op.READ, 0x484D42).pack().to_bytes(32, "big")
    assert grant_rules([tx("0x0a", ROOT_A, policy), tx("0x0b", ROOT_B, policy)]) == []
    reserved = (int.from_bytes(policy, "big") | 0x80 << 96).to_bytes(32, "big")
    assert grant_rules([tx("0x0a", ROOT_A, reserved), tx("0x0b", ROOT_B, reserved)]) == [
        (Rule.LINKED, "0x0b", "calldata")
    ]


def test_funding_is_followed_by_balance_flow_through_a_contract():
    """The patient deposits into a contract (a send); later the relayer's call makes the contract pay a
    friend (the contract's balance falls: it pays out patient money), and the friend then sends."""
    vault, friend = bytes.fromhex("fa" * 20), bytes.fromhex("f1" * 20)
    chain = [
        tx("0x01", sender=RAW, value=5, credited=(vault,)),
        replace(tx("0x02", sender=RELAYER), credited=(friend,), debited=(vault,)),
        tx("0x03", sender=friend),
        tx("0x04", sender=RELAYER),
    ]
    found = [
        (f.rule, f.tx, f.field)
        for f in check(chain, [Patient.of(WALLET)], NOTHING, CONTRACT)
        if f.rule != Rule.ADDRESS
    ]
    assert found == [
        (Rule.SENDER, "0x01", "from"),
        (Rule.FUNDER, "0x02", "balance"),
        (Rule.FUNDER, "0x03", "from"),
    ]


def test_a_transaction_naming_a_grants_subject_key_is_its_chain_data():
    """GuardianshipFactory deploys grant A's ERC-1271 key (the account shows in the log, not grant A's id)
    with a salt that grant B's calldata also holds: linked once the caller names A's subject key."""
    deploy = tx(
        "0x01", SALT, logs=(Log(0, HOSPITAL, (keccak(text="AccountCreated(address)"), bytes(12) + KEY), b""),)
    )
    chain = [deploy, tx("0x0a", ROOT_A), tx("0x0b", ROOT_B, SALT)]
    public = [CONTRACT, to_checksum_address(RELAYER), to_checksum_address(HOSPITAL)]
    for keys, expected in (
        ({}, []),
        ({ROOT_A: to_checksum_address(KEY)}, [(Rule.LINKED, "0x0b", "calldata")]),
    ):
        patients = [Patient.of(WALLET, [ROOT_A, ROOT_B], keys)]
        assert [
            (f.rule, f.tx, f.field) for f in check(chain, patients, AllowList.of(public), CONTRACT)
        ] == expected


def test_read_chain_without_traces_reads_envelopes_and_logs_as_on_ganache():
    node = StubNode({})
    (read,) = read_chain(node, 1, traces=False)  # type: ignore[arg-type]
    assert node.calls == ["eth_getBlockByNumber", "eth_getTransactionReceipt"]
    assert read.state == () and read.credited == ()
    found = check([read], [Patient.of(WALLET)], NOTHING, CONTRACT)
    assert [(f.field, f.offset) for f in found] == [("access list 0 key 0", 0), ("log 0 topic 0", 0)]


def test_a_record_is_recognised_by_any_of_its_words():
    """Transactions that touch only word 1 of two records (no word 0 in the range): still field by field."""
    word1 = (int.from_bytes(HOSPITAL, "big") | 1 << 160 | 0x484D42 << 192 | 1 << 224).to_bytes(32, "big")
    chain = [
        stores(name, root, (record(root, 1), word1)) for name, root in (("0x0a", ROOT_A), ("0x0b", ROOT_B))
    ]
    assert grant_rules(chain, (HOSPITAL,)) == []


def test_keccak_preimages_show_a_mapping_key_at_any_depth():
    """mapping(uint => mapping(address => ...)) in an ERC-7201 namespace: the slot key is out of reach, but
    the struct log shows the padded address going into a KECCAK256 (memory before the op: one word, the
    64-byte input running past it into zeros)."""
    touched = {CONTRACT: {"code": "0x6000", "storage": {}}}
    node = StubNode({False: {"result": touched}, True: {"result": {"pre": {}, "post": {}}}})
    node.steps = [
        {"op": "PUSH1", "stack": [], "memory": []},
        {"op": "KECCAK256", "stack": ["0x40", "0x0"], "memory": ["0x" + PADDED.hex()]},
    ]
    (read,) = read_chain(node, 1, preimages=True)  # type: ignore[arg-type]
    assert read.state[-1] == Blob("keccak input (step 1)", PADDED + bytes(32))
    found = check([read], [Patient.of(WALLET)], NOTHING, CONTRACT)
    assert ("keccak input (step 1)", 0) in [(f.field, f.offset) for f in found]


def test_preimages_from_a_node_without_steps_are_a_config_error():
    touched = {CONTRACT: {"code": "0x6000", "storage": {}}}
    node = StubNode({False: {"result": touched}, True: {"result": {"pre": {}, "post": {}}}})
    with pytest.raises(ConfigError, match="--steps-tracing"):
        read_chain(node, 1, preimages=True)  # type: ignore[arg-type]
