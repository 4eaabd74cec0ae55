"""The event index: every CareChain event, read with eth_getLogs, in SQLite or PostgreSQL.

`Indexer(w3, root, url).sync()` reads the logs of the five registries in block ranges that grow
while answers are small and halve when the node refuses a range or answers with too many logs. Each
range is written in one database transaction together with the cursor, so a run stopped anywhere
resumes without duplicates. The hashes of indexed blocks are kept: when a stored hash no longer
matches the node's block at that height (a reorg), the blocks after the last matching one are
rolled back and read again. Node calls are retried with backoff; a node that stays down raises one
`ChainUnavailable`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa
from eth_abi.abi import decode as abi_decode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from sha3 import keccak_256
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from web3 import Web3
from web3.exceptions import BlockNotFound, Web3RPCError
from web3.types import RPCEndpoint

from carechain.chain import ChainUnavailable, _abi_type
from carechain.deployments import CONTRACTS, Manifest, load_abi
from carechain.errors import CareChainError

Progress = Callable[[int, int], None]  # (blocks done, blocks to do) in this sync

# The indexed keys most queries filter by; `party` is the other side of a patient's event.
PARTY_ARGS = (
    "grantee",
    "provider",
    "subject",
    "delegate",
    "account",
    "custodian",
    "site",
    "reviewer",
    "sponsor",
    "irb",
)

metadata = sa.MetaData()

events_table = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("chain_id", sa.BigInteger, nullable=False),
    sa.Column("block_number", sa.BigInteger, nullable=False),
    sa.Column("block_hash", sa.String(66), nullable=False),
    sa.Column("tx_hash", sa.String(66), nullable=False),
    sa.Column("log_index", sa.Integer, nullable=False),
    sa.Column("contract", sa.String(32), nullable=False),
    sa.Column("address", sa.String(42), nullable=False),
    sa.Column("event", sa.String(64), nullable=False),
    sa.Column("args", sa.JSON, nullable=False),
    sa.Column("patient", sa.String(42), index=True),
    sa.Column("party", sa.String(42), index=True),
    sa.Column("trial_id", sa.BigInteger, index=True),
    sa.Column("record_id", sa.String(66), index=True),
    sa.UniqueConstraint("chain_id", "block_hash", "log_index", name="uq_events_log"),
    sa.Index("ix_events_chain_block", "chain_id", "block_number"),
    sa.Index("ix_events_event", "event"),
)

blocks_table = sa.Table(
    "blocks",
    metadata,
    sa.Column("chain_id", sa.BigInteger, primary_key=True),
    sa.Column("number", sa.BigInteger, primary_key=True),
    sa.Column("hash", sa.String(66), nullable=False),
)

cursor_table = sa.Table(
    "cursor",
    metadata,
    sa.Column("chain_id", sa.BigInteger, primary_key=True),
    sa.Column("last_block", sa.BigInteger, nullable=False),
    sa.Column("addresses", sa.JSON, nullable=False),
)


@dataclass
class SyncResult:
    """What one `sync` did: new events and blocks, blocks rolled back by reorgs, the ranges read.

    `to_block` is the last block the index holds afterwards.
    """

    from_block: int
    to_block: int
    events: int = 0
    blocks: int = 0
    rolled_back: int = 0
    refused: int = 0
    ranges: list[tuple[int, int]] = field(default_factory=list)


def database_url(value: str) -> str:
    """A SQLAlchemy URL: a plain path is a SQLite file; postgresql:// uses psycopg 3."""
    if "://" not in value:
        return f"sqlite:///{Path(value).expanduser()}"
    if value.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + value.split("://", 1)[1]
    return value


