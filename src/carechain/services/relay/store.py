"""The relayer's store: one row per signed request it took on, keyed by its EIP-712 digest.

SQLAlchemy 2 Core on SQLite (default) or PostgreSQL (by URL). The digest key makes a request
idempotent: the same signed request again finds its row. A partial unique index on (patient, nonce)
over the rows that have not failed makes a second, different request for a nonce that one already
holds fail at the database, so two relayer processes on one database cannot both pay for it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from carechain.services.database import open_database

PENDING, SUBMITTED, MINED, FAILED = "pending", "submitted", "mined", "failed"

metadata = sa.MetaData()


def _submissions(name: str, signer_length: int, live_nonce_index: str) -> sa.Table:
    """A table of signed requests keyed by their EIP-712 digest, with at most one live request per
    (signer, nonce)."""
    table = sa.Table(
        name,
        metadata,
        sa.Column("id", sa.LargeBinary(32), primary_key=True),  # the request's EIP-712 digest
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("patient", sa.String(signer_length), nullable=False),  # whose nonce the request consumes
        sa.Column("nonce", sa.String(78), nullable=False),  # a uint256 in decimal
        sa.Column("request", sa.Text, nullable=False),  # the signed request's JSON, to rebuild the call
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("tx_hash", sa.String(66), nullable=True),
        sa.Column("block_number", sa.BigInteger, nullable=True),
        sa.Column("gas_used", sa.BigInteger, nullable=True),
        sa.Column("error", sa.String(255), nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    live = table.c.status != FAILED
    sa.Index(
        live_nonce_index,
        table.c.patient,
        table.c.nonce,
        unique=True,
        sqlite_where=live,
        postgresql_where=live,
    )
    return table


# ConsentRegistry's signed Grant and Revoke, keyed by the patient's address (removed with that registry).
submissions_table = _submissions("relay_submissions", 42, "relay_live_nonce")
# ConsentGrants' subject acts (Grant, RevokeBySubject, RevokeScopeLeaf, BurnNonce): `patient` holds the
# 0x-hex subject commitment whose nonce the act consumes, the only name a patient has there.
subject_acts_table = _submissions("relay_subject_acts", 66, "relay_subject_acts_live_nonce")


@dataclass(frozen=True)
class Submission:
    """A signed request the relayer took on, and how far it got."""

    id: bytes
    kind: str
    patient: str
    nonce: int
    request: str
    status: str
    tx_hash: str | None
    block_number: int | None
    gas_used: int | None
    error: str | None


def default_url(root: Path, chain_id: int) -> str:
    """SQLite under the project's .chain/ folder, one database per chain."""
    return f"sqlite:///{root / '.chain' / f'relay-{chain_id}.db'}"


class Store:
    """One table of one database (`submissions_table` unless told); the tables are created when missing."""

    def __init__(self, url: str, table: sa.Table = submissions_table) -> None:
        self.url = url
        self.table = table
        self.engine = open_database(url, metadata, "relayer")

    def get(self, submission_id: bytes) -> Submission | None:
        query = sa.select(self.table).where(self.table.c.id == submission_id)
        with self.engine.connect() as db:
            row = db.execute(query).first()
        return None if row is None else _submission(row)

    def holder(self, patient: str, nonce: int) -> Submission | None:
        """The request that holds (patient, nonce) and has not failed, if any."""
        query = sa.select(self.table).where(
            self.table.c.patient == patient,
            self.table.c.nonce == str(nonce),
            self.table.c.status != FAILED,
        )
        with self.engine.connect() as db:
            row = db.execute(query).first()
        return None if row is None else _submission(row)

    def claim(self, submission_id: bytes, kind: str, patient: str, nonce: int, request: str) -> bool:
        """Insert a pending row; False when this id, or another live request for the nonce, is there. A
        failed row of this id is replaced: the same request may be sent again."""
        now = int(time.time())
        try:
            with self.engine.begin() as db:
                db.execute(
                    self.table.delete().where(self.table.c.id == submission_id, self.table.c.status == FAILED)
                )
                db.execute(
                    self.table.insert().values(
                        id=submission_id,
                        kind=kind,
                        patient=patient,
                        nonce=str(nonce),
                        request=request,
                        status=PENDING,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            return False
        return True

    def release(self, submission_id: bytes) -> None:
        """Forget a pending claim that was refused before anything was sent."""
        with self.engine.begin() as db:
            db.execute(
                self.table.delete().where(self.table.c.id == submission_id, self.table.c.status == PENDING)
            )

    def update(self, submission_id: bytes, status: str, **values: object) -> None:
        """Move a row on: submitted (tx_hash), mined (block_number, gas_used), failed (error)."""
        with self.engine.begin() as db:
            db.execute(
                self.table.update()
                .where(self.table.c.id == submission_id)
                .values(status=status, updated_at=int(time.time()), **values)
            )

    def in_flight(self) -> list[Submission]:
        """Rows sent and not yet known to be mined or failed, oldest first."""
        query = (
            sa.select(self.table).where(self.table.c.status == SUBMITTED).order_by(self.table.c.created_at)
        )
        with self.engine.connect() as db:
            return [_submission(row) for row in db.execute(query)]


def _submission(row: sa.Row[tuple[object, ...]]) -> Submission:
    return Submission(
        row.id,
        row.kind,
        row.patient,
        int(row.nonce),
        row.request,
        row.status,
        row.tx_hash,
        row.block_number,
        row.gas_used,
        row.error,
    )
