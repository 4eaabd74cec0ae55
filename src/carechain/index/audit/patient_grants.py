"""A patient's own grants, answered on the patient's side: their history, and who may use their data for what.

The patient's tools pass the root grant ids their key material gives (`root_ids`: the subject commitments
of per-grant keys 0..count-1; a scanner that finds how many there are composes with this by passing its
own list). The index is read in full and filtered here, so the list never reaches a database server.

By default nothing sent to the node names a grant: the answer is checked only by facts without ids (the
index's last block is still the node's block at that height, and the revocation epoch there). Each grant
is asked about on chain (getGrant, effectiveStatus, isGrantActive, in JSON-RPC batches) only when the
caller names a `trusted_node`: that node learns the patient's list of grants.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from carechain.clients.grants import ConsentGrant, ConsentGrantsClient
from carechain.core.grants import Op, Status
from carechain.core.keys import KeyRoot, Role
from carechain.core.values import bytes32, uint
from carechain.errors import InputError
from carechain.index.audit.common import Serialisable, snapshot
from carechain.index.audit.grants import (
    EXPIRED,
    EpochCheck,
    IndexedGrant,
    effective_statuses,
    epoch_check,
    indexed_grants,
    purpose_name,
)
from carechain.index.grants import DECIMAL
from carechain.index.indexer import Indexer, grant_events_table

MAX_ROOTS = 10_000  # grant keys derived per call: each costs a derivation, and the list is held in memory


def root_ids(key_root: KeyRoot, count: int, role: Role = "subject", first: int = 0) -> list[str]:
    """The root grant ids (subject commitments) of grant numbers first..first+count-1 of `role`, at most
    MAX_ROOTS at a time (ask again with a later `first` for more)."""
    uint(count, "count", 32)
    uint(first, "first grant number", 32)
    if count > MAX_ROOTS:
        raise InputError(
            f"count {count} is more than {MAX_ROOTS:,} grant keys at once: ask in parts with `first`"
        )
    return ["0x" + key_root.grant_keys(role, index).commitment.hex() for index in range(first, first + count)]


def _roots(roots: Iterable[bytes | str]) -> frozenset[str]:
    return frozenset("0x" + bytes32(root, "root grant id").hex() for root in roots)


def _ops(mask: int) -> list[str]:
    return [str(op.name).lower() for op in Op if mask & op]


@dataclass(frozen=True)
class OwnGrant(IndexedGrant):
    """One grant of the patient's trees, by the index and (when checked) by the chain."""

    purpose: str
    index_status: str  # effective: an ended ancestor's status, EXPIRED past expiresAt
    chain_status: str | None  # effectiveStatus, EXPIRED when past expiresAt; None unchecked
    chain_active: bool | None  # isGrantActive: may the grantee use the data now
    ops: list[str] | None  # from getGrant (no event carries them); None unchecked
    scope_ref: str | None  # from getGrant: the patient's side names it with the grant's scope salt
    agent: str | None
    agrees: bool
    usable_by_index: bool  # ACTIVE, not past its end, and every ancestor ACTIVE (not SUSPENDED) in the index


@dataclass(frozen=True)
class OwnGrants(Serialisable):
    """`patient_grants`' answer; `may_use` is "who may use my data for what"."""

    chain_id: int
    indexed_block: int
    head: int
    time: int
    roots_asked: int
    roots_found: int
    grants: list[OwnGrant]
    checked: bool  # each grant asked of a trusted node
    canonical: bool | None  # the index's last block is the node's block at that height (None: none indexed)
    epoch: EpochCheck

    @property
    def agrees(self) -> bool:
        """No disagreement found: per grant when checked, else only by the id-free checks."""
        return (
            all(grant.agrees for grant in self.grants)
            and self.canonical is not False
            and self.epoch.agrees is not False
        )

    @property
    def may_use(self) -> list[OwnGrant]:
        """The grants a grantee may use now: by the chain's isGrantActive when checked, else by the index
        (the grant and each ancestor ACTIVE, none past its end; `not_checked` says what that leaves out)."""
        return [
            grant for grant in self.grants if (grant.chain_active if self.checked else grant.usable_by_index)
        ]

    @property
    def not_checked(self) -> list[str]:
        """What `may_use` could not see: isGrantActive's conditions that are in no event."""
        return [] if self.checked else list(UNSEEN_BY_INDEX)

    def to_dict(self) -> dict[str, Any]:
        may_use = [grant.grant_id for grant in self.may_use]
        return super().to_dict() | {
            "agrees": self.agrees,
            "may_use": may_use,
            "not_checked": self.not_checked,
        }


# isGrantActive's conditions no event carries, so an answer from the index alone has not checked them.
UNSEEN_BY_INDEX = ("notBefore: not checked (in no event)", "usage cap: not checked (in no event)")


def _usable_by_index(grants: list[IndexedGrant], shown: dict[str, str]) -> dict[str, bool]:
    """Each grant ACTIVE (and not EXPIRED) with every ancestor's own status ACTIVE: a SUSPENDED ancestor
    stops its sub-grants' use (isGrantActive) though their effective status stays ACTIVE."""
    by_id = {grant.grant_id: grant for grant in grants}
    usable: dict[str, bool] = {}
    for grant in grants:
        ok, at = shown[grant.grant_id] == Status.ACTIVE.name, grant
        while ok and at.parent_id is not None:
            parent = by_id.get(at.parent_id)
            ok = (
                parent is not None
                and parent.own_status == Status.ACTIVE
                and shown[parent.grant_id] != EXPIRED
            )
            at = parent if parent is not None else at
        usable[grant.grant_id] = ok
    return usable


