"""A patient's history: every consent, delegate, access-grant, break-glass and read event, in chain order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from carechain.clients.access import Basis
from carechain.clients.base import checksum
from carechain.index.audit.common import (
    ZERO32,
    Clock,
    Serialisable,
    purpose_label,
    scope_labels,
    snapshot,
    trial_purposes,
)
from carechain.index.indexer import Indexer


@dataclass(frozen=True)
class HistoryEntry(Serialisable):
    block: int
    time: int
    tx: str
    log_index: int
    contract: str
    event: str
    actor: str | None
    party: str | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class History(Serialisable):
    patient: str
    chain_id: int
    indexed_block: int
    head: int
    entries: list[HistoryEntry]


_HISTORY_EVENTS = {
    "ConsentGranted",
    "ConsentUpdated",
    "ConsentRevoked",
    "DelegateSet",
    "DelegateRemoved",
    "AccessGranted",
    "AccessRevoked",
    "BreakGlassOpened",
    "RecordAccessed",
}


def _detail(args: dict[str, Any], named: dict[str, str]) -> dict[str, Any]:
    """An event's arguments for people: purposes named, scope masks as names."""
    shown: dict[str, Any] = {}
    for key, value in args.items():
        if key in {"patient", "actor"}:
            continue
        if key in {"purpose", "reasonCode"}:
            shown[key] = purpose_label(str(value), named)
        elif key in {"categories", "episodeId"} and value == 0:
            continue  # a one-record grant has no categories; a read under a grant no episode
        elif key in {"scopes", "categories"} and isinstance(value, int) and value:
            shown[key] = scope_labels(value)
        elif key == "basis":
            shown[key] = Basis(int(value)).name.lower()
        elif key == "recordId" and value == ZERO32:
            continue
        else:
            shown[key] = value
    return shown


def history(indexer: Indexer, patient: str) -> History:
    """Every consent, delegate, access-grant, break-glass and read event of `patient`, in chain order."""
    patient = checksum(patient, "patient")
    snap = snapshot(indexer)
    clock = Clock(indexer.w3)
    named = trial_purposes(indexer)
    entries = [
        HistoryEntry(
            int(row["block_number"]),
            clock(int(row["block_number"])),
            str(row["tx_hash"]),
            int(row["log_index"]),
            str(row["contract"]),
            str(row["event"]),
            row["args"].get("actor", patient if row["event"].startswith("Delegate") else None),
            row["party"],
            _detail(row["args"], named),
        )
        for row in indexer.events(patient=patient)
        if row["event"] in _HISTORY_EVENTS
    ]
    return History(patient, snap.chain_id, snap.indexed_block, snap.head, entries)
