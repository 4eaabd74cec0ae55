"""Relayed EIP-712 signatures as a state machine: patients sign grants and revocations for one
deployment, for a second deployment or for another chain id; relayers submit any of them, to either
deployment, in any order, again and again. A signature is accepted at most once, only by the
deployment and chain it names, only with the patient's current nonce and before its deadline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from brownie import chain
from conftest import HMB, LABS, sign_grant, sign_revoke
from eth_account import Account
from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule

from carechain.core import eip712
from properties.model import ChainMachine, attempt, block_time, expiry, run_machine, sleep_hours, views

HERE, SECOND, OTHER_CHAIN = range(
    3
)  # the domain a signature names: registry A, registry B, A on another chain


@dataclass(frozen=True)
class Signed:
    kind: str  # "grant" or "revoke"
    patient: int
    grantee: int
    domain: int
    nonce: int
    deadline: int
    arguments: tuple


class SignatureReplay(ChainMachine):
    registries: list  # A and B, two deployments on this chain
    signers: list  # keys that only sign
    wallets: list  # the same keys as funded brownie accounts, to burn nonces
    grantees: list
    relayers: list

    def __init__(self) -> None:
        super().__init__()
        self.pool: list[Signed] = []
        self.accepted: set[bytes] = set()
        self.nonces = {(r, p): 0 for r in range(2) for p in range(2)}
        self.live: set[tuple[int, int, int]] = set()  # (registry, patient, grantee) with a live consent
        self.granted: set[tuple[int, int, int]] = set()  # ever granted and not revoked since

    @rule(
        kind=st.sampled_from(["grant", "revoke"]),
        p=st.integers(0, 1),
        g=st.integers(0, 1),
        domain=st.sampled_from([HERE, HERE, SECOND, OTHER_CHAIN]),
        ahead=st.sampled_from([0, 0, 0, 1]),
        hours=st.sampled_from([-1, 1, 2]),
    )
    def sign(self, kind, p, g, domain, ahead, hours):
        """A patient signs (nothing reaches the chain): usually for the current nonce, sometimes ahead."""
        target = SECOND if domain == SECOND else HERE
        registry, nonce = self.registries[target], self.nonces[(target, p)] + ahead
        deadline = expiry(hours)
        if kind == "grant":
            chain_id = chain.id + 1 if domain == OTHER_CHAIN else chain.id
            arguments: tuple = (
                sign_grant(
                    registry,
                    self.signers[p],
                    self.grantees[g],
                    nonce=nonce,
                    deadline=deadline,
                    chain_id=chain_id,
                ),
            )
        elif domain == OTHER_CHAIN:
            arguments = sign_revoke_elsewhere(registry, self.signers[p], self.grantees[g], nonce, deadline)
        else:
            arguments = sign_revoke(
                registry, self.signers[p], self.grantees[g], nonce=nonce, deadline=deadline
            )
        self.pool.append(Signed(kind, p, g, domain, nonce, deadline, arguments))

    @precondition(lambda self: self.pool)
    @rule(pick=st.integers(0, 10**6), to=st.integers(0, 1), relayer=st.integers(0, 1))
    def submit(self, pick, to, relayer):
        signed = self.pool[pick % len(self.pool)]
        patient = self.signers[signed.patient].address
        key = (to, signed.patient, signed.grantee)
        current = self.nonces[(to, signed.patient)]
        error: tuple = (None,)
        if block_time() > signed.deadline:
            error = ("SignatureExpired", signed.deadline, ...)
        elif signed.nonce != current:
            error = ("InvalidAccountNonce", patient, current)
        elif signed.domain != to:
            error = ("InvalidSignature", patient)
        elif signed.kind == "grant" and key in self.live:
            error = ("ConsentAlreadyActive", patient, self.grantees[signed.grantee], HMB)
        elif signed.kind == "revoke" and key not in self.granted:
            error = ("ConsentNotRevocable", patient, self.grantees[signed.grantee], HMB)
        registry = self.registries[to]
        function = registry.grantBySig if signed.kind == "grant" else registry.revokeBySig
        tx = attempt(function, *signed.arguments, sender=self.relayers[relayer], error=error)
        if tx is not None:
            signature = bytes(signed.arguments[-1] if signed.kind == "revoke" else signed.arguments[0][-1])
            assert signature not in self.accepted, "a signature was accepted twice"
            self.accepted.add(signature)
            self.nonces[(to, signed.patient)] += 1
            if signed.kind == "grant":
                self.live.add(key)
                self.granted.add(key)
            else:
                self.live.discard(key)
                self.granted.discard(key)

    @rule(p=st.integers(0, 1), to=st.integers(0, 1))
    def burn_nonce(self, p, to):
        """The patient voids whatever they signed for their current nonce."""
        tx = self.registries[to].useNonce({"from": self.wallets[p]})
        assert tx.events["NonceUsed"]["nonce"] == self.nonces[(to, p)]
        self.nonces[(to, p)] += 1

    @rule(hours=st.integers(1, 2))
    def sleep(self, hours):
        sleep_hours(hours)

    @invariant()
    def chain_matches_model(self):
        pairs = [(r, p) for r in range(2) for p in range(2)]
        keys = [(r, p, g) for r, p in pairs for g in range(2)]
        got = views(
            *((self.registries[r], "nonces", self.signers[p].address) for r, p in pairs),
            *(
                (self.registries[r], "isPermitted", self.signers[p].address, self.grantees[g], HMB, LABS)
                for r, p, g in keys
            ),
        )
        assert got[: len(pairs)] == [self.nonces[pair] for pair in pairs]
        assert got[len(pairs) :] == [key in self.live for key in keys]


def sign_revoke_elsewhere(registry: Any, account: Any, grantee: Any, nonce: int, deadline: int) -> tuple:
    """A `revokeBySig` signed for `registry`'s address on another chain id."""
    message = {
        "patient": account.address,
        "grantee": str(grantee),
        "purpose": HMB,
        "nonce": nonce,
        "deadline": deadline,
    }
    domain = eip712.consent_domain(chain.id + 1, registry.address)
    signature = eip712.sign(account, eip712.typed_data(domain, "Revoke", message))
    return (account.address, str(grantee), HMB, nonce, deadline, signature)


def test_signature_replay(ConsentRegistry, registry, accounts):
    signers = [Account.create() for _ in range(2)]
    wallets = [accounts.add(signer.key) for signer in signers]
    for wallet in wallets:
        accounts[0].transfer(wallet, "1 ether")
    second = ConsentRegistry.deploy({"from": accounts[0]})
    run_machine(
        SignatureReplay,
        registries=[registry, second],
        signers=signers,
        wallets=wallets,
        grantees=list(accounts[2:4]),
        relayers=list(accounts[4:6]),
    )
