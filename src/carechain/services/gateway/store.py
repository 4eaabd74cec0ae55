"""The gateway's store: encrypted blobs, wrapped data keys, seen requests and signed read receipts
(with the batches that committed them on chain), in SQLite or PostgreSQL.

SQLAlchemy 2 Core, blobs in the database (`LargeBinary`: BLOB on SQLite, bytea on PostgreSQL), so
one backup holds everything. Nothing in it is readable without the custodian key.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from carechain.clients.access import Basis
from carechain.services.database import open_database
from carechain.services.gateway.receipts import Receipt

metadata = sa.MetaData()

records_table = sa.Table(
    "gateway_records",
    metadata,
    sa.Column("record_id", sa.LargeBinary(32), primary_key=True),
    sa.Column("patient", sa.String(42), nullable=False),
    sa.Column("category", sa.Integer, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("erased_at", sa.BigInteger, nullable=True),
    sa.Column("erase_tx", sa.String(66), nullable=True),
)

versions_table = sa.Table(
    "gateway_versions",
    metadata,
    sa.Column("record_id", sa.LargeBinary(32), sa.ForeignKey("gateway_records.record_id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("blob", sa.LargeBinary, nullable=False),
    sa.Column("content_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("media_type", sa.String(255), nullable=False),
    # NULL once erased: the blob stays, unreadable by anyone.
    sa.Column("wrapped_key", sa.LargeBinary, nullable=True),
    sa.Column("key_id", sa.String(16), nullable=True),
    sa.Column("anchor_tx", sa.String(66), nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

seen_table = sa.Table(
    "gateway_seen_requests",
    metadata,
    sa.Column("digest", sa.LargeBinary(32), primary_key=True),
    sa.Column("expires_at", sa.BigInteger, nullable=False, index=True),
)

receipts_table = sa.Table(
    "gateway_receipts",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("receipt_id", sa.LargeBinary(32), nullable=False, unique=True),
    sa.Column("provider", sa.String(42), nullable=False),
    sa.Column("record_id", sa.LargeBinary(32), nullable=False, index=True),
    sa.Column("purpose", sa.LargeBinary(32), nullable=False),
    sa.Column("basis", sa.Integer, nullable=False),
    sa.Column("served_at", sa.BigInteger, nullable=False),
    sa.Column("request", sa.LargeBinary(32), nullable=False),
    sa.Column("signature", sa.LargeBinary(65), nullable=False),
    # NULL while pending; then the root of the batch that committed it.
    sa.Column("batch_root", sa.LargeBinary(32), nullable=True, index=True),
)

batches_table = sa.Table(
    "gateway_batches",
    metadata,
    sa.Column("root", sa.LargeBinary(32), primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("tx_hash", sa.String(66), nullable=False),
    sa.Column("block_number", sa.BigInteger, nullable=False),
    sa.Column("committed_at", sa.BigInteger, nullable=False),
)


@dataclass(frozen=True)
class StoredReceipt:
    seq: int
    receipt_id: bytes
    receipt: Receipt
    signature: bytes
    batch_root: bytes | None


@dataclass(frozen=True)
class Batch:
    root: bytes
    count: int
    tx_hash: str
    block_number: int


@dataclass(frozen=True)
class StoredRecord:
    record_id: bytes
    patient: str
    category: int
    erased_at: int | None
    erase_tx: str | None


@dataclass(frozen=True)
class StoredVersion:
    record_id: bytes
    version: int
    blob: bytes
    content_hash: bytes
    media_type: str
    wrapped_key: bytes | None
    key_id: str | None
    anchor_tx: str | None


@dataclass(frozen=True)
class WrappedKey:
    record_id: bytes
    version: int
    key_id: str
    wrapped_key: bytes


def default_url(root: Path, chain_id: int) -> str:
    """SQLite under the project's .chain/ folder, one database per chain."""
    return f"sqlite:///{root / '.chain' / f'gateway-{chain_id}.db'}"


