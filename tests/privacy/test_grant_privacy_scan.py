"""Issue 17's privacy scan (carechain.dev.privacy_scan) on a real chain: two patients' grants made the private
way (per-grant keys from each wallet's one KeyDerivation signature, acts signed by the subject key and sent by
the relayer), a sub-grant and a revocation leave nothing the scan objects to; then each control case puts one
leak on chain, on top of that scenario, and the scan names it.

The scenario is read once (module fixture); each control adds a transaction or two, rolled back after it, and
only those new blocks are read again."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest
from brownie import accounts, web3
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from grants_support import HMB, PROFILE, TERMS, YEAR, grant_input

from carechain.clients import ConsentGrantsClient
from carechain.core import deployments, keys
from carechain.core.grants import FLAG_DELEGABLE, GrantInput, Op, Policy
from carechain.core.keys import GrantKeys, KeyRoot
from carechain.dev.privacy_scan import (
    AllowList,
    Finding,
    Patient,
    Rule,
    Transaction,
    check,
    grant_trees,
    read_chain,
    scan,
)

ETHER = 10**18
DAY = 86400
PURPOSE_OF = [
    {
        "name": "purposeOf",
        "type": "function",
        "stateMutability": "view",
        "inputs": [{"name": "code", "type": "uint32"}],
        "outputs": [
            {
                "name": "",
                "type": "tuple",
                "components": [
                    {"name": "term", "type": "bytes32"},
                    {"name": "release", "type": "bytes32"},
                    {"name": "narrows", "type": "uint32"},
                ],
            }
        ],
    }
]
MASK = keccak(text="carechain privacy scan: control mask")  # hides the address from the control's calldata


@dataclass(frozen=True)
class Scenario:
    """What the private-model run left: its transactions, the patients' wallets and keys, and the public
    values two grants of one patient may share."""

    blocks: tuple[int, int]
    transactions: list[Transaction]
    wallets: list[LocalAccount]
    roots: list[list[GrantKeys]]
    sub_grant: bytes
    allowed: AllowList
    grants_contract: str

    def patients(self, extra: dict[int, list[bytes]] | None = None) -> list[Patient]:
        """The patients as the scan takes them, with `extra` root grants for some."""
        return [
            Patient.of(wallet.address, [k.commitment for k in roots] + (extra or {}).get(number, []))
            for number, (wallet, roots) in enumerate(zip(self.wallets, self.roots, strict=True))
        ]

    def scan_with(self, first_block: int, extra: dict[int, list[bytes]] | None = None) -> list[Finding]:
        """The rules over the scenario plus the blocks from `first_block` on (a control's)."""
        added = read_chain(web3, first_block)
        return check(self.transactions + added, self.patients(extra), self.allowed, self.grants_contract)


def key_root_of(wallet: LocalAccount, relay: ConsentGrantsClient) -> KeyRoot:
    return KeyRoot.from_signature(keys.sign_derivation(wallet, web3.eth.chain_id, relay.address))


@pytest.fixture(scope="module")
def scenario(project, relay, hospital, lab) -> Scenario:
    """Patients 0 and 1 (wallets known to no node) grant twice each to the hospital, each grant with its own
    keys, all from today's midnight for a year (patient 1's two on one policy); the hospital sub-grants
    patient 0's first grant to the lab; patient 1 withdraws their second grant. Every subject act is signed
    by its grant's key and sent by the relayer."""
    wallets = [Account.from_key(keccak(text=f"carechain privacy scan: patient {n}")) for n in range(2)]
    roots = [[key_root_of(wallet, relay).grant_keys("subject", i) for i in range(2)] for wallet in wallets]
    first = web3.eth.block_number + 1
    today = web3.eth.get_block("latest")["timestamp"] // DAY * DAY
    for number, subjects in enumerate(roots):
        for index, subject in enumerate(subjects):
            delegable = FLAG_DELEGABLE if (number, index) == (0, 0) else 0
            ops = Op.READ | Op.DERIVE if delegable else Op.READ
            # Whole-day times, the same for every grant made that day (docs/private-consent.md): patient
            # 1's two grants carry one and the same policy word.
            policy = Policy(today, today + YEAR, ops, HMB, flags=delegable)
            relay.sign_and_grant(
                subject, replace(grant_input(subject, hospital.sender.address), policy=policy)
            )
    parent = relay.get_grant(roots[0][0].commitment)
    narrower = GrantInput(
        parent.scope_ref,
        PROFILE,
        TERMS,
        0,
        parent.subject_commit,
        lab.sender.address,
        parent.agent,
        Policy(parent.not_before, parent.expires_at - 86400, Op.READ, HMB),
    )
    _, sub_grant = hospital.sub_grant(parent.grant_id, narrower)
    relay.sign_and_revoke(roots[1][1], roots[1][1].commitment)
    purposes = deployments.Manifest.load(project, web3.eth.chain_id).address("PurposeRegistry")
    public = [relay.address, purposes, relay.sender.address, hospital.sender.address, lab.sender.address]
    # The purpose code and its registry entry (term, release: public by registration), which ConsentGrants
    # reads for every grant: the code as a word, so the entry's storage keys are allowed too.
    term, release, _ = web3.eth.contract(purposes, abi=PURPOSE_OF).functions.purposeOf(HMB).call()
    return Scenario(
        (first, web3.eth.block_number),
        read_chain(web3, first),
        wallets,
        roots,
        sub_grant,
        AllowList.of(public, [PROFILE, TERMS, HMB, term, release]),
        relay.address,
    )


def rules(found: list[Finding]) -> set[tuple[Rule, str]]:
    return {(finding.rule, finding.field) for finding in found}


# ---- the private model passes --------------------------------------------------------------------


def test_the_private_model_leaves_nothing_the_scan_objects_to(scenario):
    first, last = scenario.blocks
    found = scan(web3, first, scenario.patients(), scenario.allowed, scenario.grants_contract, last)
    assert found == [], "\n".join(map(str, found))


def test_the_scan_read_the_whole_scenario(scenario):
    """Six transactions (four grants, the sub-grant, the revocation), each with logs and storage, and the
    sub-grant found under its root: the pass above is not a pass over nothing."""
    txs = scenario.transactions
    assert len(txs) == 6
    assert all(tx.logs for tx in txs)
    assert all(any(blob.field.startswith("storage ") for blob in tx.state) for tx in txs)
    trees = grant_trees(txs, scenario.grants_contract, [k.commitment for k in scenario.roots[0]])
    assert trees[scenario.roots[0][0].commitment] == {scenario.roots[0][0].commitment, scenario.sub_grant}
    assert not {tx.sender for tx in txs} & {bytes.fromhex(w.address[2:]) for w in scenario.wallets}


# ---- each leak is caught -------------------------------------------------------------------------


def forms_of(address: str) -> dict[str, bytes]:
    raw = bytes.fromhex(address[2:])
    return {
        "20 bytes": raw,
        "32-byte padded": bytes(12) + raw,
        "hex text": raw.hex().encode(),
        "HEX TEXT": raw.hex().upper().encode(),
        "EIP-55 text": to_checksum_address(address).encode(),
        "keccak256 of the 20 bytes": keccak(raw),
        "keccak256 of the padded word": keccak(bytes(12) + raw),
    }


@pytest.mark.parametrize("form", list(forms_of("0x" + "00" * 20)))
def test_the_address_in_calldata_in_each_form(scenario, form):
    wallet = scenario.wallets[1].address
    first = web3.eth.block_number + 1
    accounts[0].transfer(accounts[5], 0, data="0x" + (b"\x07note:" + forms_of(wallet)[form]).hex())
    found = [f for f in scenario.scan_with(first) if f.rule is Rule.ADDRESS]
    offset = 6 + 2 * (form == "EIP-55 text")  # after "0x"
    assert [(f.field, f.offset, f.detail.split(" as ", 1)[1]) for f in found] == [
        ("calldata", offset, "hex text" if form.lower().endswith("text") else form)
    ], found


def sink(runtime: bytes) -> str:
    """A contract with `runtime` as its code (deployed by accounts[0])."""
    initcode = bytes([0x60, len(runtime), 0x80, 0x60, 9, 0x5F, 0x39, 0x5F, 0xF3]) + runtime
    tx_hash = web3.eth.send_transaction({"from": accounts[0].address, "data": initcode})
    address = web3.eth.wait_for_transaction_receipt(tx_hash)["contractAddress"]
    assert address is not None
    return str(address)


UNMASK = bytes([0x7F]) + MASK + bytes([0x5F, 0x35, 0x18])  # calldata word 0 XOR MASK on the stack
STORE = UNMASK + bytes([0x5F, 0x55, 0x00])  # SSTORE(0, it)
EMIT = UNMASK + bytes([0x5F, 0x5F, 0xA1, 0x00])  # LOG1(0, 0, it)


def call_hiding(contract: str, padded: bytes) -> str:
    """accounts[0] calls `contract` with `padded` XOR MASK: calldata that shows the address in no form."""
    hidden = bytes(a ^ b for a, b in zip(padded, MASK, strict=True))
    tx = web3.eth.send_transaction({"from": accounts[0].address, "to": contract, "data": "0x" + hidden.hex()})
    return "0x" + bytes(web3.eth.wait_for_transaction_receipt(tx)["transactionHash"]).hex()


def padded_wallet(scenario: Scenario) -> bytes:
    return bytes(12) + bytes.fromhex(scenario.wallets[0].address[2:])


def test_the_address_in_an_event_only(scenario):
    """A contract makes the padded address from calldata that does not show it, and emits it as a topic."""
    contract = sink(EMIT)
    first = web3.eth.block_number + 1
    call_hiding(contract, padded_wallet(scenario))
    found = [f for f in scenario.scan_with(first) if f.rule is Rule.ADDRESS]
    assert [(f.field, f.detail.split(" as ", 1)[1]) for f in found] == [("log 0 topic 0", "32-byte padded")]


def test_the_address_in_storage_only_even_once_overwritten(scenario):
    """A contract makes the padded address from calldata that does not show it and stores it; a second call
    clears the slot. The scan sees the value the first call wrote, and the second read before clearing it."""
    contract = sink(STORE)
    first = web3.eth.block_number + 1
    stored = call_hiding(contract, padded_wallet(scenario))
    cleared = call_hiding(contract, bytes(32))
    assert web3.eth.get_storage_at(contract, 0) == bytes(32)
    found = [f for f in scenario.scan_with(first) if f.rule is Rule.ADDRESS]
    slot = f"storage {contract.lower()} slot 0x{'00' * 32}"
    assert [(f.tx, f.field, f.detail.split(" as ", 1)[1]) for f in found] == [
        (stored, f"{slot} after", "32-byte padded"),
        (cleared, f"{slot} before", "32-byte padded"),
    ]


def send_from(wallet: LocalAccount, to: str, value: int, gas: int = 21000) -> None:
    """A transaction signed by `wallet` itself (what a patient's wallet must never do)."""
    signed = wallet.sign_transaction(
        {
            "to": to,
            "value": value,
            "gas": gas,
            "gasPrice": web3.eth.gas_price,
            "nonce": web3.eth.get_transaction_count(wallet.address),
            "chainId": web3.eth.chain_id,
        }
    )
    web3.eth.wait_for_transaction_receipt(web3.eth.send_raw_transaction(signed.raw_transaction))


def give_ether(address: str) -> None:
    """Ether out of thin air (Anvil), so that no funding transaction shows."""
    assert "error" not in web3.provider.make_request("anvil_setBalance", [address, hex(ETHER)])


def test_a_patient_wallet_that_sends(scenario):
    wallet = scenario.wallets[0]
    give_ether(wallet.address)
    first = web3.eth.block_number + 1
    send_from(wallet, accounts[5].address, 0)
    assert rules(scenario.scan_with(first)) == {(Rule.SENDER, "from"), (Rule.ADDRESS, "from")}


@pytest.mark.parametrize("funded", ["relayer", "a fresh account"])
def test_a_patient_wallet_that_funds_a_sender(scenario, relay, hospital, funded):
    """The patient pays the relayer, which then sends a grant; or a fresh account, which pays the relayer."""
    wallet = scenario.wallets[1]
    give_ether(wallet.address)
    fresh = Account.create()
    first = web3.eth.block_number + 1
    if funded == "relayer":
        send_from(wallet, relay.sender.address, ETHER // 10)
    else:
        send_from(wallet, fresh.address, ETHER // 10)
        send_from(fresh, relay.sender.address, ETHER // 100)
    subject = key_root_of(scenario.wallets[0], relay).grant_keys("subject", 7)
    relay.sign_and_grant(subject, grant_input(subject, hospital.sender.address))
    found = [f for f in scenario.scan_with(first) if f.rule is Rule.FUNDER]
    funded_senders = {f.detail.split()[1] for f in found}
    expected = {relay.sender.address.lower()} | ({fresh.address.lower()} if funded != "relayer" else set())
    assert funded_senders == expected, found


# A vault: a call with ether keeps it; a call without pays the vault's whole balance to the caller.
VAULT = bytes([0x34, 0x15, 0x60, 6, 0x57, 0x00, 0x5B, 0x5F, 0x5F, 0x5F, 0x5F, 0x47, 0x33, 0x5A, 0xF1, 0x00])


def test_a_patient_wallet_that_funds_the_relayer_through_a_contract(scenario, relay, hospital):
    """The patient deposits into a vault; the relayer withdraws it (the vault pays out) and then sends a
    grant: both the vault and the relayer are named, followed by balance flow, not by who sent what."""
    wallet = scenario.wallets[1]
    give_ether(wallet.address)
    vault = sink(VAULT)
    first = web3.eth.block_number + 1
    send_from(wallet, vault, ETHER // 10, gas=30000)
    withdrawal = web3.eth.wait_for_transaction_receipt(
        web3.eth.send_transaction({"from": relay.sender.address, "to": vault})
    )
    assert web3.eth.get_balance(vault) == 0
    subject = key_root_of(scenario.wallets[0], relay).grant_keys("subject", 7)
    relay.sign_and_grant(subject, grant_input(subject, hospital.sender.address))
    found = [f for f in scenario.scan_with(first) if f.rule in (Rule.FUNDER, Rule.SENDER)]
    assert [(f.rule, f.detail.split()[1]) for f in found] == [
        (Rule.SENDER, "1's"),
        (Rule.FUNDER, vault.lower()),
        (Rule.FUNDER, relay.sender.address.lower()),
    ], found
    assert found[1].tx == "0x" + bytes(withdrawal["transactionHash"]).hex()


def test_a_scope_salt_used_for_two_grants_links_them(scenario, relay, hospital):
    """Patient 0's third grant reuses their first grant's scope salt: same scopeRef, one word in both."""
    first_grant, third = (
        scenario.roots[0][0],
        key_root_of(scenario.wallets[0], relay).grant_keys("subject", 2),
    )
    first = web3.eth.block_number + 1
    reused = replace(
        grant_input(third, hospital.sender.address, lasts=2 * YEAR),
        scope_ref=relay.get_grant(first_grant.commitment).scope_ref,
    )
    relay.sign_and_grant(third, reused)
    found = scenario.scan_with(first, {0: [third.commitment]})
    assert [(f.rule, f.field, f.offset) for f in found] == [(Rule.LINKED, "calldata", 4)], found
    assert f"0x{reused.scope_ref.hex()}" in found[0].detail


def test_two_grants_of_one_patient_in_one_batch(scenario, relay, hospital):
    root = key_root_of(scenario.wallets[1], relay)
    subjects = [root.grant_keys("subject", i) for i in (2, 3)]
    items = [
        (g, relay.sign_grant(s, g))
        for s, g in (
            (s, grant_input(s, hospital.sender.address, lasts=YEAR + 60 * s.index)) for s in subjects
        )
    ]
    first = web3.eth.block_number + 1
    batch = relay.grant_batch(items)
    assert batch.minted == (0, 1)
    found = scenario.scan_with(first, {1: [s.commitment for s in subjects]})
    tx_hash = "0x" + batch.result.tx_hash.removeprefix("0x").lower()
    assert [(f.rule, f.tx) for f in found] == [(Rule.SAME_TX, tx_hash)], found
