"""Who read a record, when, for which purpose, and under which grant or break-glass episode."""

from __future__ import annotations

from dataclasses import dataclass

from carechain.clients.access import AccessClient, Basis
from carechain.clients.base import bytes32
from carechain.clients.records import RecordClient
from carechain.errors import InputError
from carechain.index.audit.common import (
    ZERO32,
    Clock,
    Serialisable,
    purpose_label,
    scope_labels,
    snapshot,
    to_hex,
    trial_purposes,
)
from carechain.index.indexer import Indexer


@dataclass(frozen=True)
class RecordRead(Serialisable):
    """One logged read and what allowed it: the grant's transaction or the break-glass episode."""

    block: int
    time: int
    tx: str
    provider: str
    purpose: str
    purpose_label: str
    basis: str
    episode_id: int | None
    grant_tx: str | None
    grant_block: int | None


@dataclass(frozen=True)
class ReadsReport(Serialisable):
    record_id: str
    patient: str
    category: list[str]
    custodian: str
    chain_id: int
    indexed_block: int
    head: int
    reads: list[RecordRead]
    chain_reads: int
    agrees: bool


def record_reads(indexer: Indexer, record: bytes | str) -> ReadsReport:
    """Who read `record`, when, for which purpose, under which grant or break-glass episode."""
    rid = to_hex(bytes32(record, "record id"))
    snap = snapshot(indexer)
    anchored = indexer.events(record_id=rid, event="RecordAnchored")
    records = RecordClient.from_manifest(indexer.w3, indexer.root)
    if not anchored:
        if not records.exists(bytes32(rid)):
            raise InputError(f"unknown record {rid}: no record with this id on chain {snap.chain_id}")
        raise InputError(f"record {rid} is on chain but not in the index yet: sync the index")
    facts = anchored[0]
    patient = str(facts["patient"])
    clock = Clock(indexer.w3)
    named = trial_purposes(indexer)
    grants = indexer.events(patient=patient, event="AccessGranted")
    reads = []
    for row in indexer.events(record_id=rid, event="RecordAccessed"):
        args = row["args"]
        basis = Basis(int(args["basis"]))
        grant = None
        if basis in {Basis.RECORD_GRANT, Basis.CATEGORY_GRANT}:
            target = rid if basis == Basis.RECORD_GRANT else ZERO32
            grant = next(
                (
                    g
                    for g in reversed(grants)
                    if g["party"] == args["provider"]
                    and str(g["record_id"]).lower() == target
                    and (g["block_number"], g["log_index"]) < (row["block_number"], row["log_index"])
                ),
                None,
            )
        reads.append(
            RecordRead(
                int(row["block_number"]),
                clock(int(row["block_number"])),
                str(row["tx_hash"]),
                str(args["provider"]),
                str(args["purpose"]),
                purpose_label(str(args["purpose"]), named),
                basis.name.lower(),
                int(args["episodeId"]) or None,
                None if grant is None else str(grant["tx_hash"]),
                None if grant is None else int(grant["block_number"]),
            )
        )
    on_chain = AccessClient.from_manifest(indexer.w3, indexer.root).reads(
        record=bytes32(rid), from_block=indexer.deploy_block
    )
    chain_seen = [(r.block_number, r.tx_hash, r.provider, r.basis.name.lower()) for r in on_chain]
    index_seen = [(r.block, r.tx, r.provider, r.basis) for r in reads]
    return ReadsReport(
        rid,
        patient,
        scope_labels(1 << int(facts["args"]["category"])),
        str(facts["args"]["custodian"]),
        snap.chain_id,
        snap.indexed_block,
        snap.head,
        reads,
        len(on_chain),
        chain_seen == index_seen,
    )