def _shown(url: str) -> str:
    """A database URL fit for an error message: never its password."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return repr(url)


def _hex(value: Any) -> str:
    return "0x" + bytes(HexBytes(value)).hex()


def _plain(value: Any) -> Any:
    """An event argument as JSON: bytes as 0x hex, tuples as lists; ints and strings as they are."""
    if isinstance(value, bytes | bytearray):
        return _hex(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@lru_cache(maxsize=65_536)
def _address(word: str) -> str:
    """The EIP-55 address in a 64-hex-digit word (cached: addresses recur; C keccak, as in merkle)."""
    lower = word[24:].lower()
    digest = keccak_256(lower.encode()).hexdigest()
    # A hex digit of the hash at 8 or above capitalises the letter beside it (EIP-55).
    return "0x" + "".join(
        c.upper() if d in "89abcdef" else c for c, d in zip(lower, digest[:40], strict=True)
    )


def _signed(word: str) -> int:
    value = int(word, 16)
    return value - (1 << 256) if value >> 255 else value


def _word_decoder(kind: str) -> Callable[[str], Any]:
    """How to read one 64-hex-digit ABI word of a static type as JSON (a hash for an indexed dynamic one)."""
    if kind == "address":
        return _address
    if kind == "bool":
        return lambda word: int(word, 16) != 0
    if re.fullmatch(r"uint\d*", kind):
        return lambda word: int(word, 16)
    if re.fullmatch(r"int\d*", kind):
        return _signed
    if match := re.fullmatch(r"bytes([1-9]|[12]\d|3[0-2])", kind):
        size = 2 * int(match.group(1))
        return lambda word: "0x" + word[:size].lower()
    return lambda word: "0x" + word.lower()


def _is_static(kind: str) -> bool:
    return re.fullmatch(r"address|bool|u?int\d*|bytes([1-9]|[12]\d|3[0-2])", kind) is not None


class _Event:
    """One event of one contract's ABI and a fast decoder for its raw logs.

    Every CareChain event has only static fields, read word by word from the hex here (web3's log
    decoding and formatters cost ~1 ms a log); an event with dynamic data goes through eth-abi.
    """

    def __init__(self, contract: str, entry: dict[str, Any]) -> None:
        self.contract = contract
        self.name = str(entry["name"])
        types = [_abi_type(i) for i in entry["inputs"]]
        self.topic = "0x" + keccak(text=f"{self.name}({','.join(types)})").hex()
        self.inputs = [
            (str(i["name"]), bool(i.get("indexed")), _word_decoder(kind))
            for i, kind in zip(entry["inputs"], types, strict=True)
        ]
        self.data_types = [
            kind for i, kind in zip(entry["inputs"], types, strict=True) if not i.get("indexed")
        ]
        self.static = all(_is_static(kind) for kind in self.data_types)

    def decode(self, topics: list[str], data: str) -> dict[str, Any]:
        """The arguments of a log, from its topics after the first and its 0x-hex data."""
        if self.static:
            words = iter([data[i : i + 64] for i in range(2, len(data), 64)])
        else:
            values = iter([_plain(v) for v in abi_decode(self.data_types, bytes.fromhex(data[2:]))])
        indexed = iter(topics)
        args: dict[str, Any] = {}
        for name, is_indexed, read in self.inputs:
            if is_indexed:
                args[name] = read(next(indexed)[2:])
            elif self.static:
                args[name] = read(next(words))
            else:
                args[name] = next(values)
        return args


class Indexer:
    """Follows the CareChain deployment of `w3`'s chain (its manifest under `root`) into `url`."""

    def __init__(
        self,
        w3: Web3,
        root: Path,
        url: str,
        *,
        initial_range: int = 1_000,
        max_range: int = 100_000,
        max_logs: int = 10_000,
        retries: int = 5,
        backoff: float = 0.5,
    ) -> None:
        self.w3 = w3
        self.chain_id = w3.eth.chain_id
        self.root = root
        manifest = Manifest.load(root, self.chain_id)
        self.addresses = {name: to_checksum_address(manifest.address(name)) for name in CONTRACTS}
        self.deploy_block = min(int(manifest.contracts[name].get("block", 0)) for name in CONTRACTS)
        self._events: dict[tuple[str, str], _Event] = {}
        for name in CONTRACTS:
            for entry in load_abi(root, name):
                if entry.get("type") == "event" and not entry.get("anonymous"):
                    event = _Event(name, entry)
                    self._events[(self.addresses[name].lower(), event.topic)] = event
        self.max_range = max_range
        self.range = min(initial_range, max_range)
        self.max_logs = max_logs
        self.retries = retries
        self.backoff = backoff
        self.url = database_url(url)
        try:
            self.engine = sa.create_engine(self.url)
            metadata.create_all(self.engine)
        except (sa.exc.SQLAlchemyError, ImportError) as err:
            reason = str(getattr(err, "orig", None) or err).strip().splitlines()[0]
            raise CareChainError(f"cannot open the index database {_shown(self.url)}: {reason}") from None

    def close(self) -> None:
        self.engine.dispose()

    # ---- node calls --------------------------------------------------------------------------------

    def _node(self, what: str, call: Callable[[], Any]) -> Any:
        """`call`, retried with exponential backoff while the node does not answer."""
        for attempt in range(self.retries + 1):
            try:
                return call()
            except (
                requests.exceptions.ConnectionError,
                requests.exceptions.Timeout,
                requests.exceptions.HTTPError,
                OSError,
            ) as err:
                if attempt == self.retries:
                    raise ChainUnavailable(
                        f"the Ethereum node stopped answering during {what} ({type(err).__name__}) after "
                        f"{self.retries} retries; the index is kept up to its last full range: re-run once "
                        "the node is back"
                    ) from err
                time.sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")

    def _block_hash(self, number: int) -> str | None:
        try:
            block = self._node(f"eth_getBlockByNumber({number})", lambda: self.w3.eth.get_block(number))
        except (BlockNotFound, Web3RPCError):
            return None
        return _hex(block["hash"])

    def head(self) -> int:
        return int(self._node("eth_blockNumber", lambda: self.w3.eth.block_number))

    def _get_logs(self, start: int, end: int) -> list[Any] | None:
        """The logs of [start, end], or None when the node refuses the range or returns too many."""
        params = {"address": list(self.addresses.values()), "fromBlock": hex(start), "toBlock": hex(end)}
        # The raw JSON-RPC answer: web3's result formatters would cost more than decoding the logs.
        response = self._node(
            f"eth_getLogs({start}..{end})",
            lambda: self.w3.provider.make_request(RPCEndpoint("eth_getLogs"), [params]),
        )
        logs = response.get("result")
        if "error" in response or not isinstance(logs, list) or len(logs) > self.max_logs:
            return None
        return logs

    # ---- state -------------------------------------------------------------------------------------

    def last_block(self) -> int | None:
        """The last block fully indexed, or None when nothing is indexed for this chain yet."""
        with self.engine.connect() as db:
            row = db.execute(
                sa.select(cursor_table.c.last_block, cursor_table.c.addresses).where(
                    cursor_table.c.chain_id == self.chain_id
                )
            ).first()
        if row is None:
            return None
        if row.addresses != self.addresses:
            raise CareChainError(
                f"{self.url} indexes other contract addresses on chain {self.chain_id} (a redeploy?): "
                "index into a new database"
            )
        return int(row.last_block)

    def _stored_blocks(self, below: int, page: int = 256) -> Iterator[tuple[int, str]]:
        """Stored (number, hash) at or below `below`, newest first, read a page at a time."""
        while True:
            with self.engine.connect() as db:
                rows = db.execute(
                    sa.select(blocks_table.c.number, blocks_table.c.hash)
                    .where(blocks_table.c.chain_id == self.chain_id, blocks_table.c.number <= below)
                    .order_by(blocks_table.c.number.desc())
                    .limit(page)
                ).all()
            for row in rows:
                yield int(row.number), str(row.hash)
            if len(rows) < page:
                return
            below = int(rows[-1].number) - 1

    def _fork_point(self, last: int) -> int:
        """The highest stored block still on the node's chain (all blocks below it are then too)."""
        for number, stored in self._stored_blocks(last):
            if self._block_hash(number) == stored:
                return number
        return self.deploy_block - 1

    def _roll_back(self, after: int) -> int:
        """Forget every block above `after`; returns how many stored blocks went."""
        with self.engine.begin() as db:
            db.execute(
                events_table.delete().where(
                    events_table.c.chain_id == self.chain_id, events_table.c.block_number > after
                )
            )
            gone = db.execute(
                blocks_table.delete().where(
                    blocks_table.c.chain_id == self.chain_id, blocks_table.c.number > after
                )
            ).rowcount
            db.execute(
                cursor_table.update().where(cursor_table.c.chain_id == self.chain_id).values(last_block=after)
            )
        return int(gone or 0)

    def _insert(self, table: sa.Table) -> sa.Insert:
        """INSERT that skips rows already there (executed with many rows at once)."""
        statement = (pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert)(table)
        return statement.on_conflict_do_nothing()

    def _write(self, end: int, end_hash: str, logs: list[Any]) -> int:
        """One range in one transaction: its events, its blocks' hashes, the cursor."""
        rows = [row for log in logs if (row := self.decode(log)) is not None]
        blocks = {row["block_number"]: row["block_hash"] for row in rows}
        blocks[end] = end_hash
        with self.engine.begin() as db:
            if rows:
                db.execute(self._insert(events_table), rows)
            db.execute(
                self._insert(blocks_table),
                [{"chain_id": self.chain_id, "number": n, "hash": h} for n, h in blocks.items()],
            )
            updated = db.execute(
                cursor_table.update()
                .where(cursor_table.c.chain_id == self.chain_id)
                .values(last_block=end, addresses=self.addresses)
            ).rowcount
            if not updated:
                db.execute(
                    cursor_table.insert().values(
                        chain_id=self.chain_id, last_block=end, addresses=self.addresses
                    )
                )
        return len(rows)

    def decode(self, log: dict[str, Any]) -> dict[str, Any] | None:
        """A raw JSON-RPC log as an `events` row; None for a log of no CareChain event."""
        topics = log["topics"]
        event = self._events.get((log["address"].lower(), topics[0].lower())) if topics else None
        if event is None:
            return None
        args = event.decode(topics[1:], log["data"])
        return {
            "chain_id": self.chain_id,
            "block_number": int(log["blockNumber"], 16),
            "block_hash": log["blockHash"].lower(),
            "tx_hash": log["transactionHash"].lower(),
            "log_index": int(log["logIndex"], 16),
            "contract": event.contract,
            "address": self.addresses[event.contract],
            "event": event.name,
            "args": args,
            "patient": args.get("patient"),
            "party": next((args[key] for key in PARTY_ARGS if key in args), None),
            "trial_id": args.get("trialId"),
            "record_id": args.get("recordId"),
        }

    # ---- sync --------------------------------------------------------------------------------------

    def sync(
        self,
        to_block: int | None = None,
        *,
        from_block: int | None = None,
        confirmations: int = 0,
        progress: Progress | None = None,
    ) -> SyncResult:
        """Index up to `to_block` (default: the head less `confirmations`); returns what was done.

        `from_block` (default: the first deploy block) applies only to an empty index; afterwards
        the index resumes after its last block, first rolling back any blocks a reorg replaced.
        """
        last = self.last_block()
        rolled_back = 0
        if last is None:
            last = (self.deploy_block if from_block is None else from_block) - 1
        else:
            stored = next(self._stored_blocks(last), None)
            if stored is not None and self._block_hash(stored[0]) != stored[1]:
                fork = self._fork_point(last)
                rolled_back = self._roll_back(fork)
                last = fork
        target = self.head() - confirmations if to_block is None else to_block
        result = SyncResult(last + 1, max(target, last), rolled_back=rolled_back)
        start = last + 1
        while start <= target:
            end = min(start + self.range - 1, target)
            end_hash = self._block_hash(end)
            logs = self._get_logs(start, end)
            if logs is None:
                if end == start:
                    raise CareChainError(
                        f"the node refuses eth_getLogs even for block {start} alone "
                        f"(or it holds more than {self.max_logs} logs)"
                    )
                result.refused += 1
                self.range = max(1, (end - start + 1) // 2)
                continue
            if (
                end_hash is None
                or self._block_hash(end) != end_hash
                or any(
                    log["blockHash"].lower() != end_hash for log in logs if int(log["blockNumber"], 16) == end
                )
            ):
                result.to_block = start - 1  # the chain moved while this range was read: try again next sync
                break
            result.events += self._write(end, end_hash, logs)
            result.blocks += end - start + 1
            result.ranges.append((start, end))
            if len(logs) <= self.max_logs // 2:
                self.range = min(self.max_range, self.range * 2)
            start = end + 1
            if progress is not None:
                progress(end - result.from_block + 1, target - result.from_block + 1)
        return result

    # ---- queries -----------------------------------------------------------------------------------

    def events(
        self,
        *,
        patient: str | None = None,
        party: str | None = None,
        trial_id: int | None = None,
        record_id: str | bytes | None = None,
        contract: str | None = None,
        event: str | None = None,
        from_block: int | None = None,
        to_block: int | None = None,
    ) -> list[dict[str, Any]]:
        """Indexed events of this chain matching every given filter, in chain order, as plain dicts."""
        t = events_table.c
        where = [t.chain_id == self.chain_id]
        if patient is not None:
            where.append(t.patient == to_checksum_address(patient))
        if party is not None:
            where.append(t.party == to_checksum_address(party))
        if trial_id is not None:
            where.append(t.trial_id == trial_id)
        if record_id is not None:
            where.append(t.record_id == _hex(record_id))
        if contract is not None:
            where.append(t.contract == contract)
        if event is not None:
            where.append(t.event == event)
        if from_block is not None:
            where.append(t.block_number >= from_block)
        if to_block is not None:
            where.append(t.block_number <= to_block)
        columns = [c for c in events_table.c if c.name != "id"]
        with self.engine.connect() as db:
            rows = db.execute(sa.select(*columns).where(*where).order_by(t.block_number, t.log_index))
            return [dict(row._mapping) for row in rows]

    def counts(self) -> dict[str, int]:
        """Indexed events of this chain per event name."""
        t = events_table.c
        with self.engine.connect() as db:
            rows = db.execute(
                sa.select(t.event, sa.func.count()).where(t.chain_id == self.chain_id).group_by(t.event)
            )
            return {str(name): int(count) for name, count in rows}

    def block_count(self) -> int:
        """Blocks whose hash the index holds for reorg checks."""
        with self.engine.connect() as db:
            count = db.execute(
                sa.select(sa.func.count())
                .select_from(blocks_table)
                .where(blocks_table.c.chain_id == self.chain_id)
            ).scalar_one()
        return int(count)