class Store:
    """One database; the tables are created when missing."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = open_database(url, metadata, "gateway")

    # ---- records and versions -------------------------------------------------------------------

    def record(self, record_id: bytes) -> StoredRecord | None:
        with self.engine.connect() as db:
            row = db.execute(sa.select(records_table).where(records_table.c.record_id == record_id)).first()
        if row is None:
            return None
        return StoredRecord(row.record_id, row.patient, row.category, row.erased_at, row.erase_tx)

    def latest(self, record_id: bytes, anchored: bool = False) -> StoredVersion | None:
        """The newest version (with `anchored`, the newest whose anchor transaction went through)."""
        query = sa.select(versions_table).where(versions_table.c.record_id == record_id)
        if anchored:
            query = query.where(versions_table.c.anchor_tx.is_not(None))
        query = query.order_by(versions_table.c.version.desc()).limit(1)
        with self.engine.connect() as db:
            row = db.execute(query).first()
        return None if row is None else _version(row)

    def versions(self, record_id: bytes) -> list[StoredVersion]:
        query = (
            sa.select(versions_table)
            .where(versions_table.c.record_id == record_id)
            .order_by(versions_table.c.version)
        )
        with self.engine.connect() as db:
            return [_version(row) for row in db.execute(query)]

    def add_version(self, patient: str, category: int, version: StoredVersion) -> None:
        """Store a version (and its record, on the first); it is not anchored yet."""
        now = int(time.time())
        with self.engine.begin() as db:
            exists = db.execute(
                sa.select(records_table.c.record_id).where(records_table.c.record_id == version.record_id)
            ).first()
            if exists is None:
                db.execute(
                    records_table.insert().values(
                        record_id=version.record_id, patient=patient, category=category, created_at=now
                    )
                )
            db.execute(
                versions_table.insert().values(
                    record_id=version.record_id,
                    version=version.version,
                    blob=version.blob,
                    content_hash=version.content_hash,
                    media_type=version.media_type,
                    wrapped_key=version.wrapped_key,
                    key_id=version.key_id,
                    anchor_tx=version.anchor_tx,
                    created_at=now,
                )
            )

    def drop_version(self, record_id: bytes, version: int) -> None:
        """Forget a version that was never anchored (superseded before its anchor went through)."""
        with self.engine.begin() as db:
            db.execute(
                versions_table.delete().where(
                    versions_table.c.record_id == record_id,
                    versions_table.c.version == version,
                    versions_table.c.anchor_tx.is_(None),
                )
            )

    def mark_anchored(self, record_id: bytes, version: int, tx_hash: str) -> None:
        with self.engine.begin() as db:
            db.execute(
                versions_table.update()
                .where(versions_table.c.record_id == record_id, versions_table.c.version == version)
                .values(anchor_tx=tx_hash)
            )

    # ---- erasure --------------------------------------------------------------------------------

    def shred(self, record_id: bytes) -> None:
        """Destroy every wrapped data key of the record and mark it erased, in one transaction."""
        with self.engine.begin() as db:
            db.execute(
                versions_table.update()
                .where(versions_table.c.record_id == record_id)
                .values(wrapped_key=None, key_id=None)
            )
            db.execute(
                records_table.update()
                .where(records_table.c.record_id == record_id, records_table.c.erased_at.is_(None))
                .values(erased_at=int(time.time()))
            )

    def mark_erasure_anchored(self, record_id: bytes, tx_hash: str) -> None:
        with self.engine.begin() as db:
            db.execute(
                records_table.update().where(records_table.c.record_id == record_id).values(erase_tx=tx_hash)
            )

    # ---- key rotation ---------------------------------------------------------------------------

    def wrapped_keys(self, not_under: str, batch: int = 500) -> Iterator[list[WrappedKey]]:
        """Batches of wrapped data keys not wrapped by key `not_under` (what a rotation still has to do)."""
        while True:
            query = (
                sa.select(
                    versions_table.c.record_id,
                    versions_table.c.version,
                    versions_table.c.key_id,
                    versions_table.c.wrapped_key,
                )
                .where(versions_table.c.wrapped_key.is_not(None), versions_table.c.key_id != not_under)
                .order_by(versions_table.c.record_id, versions_table.c.version)
                .limit(batch)
            )
            with self.engine.connect() as db:
                rows = [
                    WrappedKey(r.record_id, r.version, r.key_id, r.wrapped_key) for r in db.execute(query)
                ]
            if not rows:
                return
            yield rows

    def rewrap(self, old: list[WrappedKey], new: list[WrappedKey]) -> None:
        """Replace wrapped keys in one transaction; a row changed meanwhile (erased) is left alone."""
        with self.engine.begin() as db:
            for before, after in zip(old, new, strict=True):
                db.execute(
                    versions_table.update()
                    .where(
                        versions_table.c.record_id == before.record_id,
                        versions_table.c.version == before.version,
                        versions_table.c.key_id == before.key_id,
                    )
                    .values(wrapped_key=after.wrapped_key, key_id=after.key_id)
                )

    # ---- replay cache ---------------------------------------------------------------------------

    def remember(self, digest: bytes, expires_at: int) -> bool:
        """Record a request digest; False if it was seen already (a replay). Forgets expired digests."""
        try:
            with self.engine.begin() as db:
                db.execute(seen_table.delete().where(seen_table.c.expires_at < int(time.time())))
                db.execute(seen_table.insert().values(digest=digest, expires_at=expires_at))
        except IntegrityError:
            return False
        return True

    # ---- read receipts (log mode "receipts") ----------------------------------------------------

    def add_receipt(self, receipt_id: bytes, receipt: Receipt, signature: bytes) -> None:
        """Keep a signed receipt, pending until a batch commits it."""
        with self.engine.begin() as db:
            db.execute(
                receipts_table.insert().values(
                    receipt_id=receipt_id,
                    provider=receipt.provider,
                    record_id=receipt.record_id,
                    purpose=receipt.purpose,
                    basis=int(receipt.basis),
                    served_at=receipt.served_at,
                    request=receipt.request,
                    signature=signature,
                )
            )

    def pending_receipts(self, limit: int) -> list[StoredReceipt]:
        """The oldest receipts no batch committed yet."""
        query = (
            sa.select(receipts_table)
            .where(receipts_table.c.batch_root.is_(None))
            .order_by(receipts_table.c.seq)
            .limit(limit)
        )
        with self.engine.connect() as db:
            return [_receipt(row) for row in db.execute(query)]

    def commit_batch(self, batch: Batch, seqs: list[int]) -> None:
        """The batch went through on chain: record it and mark its receipts, in one transaction."""
        with self.engine.begin() as db:
            db.execute(
                batches_table.insert().values(
                    root=batch.root,
                    count=batch.count,
                    tx_hash=batch.tx_hash,
                    block_number=batch.block_number,
                    committed_at=int(time.time()),
                )
            )
            db.execute(
                receipts_table.update()
                .where(receipts_table.c.seq.in_(seqs), receipts_table.c.batch_root.is_(None))
                .values(batch_root=batch.root)
            )

    def receipt(self, receipt_id: bytes) -> StoredReceipt | None:
        with self.engine.connect() as db:
            row = db.execute(
                sa.select(receipts_table).where(receipts_table.c.receipt_id == receipt_id)
            ).first()
        return None if row is None else _receipt(row)

    def batch(self, root: bytes) -> tuple[Batch, list[Receipt]] | None:
        """A committed batch and its receipts."""
        with self.engine.connect() as db:
            row = db.execute(sa.select(batches_table).where(batches_table.c.root == root)).first()
            if row is None:
                return None
            receipts = [
                _receipt(r).receipt
                for r in db.execute(
                    sa.select(receipts_table)
                    .where(receipts_table.c.batch_root == root)
                    .order_by(receipts_table.c.seq)
                )
            ]
        return Batch(row.root, row._mapping["count"], row.tx_hash, row.block_number), receipts


def _receipt(row: sa.Row[tuple[object, ...]]) -> StoredReceipt:
    receipt = Receipt(row.provider, row.record_id, row.purpose, Basis(row.basis), row.served_at, row.request)
    return StoredReceipt(row.seq, row.receipt_id, receipt, row.signature, row.batch_root)


def _version(row: sa.Row[tuple[object, ...]]) -> StoredVersion:
    return StoredVersion(
        row.record_id,
        row.version,
        row.blob,
        row.content_hash,
        row.media_type,
        row.wrapped_key,
        row.key_id,
        row.anchor_tx,
    )
