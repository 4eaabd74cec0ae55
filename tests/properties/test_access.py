"""AccessGrants with CredentialRegistry as a state machine: a registrar attests, suspends, reinstates
and revokes providers' credentials (some with an end date), a patient grants and revokes category and
one-record access, time passes. `canAccess` must always agree with the model: a provider without a
live PROVIDER credential never gets access, whatever grants they hold."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conftest import GENOMICS, IMAGING, LABS, PROVIDER, category, content_hash, license_hash, record_id
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from properties.model import ChainMachine, attempt, block_time, expiry, run_machine, sleep_hours, views

NONE, ACTIVE, SUSPENDED, REVOKED, REVOKED_WHILE_SUSPENDED = range(5)  # ICredentialRegistry.Status
NO_RECORD = bytes(32)
RECORDS = ((record_id("prop-labs"), LABS), (record_id("prop-imaging"), IMAGING))

provider_picks = st.integers(0, 1)
record_picks = st.integers(0, 1)
grant_hours = st.sampled_from([-1, 1, 2, 3])  # access must end in the future: -1 lies in the past


@dataclass
class Window:
    """A grant or a credential: from `since` to `until` (0: no end), unless `ended`."""

    since: int = 0
    until: int = 0
    ended: bool = False

    def live(self, now: int) -> bool:
        return self.since != 0 and not self.ended and (self.until == 0 or now < self.until)


class AccessWithCredentials(ChainMachine):
    access: Any
    credentials: Any
    registrar: Any
    patient: Any
    providers: list

    def __init__(self) -> None:
        super().__init__()
        self.status = [NONE, NONE]
        self.valid_until = [0, 0]
        self.category_grants: dict[int, tuple[int, Window]] = {}  # provider -> (categories, window)
        self.record_grants: dict[tuple[int, int], Window] = {}  # (provider, record) -> window

    def credential_live(self, i: int, now: int) -> bool:
        return self.status[i] == ACTIVE and (self.valid_until[i] == 0 or now < self.valid_until[i])

    def may_read(self, i: int, r: int, now: int) -> bool:
        if not self.credential_live(i, now):
            return False
        categories, window = self.category_grants.get(i, (0, Window()))
        by_category = window.live(now) and categories & RECORDS[r][1] != 0
        return by_category or self.record_grants.get((i, r), Window()).live(now)

    @rule(i=provider_picks, hours=st.sampled_from([0, 1, 2, 4]))
    def attest(self, i, hours):
        provider, until = self.providers[i], expiry(hours)
        suspended = self.status[i] in (SUSPENDED, REVOKED_WHILE_SUSPENDED)  # only reinstate lifts it (A.7)
        error = ("InvalidCredentialStatus", provider, PROVIDER, self.status[i]) if suspended else (None,)
        licence = license_hash(provider, PROVIDER)
        if attempt(
            self.credentials.attest, provider, PROVIDER, licence, 0, until, sender=self.registrar, error=error
        ):
            self.status[i], self.valid_until[i] = ACTIVE, until

    @rule(i=provider_picks, move=st.sampled_from(["suspend", "reinstate", "revoke"]))
    def move_credential(self, i, move):
        # status before -> after; a suspension revoked stays marked until reinstate lifts it (A.7)
        moves = {
            "suspend": {ACTIVE: SUSPENDED},
            "reinstate": {SUSPENDED: ACTIVE, REVOKED_WHILE_SUSPENDED: REVOKED},
            "revoke": {ACTIVE: REVOKED, SUSPENDED: REVOKED_WHILE_SUSPENDED},
        }[move]
        provider, status = self.providers[i], self.status[i]
        error = (None,) if status in moves else ("InvalidCredentialStatus", provider, PROVIDER, status)
        if attempt(getattr(self.credentials, move), provider, PROVIDER, sender=self.registrar, error=error):
            self.status[i] = moves[status]

    def grantee_error(self, i: int, hours: int, expires_at: int) -> tuple:
        if hours < 0:
            return ("InvalidExpiry", expires_at, ...)
        if not self.credential_live(i, block_time()):
            return ("UncredentialedProvider", self.providers[i])
        return (None,)

    @rule(
        i=provider_picks,
        categories=st.sampled_from([LABS, IMAGING, LABS | IMAGING, GENOMICS]),
        hours=grant_hours,
    )
    def grant_categories(self, i, categories, hours):
        expires_at = expiry(hours)
        tx = attempt(
            self.access.grantAccess,
            self.patient,
            self.providers[i],
            categories,
            expires_at,
            sender=self.patient,
            error=self.grantee_error(i, hours, expires_at),
        )
        if tx is not None:
            self.category_grants[i] = (categories, Window(tx.timestamp, expires_at))

    @rule(i=provider_picks, r=record_picks, hours=grant_hours)
    def grant_record(self, i, r, hours):
        expires_at = expiry(hours)
        tx = attempt(
            self.access.grantRecordAccess,
            self.providers[i],
            RECORDS[r][0],
            expires_at,
            sender=self.patient,
            error=self.grantee_error(i, hours, expires_at),
        )
        if tx is not None:
            self.record_grants[(i, r)] = Window(tx.timestamp, expires_at)

    @rule(i=provider_picks)
    def revoke_categories(self, i):
        _, window = self.category_grants.get(i, (0, Window()))
        live = window.live(block_time())
        error = (None,) if live else ("GrantNotActive", self.patient, self.providers[i], NO_RECORD)
        if attempt(
            self.access.revokeAccess, self.patient, self.providers[i], sender=self.patient, error=error
        ):
            window.ended = True

    @rule(i=provider_picks, r=record_picks)
    def revoke_record(self, i, r):
        window = self.record_grants.get((i, r), Window())
        live = window.live(block_time())
        error = (None,) if live else ("GrantNotActive", self.patient, self.providers[i], RECORDS[r][0])
        if attempt(
            self.access.revokeRecordAccess, self.providers[i], RECORDS[r][0], sender=self.patient, error=error
        ):
            window.ended = True

    @rule(hours=st.integers(1, 2))
    def sleep(self, hours):
        sleep_hours(hours)

    @invariant()
    def access_matches_model(self):
        now = block_time()
        pairs = [(i, r) for i in range(2) for r in range(2)]
        got = views(
            *((self.credentials, "hasCredential", provider, PROVIDER) for provider in self.providers),
            *((self.access, "canAccess", self.providers[i], RECORDS[r][0]) for i, r in pairs),
        )
        assert got[:2] == [self.credential_live(i, now) for i in range(2)]
        assert got[2:] == [self.may_read(i, r, now) for i, r in pairs]


def test_access_with_credentials(access, records, credentials, registrar, custodian, patient, accounts):
    for record, scope in RECORDS:
        records.anchor(record, patient, category(scope), content_hash(record.hex()), {"from": custodian})
    run_machine(
        AccessWithCredentials,
        access=access,
        credentials=credentials,
        registrar=registrar,
        patient=patient,
        providers=[accounts[2], accounts[3]],
    )
