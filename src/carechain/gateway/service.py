"""The gateway's logic, apart from HTTP: ingest, the checked read, erasure and key rotation.

The app (`carechain.gateway.app`) and the CLI (`carechain gateway ...`) both call this.

A read is served only after, in this order: the signature, chain, gateway and freshness of the
request are checked and its digest enters the replay cache; the record is known and not erased;
`canAccess` is true on chain; the stored ciphertext hashes to the anchored content hash and
decrypts; and the `logAccess` transaction is mined. A read refused at any step is not logged on
chain, and nothing is returned.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests as http
from eth_utils.crypto import keccak

from carechain.chain import ChainUnavailable, TransactionFailed, TxResult, connect
from carechain.clients.access import AccessClient, Basis
from carechain.clients.base import bytes32, checksum
from carechain.clients.records import RecordClient
from carechain.config import Settings, load_sender
from carechain.errors import AccessDenied, ConfigError, ContractError, InputError
from carechain.gateway import crypto
from carechain.gateway.errors import (
    AccessRefused,
    ChainRefused,
    ChainUnreachable,
    Erased,
    IntegrityFailure,
    KeyUnavailable,
    Replayed,
    UnknownRecord,
)
from carechain.gateway.requests import DEFAULT_WINDOW, READ_REQUEST_TYPE, ReadRequest, Verifier, domain
from carechain.gateway.store import Store, StoredVersion, WrappedKey, default_url

# The content hash an erased record's last version is amended to: RecordRegistry has no erase, and a
# well-known constant says "erased" to anyone reading the chain without a contract change.
ERASED = keccak(text="carechain.record.ERASED")
MAX_CATEGORY = 63
DEFAULT_MEDIA_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class PutResult:
    record_id: bytes
    version: int
    content_hash: bytes
    tx_hash: str | None  # None: identical content was there already, nothing anchored


@dataclass(frozen=True)
class ServedRecord:
    record_id: bytes
    version: int
    content: bytes
    media_type: str
    log_tx: str
    block_number: int
    basis: Basis


class GatewayService:
    """One custodian's gateway: its store, its custodian keys, and its account on one chain."""

    def __init__(
        self,
        store: Store,
        keyring: crypto.Keyring,
        records: RecordClient,
        access: AccessClient,
        window: int = DEFAULT_WINDOW,
        reload_keys: Callable[[], crypto.Keyring] | None = None,
    ) -> None:
        if records.sender is None or access.sender is None:
            raise InputError("the gateway sends transactions: its clients need the custodian's Sender")
        self.store = store
        self.keyring = keyring
        self.records = records
        self.access = access
        self.reload_keys = reload_keys
        self.gateway = access.sender.address
        with _chain():
            chain_id = int(records.w3.eth.chain_id)
        self.verifier = Verifier(self.gateway, chain_id, access.address, window)
        self._send_lock = threading.Lock()  # one custodian account: its nonces must not race

    @property
    def chain_id(self) -> int:
        return self.verifier.chain_id

    def info(self) -> dict[str, Any]:
        """What a provider's client needs to sign a request for this gateway."""
        return {
            "gateway": self.gateway,
            "chainId": self.chain_id,
            "accessGrants": self.access.address,
            "recordRegistry": self.records.address,
            "window": self.verifier.window,
            "domain": domain(self.chain_id, self.access.address).as_dict(),
            "types": {"ReadRequest": READ_REQUEST_TYPE},
        }

    # ---- ingest ---------------------------------------------------------------------------------

    def put(
        self,
        record_id: bytes | str,
        patient: str,
        category: int,
        content: bytes,
        media_type: str = DEFAULT_MEDIA_TYPE,
    ) -> PutResult:
        """Encrypt, store and anchor a record version; identical content again anchors nothing."""
        rid, patient = bytes32(record_id, "record id"), checksum(patient, "patient")
        if not 0 <= category <= MAX_CATEGORY:
            raise InputError(f"a record category is a scope bit 0..{MAX_CATEGORY}, got {category}")
        stored = self.store.record(rid)
        latest = self.store.latest(rid) if stored else None
        if stored is not None:
            if stored.erased_at is not None:
                raise Erased(f"record 0x{rid.hex()} was erased; ingest the content as a new record")
            if (stored.patient, stored.category) != (patient, category):
                raise InputError(f"record 0x{rid.hex()} is stored for another patient or category")
        if latest is not None and self._plaintext(latest) == content:
            tx = None if latest.anchor_tx else self._anchor(patient, category, latest)
            return PutResult(rid, latest.version, latest.content_hash, tx)
        if latest is not None and latest.anchor_tx is None:
            latest = self._settle(latest)
        version = 0 if latest is None else latest.version + 1
        data_key = crypto.new_key()
        blob = crypto.encrypt(data_key, rid, version, content)
        keys = self.keyring
        pending = StoredVersion(
            rid,
            version,
            blob,
            keccak(blob),
            media_type,
            crypto.wrap(keys.current, rid, version, data_key),
            keys.current_id,
            None,
        )
        self.store.add_version(patient, category, pending)
        return PutResult(rid, version, pending.content_hash, self._anchor(patient, category, pending))

    def _anchor(self, patient: str, category: int, version: StoredVersion) -> str:
        """Anchor a stored version: the record's first (anchor) or a new one (amend)."""
        rid = version.record_id
        with _chain(), self._send_lock:
            if not self.records.exists(rid):
                if version.version != 0:
                    raise IntegrityFailure(
                        f"record 0x{rid.hex()} is stored at version {version.version} "
                        "but not anchored on chain"
                    )
                result = self.records.anchor(rid, patient, category, version.content_hash)
            else:
                facts = self.records.get_record(rid)
                if facts.custodian != self.gateway:
                    raise InputError(
                        f"record 0x{rid.hex()} is anchored by another custodian, {facts.custodian}"
                    )
                if facts.patient != patient or facts.category != category:
                    raise InputError(f"record 0x{rid.hex()} is anchored for another patient or category")
                if facts.versions > version.version:  # anchored before a crash, not yet marked here
                    return self._adopt(version)
                result = self.records.amend(rid, version.content_hash)
        self.store.mark_anchored(rid, version.version, result.tx_hash)
        return result.tx_hash

    def _settle(self, pending: StoredVersion) -> StoredVersion | None:
        """Before another version: keep a pending one the chain has (adopt it), else drop it."""
        rid = pending.record_id
        with _chain():
            on_chain = self.records.get_record(rid).versions if self.records.exists(rid) else 0
        if on_chain > pending.version:
            self._adopt(pending)
        else:
            self.store.drop_version(rid, pending.version)
        return self.store.latest(rid)

    def _adopt(self, version: StoredVersion) -> str:
        """Mark a version anchored by an earlier run, once the chain's hash for it matches."""
        rid = version.record_id
        history = self.records.history(rid)
        if history[version.version].content_hash != version.content_hash:
            raise IntegrityFailure(
                f"version {version.version} of record 0x{rid.hex()} is anchored with another content hash"
            )
        logs = self.records.contract.events.RecordAnchored().get_logs(
            argument_filters={"recordId": rid}, from_block=0
        )
        tx = next(
            "0x" + bytes(log["transactionHash"]).hex()
            for log in logs
            if int(log["args"]["version"]) == version.version
        )
        self.store.mark_anchored(rid, version.version, tx)
        return tx

    # ---- read -----------------------------------------------------------------------------------

    def read(self, request: ReadRequest) -> ServedRecord:
        """The checked read; raises the GatewayError that says why a request is refused."""
        digest = self.verifier.verify(request)
        if not self.store.remember(digest, self.verifier.expires_at(request)):
            raise Replayed("this signed request was used already; sign a new one")
        rid = request.record_id
        stored = self.store.record(rid)
        latest = self.store.latest(rid, anchored=True) if stored else None
        if stored is None or latest is None:
            raise UnknownRecord(f"no record 0x{rid.hex()} at this gateway")
        if stored.erased_at is not None:
            raise Erased(f"record 0x{rid.hex()} was erased")
        with _chain():
            allowed = self.access.can_access(request.provider, rid)
            anchored = self.records.latest_content_hash(rid) if allowed else b""
        if not allowed:
            raise AccessRefused(f"{request.provider} may not read record 0x{rid.hex()} (canAccess is false)")
        if anchored == ERASED:
            raise Erased(f"record 0x{rid.hex()} was erased")
        if keccak(latest.blob) != anchored:
            raise IntegrityFailure(f"the stored record 0x{rid.hex()} does not match its anchored hash")
        content = self._plaintext(latest)
        with _chain(), self._send_lock:
            try:
                logged = self.access.log_access(request.provider, rid, request.purpose)
            except AccessDenied as err:  # a grant revoked between the check and the log
                raise AccessRefused(str(err)) from None
            except ContractError as err:  # e.g. NotRecordCustodian: this gateway's credential lapsed
                raise ChainRefused(f"the chain refused to log the read: {err}") from None
        return ServedRecord(
            rid,
            latest.version,
            content,
            latest.media_type,
            logged.tx_hash,
            logged.block_number,
            _basis(self.access, logged),
        )

    def _plaintext(self, version: StoredVersion) -> bytes:
        if version.wrapped_key is None or version.key_id is None:
            raise Erased(f"record 0x{version.record_id.hex()} was erased")
        data_key = crypto.unwrap(
            self._key(version.key_id), version.record_id, version.version, version.wrapped_key
        )
        return crypto.decrypt(data_key, version.record_id, version.version, version.blob)

    def _key(self, wanted: str) -> bytes:
        key = self.keyring.find(wanted)
        if key is None and self.reload_keys is not None:  # the key file may have gained a key (rotation)
            self.keyring = self.reload_keys()
            key = self.keyring.find(wanted)
        if key is None:
            raise KeyUnavailable(f"no custodian key with id {wanted} is configured")
        return key

    # ---- erasure and rotation -------------------------------------------------------------------

    def erase(self, record_id: bytes | str) -> str:
        """Destroy the record's data keys (crypto-shredding), then anchor the erasure; returns its tx."""
        rid = bytes32(record_id, "record id")
        stored = self.store.record(rid)
        if stored is None:
            raise UnknownRecord(f"no record 0x{rid.hex()} at this gateway")
        self.store.shred(rid)
        if stored.erase_tx:
            return stored.erase_tx
        with _chain(), self._send_lock:
            if self.records.latest_content_hash(rid) == ERASED:  # anchored by an earlier, interrupted run
                return self._adopt_erasure(rid)
            tx = self.records.amend(rid, ERASED).tx_hash
        self.store.mark_erasure_anchored(rid, tx)
        return tx

    def _adopt_erasure(self, rid: bytes) -> str:
        logs = self.records.contract.events.RecordAnchored().get_logs(
            argument_filters={"recordId": rid}, from_block=0
        )
        tx = next(
            "0x" + bytes(log["transactionHash"]).hex()
            for log in reversed(logs)
            if bytes(log["args"]["contentHash"]) == ERASED
        )
        self.store.mark_erasure_anchored(rid, tx)
        return tx

    def rotate_key(
        self, new_key: bytes, on_batch: Callable[[int], None] | None = None, batch: int = 500
    ) -> int:
        """Re-wrap every data key under `new_key`; blobs and chain untouched. Returns how many.

        While it runs, the gateway holds both keys, so reads go on; afterwards only the new one.
        """
        old = self.keyring
        self.keyring = crypto.Keyring((new_key, *(k for k in old.keys if k != new_key)))
        new_id = crypto.key_id(new_key)
        done = 0
        for rows in self.store.wrapped_keys(not_under=new_id, batch=batch):
            rewrapped = []
            for row in rows:
                data_key = crypto.unwrap(self._key(row.key_id), row.record_id, row.version, row.wrapped_key)
                wrapped = crypto.wrap(new_key, row.record_id, row.version, data_key)
                rewrapped.append(WrappedKey(row.record_id, row.version, new_id, wrapped))
            self.store.rewrap(rows, rewrapped)
            done += len(rows)
            if on_batch is not None:
                on_batch(done)
        self.keyring = crypto.Keyring((new_key,))
        return done