def _checked(
    grant: IndexedGrant, shown: str, view: tuple[ConsentGrant, Status, bool] | None, now: int, usable: bool
) -> OwnGrant:
    chain_status = chain_active = ops = scope_ref = agent = None
    agrees = True
    if view is not None:
        on_chain, effective, chain_active = view
        live = effective in (Status.ACTIVE, Status.SUSPENDED)
        chain_status = EXPIRED if live and on_chain.expires_at <= now else effective.name
        ops = _ops(on_chain.ops)
        scope_ref = "0x" + on_chain.scope_ref.hex()
        agent = None if int(on_chain.agent, 16) == 0 else on_chain.agent
        agrees = (
            chain_status == shown
            and on_chain.grantee == grant.grantee
            and on_chain.purpose_code == grant.purpose_code
            and (shown == Status.ACTIVE.name or not chain_active)
        )
    return OwnGrant(
        **vars(grant),
        purpose=purpose_name(grant.purpose_code),
        index_status=shown,
        chain_status=chain_status,
        chain_active=chain_active,
        ops=ops,
        scope_ref=scope_ref,
        agent=agent,
        agrees=agrees,
        usable_by_index=usable,
    )


def patient_grants(
    indexer: Indexer,
    roots: Sequence[bytes | str],
    *,
    trusted_node: ConsentGrantsClient | None = None,
) -> OwnGrants:
    """Every grant of the trees rooted at `roots` (the patient's grants and the sub-grants made from them),
    with its status by the index, checked by facts that name no grant; given a `trusted_node` (a read-only
    client on a node the patient trusts with the list), each grant also by the chain, in batches."""
    wanted = _roots(roots)
    at = snapshot(indexer)
    grants = list(indexed_grants(indexer, wanted))
    shown = effective_statuses(grants, at.time)
    views: list[tuple[ConsentGrant, Status, bool] | None] = [None] * len(grants)
    if trusted_node is not None and grants:
        views = list(trusted_node.grant_views([grant.grant_id for grant in grants]))
    usable = _usable_by_index(grants, shown)
    rows = [
        _checked(grant, shown[grant.grant_id], view, at.time, usable[grant.grant_id])
        for grant, view in zip(grants, views, strict=True)
    ]
    return OwnGrants(
        at.chain_id,
        at.indexed_block,
        at.head,
        at.time,
        len(wanted),
        len({grant.root_id for grant in grants}),
        rows,
        trusted_node is not None,
        indexer.on_chain(),
        epoch_check(indexer, at),
    )


@dataclass(frozen=True)
class OwnEvent(Serialisable):
    """One act on one of the patient's grants."""

    block: int
    time: int
    tx: str
    log_index: int
    event: str
    grant_id: str
    root_id: str
    status: str | None  # the status the event set
    actor: str | None  # an address, or the subject's own commitment
    detail: dict[str, Any]


@dataclass(frozen=True)
class OwnHistory(Serialisable):
    chain_id: int
    indexed_block: int
    head: int
    roots_asked: int
    entries: list[OwnEvent]


_DETAIL = (
    "agent",
    "reason",
    "leaf",
    "usage_epoch",
    "head_hash",
    "use_count",
    "nonce",
    "batch_index",
    "refs_index",
)


def patient_history(indexer: Indexer, roots: Sequence[bytes | str]) -> OwnHistory:
    """Every act on the trees rooted at `roots`, in chain order: grants, sub-grants, revocations,
    suspensions and resumptions, withdrawn leaves, agent revocations, usage commitments, nonce burns and
    failed batch items (their ids are the roots' commitments). From the index only: not checked against
    the chain."""
    wanted = _roots(roots)
    at = snapshot(indexer)
    tree = {grant.grant_id: grant.root_id for grant in indexed_grants(indexer, wanted)}
    tree |= {root: root for root in wanted}  # a burnt nonce or failed item of a grant never made
    e = grant_events_table.c
    query = (
        sa.select(grant_events_table)
        .where(e.chain_id == indexer.chain_id, e.grant_id.is_not(None))
        .order_by(e.block_number, e.log_index)
    )
    entries: list[OwnEvent] = []
    with indexer.engine.connect() as db:
        for row in db.execution_options(yield_per=5_000).execute(query):
            if row.grant_id not in tree:
                continue
            detail = {
                key: int(value) if key in DECIMAL else value
                for key in _DETAIL
                if (value := getattr(row, key)) is not None
            }
            entries.append(
                OwnEvent(
                    int(row.block_number),
                    int(row.block_time),
                    row.tx_hash,
                    int(row.log_index),
                    row.event,
                    row.grant_id,
                    tree[row.grant_id],
                    None if row.status is None else Status(row.status).name,
                    row.actor,
                    detail,
                )
            )
    return OwnHistory(at.chain_id, at.indexed_block, at.head, len(wanted), entries)
