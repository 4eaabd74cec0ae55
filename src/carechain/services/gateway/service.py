"""The gateway's logic, apart from HTTP: ingest, the checked read, erasure and key rotation.

The app (`carechain.services.gateway.app`) and the CLI (`carechain gateway ...`) both call this.

A read is served only after, in this order: the signature, chain, gateway and freshness of the
request are checked and its digest enters the replay cache; the record is known and not erased;
`canAccess` is true on chain; the stored ciphertext hashes to the anchored content hash and
decrypts; and the read is logged. A read refused at any step is not logged, and nothing is returned.

How a read is logged is the gateway's log mode (`carechain.services.gateway.receipts`):
- "tx" (the default): its own `logAccess` transaction, mined with `confirmations` blocks on top
  (0: mined) before the record is returned; the chain itself re-checks the access as it logs.
- "receipts": a read receipt signed by the gateway and stored before the record is returned; every
  `batch_interval` seconds the pending receipts are committed on chain as one Merkle root
  (`logAccessBatch`), and each provider can fetch its receipt and proof.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils.crypto import keccak
from web3.types import RPCEndpoint

from carechain.clients.access import AccessClient, Basis
from carechain.clients.base import bytes32, checksum
from carechain.clients.records import RecordClient
from carechain.core import eip712
from carechain.core.config import Settings, load_sender
from carechain.core.sender import TxResult
from carechain.core.transport import connect
from carechain.core.values import ascii_whole
from carechain.errors import (
    AccessDenied,
    AccessRefused,
    CareChainError,
    ChainRefused,
    ConfigError,
    ContractError,
    Erased,
    InputError,
    IntegrityFailure,
    KeyUnavailable,
    ReceiptNotFound,
    RecordNotFound,
    Replayed,
)
from carechain.services.gateway import crypto, receipts
from carechain.services.gateway.receipts import DEFAULT_BATCH_INTERVAL, LEAF_ENCODING, LOG_MODES, Receipt
from carechain.services.gateway.requests import (
    DEFAULT_WINDOW,
    READ_REQUEST_TYPE,
    ReadRequest,
    Verifier,
    domain,
)
from carechain.services.gateway.store import Batch, Store, StoredVersion, WrappedKey, default_url
from carechain.services.kernel import chain_reached

# The content hash an erased record's last version is amended to: RecordRegistry has no erase, and a
# well-known constant says "erased" to anyone reading the chain without a contract change.
ERASED = keccak(text="carechain.record.ERASED")
MAX_CATEGORY = 63
DEFAULT_MEDIA_TYPE = "application/octet-stream"
# receipts committed under one root at most (the rest go in the next batch); the commit is one root and
# a count whatever the batch holds (a fixed few tens of thousands of gas): no gas cap ever splits it
MAX_BATCH = 10_000

log = logging.getLogger("carechain.gateway")  # the service's name in logging configs, not its module path


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
    log_tx: str | None  # receipts mode: None (the receipt is the log until its batch is committed)
    block_number: int | None
    basis: Basis
    receipt_id: bytes | None = None  # receipts mode: the signed receipt's id (GET /receipts/{id})
    receipt_signature: bytes | None = None


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
        log_mode: str = "tx",
        confirmations: int | None = None,
        batch_interval: float = DEFAULT_BATCH_INTERVAL,
    ) -> None:
        if records.sender is None or access.sender is None:
            raise InputError("the gateway sends transactions: its clients need the custodian's Sender")
        if log_mode not in LOG_MODES:
            raise ConfigError(f"the log mode is one of {', '.join(LOG_MODES)}, not {log_mode!r}")
        if not batch_interval > 0:
            raise ConfigError(f"the batch interval is a number of seconds above 0, not {batch_interval}")
        if confirmations is not None:
            if confirmations < 0:
                raise ConfigError(f"confirmations must be 0 or more, not {confirmations}")
            access.sender.confirmations = confirmations  # records and access share the custodian's Sender
            records.sender.confirmations = confirmations
        self.store = store
        self.keyring = keyring
        self.records = records
        self.access = access
        self.reload_keys = reload_keys
        self.gateway = access.sender.address
        with chain_reached():
            chain_id = int(records.w3.eth.chain_id)
        self.verifier = Verifier(self.gateway, chain_id, access.address, window)
        self._send_lock = threading.Lock()  # one custodian account: its nonces must not race
        self.log_mode = log_mode
        self.batch_interval = batch_interval
        self._commit_lock = threading.Lock()  # one batch at a time
        self._stop = threading.Event()
        self._batcher: threading.Thread | None = None

    @property
    def confirmations(self) -> int:
        sender = self.access.sender
        return 0 if sender is None else sender.confirmations

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
            "logMode": self.log_mode,
            "confirmations": self.confirmations,
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
        if not content:
            raise InputError("the record is empty: there is nothing to store or anchor")
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
        with chain_reached(), self._send_lock:
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
        with chain_reached():
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
        tx = next(a.tx_hash for a in self.records.anchorings(rid) if a.version == version.version)
        self.store.mark_anchored(rid, version.version, tx)
        return tx

    # ---- read -----------------------------------------------------------------------------------

    def read(self, request: ReadRequest) -> ServedRecord:
        """The checked read; raises the ServiceError that says why a request is refused."""
        digest = self.verifier.verify(request)
        if not self.store.remember(digest, self.verifier.expires_at(request)):
            raise Replayed("this signed request was used already; sign a new one")
        rid = request.record_id
        stored = self.store.record(rid)
        latest = self.store.latest(rid, anchored=True) if stored else None
        if stored is None or latest is None:
            raise RecordNotFound(f"no record 0x{rid.hex()} at this gateway")
        if stored.erased_at is not None:
            raise Erased(f"record 0x{rid.hex()} was erased")
        with chain_reached():
            basis, _ = self.access.access_basis(request.provider, rid)
            allowed = basis != Basis.NONE
            anchored = self.records.latest_content_hash(rid) if allowed else b""
        if not allowed:
            raise AccessRefused(f"{request.provider} may not read record 0x{rid.hex()} (canAccess is false)")
        if anchored == ERASED:
            raise Erased(f"record 0x{rid.hex()} was erased")
        if keccak(latest.blob) != anchored:
            raise IntegrityFailure(f"the stored record 0x{rid.hex()} does not match its anchored hash")
        content = self._plaintext(latest)
        if self.log_mode == "receipts":
            receipt = Receipt(request.provider, rid, request.purpose, basis, int(time.time()), digest)
            receipt_id, signature = self._sign_receipt(receipt)
            self.store.add_receipt(receipt_id, receipt, signature)
            return ServedRecord(
                rid, latest.version, content, latest.media_type, None, None, basis, receipt_id, signature
            )
        call = self.access.log_access_call(request.provider, rid, request.purpose)
        logged = self._transact(call, "log the read")
        return ServedRecord(
            rid,
            latest.version,
            content,
            latest.media_type,
            logged.tx_hash,
            logged.block_number,
            self.access.logged_basis(logged),
        )

    def _transact(self, call: Any, what: str) -> TxResult:
        """Send under the nonce lock, then wait (for its confirmations) outside it: reads overlap."""
        sender = self.access.sender
        assert sender is not None  # checked in __init__
        try:
            with chain_reached():
                with self._send_lock:
                    tx_hash = sender.send(call, self.access.errors)
                return sender.wait(tx_hash, call, self.access.errors)
        except AccessDenied as err:  # a grant revoked between the check and the log
            raise AccessRefused(str(err)) from None
        except ContractError as err:  # e.g. NotRecordCustodian: this gateway's credential lapsed
            raise ChainRefused(f"the chain refused to {what}: {err}") from None

    # ---- read receipts (log mode "receipts") ----------------------------------------------------

    def _sign_receipt(self, receipt: Receipt) -> tuple[bytes, bytes]:
        """The receipt's id and the gateway's signature (a local key signs here, else the node)."""
        payload = receipt.payload(self.chain_id, self.access.address)
        sender = self.access.sender
        assert sender is not None
        if isinstance(sender.account, str):  # a node-unlocked account (local chains)
            with chain_reached():
                answer = self.access.w3.provider.make_request(
                    RPCEndpoint("eth_signTypedData_v4"), [sender.address, json.dumps(payload)]
                )
            if "result" not in answer:
                raise ChainRefused(f"the node did not sign the read receipt: {answer.get('error')}")
            signature = bytes.fromhex(str(answer["result"]).removeprefix("0x"))
        else:
            signature = eip712.sign(sender.account, payload)
        return eip712.digest(payload), signature

    def commit_receipts(self) -> Batch | None:
        """Commit the pending receipts as one Merkle root on chain; None when none was pending. The
        transaction's gas does not grow with the receipts (a root and a count), so it needs no planner."""
        with self._commit_lock:
            pending = self.store.pending_receipts(MAX_BATCH)
            if not pending:
                return None
            root = bytes.fromhex(receipts.tree([p.receipt for p in pending]).root[2:])
            call = self.access.log_access_batch_call(root, len(pending))
            result = self._transact(call, "commit the read receipts")
            batch = Batch(root, len(pending), result.tx_hash, result.block_number)
            self.store.commit_batch(batch, [p.seq for p in pending])
            return batch

    def receipt(self, receipt_id: bytes | str) -> dict[str, Any]:
        """A receipt, its signature and (once committed) its root, proof and commit transaction."""
        rid = bytes32(receipt_id, "receipt id")
        stored = self.store.receipt(rid)
        if stored is None:
            raise ReceiptNotFound(f"no read receipt 0x{rid.hex()} at this gateway")
        answer: dict[str, Any] = {
            "id": "0x" + rid.hex(),
            "receipt": stored.receipt.message(),
            "signature": "0x" + stored.signature.hex(),
            "gateway": self.gateway,
            "chainId": self.chain_id,
            "accessGrants": self.access.address,
            "leafEncoding": LEAF_ENCODING,
            "root": None,
            "proof": None,
            "txHash": None,
            "blockNumber": None,
        }
        found = self.store.batch(stored.batch_root) if stored.batch_root else None
        if found is not None:
            batch, members = found
            answer["root"] = "0x" + batch.root.hex()
            answer["proof"] = receipts.tree(members).get_proof(stored.receipt.leaf())
            answer["txHash"] = batch.tx_hash
            answer["blockNumber"] = batch.block_number
        return answer

    def start(self) -> None:
        """In receipts mode, start committing the pending receipts every `batch_interval` seconds."""
        if self.log_mode != "receipts" or self._batcher is not None:
            return
        self._stop.clear()
        self._batcher = threading.Thread(target=self._run_batcher, name="carechain-receipts", daemon=True)
        self._batcher.start()

    def stop(self) -> None:
        """Stop the batcher, after committing what is pending."""
        if self._batcher is None:
            return
        self._stop.set()
        self._batcher.join()
        self._batcher = None
        self._commit_quietly()

    def _run_batcher(self) -> None:
        while not self._stop.wait(self.batch_interval):
            self._commit_quietly()

    def _commit_quietly(self) -> None:
        """One commit; a failure is logged and the receipts stay pending for the next one."""
        try:
            batch = self.commit_receipts()
        except CareChainError as err:
            log.warning("read receipts not committed yet: %s", err)
            return
        if batch is not None:
            log.info("committed %d read receipts under root 0x%s", batch.count, batch.root.hex())

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
            raise RecordNotFound(f"no record 0x{rid.hex()} at this gateway")
        self.store.shred(rid)
        if stored.erase_tx:
            return stored.erase_tx
        with chain_reached(), self._send_lock:
            if self.records.latest_content_hash(rid) == ERASED:  # anchored by an earlier, interrupted run
                return self._adopt_erasure(rid)
            tx = self.records.amend(rid, ERASED).tx_hash
        self.store.mark_erasure_anchored(rid, tx)
        return tx

    def _adopt_erasure(self, rid: bytes) -> str:
        tx = next(a.tx_hash for a in reversed(self.records.anchorings(rid)) if a.content_hash == ERASED)
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


