"""The chain privacy scan of issue 17 (item 8): what a block range of a chain says about patients.

Given the patients' wallet addresses and the ids of their root grants, `scan` reads every transaction of the
range (envelope, calldata, logs, and the storage each one touched) and checks four rules:

- ADDRESS: no patient wallet address in any form: its 20 bytes, the 32-byte left-padded word, hex text in any
  case (EIP-55 included), keccak256 of the 20 bytes or of the padded word (raw or as hex text), also half a
  byte out of step; a storage slot key of a mapping keyed by the address counts too, as far as it can be
  computed without keccak preimages (`mapping_bases`, `nested_keys`, docs/private-consent.md).
- SENDER / FUNDER: no patient wallet sends a transaction (a deposit into a contract included), nor funds an
  account that then sends a transaction or pays ether out, followed by balance flow (`sender_findings`):
  through contracts and accounts funded in turn, whoever sent the transactions that moved the ether.
  Ether moved before `first_block` is not seen: start the range early enough (at the deployment, or before
  the patients' wallets ever held ether on the chain).
- SAME_TX: no transaction carries two grants of one patient.
- LINKED: no 32-byte word or 20-byte address shows in the chain data of two different grants of one patient
  (from two different transactions), except what the `AllowList` names, zero and values below 2^48; the
  allow-list always holds the two words a 65-byte signature's v (27 or 28) ends an ABI `bytes` with,
  0x1b00...00 and 0x1c00...00, and mapping entries keyed by allowed values. Words are compared whole, by
  their first 20 bytes and, for a trailing partial word, by its first and last 20 bytes; accounts the range
  shows are also looked for at any offset; storage keys and values are compared, ConsentGrants' records
  field by field; a valid ERC-8356 policy word is allowed as its fields are (`AllowList`, `policy_word`,
  `Transaction.tokens`, docs/private-consent.md).

A grant is a root grant with its sub-grant tree (from ConsentSubGranted events of the ConsentGrants contract);
its chain data are the transactions whose calldata or logs hold its id or a descendant's.

Storage comes from Anvil's (and geth's) `debug_traceBlockByNumber` with the prestateTracer: once plain, which
gives every slot the transaction read or wrote with its value before, once in diffMode, which gives the value
each written slot had after. So every value a slot held between transactions of the range is seen, also one
overwritten later (a state dump sees only the last), and each is attributed to its transaction; a value
written and cleared again within one transaction is not (the tracer shows a slot's value before and after the
transaction, not in between; it may still show in calldata, logs or a later read). The tracer also gives the
code of each contract touched (scanned once per contract: immutables) and the balances that rose (the funding
rule). `read_chain` does the reading; `check` applies the rules to what it read, so the rules run on synthetic
data too.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, cached_property
from typing import Any, Final

from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3

from carechain.core.config import project_root
from carechain.core.grants import Policy
from carechain.core.values import bytes32, checksum
from carechain.errors import CareChainError, ConfigError

SUB_GRANTED: Final = keccak(text="ConsentSubGranted(bytes32,bytes32,uint16)")
WORD: Final = 32
SMALL: Final = 2**48  # values below are counters, times, codes, lengths and offsets: never a link
# A 65-byte signature r ‖ s ‖ v in an ABI `bytes` ends with a word holding v (27 or 28) and 31 zero bytes of
# padding: the same in every signature with that v, so public by construction. Only these two: a value of a
# few bytes padded on the right is otherwise a bytesN like any other, not small.
SIGNATURE_V_WORDS: Final = frozenset(bytes([v]) + bytes(WORD - 1) for v in (27, 28))
MAPPING_SLOTS: Final = 256  # mapping(address => ...) declared in slots 0-255 is recognised by its slot key
NESTED_SLOTS: Final = 64  # a mapping of mappings with the address as one of its keys: slots 0-63
NAMESPACE_FIELDS: Final = 32  # a touched slot this far past a 256-slot boundary may be an ERC-7201 field
NAMESPACE_SLOTS: Final = 64  # and a mapping this far past the boundary is looked for
ZERO_PAD: Final = bytes(12)
# ConsentGrants' Record (contracts/ConsentGrants.sol): seven words, of which word 0 packs status, window,
# usage, depth, flags and the subject's nonce (each field below 2^48: nothing to compare), and words 1 and 3
# pack the grantee or agent (an address, compared) with ops, purpose, template-pair index or agent kind and
# status above it (small fields). Words 2 (scope), 4 (parent), 5 (subject commitment), 6 (asset) are whole.
RECORD_WORDS: Final = 7
RECORD_SMALL_WORDS: Final = frozenset({0})
RECORD_ADDRESS_WORDS: Final = frozenset({1, 3})
Place = tuple[str, str, int | None]  # a token's first place in a transaction: tx, field, offset


class Rule(StrEnum):
    """What a finding breaks."""

    ADDRESS = "patient address on chain"
    SENDER = "patient wallet sends"
    FUNDER = "patient wallet funds a sender"
    SAME_TX = "two grants of one patient in one transaction"
    LINKED = "value shared by two grants of one patient"


@dataclass(frozen=True)
class Finding:
    """One breach: the rule, the transaction, the field (`calldata`, `log 2 topic 1`, `storage 0x.. slot
    0x.. after`, ...), the byte offset in it where that applies, and what was found."""

    rule: Rule
    tx: str
    field: str
    offset: int | None
    detail: str

    def __str__(self) -> str:
        at = "" if self.offset is None else f" at byte {self.offset}"
        return f"{self.rule}: tx {self.tx}, {self.field}{at}: {self.detail}"


@dataclass(frozen=True)
class Patient:
    """A patient as the scan knows them: the wallet that must never show, their root grants' ids, and
    where known the subject key account of a root grant (an ERC-1271 key, e.g. a guardianship account):
    the transactions naming that account (its deployment by GuardianshipFactory, say) are that grant's
    chain data too."""

    wallet: str
    grants: tuple[bytes, ...] = ()
    subject_keys: tuple[tuple[bytes, bytes], ...] = ()  # (root grant id, key account)

    @classmethod
    def of(
        cls,
        wallet: str,
        grants: Iterable[bytes | str] = (),
        subject_keys: Mapping[bytes | str, str] | None = None,
    ) -> Patient:
        return cls(
            checksum(wallet, "patient wallet"),
            tuple(bytes32(g, "grant id") for g in grants),
            tuple((bytes32(g, "grant id"), _address_bytes(k)) for g, k in (subject_keys or {}).items()),
        )


@dataclass(frozen=True)
class AllowList:
    """Values public by design that may show in several grants of one patient: the contracts', relayer's,
    providers', committees' and custodians' addresses, purpose codes, template and profile hashes, epoch
    roots. Zero, values below 2^48 (see `small`) and the signature-v words (`SIGNATURE_V_WORDS`) are always
    allowed; so are the storage keys a mapping keyed by an allowed value (or by keccak256 of two allowed
    words, as ConsentGrants' template-pair index is) has, in base slots 0-255 (`derived`). Event signatures
    are those of the repository's abi/ files and of the contract ABIs passed (`abis`)."""

    addresses: frozenset[bytes] = frozenset()
    words: frozenset[bytes] = frozenset()
    events: frozenset[bytes] = frozenset()  # `of` puts the repository's in

    @classmethod
    def of(
        cls,
        addresses: Iterable[str] = (),
        words: Iterable[bytes | str | int] = (),
        abis: Iterable[Sequence[Mapping[str, Any]]] = (),
    ) -> AllowList:
        return cls(
            frozenset(_address_bytes(a) for a in addresses),
            frozenset(
                w.to_bytes(WORD, "big") if isinstance(w, int) else bytes32(w, "allowed word") for w in words
            ),
            repo_events() | frozenset(topic for abi in abis for topic in event_topics(abi)),
        )

    @cached_property
    def derived(self) -> frozenset[bytes]:
        """keccak256(value ‖ p), p < 256, for each allowed word, padded address and pair of allowed words."""
        pairs = {keccak(a + b) for a in self.words for b in self.words}
        keys = {*self.words, *(ZERO_PAD + a for a in self.addresses), *pairs}
        return frozenset(pairs) | frozenset(
            keccak(key + p.to_bytes(WORD, "big")) for key in keys for p in range(MAPPING_SLOTS)
        )

    def allows(self, token: bytes) -> bool:
        """Whether a 20-byte address or 32-byte word may be shared: listed, derived, or small (`small`)."""
        if len(token) == 20:
            return token in self.addresses or small(token) or policy_word(ZERO_PAD + token)
        return (
            token in self.words
            or token in SIGNATURE_V_WORDS
            or small(token)
            or token in self.derived
            or policy_word(token)
        )


def policy_word(word: bytes) -> bool:
    """Whether a word is an ERC-8356 `policy` (carechain.core.grants.Policy): reserved bits zero, ops and
    flags among the defined ones, a known agent kind, ops and purpose code set, notBefore before expiresAt.
    Its fields (two times, ops, purpose code, uses, agent kind, flags) are each below 2^48, so two grants on
    one policy (whole-day times, docs/private-consent.md) share nothing the fields would not: the word is
    allowed as its fields are. A random 32-byte value passes with odds below 2^-90, a random address (whose
    word has the top 12 bytes zero, as a policy without uses, agent or flags has) below 2^-28."""
    try:
        policy = Policy.unpack(int.from_bytes(word, "big"))
    except CareChainError:
        return False
    return bool(policy.ops and policy.purpose_code) and policy.not_before < policy.expires_at


def event_topics(abi: Sequence[Mapping[str, Any]]) -> set[bytes]:
    """topic 0 of each non-anonymous event of a contract ABI."""
    return {
        keccak(text=f"{entry['name']}({','.join(_abi_type(i) for i in entry.get('inputs', []))})")
        for entry in abi
        if isinstance(entry, Mapping) and entry.get("type") == "event" and not entry.get("anonymous")
    }


def _abi_type(argument: Mapping[str, Any]) -> str:
    kind = str(argument["type"])
    if kind.startswith("tuple"):
        return f"({','.join(_abi_type(c) for c in argument['components'])}){kind[5:]}"
    return kind


@cache
def repo_events() -> frozenset[bytes]:
    """The event signatures of the repository's abi/ files (none outside a CareChain project)."""
    try:
        folder = project_root() / "abi"
    except CareChainError:
        return frozenset()
    topics: set[bytes] = set()
    for path in sorted(folder.glob("*.json")):
        abi = json.loads(path.read_text())
        if isinstance(abi, list):
            topics |= event_topics(abi)
    return frozenset(topics)


def small(token: bytes) -> bool:
    """Whether a value is below 2^48 as a big-endian number (issue 17's "values below 2^48")."""
    return int.from_bytes(token, "big") < SMALL


@dataclass(frozen=True)
class Blob:
    """Bytes the chain holds, named by where they are."""

    field: str
    data: bytes
    account: bytes | None = None  # storage: the contract, and the slot (a key, or the slot a value is in)
    slot: int | None = None
    key: bool = False


@dataclass(frozen=True)
class Log:
    """One log of a receipt: its index in the block, its emitter, topics and data."""

    index: int
    address: bytes
    topics: tuple[bytes, ...]
    data: bytes


@dataclass(frozen=True)
class Transaction:
    """One mined transaction as the scan sees it: envelope, calldata, logs, the storage and code it touched
    (`state`), the accounts whose balance it raised, the block's fee recipient aside (`credited`), every
    account its traces name (`touched`), the accounts whose balance it lowered (`debited`), and its access
    and authorization lists' entries (`envelope`)."""

    hash: str
    sender: bytes
    to: bytes | None
    value: int
    calldata: bytes
    logs: tuple[Log, ...] = ()
    state: tuple[Blob, ...] = ()
    credited: tuple[bytes, ...] = ()
    touched: tuple[bytes, ...] = ()
    debited: tuple[bytes, ...] = ()
    envelope: tuple[Blob, ...] = ()  # access list and authorization list entries

    def blobs(self) -> Iterator[Blob]:
        """Everything of the transaction that could hold a value, each named by its field."""
        yield Blob("from", self.sender)
        if self.to is not None:
            yield Blob("to", self.to)
        yield Blob("value", self.value.to_bytes(WORD, "big"))
        yield from self.envelope
        yield Blob("calldata", self.calldata)
        for log in self.logs:
            yield Blob(f"log {log.index} address", log.address)
            for position, topic in enumerate(log.topics):
                yield Blob(f"log {log.index} topic {position}", topic)
            yield Blob(f"log {log.index} data", log.data)
        yield from self.state

    def names(self, grant_id: bytes) -> bool:
        """Whether the calldata or a log holds `grant_id` (at any offset)."""
        return (
            grant_id in self.calldata
            or any(grant_id in topic for log in self.logs for topic in log.topics)
            or any(grant_id in log.data for log in self.logs)
        )

    def names_account(self, account: bytes) -> bool:
        """Whether the transaction names `account`: envelope, calldata, logs (any offset) or its traces."""
        return (
            account in (self.sender, self.to)
            or account in self.touched
            or any(account == log.address for log in self.logs)
            or self.names(account)
        )

    def tokens(
        self, events: Container[bytes] = frozenset(), records: Mapping[tuple[bytes, int], int] | None = None
    ) -> Iterator[Token]:
        """Each 32-byte word and 20-byte address the transaction carries, as the linkage rule compares them:
        the envelope's addresses and value, calldata after the selector, log emitters, topics but a known
        event signature (`events`) as topic 0, log data, in 32-byte steps (see `_words`); then storage keys
        and values, a ConsentGrants record's packed words split into their fields (`records`: (contract,
        slot) -> the record word the slot holds, see `record_slots`)."""
        yield Token(self.sender, "from")
        if self.to is not None:
            yield Token(self.to, "to")
        if self.value:
            yield Token(self.value.to_bytes(WORD, "big"), "value")
        for blob in self.envelope:
            if len(blob.data) == 20:
                yield Token(blob.data, blob.field)
            else:
                yield from _words(blob.data, blob.field, 0, offsets=False)
        start = 0 if self.to is None else 4
        yield from _words(self.calldata, "calldata", start)
        for log in self.logs:
            yield Token(log.address, f"log {log.index} address")
            for position, topic in enumerate(log.topics):
                if position or topic not in events:
                    yield from _words(topic, f"log {log.index} topic {position}", 0, offsets=False)
            yield from _words(log.data, f"log {log.index} data", 0)
        for blob in self.state:
            if blob.slot is None or blob.account is None:
                continue  # code: the contract's, not a grant's
            word = None if blob.key else (records or {}).get((blob.account, blob.slot))
            if word is None:
                yield from _words(blob.data, blob.field, 0, offsets=False)
            elif word in RECORD_ADDRESS_WORDS:
                yield Token(blob.data[12:], blob.field)  # grantee or agent; the fields above are small
            elif word not in RECORD_SMALL_WORDS:
                yield from _words(blob.data, blob.field, 0, offsets=False)

    def accounts(self) -> set[bytes]:
        """Every account the transaction shows as one: sender, recipient, log emitters, accounts credited
        and every account its traces touched."""
        return (
            {self.sender, *([] if self.to is None else [self.to])}
            | {log.address for log in self.logs}
            | set(self.credited)
            | set(self.touched)
        )


@dataclass(frozen=True)
class Token:
    """A value the linkage rule compares, where it is, and the word an address was cut from (if it was)."""

    value: bytes
    where: str
    offset: int | None = None
    within: bytes | None = None


def _words(data: bytes, where: str, start: int, *, offsets: bool = True) -> Iterator[Token]:
    """Each aligned 32-byte word from `start`: a word whose first 12 bytes are zero is an address (ABI
    encoding); any other word also yields its first 20 bytes as an address (`key ‖ inner` of an ERC-1271
    subjectSig, an address packed at the left). A trailing partial word (an ERC-2771 sender appended to
    calldata) is compared padded to 32 bytes on the right, and its first and last 20 bytes as addresses."""
    end = start + (len(data) - start) // WORD * WORD if len(data) > start else start
    for offset in range(start, end, WORD):
        word = data[offset : offset + WORD]
        at = offset if offsets else None
        if word[:12] == ZERO_PAD:
            yield Token(word[12:], where, at)
        else:
            yield Token(word, where, at)
            yield Token(word[:20], where, at, within=word)
    tail = data[end:]
    if tail:
        at = end if offsets else None
        padded = tail.ljust(WORD, b"\0")
        yield Token(padded, where, at)
        if len(tail) >= 20:
            yield Token(tail[:20], where, at, within=padded)
            yield Token(tail[-20:], where, end + len(tail) - 20 if offsets else None, within=padded)


# ---- the address rule: the forms of an address ------------------------------------------------------


@dataclass(frozen=True)
class Needle:
    """One form of a patient's address: what to look for and what to call it."""

    patient: int
    form: str
    data: bytes


def needles(patients: Sequence[Patient]) -> list[Needle]:
    """Every form a patient's wallet address could take on chain (see the module's doc)."""
    found: list[Needle] = []
    for number, patient in enumerate(patients):
        raw = _address_bytes(patient.wallet)
        padded = ZERO_PAD + raw
        found += [
            Needle(number, "32-byte padded", padded),
            Needle(number, "20 bytes", raw),
            Needle(number, "hex text", raw.hex().encode()),
            Needle(number, "keccak256 of the 20 bytes", keccak(raw)),
            Needle(number, "keccak256 of the padded word", keccak(padded)),
            Needle(number, "keccak256 of the 20 bytes, as hex text", keccak(raw).hex().encode()),
            Needle(number, "keccak256 of the padded word, as hex text", keccak(padded).hex().encode()),
        ]
    return found


def mapping_keys(
    patients: Sequence[Patient], bases: Iterable[int] = range(MAPPING_SLOTS)
) -> dict[bytes, tuple[int, int]]:
    """keccak256(padded address ‖ base) -> (patient, base): the storage slot of a mapping keyed by the address
    declared at `base` (see `mapping_bases`)."""
    keys: dict[bytes, tuple[int, int]] = {}
    bases = sorted(set(bases))
    for number, patient in enumerate(patients):
        padded = ZERO_PAD + _address_bytes(patient.wallet)
        for base in bases:
            keys[keccak(padded + base.to_bytes(WORD, "big"))] = (number, base)
    return keys


def mapping_bases(transactions: Sequence[Transaction]) -> set[int]:
    """Where a mapping may be declared: slots 0-255, and for each touched slot in the first 32 of a 256-slot
    boundary (an ERC-7201 namespace's base is keccak256(...) & ~0xff; its fields follow it), the first 64
    slots from that boundary."""
    rounded = {
        blob.slot & ~0xFF
        for tx in transactions
        for blob in tx.state
        if blob.key and blob.slot is not None and blob.slot & 0xFF < NAMESPACE_FIELDS
    }
    return set(range(MAPPING_SLOTS)) | {base + n for base in rounded if base for n in range(NAMESPACE_SLOTS)}


@cache
def nested_keys(tx: Transaction, wallets: tuple[bytes, ...]) -> dict[bytes, tuple[int, str]]:
    """Storage keys of `tx` that are one level of nesting away from a wallet, with an outer or inner key
    taken from the transaction's calldata words: keccak256(x ‖ keccak256(padded address ‖ p)) (a
    mapping(address => mapping(X => ...)) in slot p < 64) and keccak256(padded address ‖ keccak256(x ‖ p))
    (mapping(X => mapping(address => ...))). Deeper nesting, keys from elsewhere and other bases are not
    found this way (docs/private-consent.md)."""
    stored = {blob.data for blob in tx.state if blob.key}
    if not stored:
        return {}
    start = 0 if tx.to is None else 4
    xs = {tx.calldata[o : o + WORD] for o in range(start, len(tx.calldata) - WORD + 1, WORD)}
    found: dict[bytes, tuple[int, str]] = {}
    for number, wallet in enumerate(wallets):
        padded = ZERO_PAD + wallet
        for p in range(NESTED_SLOTS):
            slot = p.to_bytes(WORD, "big")
            inner = keccak(padded + slot)
            for x in xs:
                for key, form in (
                    (keccak(x + inner), f"nested mapping key (address outer, slot {p})"),
                    (keccak(padded + keccak(x + slot)), f"nested mapping key (address inner, slot {p})"),
                ):
                    if key in stored:
                        found[key] = (number, form)
    return found


def find(
    needle: Needle, blob: Blob, lowered: bytes | None = None, nibbles: bytes | None = None
) -> Iterator[tuple[int, str]]:
    """(byte offset, form) of each place `needle` shows in `blob`: as bytes (hex text in any case), or in the
    blob's hex at an odd nibble ("half a byte out of step"; the offset is then the byte it starts in). The
    20 bytes inside a padded word are not reported again. `lowered` and `nibbles` (the blob's data lowered,
    and as hex) may be passed in when many needles are looked for in one blob."""
    text = needle.form.endswith("hex text")
    haystack = (blob.data.lower() if lowered is None else lowered) if text else blob.data
    for offset in _occurrences(haystack, needle.data):
        if needle.form == "20 bytes" and offset >= 12 and blob.data[offset - 12 : offset] == ZERO_PAD:
            continue  # reported as the padded word
        yield offset, needle.form
    if not text:
        hexed = blob.data.hex().encode() if nibbles is None else nibbles
        for position in _occurrences(hexed, needle.data.hex().encode()):
            if position % 2:
                yield position // 2, needle.form + ", half a byte out of step"


def _occurrences(haystack: bytes, needle: bytes) -> Iterator[int]:
    offset = haystack.find(needle)
    while offset != -1:
        yield offset
        offset = haystack.find(needle, offset + 1)


def address_findings(transactions: Sequence[Transaction], patients: Sequence[Patient]) -> list[Finding]:
    """ADDRESS: each place a patient's wallet address shows, in any of its forms."""
    looked_for = needles(patients)
    keys = mapping_keys(patients, mapping_bases(transactions))
    wallets = tuple(_address_bytes(p.wallet) for p in patients)
    found: list[Finding] = []
    for tx in transactions:
        nested = nested_keys(tx, wallets)
        for blob in tx.blobs():
            lowered, nibbles = blob.data.lower(), blob.data.hex().encode()
            for needle in looked_for:
                for offset, form in find(needle, blob, lowered, nibbles):
                    found.append(
                        Finding(
                            Rule.ADDRESS, tx.hash, blob.field, offset, _who(patients, needle.patient, form)
                        )
                    )
            if not blob.key:
                continue
            if blob.data in keys:
                number, base = keys[blob.data]
                form = (
                    f"mapping key (slot {base})" if base < MAPPING_SLOTS else f"mapping key (slot {base:#x})"
                )
            elif blob.data in nested:
                number, form = nested[blob.data]
            else:
                continue
            found.append(Finding(Rule.ADDRESS, tx.hash, blob.field, None, _who(patients, number, form)))
    return found


def _who(patients: Sequence[Patient], number: int, form: str) -> str:
    return f"patient {number}'s wallet {patients[number].wallet} as {form}"


# ---- the sender rules --------------------------------------------------------------------------------


def sender_findings(transactions: Sequence[Transaction], patients: Sequence[Patient]) -> list[Finding]:
    """SENDER for each transaction a patient's wallet sent. FUNDER by balance flow: an account whose balance
    rose in a transaction where a patient's wallet, or an account already so funded, sent or lost ether, is
    funded by the patient (transitively; contracts included); the first transaction in which a funded
    account sends, or pays ether out (its balance falls), is a finding. When several accounts lose and gain
    in one transaction, every gainer counts as funded: an over-approximation, never a miss."""
    wallets = {_address_bytes(p.wallet): number for number, p in enumerate(patients)}
    funded: dict[bytes, tuple[int, str]] = {}  # account -> (patient, transaction that paid it)
    reported: set[bytes] = set()
    found: list[Finding] = []
    for tx in transactions:
        origins: list[tuple[int, str]] = []
        if tx.sender in wallets:
            number = wallets[tx.sender]
            found.append(Finding(Rule.SENDER, tx.hash, "from", None, _who(patients, number, "the sender")))
            origins.append((number, tx.hash))
        for account in dict.fromkeys((tx.sender, *tx.debited)):
            if account in wallets:
                origins.append((wallets[account], tx.hash))
            elif account in funded:
                origins.append(funded[account])
                if account not in reported:
                    reported.add(account)
                    number, paid_in = funded[account]
                    how = "sender" if account == tx.sender else "payer"
                    found.append(
                        Finding(
                            Rule.FUNDER,
                            tx.hash,
                            "from" if account == tx.sender else "balance",
                            None,
                            f"{how} 0x{account.hex()} was paid by patient {number}'s wallet "
                            f"{patients[number].wallet} (tx {paid_in}, or an account it funded)",
                        )
                    )
        if not origins:
            continue
        for account in tx.credited:  # the sender too: its balance rose net of the fee
            if account not in wallets:
                funded.setdefault(account, origins[0])
    return found


# ---- the grant rules ---------------------------------------------------------------------------------


def grant_trees(
    transactions: Sequence[Transaction], grants_contract: str, roots: Iterable[bytes]
) -> dict[bytes, set[bytes]]:
    """Root grant id -> the ids of it and all its descendants, from the contract's ConsentSubGranted logs."""
    emitter = _address_bytes(grants_contract)
    children: dict[bytes, set[bytes]] = defaultdict(set)
    for tx in transactions:
        for log in tx.logs:
            if log.address == emitter and len(log.topics) == 3 and log.topics[0] == SUB_GRANTED:
                children[log.topics[2]].add(log.topics[1])
    trees: dict[bytes, set[bytes]] = {}
    for root in roots:
        tree, todo = {root}, [root]
        while todo:
            for child in children[todo.pop()] - tree:
                tree.add(child)
                todo.append(child)
        trees[root] = tree
    return trees


def record_slots(
    transactions: Sequence[Transaction], grants_contract: str, grant_ids: Iterable[bytes]
) -> dict[tuple[bytes, int], int]:
    """(contract, slot) -> record word (0-6) for the ConsentGrants records of `grant_ids` the range touched:
    a record is the mapping entry keccak256(id ‖ p) for the base slot p (0-255) of `_records`, found when
    one of its seven words is a storage key of the contract."""
    emitter = _address_bytes(grants_contract)
    keys = {blob.slot for tx in transactions for blob in tx.state if blob.key and blob.account == emitter}
    slots: dict[tuple[bytes, int], int] = {}
    for grant_id in grant_ids:
        for p in range(MAPPING_SLOTS):
            base = int.from_bytes(keccak(grant_id + p.to_bytes(WORD, "big")), "big")
            if any(base + word in keys for word in range(RECORD_WORDS)):
                slots.update({(emitter, base + word): word for word in range(RECORD_WORDS)})
                break
    return slots


def grant_findings(
    transactions: Sequence[Transaction], patients: Sequence[Patient], allowed: AllowList, grants_contract: str
) -> list[Finding]:
    """SAME_TX and LINKED (see the module's doc). A transaction carrying two grants of a patient is one
    SAME_TX finding; its values are left out of LINKED, where each would link the two grants again."""
    trees = grant_trees(transactions, grants_contract, (g for p in patients for g in p.grants))
    accounts = set().union(*(tx.accounts() for tx in transactions))
    records = record_slots(transactions, grants_contract, set().union(*trees.values()))
    found: list[Finding] = []
    for number, patient in enumerate(patients):
        keys: dict[bytes, list[bytes]] = {root: [] for root in patient.grants}
        for root, key in patient.subject_keys:
            keys.setdefault(root, []).append(key)
        carried: dict[bytes, list[Transaction]] = {
            root: [
                tx
                for tx in transactions
                if any(tx.names(grant) for grant in trees[root])
                or any(tx.names_account(k) for k in keys[root])
            ]
            for root in patient.grants
        }
        by_tx: dict[str, list[bytes]] = defaultdict(list)
        for root, txs in carried.items():
            for tx in txs:
                by_tx[tx.hash].append(root)
        for tx_hash, roots in by_tx.items():
            if len(roots) > 1:
                listed = ", ".join(f"0x{root.hex()}" for root in roots)
                found.append(
                    Finding(
                        Rule.SAME_TX,
                        tx_hash,
                        "calldata and logs",
                        None,
                        f"patient {number}'s grants {listed}",
                    )
                )
        shared = {tx_hash for tx_hash, roots in by_tx.items() if len(roots) > 1}  # reported above, once
        alone = {root: [tx for tx in txs if tx.hash not in shared] for root, txs in carried.items()}
        found += _linked(number, alone, allowed, accounts, records)
    return found


def _linked(
    number: int,
    carried: Mapping[bytes, Sequence[Transaction]],
    allowed: AllowList,
    accounts: set[bytes],
    records: Mapping[tuple[bytes, int], int],
) -> list[Finding]:
    """LINKED for one patient: a token in the chain data of two of their grants, from two transactions.
    Besides the aligned tokens (`Transaction.tokens`), each of `accounts` not allowed is looked for at any
    byte offset of everything the transaction holds (`Transaction.blobs`)."""
    seen: dict[bytes, dict[bytes, dict[str, Place]]] = defaultdict(dict)  # token -> root -> tx -> first place
    found: list[Finding] = []
    reported: set[tuple[bytes, frozenset[bytes]]] = set()
    suspects = {account for account in accounts if not allowed.allows(account)}
    for root, txs in carried.items():
        for tx in txs:
            for token in _compared(tx, suspects, allowed.events, records):
                if allowed.allows(token.value) or (token.within is not None and allowed.allows(token.within)):
                    continue
                place = (tx.hash, token.where, token.offset)
                if token.within is not None and set(seen[token.within]) - {root}:
                    seen[token.value].setdefault(root, {}).setdefault(tx.hash, place)
                    continue  # the whole word links already
                for other, places in seen[token.value].items():
                    pair = (token.value, frozenset((root, other)))
                    elsewhere = [place for other_tx, place in places.items() if other_tx != tx.hash]
                    if other == root or not elsewhere or pair in reported:
                        continue
                    reported.add(pair)
                    other_tx, other_where, other_offset = elsewhere[0]
                    at = "" if other_offset is None else f" at byte {other_offset}"
                    found.append(
                        Finding(
                            Rule.LINKED,
                            tx.hash,
                            token.where,
                            token.offset,
                            f"0x{token.value.hex()} of patient {number}'s grant 0x{root.hex()} is also in "
                            f"grant 0x{other.hex()}'s tx {other_tx}, {other_where}{at}",
                        )
                    )
                seen[token.value].setdefault(root, {}).setdefault(tx.hash, place)
    return found


def _compared(
    tx: Transaction, suspects: set[bytes], events: Container[bytes], records: Mapping[tuple[bytes, int], int]
) -> Iterator[Token]:
    yield from tx.tokens(events, records)
    for blob in tx.blobs():
        for account in suspects:
            offset = blob.data.find(account)
            if offset != -1:
                yield Token(account, blob.field, offset)


# ---- reading the chain, and the whole scan -----------------------------------------------------------


def check(
    transactions: Sequence[Transaction], patients: Sequence[Patient], allowed: AllowList, grants_contract: str
) -> list[Finding]:
    """Every rule over transactions already read (in block order)."""
    return (
        address_findings(transactions, patients)
        + sender_findings(transactions, patients)
        + grant_findings(transactions, patients, allowed, grants_contract)
    )


def read_chain(
    w3: Web3, first_block: int, last_block: int | None = None, *, traces: bool = True, preimages: bool = False
) -> list[Transaction]:
    """Every transaction of blocks `first_block` to `last_block` (default: the latest), in order, with its
    logs and the storage and code it touched: four calls a block (the block, eth_getBlockReceipts, and
    debug_traceBlockByNumber with the prestateTracer plain and in diffMode, see the module's doc). With
    `traces=False`, for a node without them (Ganache): envelopes and logs only, a receipt a transaction, no
    storage, code or balances (so the funding rule sees nothing). With `preimages=True`, also the input of
    every KECCAK256 each transaction ran (`keccak_inputs`): a mapping keyed by a patient's address at any
    depth and base then shows the padded address there. Slow (a struct log with memory a transaction), and
    Anvil gives it only when started with `--steps-tracing`."""
    last = w3.eth.block_number if last_block is None else last_block
    seen_code: set[tuple[str, bytes]] = set()
    transactions: list[Transaction] = []
    for number in range(first_block, last + 1):
        block = w3.eth.get_block(number, full_transactions=True)
        if not block["transactions"]:
            continue
        miner = _address_bytes(str(block["miner"]))
        if traces:
            receipts = {
                _hash(r["transactionHash"]): r for r in _call(w3, "eth_getBlockReceipts", [hex(number)])
            }
            touched_all = _block_traces(w3, number, diff=False)
            diff_all = _block_traces(w3, number, diff=True)
        else:
            hashes = [bytes(tx["hash"]) for tx in block["transactions"] if not isinstance(tx, bytes)]
            receipts = {_hash(h): w3.eth.get_transaction_receipt(HexBytes(h)) for h in hashes}
            touched_all = diff_all = defaultdict(dict)
        for tx in block["transactions"]:
            assert not isinstance(tx, bytes)  # full_transactions
            tx_hash = _hash(tx["hash"])
            touched, diff = touched_all[tx_hash], diff_all[tx_hash]
            transactions.append(
                Transaction(
                    tx_hash,
                    _address_bytes(str(tx["from"])),
                    None if tx.get("to") is None else _address_bytes(str(tx["to"])),
                    int(tx["value"]),
                    bytes(tx["input"]),
                    tuple(
                        Log(
                            _int(log["logIndex"]),
                            _address_bytes(str(log["address"])),
                            tuple(_bytes(topic) for topic in log["topics"]),
                            _bytes(log["data"]),
                        )
                        for log in receipts[tx_hash]["logs"]
                    ),
                    tuple(_state(touched, diff, seen_code))
                    + (tuple(keccak_inputs(w3, tx_hash, touched)) if preimages else ()),
                    tuple(_credited(diff, miner)),
                    tuple(_address_bytes(a) for a in {*touched, *diff.get("pre", {}), *diff.get("post", {})}),
                    tuple(_debited(diff)),
                    tuple(_envelope_lists(tx)),
                )
            )
    return transactions


def keccak_inputs(w3: Web3, tx_hash: str, touched: Mapping[str, Any]) -> Iterator[Blob]:
    """The input of each KECCAK256 the transaction ran, from a struct log with memory (offset on top of the
    stack, size below it; memory as 32-byte words before the op, zero past its end). A node that returns
    no steps for a transaction that ran code (Anvil without `--steps-tracing`) is a ConfigError."""
    config = {"enableMemory": True, "disableStorage": True, "enableReturnData": False}
    response = w3.provider.make_request("debug_traceTransaction", [tx_hash, config])  # type: ignore[arg-type]
    result = response.get("result")
    steps = result.get("structLogs") if isinstance(result, dict) else None
    ran_code = any(fields.get("code") not in (None, "0x") for fields in touched.values())
    if steps is None or (not steps and ran_code):
        raise ConfigError(
            f"the node gives no struct log steps for {tx_hash} ({response.get('error')}): keccak preimages "
            "need geth's struct logger with memory, on Anvil started with --steps-tracing"
        )
    for number, step in enumerate(steps):
        if step.get("op") not in ("KECCAK256", "SHA3"):
            continue
        offset, size = int(step["stack"][-1], 16), int(step["stack"][-2], 16)
        memory = b"".join(_hex(word).rjust(WORD, b"\0") for word in step.get("memory") or [])
        yield Blob(f"keccak input (step {number})", memory[offset : offset + size].ljust(size, b"\0"))


def _envelope_lists(tx: Mapping[str, Any]) -> Iterator[Blob]:
    """An EIP-2930 access list's addresses and storage keys, an EIP-7702 authorization list's addresses."""
    for number, entry in enumerate(tx.get("accessList") or []):
        yield Blob(f"access list {number} address", _address_bytes(str(entry["address"])))
        for position, key in enumerate(entry.get("storageKeys") or []):
            yield Blob(f"access list {number} key {position}", _bytes(key).rjust(WORD, b"\0"))
    for number, entry in enumerate(tx.get("authorizationList") or []):
        yield Blob(f"authorization {number} address", _address_bytes(str(entry["address"])))


def scan(
    w3: Web3,
    first_block: int,
    patients: Sequence[Patient],
    allowed: AllowList,
    grants_contract: str,
    last_block: int | None = None,
    *,
    preimages: bool = False,
) -> list[Finding]:
    """Every rule over blocks `first_block` to `last_block` (default: the latest); [] when none is broken.
    `preimages`: see `read_chain`."""
    transactions = read_chain(w3, first_block, last_block, preimages=preimages)
    return check(transactions, patients, allowed, grants_contract)


def _call(w3: Web3, method: str, params: list[Any]) -> Any:
    response = w3.provider.make_request(method, params)  # type: ignore[arg-type]
    if "error" in response or not isinstance(response.get("result"), list):
        tracer = f" with the prestateTracer {params[1]}" if method.startswith("debug_") else ""
        raise ConfigError(
            f"the node cannot answer {method}{tracer} ({response.get('error')}): the scan needs Anvil or a "
            "node with geth's tracers (prestateTracer) and eth_getBlockReceipts"
        )
    return response["result"]


def _block_traces(w3: Web3, number: int, *, diff: bool) -> dict[str, dict[str, Any]]:
    """Transaction hash -> its prestateTracer result, for every transaction of the block."""
    config: dict[str, Any] = {"tracer": "prestateTracer", "tracerConfig": {"diffMode": diff}}
    return {
        _hash(t["txHash"]): t["result"] for t in _call(w3, "debug_traceBlockByNumber", [hex(number), config])
    }


def _hash(value: Any) -> str:
    return "0x" + _bytes(value).hex()


def _bytes(value: Any) -> bytes:
    return _hex(value) if isinstance(value, str) else bytes(value)


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def _state(
    touched: Mapping[str, Any], diff: Mapping[str, Any], seen_code: set[tuple[str, bytes]]
) -> Iterator[Blob]:
    """Touched slots (key, value before), written slots (value after), each contract's code once."""
    for when, accounts in (("before", touched), ("after", diff.get("post", {}))):
        for account, fields in accounts.items():
            for slot, value in (fields.get("storage") or {}).items():
                raw, number = _address_bytes(account), int(slot, 16)
                if when == "before":
                    yield Blob(f"storage key {account} slot {slot}", _hex(slot), raw, number, key=True)
                yield Blob(
                    f"storage {account} slot {slot} {when}", _hex(value).rjust(WORD, b"\0"), raw, number
                )
            code = _hex(fields.get("code") or "0x")
            if code and (account, keccak(code)) not in seen_code:
                seen_code.add((account, keccak(code)))
                yield Blob(f"code {account}", code)
    for account, fields in diff.get("post", {}).items():  # slots first written here
        for slot in fields.get("storage") or {}:
            if slot not in (touched.get(account, {}).get("storage") or {}):
                yield Blob(
                    f"storage key {account} slot {slot}",
                    _hex(slot),
                    _address_bytes(account),
                    int(slot, 16),
                    True,
                )


def _credited(diff: Mapping[str, Any], miner: bytes) -> Iterator[bytes]:
    pre, post = diff.get("pre", {}), diff.get("post", {})
    for account, fields in post.items():
        raw = _address_bytes(account)
        if raw != miner and "balance" in fields:
            before = int(pre.get(account, {}).get("balance", "0x0"), 16)
            if int(fields["balance"], 16) > before:
                yield raw


def _debited(diff: Mapping[str, Any]) -> Iterator[bytes]:
    pre, post = diff.get("pre", {}), diff.get("post", {})
    for account, fields in post.items():
        if "balance" in fields and int(fields["balance"], 16) < int(
            pre.get(account, {}).get("balance", "0x0"), 16
        ):
            yield _address_bytes(account)


def _hex(value: str) -> bytes:
    digits = value.removeprefix("0x")
    return bytes.fromhex(digits.rjust(len(digits) + len(digits) % 2, "0"))


def _address_bytes(address: str) -> bytes:
    return bytes.fromhex(checksum(address)[2:])
