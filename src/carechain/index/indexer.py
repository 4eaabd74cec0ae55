"""The event index: every CareChain event, read with eth_getLogs, in SQLite or PostgreSQL.

`Indexer(w3, root, url).sync()` reads the logs of the deployment's contracts in block ranges that grow
while answers are small, halve when the node refuses a range, and shrink after an answer of more
than `max_logs` logs (which is kept: a range is never read twice for its size). Each
range is written in one database transaction together with the cursor, so a run stopped anywhere
resumes without duplicates; ConsentGrants' events also go, in that same transaction, into typed rows
(`carechain.index.grants`: grants, their trees, statuses and revocation epochs, never a patient).
The hashes of indexed blocks are kept: when a stored hash no longer matches the node's block at
that height (a reorg), the blocks after the last matching one are rolled back and read again. Node
calls go through the transport's one retry policy and loop (`carechain.core.transport.retrying`); a
node that stays down raises one `ChainUnavailable`.
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from eth_abi.abi import decode as abi_decode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from sha3 import keccak_256
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from web3 import JSONBaseProvider, Web3
from web3.exceptions import BlockNotFound, Web3RPCError
from web3.types import RPCEndpoint

from carechain.clients.grants import ConsentGrantsClient
from carechain.core.deployments import INDEXED, Manifest, load_abi
from carechain.core.reverts import abi_type as _abi_type
from carechain.core.transport import RetryPolicy, policy_of, retrying
from carechain.errors import CareChainError, ChainUnavailable
from carechain.index.grants import (
    FIRST_EPOCH,
    GRANT_EVENTS,
    GRANTS_CONTRACT,
    GrantFields,
    define_tables,
    grant_rows,
)

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
    # The first block this index read (None: an index made before this column). At or below ConsentGrants'
    # deploy block, the index holds every revocation, so its epoch counts from FIRST_EPOCH with no node call.
    sa.Column("first_block", sa.BigInteger),
)

grants_table, grant_events_table = define_tables(metadata)

_COLUMNS = tuple(c.name for c in events_table.c if c.name != "id")  # what a decoded row holds


def _tune_sqlite(connection: Any, _: Any) -> None:
    """A 64 MiB page cache (SQLite's default is 2 MiB): a range's rows touch seven indexes, and
    with the small cache their pages are written out and read back within one insert (measured on
    a 50,000-row range: about a fifth less time for insert and commit).

    The journal stays SQLite's default: measured on a 50,000-event range, WAL made the commit
    cost twice as much (its checkpoint copies every page a second time), and synchronous=NORMAL
    saves nothing measurable in rollback mode while risking corruption on power loss.
    """
    connection.execute("PRAGMA cache_size=-65536")


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a range's logs are parsed and decoded: their ~100,000
    dicts and tuples (none in a cycle) would set it off hundreds of times, each run walking the live
    objects (measured: 10% of the CPU time of a 50,000-log sync). Restored however the block ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class SyncResult:
    """What one `sync` did: new events and blocks, blocks rolled back by reorgs, the ranges read.

    `to_block` is the last block the index holds afterwards. `refused` counts ranges the node
    refused (read again at half size); `oversized` counts ranges of more than `max_logs` logs (kept;
    the range after each is smaller).
    """

    from_block: int
    to_block: int
    events: int = 0
    blocks: int = 0
    rolled_back: int = 0
    refused: int = 0
    ranges: list[tuple[int, int]] = field(default_factory=list)
    oversized: int = 0


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


# One 0x01 byte per hex digit of an address: the per-digit mask of the EIP-55 arithmetic below.
_DIGITS = int.from_bytes(b"\x01" * 40, "big")
# word -> address, emptied when full: patients and providers recur within a range; a plain dict costs
# less than lru_cache on a miss, and a few thousand entries keep what recurs without holding every address.
_CHECKSUMMED: dict[str, str] = {}
_CHECKSUMMED_MAX = 4_096


def _address(word: str) -> str:
    """The EIP-55 address in a 64-hex-digit word (C keccak, as in merkle).

    EIP-55 capitalises each letter whose hex digit of the hash is 8 or above. In ASCII a letter a-f
    has bit 6 set and a hash digit 8-9 or a-f has bit 3 or bit 6 set, so all 40 digits are done at
    once on the address and the hash read as 40-byte integers (a letter less 0x20 is its capital).
    """
    address = _CHECKSUMMED.get(word)
    if address is None:
        lower = word[24:].lower().encode()
        digits = int.from_bytes(lower, "big")
        hashed = int.from_bytes(keccak_256(lower).hexdigest()[:40].encode(), "big")
        capitals = ((hashed >> 3) | (hashed >> 6)) & (digits >> 6) & _DIGITS
        address = "0x" + (digits - (capitals << 5)).to_bytes(40, "big").decode()
        if len(_CHECKSUMMED) >= _CHECKSUMMED_MAX:
            _CHECKSUMMED.clear()
        _CHECKSUMMED[word] = address
    return address


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
        return partial(int, base=16)
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

    Every CareChain event has only static fields: each argument is one 64-hex-digit word at an
    offset fixed by the ABI in the log's indexed topics followed by its data, so decoding is slicing
    (web3's log decoding and formatters cost ~1 ms a log). An event with dynamic data goes through
    eth-abi. `party` is the first of PARTY_ARGS the event has, the column of the same name.
    """

    def __init__(self, contract: str, address: str, entry: dict[str, Any]) -> None:
        self.contract = contract
        self.address = address
        self.name = str(entry["name"])
        types = [_abi_type(i) for i in entry["inputs"]]
        self.topic = "0x" + keccak(text=f"{self.name}({','.join(types)})").hex()
        indexed = [bool(i.get("indexed")) for i in entry["inputs"]]
        names = [str(i["name"]) for i in entry["inputs"]]
        self.data_types = [kind for kind, is_indexed in zip(types, indexed, strict=True) if not is_indexed]
        self.static = all(_is_static(kind) for kind in self.data_types)
        self.party = next((key for key in PARTY_ARGS if key in names), None)
        # Static: the offset of each argument's word in the topics' and data's hex digits run together.
        topics, words = 0, sum(indexed)
        self.fields: list[tuple[str, int, Callable[[str], Any]]] = []
        for name, kind, is_indexed in zip(names, types, indexed, strict=True):
            if is_indexed:
                at, topics = topics, topics + 1
            else:
                at, words = words, words + 1
            self.fields.append((name, 64 * at, _word_decoder(kind)))
        self.inputs = [
            (name, is_indexed, read) for (name, _, read), is_indexed in zip(self.fields, indexed, strict=True)
        ]
        # json.dumps' text of the arguments as one %-format: ints bare, hex and addresses quoted (never
        # anything to escape); None for an event with a bool or dynamic data, which json.dumps writes.
        self.template: str | None = None
        if self.static and "bool" not in types and len(set(names)) == len(names):
            self.template = (
                "{"
                + ", ".join(
                    f'"{name}": %s' if re.fullmatch(r"u?int\d*", kind) else f'"{name}": "%s"'
                    for name, kind in zip(names, types, strict=True)
                )
                + "}"
            )

    def decode(self, topics: list[str], data: str) -> dict[str, Any]:
        """The arguments of a log, from its topics after the first and its 0x-hex data."""
        if self.static:
            # "0x" starts each topic and the data, and "x" is no hex digit: dropping it is exact.
            digits = "".join(topics).replace("0x", "") + data[2:]
            return {name: read(digits[at : at + 64]) for name, at, read in self.fields}
        values = iter([_plain(v) for v in abi_decode(self.data_types, bytes.fromhex(data[2:]))])
        indexed = iter(topics)
        return {
            name: read(next(indexed)[2:]) if is_indexed else next(values)
            for name, is_indexed, read in self.inputs
        }

    def json(self, args: dict[str, Any]) -> str:
        """`args` (of `decode`) as JSON text, the same as json.dumps."""
        if self.template is None:
            return json.dumps(args)
        return self.template % tuple(args.values())


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
        retry: RetryPolicy | None = None,
    ) -> None:
        self.w3 = w3
        self.retry = retry
        self.chain_id = int(self._node("eth_chainId", lambda: w3.eth.chain_id))
        self.root = root
        manifest = Manifest.load(root, self.chain_id)
        manifest.check_code(w3, root)
        self.addresses = {name: to_checksum_address(manifest.address(name)) for name in INDEXED}
        self.deploy_block = min(int(manifest.contracts[name].get("block", 0)) for name in INDEXED)
        self.grants = ConsentGrantsClient.at(w3, root, self.addresses[GRANTS_CONTRACT])
        self.grants_block = int(manifest.contracts[GRANTS_CONTRACT].get("block", 0))
        self._events: dict[tuple[str, str], _Event] = {}
        for name in INDEXED:
            for entry in load_abi(root, name):
                if entry.get("type") == "event" and not entry.get("anonymous"):
                    event = _Event(name, self.addresses[name], entry)
                    self._events[(self.addresses[name].lower(), event.topic)] = event
        self.max_range = max_range
        self.range = min(initial_range, max_range)
        self.max_logs = max_logs
        self.url = database_url(url)
        try:
            self.engine = sa.create_engine(self.url)
            # Rows go to these two drivers directly, their arguments as JSON text (see _insert_events).
            driver = self.engine.dialect.driver
            self._fast = driver if driver in ("pysqlite", "psycopg") else None
            if self.engine.dialect.name == "sqlite":
                sa.event.listen(self.engine, "connect", _tune_sqlite)
            metadata.create_all(self.engine)
            self._add_first_block()
        except (sa.exc.SQLAlchemyError, ImportError) as err:
            reason = str(getattr(err, "orig", None) or err).strip().splitlines()[0]
            raise CareChainError(f"cannot open the index database {_shown(self.url)}: {reason}") from None

    def _add_first_block(self) -> None:
        """The cursor's `first_block` column on an index made before it (left NULL there: unknown)."""
        if "first_block" in {column["name"] for column in sa.inspect(self.engine).get_columns("cursor")}:
            return
        table = self.engine.dialect.identifier_preparer.quote("cursor")
        with self.engine.begin() as db:
            db.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN first_block BIGINT")

    def close(self) -> None:
        self.engine.dispose()

    # ---- node calls --------------------------------------------------------------------------------

    def _node(self, what: str, call: Callable[[], Any]) -> Any:
        """`call`, retried by the transport's policy (`retry`, or the provider's) while the node does not
        answer; then one error that says what of the index is kept."""
        try:
            return retrying(self.w3, what, call, self.retry)
        except ChainUnavailable as err:
            lost = err.__cause__
            raise ChainUnavailable(
                f"the Ethereum node stopped answering during {what} ({type(lost).__name__}, "
                f"{policy_of(self.w3, self.retry).attempts} attempts); the index is kept up to its last "
                "full range: re-run once the node is back"
            ) from lost

    def _block_hash(self, number: int) -> str | None:
        try:
            block = self._node(f"eth_getBlockByNumber({number})", lambda: self.w3.eth.get_block(number))
        except (BlockNotFound, Web3RPCError):
            return None
        return _hex(block["hash"])

    def on_chain(self) -> bool | None:
        """Whether the last indexed block's stored hash is still the node's at that height (None: nothing
        indexed): a question that names no grant and no patient."""
        last = self.last_block()
        stored = None if last is None else next(self._stored_blocks(last), None)
        return None if stored is None else self._block_hash(stored[0]) == stored[1]

    def head(self) -> int:
        return int(self._node("eth_blockNumber", lambda: self.w3.eth.block_number))

    def _get_logs(self, start: int, end: int) -> list[Any] | None:
        """The logs of [start, end], or None when the node refuses the range."""
        params = {"address": list(self.addresses.values()), "fromBlock": hex(start), "toBlock": hex(end)}
        # The raw JSON-RPC answer: web3's result formatters would cost more than decoding the logs.
        with _gc_paused():
            response = self._node(
                f"eth_getLogs({start}..{end})",
                lambda: self.w3.provider.make_request(RPCEndpoint("eth_getLogs"), [params]),
            )
        logs = response.get("result")
        if "error" in response or not isinstance(logs, list):
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
            for table in (events_table, grants_table, grant_events_table):
                db.execute(
                    table.delete().where(table.c.chain_id == self.chain_id, table.c.block_number > after)
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

    def _insert_events(self, db: sa.Connection, rows: list[tuple[Any, ...]]) -> None:
        """Rows in _COLUMNS order into `events`, skipping rows already there.

        SQLite and psycopg get the rows as the driver takes them, their arguments already JSON:
        SQLAlchemy's per-row parameter processing cost as much as SQLite's insert itself (errors are
        still SQLAlchemy's, which the CLI reports). PostgreSQL loads them with COPY into a temporary
        table first (COPY cannot skip rows already there). Other drivers go through SQLAlchemy.
        """
        names = ", ".join(_COLUMNS)
        if self._fast == "pysqlite":
            marks = ", ".join("?" * len(_COLUMNS))
            db.exec_driver_sql(f"INSERT INTO events ({names}) VALUES ({marks}) ON CONFLICT DO NOTHING", rows)
        elif self._fast == "psycopg":
            load = f"COPY events_load ({names}) FROM STDIN"
            db.exec_driver_sql(
                f"CREATE TEMPORARY TABLE events_load ON COMMIT DROP AS SELECT {names} FROM events LIMIT 0"
            )
            driver: Any = db.connection.driver_connection
            try:
                with driver.cursor() as cursor, cursor.copy(load) as copy:
                    for row in rows:
                        copy.write_row(row)
            except self.engine.dialect.loaded_dbapi.Error as err:  # as SQLAlchemy raises the others
                raise sa.exc.DBAPIError.instance(
                    load, None, err, self.engine.dialect.loaded_dbapi.Error
                ) from err
            db.exec_driver_sql(
                f"INSERT INTO events ({names}) SELECT {names} FROM events_load ON CONFLICT DO NOTHING"
            )
        else:
            db.execute(self._insert(events_table), [dict(zip(_COLUMNS, row, strict=True)) for row in rows])

    def _write(self, start: int, end: int, end_hash: str, logs: list[Any]) -> int:
        """One range in one transaction: its events, its grants' rows, its blocks' hashes, the cursor."""
        with _gc_paused():
            rows = [
                row for log in logs if (row := self._values(log, as_json=self._fast is not None)) is not None
            ]
        blocks = {row[1]: row[2] for row in rows}  # block_number: block_hash
        blocks[end] = end_hash
        grant_logs = self._grant_logs(logs)
        epoch = self._epoch_before(start) if grant_logs else None  # the node asked before the transaction
        with self.engine.begin() as db:
            if rows:
                self._insert_events(db, rows)
            if grant_logs:
                self._write_grants(db, epoch, grant_logs)
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
                        chain_id=self.chain_id, last_block=end, addresses=self.addresses, first_block=start
                    )
                )
        return len(rows)

    def _grant_logs(self, logs: list[Any]) -> list[tuple[dict[str, Any], int, GrantFields | None]]:
        """ConsentGrants' logs of a range decoded, with what the node adds (see `_with_node_facts`)."""
        address = self.addresses[GRANTS_CONTRACT].lower()
        decoded: list[tuple[dict[str, Any], int | None]] = []
        for log in logs:
            if log["address"].lower() == address and (row := self.decode(log)) is not None:
                stamp = log.get("blockTimestamp")  # in logs on nodes that follow the newer spec
                decoded.append((row, int(stamp, 16) if stamp else None))
        return self._with_node_facts(decoded)

    def _with_node_facts(
        self, decoded: list[tuple[dict[str, Any], int | None]]
    ) -> list[tuple[dict[str, Any], int, GrantFields | None]]:
        """Decoded ConsentGrants events, each with its block's time and, for a sub-grant, what its event does
        not say: asked of the node before a database transaction opens."""
        times = {row["block_number"]: stamp for row, stamp in decoded if stamp is not None}
        times |= self._block_times(sorted({row["block_number"] for row, _ in decoded} - set(times)))
        subs = self._sub_grants(
            [row["args"]["grantId"] for row, _ in decoded if row["event"] == "ConsentSubGranted"]
        )
        return [
            (
                row,
                times[row["block_number"]],
                subs.get(row["args"]["grantId"]) if row["event"] == "ConsentSubGranted" else None,
            )
            for row, _ in decoded
        ]

    def _backfill_grants(self) -> None:
        """An index made before the grant tables existed gets their rows from the ConsentGrants events it
        holds (once: afterwards `grant_events` is not empty)."""
        e, t = grant_events_table.c, events_table.c
        with self.engine.connect() as db:
            if db.execute(sa.select(e.id).where(e.chain_id == self.chain_id).limit(1)).first() is not None:
                return
            query = (
                sa.select(t.block_number, t.block_hash, t.tx_hash, t.log_index, t.event, t.args)
                .where(t.chain_id == self.chain_id, t.event.in_(GRANT_EVENTS), t.contract == GRANTS_CONTRACT)
                .order_by(t.block_number, t.log_index)
            )
            rows = [dict(row._mapping) for row in db.execute(query)]
        if rows:
            decoded = self._with_node_facts([(row, None) for row in rows])
            epoch = self._epoch_before(int(rows[0]["block_number"]))
            with self.engine.begin() as db:
                self._write_grants(db, epoch, decoded)

    def _block_times(self, numbers: list[int], batch: int = 500) -> dict[int, int]:
        """Blocks' timestamps, asked in JSON-RPC batches where the provider takes them (a block the batch
        does not answer is asked for alone)."""
        times: dict[int, int] = {}
        provider = self.w3.provider
        if isinstance(provider, JSONBaseProvider) and len(numbers) > 1:
            for first in range(0, len(numbers), batch):
                chunk = numbers[first : first + batch]
                requests = [(RPCEndpoint("eth_getBlockByNumber"), [hex(number), False]) for number in chunk]
                answers = self._node(
                    f"eth_getBlockByNumber({chunk[0]}..{chunk[-1]})",
                    partial(provider.make_batch_request, requests),
                )
                for answer in answers if isinstance(answers, list) else ():
                    block = answer.get("result") if isinstance(answer, dict) else None
                    if isinstance(block, dict) and int(block["number"], 16) in chunk:
                        times[int(block["number"], 16)] = int(block["timestamp"], 16)
        for number in numbers:
            if number not in times:
                block = self._node(f"eth_getBlockByNumber({number})", partial(self.w3.eth.get_block, number))
                times[number] = int(block["timestamp"])
        return times

    def _sub_grants(self, grant_ids: list[str]) -> dict[str, GrantFields]:
        """Sub-grants' root (getGrant's subjectCommit: a tree's commitment is its root's), grantee, purpose,
        expiry and asset, in JSON-RPC batches: fields no act changes, so the latest block answers for any
        block (None each when the grant is gone, e.g. in a reorg)."""
        if not grant_ids:
            return {}
        read = self._node(
            f"getGrant() of {len(grant_ids)} sub-grants", lambda: self.grants.get_grants(grant_ids)
        )
        return {
            grant_id: GrantFields(
                _hex(grant.subject_commit),
                grant.grantee,
                grant.purpose_code,
                grant.expires_at,
                grant.asset_token_id,
            )
            if grant.exists
            else GrantFields(None, None, None, None, None)
            for grant_id, grant in zip(grant_ids, read, strict=True)
        }

    def _write_grants(
        self,
        db: sa.Connection,
        epoch: int | None,
        decoded: list[tuple[dict[str, Any], int, GrantFields | None]],
    ) -> None:
        """The `grants` and `grant_events` rows of a range's ConsentGrants logs, in its transaction."""
        times = {row["block_number"]: time for row, time, _ in decoded}
        subs = {row["args"]["grantId"]: sub for row, _, sub in decoded if sub is not None}
        g = grants_table.c

        def root_of(grant_id: str) -> str | None:
            found = db.execute(
                sa.select(g.root_id).where(g.chain_id == self.chain_id, g.grant_id == grant_id)
            ).scalar()
            return None if found is None else str(found)

        grants, events = grant_rows(
            self.chain_id,
            [row for row, _, _ in decoded],
            times.__getitem__,
            epoch,
            root_of,
            subs.__getitem__,
        )
        if grants:
            db.execute(self._insert(grants_table), grants)
        if events:
            db.execute(self._insert(grant_events_table), events)

    def _epoch_before(self, start: int) -> int | None:
        """The revocation epoch in force before block `start`: the last indexed row's; the contract's first
        when the index covers its deploy block (`covers_grants_deploy`: no node call); else the node's answer
        at block start - 1 (None when it keeps no state that old: the rows' epochs are then unknown)."""
        with self.engine.connect() as db:
            last = self._last_epoch(db)
        if last is not None:
            return last
        if self.covers_grants_deploy(start) is True:
            return FIRST_EPOCH
        epoch: int | None = self._node(
            f"revocationEpoch() at block {start - 1}", lambda: self.grants.revocation_epoch(start - 1)
        )
        return epoch

    def covers_grants_deploy(self, start: int | None = None) -> bool | None:
        """Whether the index reads from ConsentGrants' deploy block on (None: unknown, an index made before
        the cursor kept its first block); `start` is the first block of an index that holds none yet."""
        with self.engine.connect() as db:
            row = db.execute(
                sa.select(cursor_table.c.first_block).where(cursor_table.c.chain_id == self.chain_id)
            ).first()
        first = start if row is None else row.first_block
        return None if first is None else int(first) <= self.grants_block

    def _last_epoch(self, db: sa.Connection) -> int | None:
        e = grant_events_table.c
        last = db.execute(
            sa.select(e.revocation_epoch)
            .where(e.chain_id == self.chain_id, e.revocation_epoch.is_not(None))
            .order_by(e.block_number.desc(), e.log_index.desc())
            .limit(1)
        ).scalar()
        return None if last is None else int(last)

    def revocation_epoch(self) -> int | None:
        """ConsentGrants' revocation epoch after the last indexed block: the last indexed event's; the first
        epoch when nothing moved it and the index covers the deploy block; None when unknown."""
        with self.engine.connect() as db:
            last = self._last_epoch(db)
        if last is not None:
            return last
        return FIRST_EPOCH if self.last_block() is not None and self.covers_grants_deploy() else None

    def decode(self, log: dict[str, Any]) -> dict[str, Any] | None:
        """A raw JSON-RPC log as an `events` row; None for a log of no CareChain event."""
        values = self._values(log, as_json=False)
        return None if values is None else dict(zip(_COLUMNS, values, strict=True))

    def _values(self, log: dict[str, Any], *, as_json: bool) -> tuple[Any, ...] | None:
        """A raw log's `events` values in _COLUMNS order, its arguments a dict or JSON text."""
        topics = log["topics"]
        event = self._events.get((log["address"].lower(), topics[0].lower())) if topics else None
        if event is None:
            return None
        args = event.decode(topics[1:], log["data"])
        return (
            self.chain_id,
            int(log["blockNumber"], 16),
            log["blockHash"].lower(),
            log["transactionHash"].lower(),
            int(log["logIndex"], 16),
            event.contract,
            event.address,
            event.name,
            event.json(args) if as_json else args,
            args.get("patient"),
            None if event.party is None else args[event.party],
            args.get("trialId"),
            args.get("recordId"),
        )

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
            self._backfill_grants()
        target = self.head() - confirmations if to_block is None else to_block
        result = SyncResult(last + 1, max(target, last), rolled_back=rolled_back)
        start = last + 1
        while start <= target:
            end = min(start + self.range - 1, target)
            end_hash = self._block_hash(end)
            logs = self._get_logs(start, end)
            if logs is None:
                if end == start:
                    raise CareChainError(f"the node refuses eth_getLogs even for block {start} alone")
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
            result.events += self._write(start, end, end_hash, logs)
            result.blocks += end - start + 1
            result.ranges.append((start, end))
            if len(logs) > self.max_logs:
                # Kept, not read again: only the next range shrinks, to about max_logs at this density.
                result.oversized += 1
                self.range = max(1, (end - start + 1) * self.max_logs // len(logs))
            elif len(logs) <= self.max_logs // 2:
                self.range = min(self.max_range, self.range * 2)
            start = end + 1
            if progress is not None:
                progress(end - result.from_block + 1, target - result.from_block + 1)
        if result.events and self.engine.dialect.name == "sqlite":
            self._analyze(result.events)
        return result

    def _analyze(self, added: int) -> None:
        """Refresh SQLite's statistics of `events` once it has grown by a quarter since the last ones.

        Without them SQLite reads `events(patient=...)` through ix_events_chain_block, every row of
        the chain (68 ms at 50,000 events), not through ix_events_patient (0.1 ms). A full ANALYZE
        (sampling misjudges chain_id, held by every row) takes ~2 ms per 1,000 rows, so it runs as
        PostgreSQL's autovacuum does, after growth by a fraction; PostgreSQL keeps its own.
        """
        with self.engine.begin() as db:
            analyzed = 0
            if db.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first():
                stat = db.exec_driver_sql(
                    "SELECT stat FROM sqlite_stat1 WHERE tbl = 'events' LIMIT 1"
                ).scalar()
                analyzed = int(str(stat).split()[0]) if stat else 0
            if 4 * added >= analyzed:
                db.exec_driver_sql("ANALYZE events")

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
