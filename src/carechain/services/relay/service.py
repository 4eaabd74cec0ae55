"""The relayer's logic, apart from HTTP: take a patient's signed consent or revocation, check it, pay its gas.

The app (`carechain.services.relay.app`) and `carechain relay serve` call this. A request is sent only after,
in this order: its fields are well formed; it is new (the same signed request again answers with its
first submission, and sends nothing); the signature recovers to the patient (a contract wallet's is
left to the registry, ERC-1271); its deadline lies ahead; its nonce is unused on chain and held by no
other request here; an eth_call of it succeeds (so a request the contract would refuse costs no
gas); and the patient has a token left in their bucket. Only then does it cost the relayer anything.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3.contract.contract import ContractFunction
from web3.exceptions import TransactionNotFound

from carechain.clients.base import ContractClient, checksum
from carechain.clients.consent import ConsentClient, SignedGrant, SignedRevoke
from carechain.core import eip712, purposes, signatures
from carechain.core.config import Settings, load_sender
from carechain.core.reverts import call
from carechain.core.transport import connect
from carechain.errors import (
    ERROR_CLASSES,
    BadRequest,
    BadSignature,
    ContractError,
    InputError,
    RateLimited,
    Refused,
    Replayed,
    RequestExpired,
    SubmissionNotFound,
    TransactionFailed,
)
from carechain.services.kernel import chain_reached, sentence
from carechain.services.relay.store import FAILED, MINED, SUBMITTED, Store, Submission, default_url

SignedRequest = SignedGrant | SignedRevoke

DB_ENV = "CARECHAIN_RELAY_DB"
RATE_ENV = "CARECHAIN_RELAY_RATE"
DEFAULT_RATE = "10/h"

_HEX = re.compile(r"0x(?:[0-9a-fA-F]{2})+")
_MAX_SIGNATURE = 4096  # bytes: room for a multisig wallet's signatures, not for abuse
_RATE = re.compile(r"^(\d+)\s*/\s*(\d*)\s*([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


# ---- rate limit ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """At most `count` relayed requests per patient in `period` seconds (a token bucket of that size)."""

    count: int
    period: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        """`N/period`: 10/h, 5/30m, 100/d, 2/10s."""
        match = _RATE.match(text.strip().lower())
        if not match or int(match.group(1)) == 0 or match.group(2) == "0":
            raise InputError(
                f"cannot read rate {text!r}: give requests per period as N/period, like 10/h, 5/30m or 100/d"
            )
        count, number, unit = int(match.group(1)), match.group(2), match.group(3)
        return cls(count, int(number or 1) * _UNITS[unit])


class TokenBucket:
    """One bucket of `rate.count` tokens per key, refilled evenly over `rate.period`. At most `max_keys`
    buckets are held: a full one is the same as none and goes first, then the one idle longest, so keys an
    attacker makes up cannot grow it without bound."""

    def __init__(
        self, rate: Rate, clock: Callable[[], float] = time.monotonic, max_keys: int = 10_000
    ) -> None:
        self.rate = rate
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Take a token: 0 when there was one, else the seconds until there is."""
        return self._look(key, take=True)

    def wait(self, key: str) -> float:
        """The seconds until `key` has a token (0: it has one now); nothing is taken."""
        return self._look(key, take=False)

    def __len__(self) -> int:
        return len(self._buckets)

    def _look(self, key: str, take: bool) -> float:
        per_second = self.rate.count / self.rate.period
        with self._lock:
            now = self.clock()
            tokens, at = self._buckets.pop(key, (float(self.rate.count), now))
            tokens = min(float(self.rate.count), tokens + (now - at) * per_second)
            if tokens >= 1:
                if take:
                    tokens -= 1
                wait = 0.0
            else:
                wait = (1 - tokens) / per_second
            if tokens < self.rate.count:
                self._buckets[key] = (tokens, now)  # the most recently used last
                self._evict(now, per_second)
            return wait

    def _evict(self, now: float, per_second: float) -> None:
        if len(self._buckets) <= self.max_keys:
            return
        for key, (tokens, at) in list(self._buckets.items()):
            if tokens + (now - at) * per_second >= self.rate.count:
                del self._buckets[key]
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)


