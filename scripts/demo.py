"""brownie run scripts/demo.py: patients grant, relay, delegate, check and revoke consents.

Runs on brownie's local Anvil (or Ganache: --network ganache7) and says what happens in plain
words, with transaction hashes and gas used.
"""

import warnings

from brownie import accounts, chain, web3
from eth_account import Account

from carechain import purposes
from carechain.chain import Sender, TxResult
from carechain.clients.consent import ConsentClient
from carechain.deployments import deploy
from carechain.errors import CareChainError
from carechain.purposes import Scope
from carechain.toolchain import project_root

GRANT_BUDGET = 55_600  # 1.2 x the 46,336-gas physical floor of one packed slot + a three-topic event
EAS_ATTEST = 274_479  # the Ethereum Attestation Service's attest() for comparable work
DAY = 86_400

warnings.filterwarnings("ignore", category=FutureWarning)  # brownie's own rpc.* deprecation notes


def say(text: str) -> None:
    print(f"  {text}")


def step(title: str) -> None:
    print(f"\n== {title}")


def tx(what: str, result: TxResult) -> None:
    say(f"{what}: tx {result.tx_hash[:18]}… block {result.block_number}, {result.gas_used:,} gas")


def check(
    consent: ConsentClient, patient: str, who: str, grantee: str, purpose: str, scopes: list[str]
) -> bool:
    permitted = consent.is_permitted(
        patient, grantee, purposes.purpose_id(purpose), purposes.scopes_mask(scopes)
    )
    verdict = "PERMITTED" if permitted else "NOT permitted"
    say(f"may {who} use {'+'.join(scopes)} for {purpose}? {verdict}")
    return permitted


def main() -> None:
    root = project_root()
    names = [
        "deployer",
        "Alice (patient)",
        "Dr Reyes (researcher)",
        "St Mary's clinic (relayer)",
        "Sam's parent",
        "Sam (a minor)",
    ]
    deployer, alice, researcher, clinic, parent, sam = (accounts[i] for i in range(6))
    bob = Account.create()  # a patient with a key and no ether: he only signs

    step("Deploy")
    manifest = deploy(web3, Sender(web3, deployer.address), root, log=say)
    base = ConsentClient.from_manifest(web3, root)
    say(f"ConsentRegistry at {base.address} on chain {web3.eth.chain_id}; manifest {manifest.path.name}")
    for name, account in zip(names, (deployer, alice, researcher, clinic, parent, sam), strict=True):
        say(f"{name:28} {account.address}")
    say(f"{'Bob (patient, no ether)':28} {bob.address}")

    def as_(account) -> ConsentClient:
        return base.with_sender(Sender(web3, account.address))

    hmb, labs_genomics = purposes.purpose_id("HMB"), int(Scope.LABS | Scope.GENOMICS)

    step("Alice grants Dr Reyes research consent (DUO:0000006 HMB) over labs + genomics for 90 days")
    result = as_(alice).grant(researcher.address, hmb, labs_genomics, chain.time() + 90 * DAY)
    tx("granted", result)
    verdict = "within" if result.gas_used <= GRANT_BUDGET else "OVER"
    say(
        f"a new consent cost {result.gas_used:,} gas: {verdict} the {GRANT_BUDGET:,} budget "
        f"(EAS attest: {EAS_ATTEST:,}, {EAS_ATTEST / result.gas_used:.1f}x more)"
    )
    check(base, alice.address, "Dr Reyes", researcher.address, "HMB", ["labs"])
    check(base, alice.address, "Dr Reyes", researcher.address, "HMB", ["labs", "imaging"])

    step("Bob signs a consent (EIP-712) in his wallet; the clinic submits it and pays the gas")
    signed = base.sign_grant(
        bob, researcher.address, hmb, int(Scope.LABS), chain.time() + 7 * DAY, deadline=chain.time() + 3600
    )
    say(f"Bob signed nonce {signed.nonce}, deadline in one hour: {signed.signature.hex()[:20]}…")
    tx("clinic submitted Bob's consent", as_(clinic).submit_grant(signed))
    say(f"Bob's balance is still {web3.eth.get_balance(bob.address)} wei: he paid nothing")
    check(base, bob.address, "Dr Reyes", researcher.address, "HMB", ["labs"])
    try:
        as_(clinic).submit_grant(signed)
    except CareChainError as err:
        say(f"the clinic tries to replay the same signature: refused with {err}")

    step("Sam, a minor, appoints a parent as delegate until Sam turns 18 (5 years)")
    tx("delegate set", as_(sam).set_delegate(parent.address, chain.time() + 5 * 365 * DAY))
    tx(
        "parent granted for Sam (treatment, TREAT: medications)",
        as_(parent).grant_for(
            sam.address, researcher.address, purposes.purpose_id("TREAT"), int(Scope.MEDICATIONS)
        ),
    )
    check(base, sam.address, "Dr Reyes", researcher.address, "TREAT", ["medications"])
    tx("Sam removes the delegate", as_(sam).remove_delegate(parent.address))
    try:
        as_(parent).revoke_for(sam.address, researcher.address, purposes.purpose_id("TREAT"))
    except CareChainError as err:
        say(f"the removed parent tries to act for Sam: refused with {err}")

    step("Alice revokes her consent")
    check(base, alice.address, "Dr Reyes", researcher.address, "HMB", ["labs"])
    tx("revoked", as_(alice).revoke(researcher.address, hmb))
    check(base, alice.address, "Dr Reyes", researcher.address, "HMB", ["labs"])

    step("Eight days pass: Bob's 7-day consent expires on its own")
    chain.sleep(8 * DAY)
    chain.mine()
    check(base, bob.address, "Dr Reyes", researcher.address, "HMB", ["labs"])
    print("\nDone: every permission above was decided by the chain, and no health data left the patients.")
