"""Who may see a patient's data now, and why: consents, access grants, break-glass, checked on chain."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from carechain.clients.access import AccessClient
from carechain.clients.base import bytes32, checksum
from carechain.clients.consent import ANY_GRANTEE, ConsentClient
from carechain.clients.credentials import CredentialClient
from carechain.errors import InputError
from carechain.index.audit.common import (
    ZERO32,
    Serialisable,
    credential_live,
    episode_liveness,
    purpose_label,
    scope_labels,
    snapshot,
    to_hex,
    trial_purposes,
)
from carechain.index.indexer import Indexer


@dataclass(frozen=True)
class Permission(Serialisable):
    """One party that may (by the index, or by the chain) see the patient's data of the asked scopes.

    `kind` is consent, category-grant, record-grant or break-glass; `index_live` is the index's
    answer, `chain_live` the chain's for the same consent, grant or episode; `agrees` compares them.
    `is_permitted` is the chain's `isPermitted` for a consent (a broad consent counts too);
    `can_access` its `canAccess` on one of the patient's records the row covers (None: no such record).
    """

    party: str
    kind: str
    purpose: str | None
    purpose_label: str | None
    scopes: list[str]
    record_id: str | None
    episode_id: int | None
    granted_block: int
    granted_tx: str
    expires_at: int
    index_live: bool
    chain_live: bool
    agrees: bool
    why: str
    is_permitted: bool | None = None
    can_access: bool | None = None


@dataclass(frozen=True)
class AccessReport(Serialisable):
    patient: str
    scopes: list[str]
    purpose: str | None
    chain_id: int
    indexed_block: int
    head: int
    time: int
    permissions: list[Permission]
    agrees: bool


def _latest(
    rows: Iterable[dict[str, Any]],
    revoked: str,
    key: Callable[[dict[str, Any]], tuple[str, str]],
    mask: str,
) -> dict[tuple[str, str], dict[str, Any]]:
    """The state of each consent or grant (one per `key`) after its latest grant, update or revocation."""
    states: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        state = states.setdefault(key(row), {})
        if row["event"] == revoked:
            state["revoked"] = True
        else:
            state.update(
                revoked=False,
                mask=int(row["args"][mask]),
                expires=int(row["args"]["expiresAt"]),
                block=int(row["block_number"]),
                tx=str(row["tx_hash"]),
            )
    return states


def _covered(records: dict[str, int], scopes: int) -> str | None:
    """One of the patient's records in a category of `scopes`, to ask `canAccess` about."""
    return next((record for record, category in records.items() if (1 << category) & scopes), None)