# ---- reading a signed request --------------------------------------------------------------------


def grant_request(fields: Mapping[str, Any]) -> SignedGrant:
    """A signed Grant from its EIP-712 fields and `signature` (0x-hex); BadRequest names what is wrong."""
    with bad_request():
        return SignedGrant(
            patient=checksum(fields["patient"], "patient"),
            grantee=checksum(fields["grantee"], "grantee"),
            purpose=purposes.check_grantable(_purpose(fields["purpose"])),
            scopes=_uint(fields["scopes"], "scopes", 64),
            expires_at=_uint(fields["expiresAt"], "expiresAt", 64),
            nonce=_uint(fields["nonce"], "nonce", 256),
            deadline=_uint(fields["deadline"], "deadline", 256),
            signature=_signature(fields["signature"]),
        )


def revoke_request(fields: Mapping[str, Any]) -> SignedRevoke:
    """A signed Revoke from its EIP-712 fields and `signature` (0x-hex)."""
    with bad_request():
        return SignedRevoke(
            patient=checksum(fields["patient"], "patient"),
            grantee=checksum(fields["grantee"], "grantee"),
            purpose=_purpose(fields["purpose"]),
            nonce=_uint(fields["nonce"], "nonce", 256),
            deadline=_uint(fields["deadline"], "deadline", 256),
            signature=_signature(fields["signature"]),
        )


@contextmanager
def bad_request() -> Iterator[None]:
    """An InputError or a missing field, raised as the BadRequest it is to the relayer's caller."""
    try:
        yield
    except InputError as err:
        raise BadRequest(sentence(str(err))) from None
    except KeyError as err:
        raise BadRequest(f"the signed request has no {err.args[0]}.") from None


def _purpose(value: Any) -> bytes:
    if not isinstance(value, str):
        raise InputError(f"purpose {value!r} is not a code, a CURIE or 0x-hex")
    return purposes.purpose_id(value)


