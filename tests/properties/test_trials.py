"""TrialRegistry as a state machine: subjects consent to protocol versions (fully or too narrowly) and
revoke, the sponsor amends (with or without re-consent), the IRB approves, the site enrols and
commits batches, the sponsor locks. The chain must agree with the model: no enrolment without a live
consent to the trial's current consent version, and no data commitment after the lock."""

from __future__ import annotations

from typing import Any

from conftest import IRB, LABS, RESEARCHER, attest
from eth_utils.crypto import keccak
from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule
from trials.conftest import SCOPES, Status, deploy_trials, funded_key, register

from carechain.core.purposes import trial_purpose
from properties.model import ChainMachine, attempt, run_machine, views

TRIAL = 1
subject_picks = st.integers(0, 2)


class TrialIntegrity(ChainMachine):
    trials: Any
    registry: Any
    sponsor: Any
    irb: Any
    site: Any
    subjects: list

    def __init__(self) -> None:
        super().__init__()
        self.status, self.locked_at = Status.APPROVED, 0
        self.protocol_version = self.consent_version = 1
        self.current_approved = True
        # (subject, version) -> scopes of a live consent; every subject consented to version 1 beforehand
        self.consents: dict[tuple[int, int], int] = {(s, 1): SCOPES for s in range(3)}
        self.granted: set[tuple[int, int]] = {(s, 1) for s in range(3)}  # granted and not revoked since
        self.enrolled: set[int] = set()
        self.batches: dict[bytes, int] = {}  # root -> committedAt
        self.last_root = keccak(text="no batch yet")

    def locked_error(self) -> tuple:
        return ("TrialLocked", TRIAL, self.locked_at)

    @rule(s=subject_picks, older=st.booleans(), narrow=st.booleans())
    def consent(self, s, older, narrow):
        """The subject consents to the current consent version (or the one before), maybe too narrowly."""
        version = max(1, self.consent_version - 1) if older else self.consent_version
        scopes = LABS if narrow else SCOPES
        error = ("ConsentAlreadyActive", self.subjects[s], self.trials, trial_purpose(TRIAL, version))
        live = (s, version) in self.consents
        if attempt(
            self.registry.grant,
            self.trials,
            trial_purpose(TRIAL, version),
            scopes,
            0,
            sender=self.subjects[s],
            error=error if live else (None,),
        ):
            self.consents[(s, version)] = scopes
            self.granted.add((s, version))

    @rule(s=subject_picks, older=st.booleans())
    def revoke(self, s, older):
        version = max(1, self.consent_version - 1) if older else self.consent_version
        purpose = trial_purpose(TRIAL, version)
        error = ("ConsentNotRevocable", self.subjects[s], self.trials, purpose)
        if attempt(
            self.registry.revoke,
            self.trials,
            purpose,
            sender=self.subjects[s],
            error=(None,) if (s, version) in self.granted else error,
        ):
            self.consents.pop((s, version), None)
            self.granted.discard((s, version))

    @rule(reconsent=st.booleans())
    def amend(self, reconsent):
        protocol = keccak(text=f"protocol v{self.protocol_version + 1}")
        error = self.locked_error() if self.locked_at else (None,)
        if attempt(self.trials.amend, TRIAL, protocol, reconsent, sender=self.sponsor, error=error):
            self.protocol_version += 1
            if reconsent:
                self.consent_version = self.protocol_version
            self.current_approved = False

    @rule()
    def approve(self):
        error: tuple = (None,)
        if self.locked_at:
            error = self.locked_error()
        elif self.current_approved:
            error = ("InvalidVersion", TRIAL, self.protocol_version)
        if attempt(self.trials.approve, TRIAL, self.protocol_version, sender=self.irb, error=error):
            self.current_approved = True

    @rule(s=subject_picks)
    def enroll(self, s):
        subject, error = self.subjects[s], (None,)
        consented = self.consents.get((s, self.consent_version), 0) & SCOPES == SCOPES
        if self.locked_at:
            error = self.locked_error()
        elif not self.current_approved:
            error = ("ProtocolNotApproved", TRIAL, self.protocol_version)
        elif s in self.enrolled:
            error = ("AlreadyEnrolled", TRIAL, subject)
        elif not consented:
            error = ("NoConsent", TRIAL, subject, self.consent_version)
        tx = attempt(self.trials.enroll, TRIAL, subject, sender=self.site, error=error)
        if tx is not None:
            assert tx.events["SubjectEnrolled"]["consentVersion"] == self.consent_version
            self.enrolled.add(s)

    @rule(seed=st.integers(0, 2**32), rows=st.integers(1, 1000))
    def commit(self, seed, rows):
        root = self.last_root = keccak(seed.to_bytes(32))
        error: tuple = (None,)
        if self.locked_at:
            error = self.locked_error()
        elif root in self.batches:
            error = ("BatchExists", TRIAL, self.site.address, root)
        tx = attempt(self.trials.commitBatch, TRIAL, root, rows, sender=self.site, error=error)
        if tx is not None:
            self.batches[root] = tx.timestamp

    @precondition(lambda self: len(self.batches) >= 2)
    @rule()
    def lock(self):
        """Once some data came in (a lock any earlier would end most runs in a few steps)."""
        error = ("InvalidTrialStatus", TRIAL, int(self.status)) if self.status != Status.APPROVED else (None,)
        tx = attempt(self.trials.lock, TRIAL, sender=self.sponsor, error=error)
        if tx is not None:
            self.status, self.locked_at = Status.LOCKED, tx.timestamp

    @invariant()
    def chain_matches_model(self):
        got = views(
            (self.trials, "getTrial", TRIAL),
            (self.trials, "getBatch", TRIAL, self.site.address, self.last_root),
            *((self.trials, "isEnrolled", TRIAL, subject) for subject in self.subjects),
        )
        trial = got[0]
        assert (trial[1], trial[2], trial[3], trial[4], trial[8], trial[7]) == (
            self.status,
            self.protocol_version,
            self.consent_version,
            self.current_approved,
            self.locked_at,
            len(self.enrolled),
        )
        committed_at = got[1][0]
        assert committed_at == self.batches.get(self.last_root, 0)
        assert not self.locked_at or committed_at <= self.locked_at  # (one second may hold both blocks)
        assert got[2:] == [s in self.enrolled for s in range(len(self.subjects))]


def test_trial_integrity(TrialRegistry, registry, credentials, consent_grants, registrar, accounts):
    trials = deploy_trials(TrialRegistry, registry, credentials, consent_grants, accounts[0])
    sponsor, irb, site = accounts[2], accounts[3], accounts[8]
    attest(credentials, registrar, irb, IRB)
    attest(credentials, registrar, site, RESEARCHER)
    assert register(trials, sponsor).return_value == TRIAL
    trials.addSite(TRIAL, site, {"from": sponsor})
    trials.approve(TRIAL, 1, {"from": irb})
    subjects = [funded_key(accounts) for _ in range(3)]
    for subject in subjects:  # every run starts with consents to version 1, for amendments to outdate
        registry.grant(trials, trial_purpose(TRIAL, 1), SCOPES, 0, {"from": subject})
    run_machine(
        TrialIntegrity,
        trials=trials,
        registry=registry,
        sponsor=sponsor,
        irb=irb,
        site=site,
        subjects=subjects,
    )
