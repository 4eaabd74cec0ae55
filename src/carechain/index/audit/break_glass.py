"""Break-glass episodes opened and not yet reviewed, and whether their access is still live."""

from __future__ import annotations

from dataclasses import dataclass

from carechain.clients.access import AccessClient, Review
from carechain.clients.base import checksum
from carechain.clients.credentials import CredentialClient
from carechain.index.audit.common import Clock, Serialisable, episode_liveness, purpose_label, snapshot
from carechain.index.indexer import Indexer


@dataclass(frozen=True)
class OpenEpisode(Serialisable):
    episode_id: int
    patient: str
    provider: str
    reason: str
    opened_block: int
    opened_at: int
    expires_at: int
    live: bool
    chain_review: str
    chain_live: bool
    agrees: bool


@dataclass(frozen=True)
class EpisodesReport(Serialisable):
    chain_id: int
    indexed_block: int
    head: int
    time: int
    episodes: list[OpenEpisode]
    agrees: bool


def open_break_glass(indexer: Indexer, patient: str | None = None) -> EpisodesReport:
    """Break-glass episodes opened and not yet reviewed (of one patient, or all), and whether still live.

    An episode's access also needs the provider's EMERGENCY credential; `live` is the index's answer,
    `chain_live` the chain's; the chain's review state must still be Open.
    """
    who = None if patient is None else checksum(patient, "patient")
    snap = snapshot(indexer)
    now = snap.time
    clock = Clock(indexer.w3)
    access = AccessClient.from_manifest(indexer.w3, indexer.root)
    credentials = CredentialClient.from_manifest(indexer.w3, indexer.root)
    reviewed = {int(row["args"]["episodeId"]) for row in indexer.events(event="BreakGlassReviewed")}
    episodes = []
    for row in indexer.events(patient=who, event="BreakGlassOpened"):
        args = row["args"]
        episode_id = int(args["episodeId"])
        if episode_id in reviewed:
            continue
        provider, expires = str(args["provider"]), int(args["expiresAt"])
        live = episode_liveness(indexer, access, credentials, episode_id, provider, expires, now)
        episodes.append(
            OpenEpisode(
                episode_id,
                str(args["patient"]),
                provider,
                purpose_label(str(args["reasonCode"])),
                int(row["block_number"]),
                clock(int(row["block_number"])),
                expires,
                live.index_live,
                live.on_chain.review.name.lower(),
                live.chain_live,
                live.on_chain.review == Review.OPEN and live.index_live == live.chain_live,
            )
        )
    return EpisodesReport(
        snap.chain_id,
        snap.indexed_block,
        snap.head,
        now,
        episodes,
        all(e.agrees for e in episodes),
    )