def _basis(access: AccessClient, logged: TxResult) -> Basis:
    (event,) = access.contract.events.RecordAccessed().process_receipt(logged.receipt)
    return Basis(int(event["args"]["basis"]))


@contextmanager
def _chain() -> Iterator[None]:
    """A node that does not answer (or a transaction not mined) is a 502, whatever the layer raised."""
    try:
        yield
    except (http.exceptions.RequestException, OSError, ChainUnavailable, TransactionFailed) as err:
        raise ChainUnreachable(f"the Ethereum node did not answer ({type(err).__name__})") from None


DB_ENV = "CARECHAIN_GATEWAY_DB"
WINDOW_ENV = "CARECHAIN_GATEWAY_WINDOW"


def open_gateway(settings: Settings, db_url: str | None = None, window: int | None = None) -> GatewayService:
    """The gateway the environment describes: the node at RPC_URL, the custodian's PRIVATE_KEY or
    KEYSTORE, the deployment in deployments/<chainId>.json, the custodian key(s) and the database
    (CARECHAIN_GATEWAY_DB, else SQLite in .chain/)."""
    keyring = crypto.load_keyring()
    w3 = connect(settings.rpc_url)
    sender = load_sender(w3, settings)
    records = RecordClient.from_manifest(w3, settings.root, sender)
    access = AccessClient.from_manifest(w3, settings.root, sender)
    url = db_url or os.environ.get(DB_ENV) or default_url(settings.root, int(w3.eth.chain_id))
    if window is None:
        text = os.environ.get(WINDOW_ENV, str(DEFAULT_WINDOW))
        if not text.isdigit() or int(text) == 0:
            raise ConfigError(f"{WINDOW_ENV} is a number of seconds, got {text!r}")
        window = int(text)
    key_file = os.environ.get(crypto.KEY_FILE_ENV)
    reload = None
    if key_file and not os.environ.get(crypto.KEY_ENV):
        path = Path(key_file).expanduser()

        def reload() -> crypto.Keyring:
            return crypto.read_key_file(path)

    return GatewayService(Store(url), keyring, records, access, window, reload)