def who_can_see(indexer: Indexer, patient: str, scopes: int, purpose: bytes | None = None) -> AccessReport:
    """Who may see `patient`'s data covering every bit of `scopes` now, and why (purpose optional).

    Consents, category and one-record access grants and break-glass episodes are replayed from the
    index, then each is checked on the chain. With `purpose`, only consents for it (grants and
    break-glass name no purpose).
    """
    patient = checksum(patient, "patient")
    if not 0 < scopes < 2**64:
        raise InputError(f"a scopes mask is a non-zero uint64, got {scopes!r}")
    snap = snapshot(indexer)
    now = snap.time
    w3, root = indexer.w3, indexer.root
    consents = ConsentClient.from_manifest(w3, root)
    access = AccessClient.from_manifest(w3, root)
    credentials = CredentialClient.from_manifest(w3, root)
    named = trial_purposes(indexer)
    wanted = None if purpose is None else to_hex(purpose)
    rows: list[Permission] = []

    # Consents: the latest event per (grantee, purpose) is the consent's state.
    latest = _latest(
        (
            row
            for row in indexer.events(patient=patient, contract="ConsentRegistry")
            if row["event"] in {"ConsentGranted", "ConsentUpdated", "ConsentRevoked"}
            and (wanted is None or str(row["args"]["purpose"]).lower() == wanted.lower())
        ),
        "ConsentRevoked",
        lambda row: (str(row["args"]["grantee"]), str(row["args"]["purpose"]).lower()),
        "scopes",
    )
    for (grantee, code), state in latest.items():
        if "mask" not in state or state["mask"] & scopes != scopes:
            continue
        index_live = not state["revoked"] and (state["expires"] == 0 or now < state["expires"])
        stored = consents.get_consent(patient, grantee, bytes32(code, "purpose"))
        chain_live = stored.is_live(now) and stored.scopes & scopes == scopes
        if not (index_live or chain_live):
            continue
        label = purpose_label(code, named)
        rows.append(
            Permission(
                grantee,
                "consent",
                code,
                label,
                scope_labels(state["mask"]),
                None,
                None,
                state["block"],
                state["tx"],
                state["expires"],
                index_live,
                chain_live,
                index_live == chain_live,
                f"{'broad consent (any grantee)' if grantee == ANY_GRANTEE else 'consent'} for {label}",
                is_permitted=consents.is_permitted(patient, grantee, bytes32(code, "purpose"), scopes),
            )
        )

    # Records of the patient whose category the scopes name, for one-record grants and canAccess.
    records = {
        str(row["record_id"]): int(row["args"]["category"])
        for row in indexer.events(patient=patient, contract="RecordRegistry", event="RecordAnchored")
    }

    # Access grants: category grants (record id 0) per provider, one-record grants per (provider, record).
    grants = _latest(
        (
            row
            for row in indexer.events(patient=patient, contract="AccessGrants")
            if row["event"] in {"AccessGranted", "AccessRevoked"}
        ),
        "AccessRevoked",
        lambda row: (str(row["args"]["provider"]), str(row["record_id"]).lower()),
        "categories",
    )
    for (provider, record), state in grants.items():
        if "expires" not in state or wanted is not None:  # access grants name no purpose
            continue
        if record == ZERO32:
            if state["mask"] & scopes != scopes:
                continue
            shown = scope_labels(state["mask"])
        else:
            category = records.get(record)
            if category is None or not (1 << category) & scopes:
                continue
            shown = scope_labels(1 << category)
        credential = credential_live(indexer, provider, "PROVIDER", now)
        index_live = not state["revoked"] and now < state["expires"] and credential
        if record == ZERO32:
            grant = access.get_grant(patient, provider)
            covers = grant.categories & scopes == scopes
        else:
            grant = access.get_record_grant(provider, bytes32(record, "record id"))
            covers = True
        chain_live = grant.is_live(now) and covers and credentials.has_credential(provider, "PROVIDER")
        if not (index_live or chain_live):
            continue
        kind = "category-grant" if record == ZERO32 else "record-grant"
        covered = record if record != ZERO32 else _covered(records, state["mask"] & scopes)
        rows.append(
            Permission(
                provider,
                kind,
                None,
                None,
                shown,
                None if record == ZERO32 else record,
                None,
                state["block"],
                state["tx"],
                state["expires"],
                index_live,
                chain_live,
                index_live == chain_live,
                (f"category grant ({','.join(shown)})" if record == ZERO32 else f"grant to record {record}")
                + ("" if credential else " (provider credential not live)"),
                can_access=None if covered is None else access.can_access(provider, bytes32(covered)),
            )
        )

    # Break-glass: the latest episode per provider, until it expires or a reviewer flags it.
    if wanted is None:
        episodes: dict[str, dict[str, Any]] = {}
        for row in indexer.events(patient=patient, contract="AccessGrants", event="BreakGlassOpened"):
            episodes[str(row["args"]["provider"])] = row
        flagged = {
            int(row["args"]["episodeId"])
            for row in indexer.events(contract="AccessGrants", event="BreakGlassReviewed")
            if not row["args"]["approved"]
        }
        covered = _covered(records, scopes)
        for provider, row in episodes.items():
            episode_id = int(row["args"]["episodeId"])
            expires = int(row["args"]["expiresAt"])
            live = episode_liveness(indexer, access, credentials, episode_id, provider, expires, now)
            index_live = episode_id not in flagged and live.index_live
            if not (index_live or live.chain_live):
                continue
            rows.append(
                Permission(
                    provider,
                    "break-glass",
                    None,
                    None,
                    ["all"],
                    None,
                    episode_id,
                    int(row["block_number"]),
                    str(row["tx_hash"]),
                    expires,
                    index_live,
                    live.chain_live,
                    index_live == live.chain_live,
                    f"break-glass episode {episode_id} ({purpose_label(str(row['args']['reasonCode']))})",
                    can_access=None if covered is None else access.can_access(provider, bytes32(covered)),
                )
            )

    return AccessReport(
        patient,
        scope_labels(scopes),
        wanted,
        snap.chain_id,
        snap.indexed_block,
        snap.head,
        snap.time,
        rows,
        all(row.agrees for row in rows),
    )