def _uint(value: Any, what: str, bits: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**bits:
        raise InputError(f"{what} {value!r} is not a whole number of at most {bits} bits")
    return value


def _signature(value: Any) -> bytes:
    """0x-hex bytes: 65 for a key's ECDSA signature, any length a contract wallet (ERC-1271) answers to."""
    if not isinstance(value, str) or not _HEX.fullmatch(value) or len(value) > 2 + 2 * _MAX_SIGNATURE:
        raise InputError("the signature is not 0x-hex bytes (65 of them for a key's signature)")
    raw = bytes.fromhex(value[2:])
    return signatures.check(raw) if len(raw) == 65 else raw


def load_request(submission: Submission) -> SignedRequest:
    """The signed request a stored submission was made of."""
    kind = SignedGrant if submission.kind == "Grant" else SignedRevoke
    return kind.from_json(submission.request)


# ---- the service ---------------------------------------------------------------------------------


_SEND_LOCKS: dict[str, threading.Lock] = {}  # one per relayer key: its transactions' nonces must not race


class Relay:
    """What the relayer's services share: a store of submissions, a rate per signer, one paying key (the
    client's Sender, whose sends are serialised across services), and following receipts."""

    def __init__(self, store: Store, client: ContractClient, rate: Rate, clock: Callable[[], float]) -> None:
        if client.sender is None:
            raise InputError(f"the relayer sends transactions: its {client.name} client needs a Sender")
        self.store = store
        self.client = client
        self.limiter = TokenBucket(rate, clock)
        self._send_lock = _SEND_LOCKS.setdefault(client.sender.address, threading.Lock())
        with chain_reached():
            self.chain_id = int(client.w3.eth.chain_id)
            self.domain = client.domain()  # what the signed requests it takes are signed in

    @property
    def relayer(self) -> str:
        assert self.client.sender is not None
        return self.client.sender.address

    def status(self, submission_id: bytes) -> Submission:
        """A submission, its receipt looked up when it is still in flight."""
        return self._follow(self._get(submission_id))

    def follow(self) -> int:
        """Look up the receipts of every submission in flight; how many were settled (mined or failed)."""
        settled = 0
        for submission in self.store.in_flight():
            settled += self._follow(submission).status in (MINED, FAILED)
        return settled

    def _function(self, submission: Submission) -> ContractFunction:
        """The contract call a stored submission was sent as."""
        raise NotImplementedError

    def _holder_free(self, signer: str, nonce: int, what: str) -> None:
        """Replayed when another signed `what` (request, act) of `signer` holds `nonce` in the store."""
        holder = self.store.holder(signer, nonce)
        if holder is not None:
            raise Replayed(
                f"another signed {what} of {signer} holds nonce {nonce} here (submission "
                f"0x{holder.id.hex()}): once it is mined, sign again with the next nonce."
            )

    def _get(self, submission_id: bytes) -> Submission:
        found = self.store.get(submission_id)
        if found is None:
            raise SubmissionNotFound(f"no submission 0x{submission_id.hex()} at this relayer.")
        return found

    def _claim_and_send(
        self,
        digest: bytes,
        kind: str,
        signer: str,
        nonce: int,
        request: str,
        function: ContractFunction,
        check_holder: Callable[[], None],
        gas: int | None = None,
    ) -> tuple[Submission, bool]:
        """Hold (signer, nonce) in the store, then simulate, rate-limit and send `function`; a request that
        raced in with the same digest is answered with its submission."""
        check_holder()
        if not self.store.claim(digest, kind, signer, nonce, request):
            raced = self.store.get(digest)  # the same request, arrived at the same moment
            if raced is not None:
                return raced, False
            check_holder()  # another one took the nonce meanwhile
            raise Replayed(f"another signed request of {signer} holds nonce {nonce} here.")
        try:
            tx_hash = self._send(function, signer, gas)
        except BaseException:
            self.store.release(digest)
            raise
        self.store.update(digest, SUBMITTED, tx_hash=tx_hash)
        return self._get(digest), True

    def _send(self, function: ContractFunction, signer: str, gas: int | None = None) -> str:
        """Simulate, take the signer's token, send; the transaction hash (not waited for). With `gas`,
        the simulation and the transaction both get that gas limit and nothing is estimated."""
        assert self.client.sender is not None
        with chain_reached(), _refused():
            call(function, self.client.errors, gas=gas)  # eth_call: a revert here costs nothing
        wait = self.limiter.take(signer)
        if wait:
            retry_after = max(1, int(wait + 0.999))
            rate = self.limiter.rate
            raise RateLimited(
                f"{signer} has had the {rate.count} requests this relayer pays for per "
                f"{rate.period}s: retry in {retry_after}s.",
                retry_after,
            )
        self._take_budget()
        with chain_reached(), _refused(), self._send_lock:
            if gas is None:
                tx_hash = self.client.sender.send(function, self.client.errors)
            else:
                data = HexBytes(function._encode_transaction_data())
                tx_hash = self.client.sender.send_raw(function.address, data, gas)
        return "0x" + bytes(tx_hash).hex()

    def _take_budget(self) -> None:
        """A relay with a budget across all signers takes from it here (after the simulation)."""

    def _follow(self, submission: Submission) -> Submission:
        if submission.status != SUBMITTED or submission.tx_hash is None:
            return submission
        assert self.client.sender is not None
        tx_hash = HexBytes(submission.tx_hash)
        with chain_reached():
            try:
                receipt = self.client.w3.eth.get_transaction_receipt(tx_hash)
            except TransactionNotFound:
                return submission
            spent = {"block_number": int(receipt["blockNumber"]), "gas_used": int(receipt["gasUsed"])}
            try:  # a revert is replayed at its block to name the contract's error
                self.client.sender.wait(tx_hash, self._function(submission), self.client.errors)
            except ContractError as err:
                self.store.update(submission.id, FAILED, error=err.name, **spent)
            except TransactionFailed:
                self.store.update(submission.id, FAILED, error="Reverted", **spent)
            else:
                self.store.update(submission.id, MINED, **spent)
        return self._get(submission.id)


class RelayService(Relay):
    """One relayer of ConsentRegistry's signed requests: its key (the client's Sender pays the gas), a
    store, a rate per patient."""

    client: ConsentClient

    def __init__(
        self,
        store: Store,
        client: ConsentClient,
        rate: Rate,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(store, client, rate, clock)

    def info(self) -> dict[str, Any]:
        """What a patient's page needs to sign a request for this relayer (types without EIP712Domain,
        as ethers' `signTypedData(domain, {Grant: types.Grant}, message)` takes them)."""
        types = eip712.TYPES["ConsentRegistry"]
        return {
            "chainId": self.chain_id,
            "consentRegistry": self.client.address,
            "relayer": self.relayer,
            "domain": self.domain.as_dict(),
            "domainType": eip712.DOMAIN_TYPE,
            "types": {"Grant": types["Grant"], "Revoke": types["Revoke"]},
            "rate": {"requests": self.limiter.rate.count, "periodSeconds": self.limiter.rate.period},
        }

    def nonce(self, patient: str) -> dict[str, Any]:
        """The nonce the patient's next signed request must carry (requests in flight not counted)."""
        with bad_request():
            address = checksum(patient, "patient")
        with chain_reached():
            return {"patient": address, "nonce": self.client.nonce(address)}

    def submit(self, signed: SignedRequest) -> tuple[Submission, bool]:
        """Check and send a signed request; the submission and whether it is new (False: seen before)."""
        digest = signed.digest(self.domain)
        known = self.store.get(digest)
        if known is not None:
            return self._follow(known), False
        self._check_signer(signed, digest)
        with chain_reached():
            head = self.client.w3.eth.get_block("latest")
            chain_nonce = self.client.nonce(signed.patient)
        now = max(int(time.time()), int(head["timestamp"]))
        if signed.deadline <= now:
            raise RequestExpired(
                f"the signature's deadline {signed.deadline} has passed (now {now}): sign again."
            )
        if signed.nonce < chain_nonce:
            raise Replayed(
                f"nonce {signed.nonce} of {signed.patient} was used on chain already "
                f"(the next is {chain_nonce}): sign again."
            )
        return self._claim_and_send(
            digest,
            signed.kind,
            signed.patient,
            signed.nonce,
            signed.to_json(),
            self.client.signed_call(signed),
            lambda: self._check_holder(signed),
        )

    def _function(self, submission: Submission) -> ContractFunction:
        return self.client.signed_call(load_request(submission))

    def _check_signer(self, signed: SignedRequest, digest: bytes) -> None:
        raw = signed.signature
        signer = None
        if len(raw) == 65:
            try:
                signer = signatures.recover(digest, raw)
            except InputError:
                raise BadSignature("no public key can be recovered from the signature.") from None
            if signer == signed.patient:
                return
        with chain_reached():
            wallet = bool(self.client.w3.eth.get_code(to_checksum_address(signed.patient)))
        if wallet:  # only the registry can check a contract wallet's signature (ERC-1271): the eth_call will
            return
        if signer is None:
            raise BadRequest(f"the signature is {len(raw)} bytes: a key's signature is 65 (r, s, v).")
        raise BadSignature(
            f"the signature is not {signed.patient}'s: it was made by {signer}, or over other values."
        )

    def _check_holder(self, signed: SignedRequest) -> None:
        self._holder_free(signed.patient, signed.nonce, "request")


@contextmanager
def _refused() -> Iterator[None]:
    """A revert the node reports (eth_call or gas estimate) is a 422 naming the contract's error."""
    try:
        yield
    except ContractError as err:
        known = ERROR_CLASSES.get(err.name)
        why = f" ({known.__doc__.rstrip('.')})" if known is not None and known.__doc__ else ""
        raise Refused(f"the registry would refuse this request with {err.name}{why}.", err.name) from None


def open_relay(settings: Settings, db_url: str | None = None, rate: str | None = None) -> RelayService:
    """The relayer the environment describes: the node at RPC_URL, the relayer's PRIVATE_KEY or KEYSTORE,
    the deployment in deployments/<chainId>.json, the database (CARECHAIN_RELAY_DB, else SQLite in
    .chain/) and the rate per patient (CARECHAIN_RELAY_RATE, else 10/h)."""
    parsed = Rate.parse(rate or os.environ.get(RATE_ENV) or DEFAULT_RATE)
    w3 = connect(settings.rpc_url)
    client = ConsentClient.from_manifest(w3, settings.root, load_sender(w3, settings))
    url = db_url or os.environ.get(DB_ENV) or default_url(settings.root, int(w3.eth.chain_id))
    return RelayService(Store(url), client, parsed)
