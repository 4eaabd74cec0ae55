"""ConsentRegistry as a state machine against a Python model: grants, updates, revocations, delegates
and time. After every step the chain must agree with the model, so nothing is permitted after a
revocation or an expiry, and only the patient or a live delegate ever changed a patient's consent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from brownie.exceptions import VirtualMachineError
from conftest import GENOMICS, HMB, IMAGING, LABS, TREAT
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from properties.model import (
    MAX_UINT64,
    ChainMachine,
    attempt,
    block_time,
    expiry,
    run_machine,
    sleep_hours,
    views,
)

PURPOSES = (HMB, TREAT)
SCOPE_SETS = (LABS, GENOMICS, LABS | GENOMICS, IMAGING)

patient_picks = st.integers(0, 1)
grantee_picks = st.integers(0, 2)  # the last one is the wildcard grantee
purpose_picks = st.sampled_from(PURPOSES)
scope_picks = st.sampled_from(SCOPE_SETS)
expiry_hours = st.integers(-1, 4)  # hours from now: 0 never, -1 already past
actor_picks = st.sampled_from(
    [0, 1, 1, 2, 3]
)  # 0 the patient, 1-2 delegates or strangers, 3 the other patient
term_hours = st.sampled_from([1, 1, 2, 0, -1])  # delegates' terms are short, so they run out within a run
delegate_picks = st.integers(1, 3)


@dataclass
class Consent:
    """The model of one stored consent (all zero: never granted)."""

    scopes: int = 0
    granted_at: int = 0
    expires_at: int = 0
    revoked_at: int = 0

    def live(self, now: int) -> bool:
        return (
            self.granted_at != 0 and self.revoked_at == 0 and (self.expires_at == 0 or now < self.expires_at)
        )

    def covers(self, now: int, required: int) -> bool:
        return self.live(now) and self.scopes & required == required


class ConsentLifecycle(ChainMachine):
    registry: Any
    patients: list
    grantees: list  # the last one is the wildcard grantee
    bystanders: list

    def __init__(self) -> None:
        super().__init__()
        self.consents: dict[tuple, Consent] = {}
        self.delegates: dict[tuple, int] = {}  # (patient, delegate) -> until (MAX_UINT64: no expiry)
        self.query = LABS  # the scopes the invariant asks about; each grant asks about its own next
        self.touched: tuple = (self.patients[0], self.grantees[0], HMB)  # the consent a step last touched

    def actor(self, p: int, index: int) -> Any:
        return [self.patients[p], *self.bystanders, self.patients[1 - p]][index]

    def may_act(self, patient: Any, caller: Any) -> bool:
        return caller == patient or block_time() < self.delegates.get((str(patient), str(caller)), 0)

    def consent(self, patient: Any, grantee: Any, purpose: bytes) -> Consent:
        """The model's consent (created all zero)."""
        return self.consents.setdefault((str(patient), str(grantee), purpose), Consent())

    @rule(
        p=patient_picks,
        g=grantee_picks,
        purpose=purpose_picks,
        scopes=scope_picks,
        hours=expiry_hours,
        a=actor_picks,
    )
    def grant(self, p, g, purpose, scopes, hours, a):
        self.touched = (self.patients[p], self.grantees[g], purpose)
        patient, grantee, caller = self.patients[p], self.grantees[g], self.actor(p, a)
        expires_at, current = expiry(hours), self.consent(patient, grantee, purpose)
        error: tuple = (None,)
        if not self.may_act(patient, caller):
            error = ("NotPatientOrDelegate", caller, patient)
        elif hours < 0:
            error = ("InvalidExpiry", expires_at, ...)
        elif current.live(block_time()):
            error = ("ConsentAlreadyActive", patient, grantee, purpose)
        tx = attempt(
            self.registry.grantFor, patient, grantee, purpose, scopes, expires_at, sender=caller, error=error
        )
        if tx is not None:
            assert tx.events["ConsentGranted"]["actor"] == caller
            self.consents[(str(patient), str(grantee), purpose)] = Consent(scopes, tx.timestamp, expires_at)
            self.query = scopes

    @rule(
        p=patient_picks,
        g=grantee_picks,
        purpose=purpose_picks,
        scopes=scope_picks,
        hours=expiry_hours,
        a=actor_picks,
    )
    def update(self, p, g, purpose, scopes, hours, a):
        self.touched = (self.patients[p], self.grantees[g], purpose)
        patient, grantee, caller = self.patients[p], self.grantees[g], self.actor(p, a)
        expires_at, current = expiry(hours), self.consent(patient, grantee, purpose)
        error: tuple = (None,)
        if not self.may_act(patient, caller):
            error = ("NotPatientOrDelegate", caller, patient)
        elif hours < 0:
            error = ("InvalidExpiry", expires_at, ...)
        elif not current.live(block_time()):
            error = ("ConsentNotActive", patient, grantee, purpose)
        tx = attempt(
            self.registry.updateFor, patient, grantee, purpose, scopes, expires_at, sender=caller, error=error
        )
        if tx is not None:
            assert tx.events["ConsentUpdated"]["actor"] == caller
            current.scopes, current.expires_at = scopes, expires_at

    @rule(p=patient_picks, g=grantee_picks, purpose=purpose_picks, a=actor_picks)
    def revoke(self, p, g, purpose, a):
        self.touched = (self.patients[p], self.grantees[g], purpose)
        patient, grantee, caller = self.patients[p], self.grantees[g], self.actor(p, a)
        current = self.consent(patient, grantee, purpose)
        error: tuple = (None,)
        if not self.may_act(patient, caller):
            error = ("NotPatientOrDelegate", caller, patient)
        elif current.granted_at == 0 or current.revoked_at != 0:
            error = ("ConsentNotRevocable", patient, grantee, purpose)
        if a == 0:
            tx = attempt(self.registry.revoke, grantee, purpose, sender=patient, error=error)
        else:
            tx = attempt(self.registry.revokeFor, patient, grantee, purpose, sender=caller, error=error)
        if tx is not None:
            assert tx.events["ConsentRevoked"]["actor"] == caller
            current.revoked_at = tx.timestamp

    @rule(p=patient_picks, d=delegate_picks, hours=term_hours)
    def set_delegate(self, p, d, hours):
        patient, delegate, expires_at = self.patients[p], self.actor(p, d), expiry(hours)
        error = ("InvalidExpiry", expires_at, ...) if hours < 0 else (None,)
        if attempt(self.registry.setDelegate, delegate, expires_at, sender=patient, error=error):
            self.delegates[(str(patient), str(delegate))] = expires_at or MAX_UINT64

    @rule(p=patient_picks, d=delegate_picks)
    def remove_delegate(self, p, d):
        patient, delegate = self.patients[p], self.actor(p, d)
        appointed = self.delegates.pop((str(patient), str(delegate)), 0) != 0
        error = (None,) if appointed else ("DelegateNotFound", patient, delegate)
        attempt(self.registry.removeDelegate, delegate, sender=patient, error=error)

    @rule(hours=st.integers(1, 3))
    def sleep(self, hours):
        sleep_hours(hours)

    @invariant()
    def chain_matches_model(self):
        """What isPermitted answers for every patient, grantee and purpose (directly or through the
        wildcard), the consent last touched as stored, and who may act for whom, as the model has them."""
        now, wildcard = block_time(), self.grantees[-1]
        keys = [(p, g, purpose) for p in self.patients for g in self.grantees[:-1] for purpose in PURPOSES]
        delegates = [
            (p, d) for i, p in enumerate(self.patients) for d in (self.actor(i, 1), self.actor(i, 3))
        ]
        got = views(
            (self.registry, "getConsent", *self.touched),
            *((self.registry, "isPermitted", *key, self.query) for key in keys),
            *((self.registry, "delegateExpiry", *pair) for pair in delegates),
        )
        model = self.consent(*self.touched)
        assert tuple(got[0]) == (model.scopes, model.granted_at, model.expires_at, model.revoked_at)
        for (p, g, purpose), answer in zip(keys, got[1 : 1 + len(keys)], strict=True):
            expected = self.consent(p, g, purpose).covers(now, self.query) or self.consent(
                p, wildcard, purpose
            ).covers(now, self.query)
            assert answer == expected, (p, g, purpose, self.query)
        for (patient, delegate), until in zip(delegates, got[1 + len(keys) :], strict=True):
            assert until == self.delegates.get((str(patient), str(delegate)), 0)

    @invariant()
    def only_the_patient_or_a_live_delegate_may_act(self):
        """Whoever else asks to act for a patient now (an expired, removed or never appointed delegate, the
        other patient) is refused as such; a live delegate gets past that check."""
        for p, patient in enumerate(self.patients):
            for d in (1, 2, 3):
                caller = self.actor(p, d)
                try:
                    self.registry.grantFor.call(patient, self.grantees[0], HMB, LABS, 0, {"from": caller})
                    refused = ""
                except VirtualMachineError as err:
                    refused = err.revert_msg or ""
                assert refused.startswith("NotPatientOrDelegate") != self.may_act(patient, caller), refused


def test_consent_lifecycle(registry, accounts):
    run_machine(
        ConsentLifecycle,
        registry=registry,
        patients=list(accounts[1:3]),
        grantees=[accounts[3], accounts[4], registry.ANY_GRANTEE()],
        bystanders=list(accounts[5:7]),
    )