DB_ENV = "CARECHAIN_GATEWAY_DB"
WINDOW_ENV = "CARECHAIN_GATEWAY_WINDOW"


def window_from_env() -> int:
    """CARECHAIN_GATEWAY_WINDOW: the seconds a signed read request stays good (default DEFAULT_WINDOW)."""
    text = os.environ.get(WINDOW_ENV, str(DEFAULT_WINDOW))
    window = ascii_whole(text)
    if not window:
        raise ConfigError(f"{WINDOW_ENV} is a number of seconds above 0, got {text[:40]!r}")
    return window


def open_gateway(
    settings: Settings,
    db_url: str | None = None,
    window: int | None = None,
    log_mode: str = "tx",
    confirmations: int | None = None,
    batch_interval: float = DEFAULT_BATCH_INTERVAL,
) -> GatewayService:
    """The gateway the environment describes: the node at RPC_URL, the custodian's PRIVATE_KEY or
    KEYSTORE, the deployment in deployments/<chainId>.json, the custodian key(s) and the database
    (CARECHAIN_GATEWAY_DB, else SQLite in .chain/); `confirmations` None: CARECHAIN_CONFIRMATIONS."""
    keyring = crypto.load_keyring()
    w3 = connect(settings.rpc_url)
    sender = load_sender(w3, settings)
    records = RecordClient.from_manifest(w3, settings.root, sender)
    access = AccessClient.from_manifest(w3, settings.root, sender)
    url = db_url or os.environ.get(DB_ENV) or default_url(settings.root, int(w3.eth.chain_id))
    if window is None:
        window = window_from_env()
    key_file = os.environ.get(crypto.KEY_FILE_ENV)
    reload = None
    if key_file and not os.environ.get(crypto.KEY_ENV):
        path = Path(key_file).expanduser()

        def reload() -> crypto.Keyring:
            return crypto.read_key_file(path)

    return GatewayService(
        Store(url), keyring, records, access, window, reload, log_mode, confirmations, batch_interval
    )
