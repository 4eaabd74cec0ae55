"""ConsentGrants' events as typed rows: the grants with their tree position, and every act on them.

Written by the `Indexer` in the transaction that writes the same range of `events`, and rolled back
with it, so these tables are exactly as resumable and reorg-safe as the event index. No row holds a
patient: a root grant's id is its subject commitment (a fresh value per grant), and each grant of a
tree carries its root's id (`root_id`), the only key a patient's own tools look grants up by.

The revocation epoch is not in any event: every act that moves it emits exactly one ConsentRevoked,
ScopeLeafRevoked or AgentRevoked (ConsentGrants._bumpEpoch), so each row holds the epoch in force
after it, counted from the last row (or from the contract's starting epoch, 1).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from eth_utils.address import to_checksum_address

from carechain.core.grants import Status

GRANTS_CONTRACT: Final = "ConsentGrants"
FIRST_EPOCH: Final = 1  # ConsentGrants' constructor sets revocationEpoch to 1
EPOCH_EVENTS: Final = frozenset({"ConsentRevoked", "ScopeLeafRevoked", "AgentRevoked"})
GRANT_EVENTS: Final = frozenset(
    {
        "ConsentGranted",
        "ConsentSubGranted",
        "ConsentRevoked",
        "ConsentResumed",
        "ScopeLeafRevoked",
        "AgentRevoked",
        "AgentOperatorSet",
        "UsageCommitted",
        "NonceBurned",
        "GrantFailed",
        "RefsInterned",
    }
)


def define_tables(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table]:
    """The two tables in the indexer's metadata: `grants` (one row per grant, written once) and
    `grant_events` (one row per ConsentGrants event, in chain order)."""
    grants = sa.Table(
        "grants",
        metadata,
        sa.Column("chain_id", sa.BigInteger, primary_key=True),
        sa.Column("grant_id", sa.String(66), primary_key=True),
        sa.Column("root_id", sa.String(66), nullable=False, index=True),  # the root's subject commitment
        sa.Column("parent_id", sa.String(66)),
        sa.Column("depth", sa.Integer, nullable=False),
        sa.Column("grantee", sa.String(42)),
        sa.Column("purpose_code", sa.BigInteger),
        sa.Column("expires_at", sa.BigInteger),
        sa.Column("asset_token_id", sa.String(78)),  # a uint256 in decimal
        sa.Column("block_number", sa.BigInteger, nullable=False),
        sa.Column("block_time", sa.BigInteger, nullable=False),
        sa.Column("tx_hash", sa.String(66), nullable=False),
        sa.Column(
            "log_index", sa.Integer, nullable=False
        ),  # orders a block's grants the same on every database
        sa.Index("ix_grants_chain_block", "chain_id", "block_number"),
    )
    events = sa.Table(
        "grant_events",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("chain_id", sa.BigInteger, nullable=False),
        sa.Column("block_number", sa.BigInteger, nullable=False),
        sa.Column("block_hash", sa.String(66), nullable=False),
        sa.Column("block_time", sa.BigInteger, nullable=False),
        sa.Column("tx_hash", sa.String(66), nullable=False),
        sa.Column("log_index", sa.Integer, nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("grant_id", sa.String(66), index=True),  # a subject commitment for NonceBurned, GrantFailed
        sa.Column("status", sa.SmallInteger),  # the status this event sets (Status)
        sa.Column("actor", sa.String(66)),  # who acted: an address, or the subject's commitment
        sa.Column("agent", sa.String(42)),
        sa.Column("reason", sa.String(66)),  # reasonCode; GrantFailed's error selector
        sa.Column("leaf", sa.String(66)),
        sa.Column("usage_epoch", sa.String(20)),  # UsageCommitted's uint64, caller-chosen: in decimal
        sa.Column("head_hash", sa.String(66)),
        sa.Column("use_count", sa.BigInteger),
        sa.Column("nonce", sa.String(78)),  # NonceBurned's uint256: in decimal
        sa.Column("batch_index", sa.BigInteger),  # GrantFailed: the failed item's position in its batch
        sa.Column("refs_index", sa.BigInteger),  # RefsInterned: the interned refs pair's index (uint32)
        sa.Column("revocation_epoch", sa.BigInteger),  # in force after this event; None when unknown
        sa.UniqueConstraint("chain_id", "block_hash", "log_index", name="uq_grant_events_log"),
        sa.Index("ix_grant_events_chain_block", "chain_id", "block_number"),
    )
    return grants, events


_OPTIONAL: Final = (
    "status", "actor", "agent", "reason", "leaf",
    "usage_epoch", "head_hash", "use_count", "nonce", "batch_index", "refs_index",
)  # fmt: skip


# Event integers that may not fit a signed 64-bit column (BigInteger), stored in decimal like asset_token_id:
# UsageCommitted's epoch is a uint64 the grantee picks, NonceBurned's nonce a uint256. The other integers
# fit: purposeCode and count (uint32), expiresAt (uint48), depth (uint16), status (uint8), RefsInterned's
# index (uint32), GrantFailed's index (a position in one transaction's batch).
DECIMAL: Final = frozenset({"usage_epoch", "nonce"})

# The columns an event's arguments go to as they are (ConsentGranted's go to `grants`).
_COPIED: Final[dict[str, dict[str, str]]] = {
    "ConsentResumed": {"actor": "by"},
    "ScopeLeafRevoked": {"leaf": "leaf"},
    "AgentRevoked": {"agent": "agent", "reason": "reasonCode"},
    "AgentOperatorSet": {"agent": "agent", "actor": "operator"},
    "UsageCommitted": {"usage_epoch": "epoch", "head_hash": "headHash", "use_count": "count"},
    "NonceBurned": {"nonce": "nonce"},
    "GrantFailed": {"batch_index": "index", "reason": "reason"},
    "RefsInterned": {"refs_index": "index"},  # the refs pair's index; the pair is in `events`
}


@dataclass(frozen=True)
class GrantFields:
    """A grant's fields no act ever changes: in ConsentGranted, or read once from getGrant for a sub-grant
    (its event does not carry them); each None for a grant the chain no longer holds (a reorg)."""

    root_id: str | None
    grantee: str | None
    purpose_code: int | None
    expires_at: int | None
    asset_token_id: int | None


def _address_of(word: str) -> str:
    """ConsentRevoked's `by` is an address in a word unless the subject revoked (then a commitment)."""
    return to_checksum_address("0x" + word[-40:])


def grant_rows(
    chain_id: int,
    decoded: Iterable[dict[str, Any]],
    times: Callable[[int], int],
    epoch: int | None,
    roots: Callable[[str], str | None],
    sub_grant: Callable[[str], GrantFields],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`grants` and `grant_events` rows of ConsentGrants' decoded `events` rows (chain order).

    `times` gives a block's timestamp, `epoch` is the revocation epoch before the first row, `roots`
    the root id of an indexed grant (None: unknown), `sub_grant` reads what a sub-grant's event lacks.
    """
    grants: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    known: dict[str, str] = {}  # grant id -> root id, for sub-grants of grants made in this range
    for row in decoded:
        name, args = row["event"], row["args"]
        if name not in GRANT_EVENTS:
            continue
        block, when = row["block_number"], times(row["block_number"])
        out: dict[str, Any] = {
            "chain_id": chain_id,
            "block_number": block,
            "block_hash": row["block_hash"],
            "block_time": when,
            "tx_hash": row["tx_hash"],
            "log_index": row["log_index"],
            "event": name,
            "grant_id": args.get("grantId") or args.get("subjectCommit"),
        } | dict.fromkeys(_OPTIONAL)  # every row every column: rows are inserted as one executemany
        where = {
            "chain_id": chain_id,
            "block_number": block,
            "block_time": when,
            "tx_hash": row["tx_hash"],
            "log_index": row["log_index"],
        }
        if name in ("ConsentGranted", "ConsentSubGranted"):
            grant_id = args["grantId"]
            if name == "ConsentGranted":
                parent, depth, root = None, 0, grant_id
                fields = GrantFields(
                    grant_id, args["grantee"], args["purposeCode"], args["expiresAt"], args["assetTokenId"]
                )
            else:
                parent, depth, fields = args["parentGrantId"], args["depth"], sub_grant(grant_id)
                # getGrant's subjectCommit is the root's id; the index is asked only for a grant gone since.
                root = fields.root_id or known.get(parent) or roots(parent) or parent
            known[grant_id] = root
            out["status"] = int(Status.ACTIVE)
            grants.append(
                where
                | {
                    "grant_id": grant_id,
                    "root_id": root,
                    "parent_id": parent,
                    "depth": depth,
                    "grantee": fields.grantee,
                    "purpose_code": fields.purpose_code,
                    "expires_at": fields.expires_at,
                    "asset_token_id": None if fields.asset_token_id is None else str(fields.asset_token_id),
                }
            )
        elif name == "ConsentRevoked":
            out["status"] = args["status"]
            by = str(args["by"])
            subject = args["status"] == Status.REVOKED_BY_SUBJECT
            out["actor"] = by if subject else _address_of(by)
            out["reason"] = args["reasonCode"]
        elif name == "ConsentResumed":
            out["status"] = int(Status.ACTIVE)
        out |= {
            column: str(args[arg]) if column in DECIMAL else args[arg]
            for column, arg in _COPIED.get(name, {}).items()
        }
        if epoch is not None and name in EPOCH_EVENTS:
            epoch += 1
        out["revocation_epoch"] = epoch
        rows.append(out)
    return grants, rows
