"""A patient's consents on ConsentGrants from the wallet alone: grant, find, list, check, revoke, export.

Every grant of a patient has its own subject key, salt and scope salt, derived from one key-derivation
signature of the wallet (or a keystore secret) by grant number (`carechain.core.keys.KeyRoot`); a root
grant's id is its subject commitment. So the patient keeps nothing secret: `scan` derives the commitments
of numbers 0, 1, 2, ... and matches them on the device against ConsentGrants' logs (a grant landed, or a
nonce burnt), until `gap_limit` numbers in a row are unknown; a number whose grant never landed but that
has a known number after it (a hole) is stepped over and not handed out again.

A grant signed and never sent leaves no trace on chain: were it the last number, the chain alone would hand
that number out again, and the old signed grant (its nonce still 0) could land in place of the new one.
So `Patient` records the numbers it signed grants for in a local file (`signed_file`: grant numbers only,
no key, no id) and never hands one of them out again; a device without that file can void a number's
stray signed grant with `burn`.

The patient's keys only sign. Each act leaves as a `carechain.core.acts.SubjectAct` and a `Submitter`
sends it: the relayer's HTTP client (`carechain.services.relay.client.RelayClient`), or `DirectSubmitter`
over a ConsentGrantsClient whose sender is someone else's account (a clinic's own relaying key, a test).
The wallet never sends or funds a transaction, and the master secret (signature, keystore secret, PRK) is
never written anywhere by this module.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from carechain.clients.grants import NO_REASON, ZERO_ADDRESS, ConsentGrant, ConsentGrantsClient
from carechain.core import grants, profiles
from carechain.core.acts import SubjectAct, Submitted
from carechain.core.grants import FLAG_SCOPE_IS_ROOT, GrantInput, Op, Policy, Status
from carechain.core.keys import GrantKeys, KeyRoot, Role
from carechain.core.values import bytes32, checksum, uint
from carechain.errors import InputError
from carechain.offchain.scopes import ScopeTree

GAP_LIMIT: Final = 20
DAY: Final = 86_400
LOG_CHUNK: Final = 5_000  # blocks per eth_getLogs: what public nodes answer
# A grant's categories are found again from the chain by trying every set of one to this many (2,324 sets,
# under a second), so a grant names at most this many: one over more could not be listed or checked again.
SEARCHED_SET_SIZE: Final = 3

Lookup = Callable[[Sequence[bytes]], Sequence[bool]]


# ---- finding a patient's grant numbers (chain-free: the chain is `lookup`) ------------------------------


@dataclass(frozen=True)
class Scan:
    """What a scan found: the grant numbers the chain knows (in order) and the number a new grant takes."""

    used: tuple[GrantKeys, ...]
    next_index: int
    looked_up: int  # how many commitments were asked about


def scan(root: KeyRoot, lookup: Lookup, gap_limit: int = GAP_LIMIT, role: Role = "subject") -> Scan:
    """Derive commitments 0, 1, 2, ... and ask `lookup` (a batch at a time) which the chain knows, until
    `gap_limit` numbers in a row are unknown. The next grant takes the number after the last one known, so
    a hole before it (a grant that never landed, a burnt nonce) is never handed out again; a trailing number
    signed and never sent is unknown to the chain and is handed out again (see `Patient`'s `signed_file`)."""
    uint(gap_limit, "gap limit", minimum=1)
    used: list[GrantKeys] = []
    index = gap = 0
    while gap < gap_limit and index < 2**32:
        batch = [root.grant_keys(role, i) for i in range(index, min(index + gap_limit - gap, 2**32))]
        answers = list(lookup([keys.commitment for keys in batch]))
        if len(answers) != len(batch):
            raise InputError(f"a lookup answers each commitment asked: {len(answers)} for {len(batch)}")
        for keys, known in zip(batch, answers, strict=True):
            if known:
                used.append(keys)
                gap = 0
            else:
                gap += 1
        index += len(batch)
    return Scan(tuple(used), used[-1].index + 1 if used else 0, index)


def signed_file_name(root: KeyRoot) -> str:
    """A name for `root`'s record of signed numbers that tells nothing of its grants (a hash of its PRK)."""
    return hashlib.sha256(b"carechain/signed-grant-numbers" + root.prk).hexdigest()[:16] + ".json"


@dataclass(frozen=True)
class Granted:
    """What a ConsentGranted log says of a grant (no node read of the grant itself)."""

    grantee: str
    purpose_code: int


class GrantLog:
    """ConsentGrants' ConsentGranted and NonceBurned logs from `from_block` (the deployment's block) on,
    fetched whole — no filter on ids, so the node never learns which commitments are the patient's — in
    chunks of `chunk` blocks; the patient's commitments are matched here, on the device. A commitment is
    known when a grant landed with it as its id or its nonce was burnt (every other subject act needs a
    grant first)."""

    def __init__(self, contract: ConsentGrantsClient, from_block: int = 0, chunk: int = LOG_CHUNK) -> None:
        self.contract = contract
        self.chunk = uint(chunk, "log chunk", minimum=1)
        self.granted: dict[bytes, Granted] = {}
        self.burnt: set[bytes] = set()
        self._next = uint(from_block, "first block")

    def refresh(self) -> None:
        """Fetch the logs of the blocks mined since the last refresh."""
        latest = int(self.contract.w3.eth.block_number)
        events = self.contract.contract.events
        while self._next <= latest:
            last = min(self._next + self.chunk - 1, latest)
            for log in events.ConsentGranted().get_logs(from_block=self._next, to_block=last):
                args = log["args"]
                self.granted[bytes(args["grantId"])] = Granted(str(args["grantee"]), int(args["purposeCode"]))
            for log in events.NonceBurned().get_logs(from_block=self._next, to_block=last):
                self.burnt.add(bytes(log["args"]["subjectCommit"]))
            self._next = last + 1

    def known(self, commitments: Sequence[bytes]) -> list[bool]:
        return [c in self.granted or c in self.burnt for c in commitments]


# ---- scopes over data categories ------------------------------------------------------------------------


def category_names(categories: Iterable[str]) -> tuple[str, ...]:
    """Data categories (scope names of `carechain.core.purposes.SCOPES`), each once, in that table's order."""
    wanted = list(categories) if not isinstance(categories, str) else [categories]
    for category in wanted:
        grants.category_scope(category)  # refuses an unknown one
    if not wanted or len(set(wanted)) != len(wanted):
        raise InputError("a grant names one or more data categories, each once")
    return tuple(name for name in grants.CATEGORY_SCOPES if name in wanted)


def scope_of(scope_salt: bytes, categories: Sequence[str]) -> tuple[bytes, int]:
    """(scopeRef, flags) of a grant over `categories`: one salted resource hash, or for several the root of
    their salted scope tree with FLAG_SCOPE_IS_ROOT."""
    names = category_names(categories)
    if len(names) == 1:
        return grants.resource_hash(scope_salt, grants.category_scope(names[0])), 0
    return ScopeTree(scope_salt, [grants.category_scope(n) for n in names]).root, FLAG_SCOPE_IS_ROOT


def find_categories(
    scope_salt: bytes, scope_ref: bytes, flags: int, largest: int = SEARCHED_SET_SIZE
) -> tuple[str, ...] | None:
    """The data categories a grant's `scopeRef` covers, found again from its scope salt (None: not a set of
    at most `largest` categories, e.g. a record's own resource name)."""
    names = tuple(grants.CATEGORY_SCOPES)
    if not flags & FLAG_SCOPE_IS_ROOT:
        return next(
            ((n,) for n in names if grants.resource_hash(scope_salt, grants.CATEGORY_SCOPES[n]) == scope_ref),
            None,
        )
    for size in range(1, largest + 1):
        for subset in itertools.combinations(names, size):  # a one-name tree too, made by other tools
            if ScopeTree(scope_salt, [grants.category_scope(n) for n in subset]).root == scope_ref:
                return subset
    return None


def day_floor(timestamp: int) -> int:
    """00:00 UTC of the timestamp's day: a grant's times are coarse, so they do not single a patient out."""
    return uint(timestamp, "time", 48) // DAY * DAY


def day_ceil(timestamp: int) -> int:
    """The first 00:00 UTC at or after the timestamp (a uint48, as the contract keeps times)."""
    ceiling = -(-uint(timestamp, "time", 48) // DAY) * DAY
    if ceiling >= 2**48:
        raise InputError(f"time {timestamp} rounds up past the largest time a grant holds (2^48 - 1)")
    return ceiling


def grant_window(start: int, end: int, now: int) -> tuple[int, int]:
    """(notBefore, expiresAt) in whole days, never wider than start..end: a future start is rounded up to
    the next 00:00 UTC, the end down to its day's. A start at or before `now` becomes today's 00:00 UTC:
    the hours before now are past, so nobody can use them. An empty window is an InputError."""
    not_before = day_floor(now) if start <= now else day_ceil(start)
    expires_at = day_floor(end)
    if expires_at <= not_before:
        raise InputError(
            "the grant's window is empty once its times are whole days (UTC): let it end at least a day "
            "after it starts"
        )
    return not_before, expires_at


def template_pair(purpose: str) -> tuple[bytes, bytes]:
    """(purposeProfileRef, termsRef) of the shipped pair for a purpose (HMB, DUO:0000006, TREAT, ...)."""
    code = profiles.purpose_code(purpose)
    for term, template in profiles.SHIPPED_PAIRS:
        if profiles.purpose_code(term) == code:
            return profiles.profile_ref([{"term": term}]), profiles.terms_ref(template)
    shipped = ", ".join(term for term, _ in profiles.SHIPPED_PAIRS)
    raise InputError(f"no consent template ships for purpose {purpose!r}; the shipped ones are for {shipped}")


# ---- submitting ------------------------------------------------------------------------------------------


class Submitter(Protocol):
    """Who sends a patient's signed acts: never the patient's wallet."""

    def submit(self, act: SubjectAct) -> Submitted: ...


class DirectSubmitter:
    """Sends each act in a transaction of its own from `client`'s sender (a clinic's relaying key, a test's
    account), waiting for it to be mined."""

    def __init__(self, client: ConsentGrantsClient) -> None:
        if client.sender is None:
            raise InputError("a DirectSubmitter sends: its ConsentGrantsClient needs a Sender")
        self.client = client

    def submit(self, act: SubjectAct) -> Submitted:
        result = self.client.submit(act)
        return Submitted(act.digest(self.client.domain()), act.kind, "mined", result.tx_hash, None)


# ---- the patient ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PatientGrant:
    """One of the patient's grant numbers as the chain has it. `grant` is None for a number whose nonce a
    signed act consumed though no grant landed (a burnt nonce); `categories` None when not found again."""

    keys: GrantKeys
    grant: ConsentGrant | None
    status: Status  # effective: the grant's own, or an ancestor's terminal one
    active: bool  # ERC-8356's answer: live, in its window, under its cap
    categories: tuple[str, ...] | None

    @property
    def grant_id(self) -> bytes:
        return self.keys.commitment

    @property
    def index(self) -> int:
        return self.keys.index


class Patient:
    """One patient on one ConsentGrants deployment: their key root, the contract (read), a submitter."""

    def __init__(
        self,
        root: KeyRoot,
        contract: ConsentGrantsClient,
        submitter: Submitter | None = None,
        gap_limit: int = GAP_LIMIT,
        from_block: int = 0,
        signed_file: Path | None = None,
    ) -> None:
        if not isinstance(root, KeyRoot):
            raise InputError(f"a patient's keys come from a KeyRoot, got {type(root).__name__}")
        self.root = root
        self.contract = contract
        self._submitter = submitter
        self.gap_limit = uint(gap_limit, "gap limit", minimum=1)
        self.log = GrantLog(contract, from_block)
        self.signed_file = signed_file
        self._signed_up_to = self._read_signed()  # the highest number signed here (not on chain, maybe)

    # ---- finding -------------------------------------------------------------------------------

    @property
    def submitter(self) -> Submitter:
        """Who sends the patient's acts; reading (scan, list, check, export) needs none."""
        if self._submitter is None:
            raise InputError("sending an act needs a submitter (a relayer): this patient has none")
        return self._submitter

    def scan(self) -> Scan:
        """The patient's grant numbers the chain knows, matched against ConsentGrants' logs on the device
        (`GrantLog`): the node is never asked about the patient's commitments one by one."""
        self.log.refresh()
        return scan(self.root, self.log.known, self.gap_limit)

    def grants(self) -> list[PatientGrant]:
        """Every grant number the chain knows, with its grant, effective status and categories. The grants'
        state (scope, window, status) is read per grant id: the node sees those ids asked together."""
        return [self._grant_of(keys) for keys in self.scan().used]

    def grant_of(self, index: int) -> PatientGrant:
        """Grant number `index`, as the chain has it now."""
        return self._grant_of(self.root.grant_keys("subject", uint(index, "grant number", 32)))

    def _grant_of(self, keys: GrantKeys) -> PatientGrant:
        found = self.contract.get_grant(keys.commitment)
        if not found.exists:
            return PatientGrant(keys, None, Status.NONE, False, None)
        return PatientGrant(
            keys,
            found,
            self.contract.effective_status(keys.commitment),
            self.contract.is_active(keys.commitment),
            find_categories(keys.scope_salt, found.scope_ref, found.flags),
        )

    # ---- granting ------------------------------------------------------------------------------

    def _read_signed(self) -> int:
        if self.signed_file is None or not self.signed_file.exists():
            return -1
        try:
            recorded = json.loads(self.signed_file.read_text())["signedUpTo"]
        except (OSError, ValueError, KeyError, TypeError):
            raise InputError(f"{self.signed_file} is not a record of signed grant numbers") from None
        return int(uint(recorded, "signed grant number", 32))

    def _record_signed(self, index: int) -> None:
        """Remember that grant number `index` has a signed grant, before it leaves the device."""
        self._signed_up_to = max(self._signed_up_to, index)
        if self.signed_file is not None:
            self.signed_file.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.signed_file.with_name(self.signed_file.name + ".tmp")
            temporary.write_text(json.dumps({"signedUpTo": self._signed_up_to}) + "\n")
            os.replace(temporary, self.signed_file)

    def sign_grant(
        self,
        grantee: str,
        purpose: str,
        categories: Sequence[str],
        start: int | None,
        end: int,
        ops: int = Op.READ,
        index: int | None = None,
    ) -> tuple[GrantKeys, SubjectAct]:
        """The signed grant of the next unused number (or `index`): one to `SEARCHED_SET_SIZE` `categories`
        to `grantee` for `purpose` (HMB, TREAT, ...), within start..end in whole days (`grant_window`), with
        the purpose's shipped template pair; `start` None is now (the chain's). Nothing is sent."""
        names = category_names(categories)
        if len(names) > SEARCHED_SET_SIZE:
            raise InputError(
                f"a grant names at most {SEARCHED_SET_SIZE} data categories (so the wallet alone finds them "
                f"again): make one grant per group of {SEARCHED_SET_SIZE}"
            )
        now = int(self.contract.w3.eth.get_block("latest")["timestamp"])
        not_before, expires_at = grant_window(now if start is None else start, end, now)
        if index is None:
            index = max(self.scan().next_index, self._signed_up_to + 1)
        keys = self.root.grant_keys("subject", uint(index, "grant number", 32))
        scope_ref, flags = scope_of(keys.scope_salt, names)
        profile_ref, terms_ref = template_pair(purpose)
        grant = GrantInput(
            scope_ref=scope_ref,
            purpose_profile_ref=profile_ref,
            terms_ref=terms_ref,
            asset_token_id=0,
            subject_commit=keys.commitment,
            grantee=checksum(grantee, "grantee"),
            agent=ZERO_ADDRESS,
            policy=Policy(not_before, expires_at, ops, profiles.purpose_code(purpose), flags=flags),
        )
        nonce = self.contract.nonce(keys.commitment)
        act = SubjectAct("Grant", keys.commitment, nonce, self.contract.sign_grant(keys, grant, nonce), grant)
        self._record_signed(index)
        return keys, act

    def grant(
        self,
        grantee: str,
        purpose: str,
        categories: Sequence[str],
        start: int | None,
        end: int,
        ops: int = Op.READ,
    ) -> tuple[GrantKeys, Submitted]:
        """`sign_grant`, then the submitter sends it. Returns the grant's keys (its id: `keys.commitment`)."""
        keys, act = self.sign_grant(grantee, purpose, categories, start, end, ops)
        return keys, self.submitter.submit(act)

    # ---- checking ------------------------------------------------------------------------------

    def check(self, grantee: str, purpose: str, category: str, op: int = Op.READ) -> list[PatientGrant]:
        """The patient's grants under which `grantee` may now perform `op` for `purpose` on `category`, as
        the contract's `checkAccess` answers it (window, cap, withdrawn leaves and all)."""
        code, name = profiles.purpose_code(purpose), grants.category_scope(category)
        grantee = checksum(grantee, "grantee")
        candidates = [
            keys
            for keys in self.scan().used
            if keys.commitment in self.log.granted
            and self.log.granted[keys.commitment] == Granted(grantee, code)
        ]  # only grants to this grantee for this purpose (per their logs) are read from the node
        permitting = []
        for found in map(self._grant_of, candidates):
            if found.grant is None or found.categories is None or category not in found.categories:
                continue
            if found.grant.purpose_code != code or found.grant.grantee != checksum(grantee, "grantee"):
                continue
            proof = self._proof(found, category)
            resource = grants.resource_hash(found.keys.scope_salt, name)
            if self.contract.check_access(found.grant_id, code, op, resource, proof, caller=grantee):
                permitting.append(found)
        return permitting

    def _proof(self, found: PatientGrant, category: str) -> list[bytes]:
        assert found.categories is not None and found.grant is not None
        if not found.grant.flags & FLAG_SCOPE_IS_ROOT:
            return []
        tree = ScopeTree(found.keys.scope_salt, [grants.category_scope(n) for n in found.categories])
        return tree.proof(grants.category_scope(category))

    # ---- withdrawing ---------------------------------------------------------------------------

    def sign_revoke(self, index: int, reason_code: bytes | str = NO_REASON) -> SubjectAct:
        """The signed withdrawal of grant number `index` (nothing is sent)."""
        keys = self._known(index)
        nonce = self.contract.nonce(keys.commitment)
        reason = bytes32(reason_code, "reason code")
        sig = self.contract.sign_revoke(keys, keys.commitment, reason, nonce)
        return SubjectAct("RevokeBySubject", keys.commitment, nonce, sig, reason_code=reason)

    def revoke(self, index: int, reason_code: bytes | str = NO_REASON) -> Submitted:
        """Withdraw grant number `index`: signed by its own key, sent by the submitter."""
        return self.submitter.submit(self.sign_revoke(index, reason_code))

    def sign_withdraw_category(self, index: int, category: str) -> SubjectAct:
        """The signed withdrawal of one category (its scope leaf) of a live grant over several; refused when
        it would do nothing (not one of the grant's categories, the grant not ACTIVE or SUSPENDED, the
        category withdrawn already)."""
        found = self.grant_of(index)
        keys = found.keys
        if found.grant is None:
            raise InputError(f"grant number {index} is not on ConsentGrants {self.contract.address}")
        if found.categories is None or category not in found.categories:
            over = ", ".join(found.categories or ["unknown categories"])
            raise InputError(f"grant #{index} is over {over}, not {category}")
        if found.status not in (Status.ACTIVE, Status.SUSPENDED):
            raise InputError(
                f"grant #{index} is {found.status.name}: withdrawing a category would do nothing"
            )
        leaf = grants.scope_leaf(keys.scope_salt, grants.category_scope(category))
        if self.contract.is_leaf_withdrawn(keys.commitment, leaf):
            raise InputError(f"{category} is withdrawn from grant #{index} already")
        nonce = self.contract.nonce(keys.commitment)
        sig = self.contract.sign_revoke_leaf(keys, keys.commitment, leaf, nonce)
        return SubjectAct("RevokeScopeLeaf", keys.commitment, nonce, sig, leaf=leaf)

    def withdraw_category(self, index: int, category: str) -> Submitted:
        """Withdraw one category of grant number `index`; the grant goes on for the others."""
        return self.submitter.submit(self.sign_withdraw_category(index, category))

    def sign_burn(self, index: int) -> SubjectAct:
        """The signed nonce burn of grant number `index`: a grant signed with it and never sent is void."""
        keys = self.root.grant_keys("subject", uint(index, "grant number", 32))
        nonce = self.contract.nonce(keys.commitment)
        sig = self.contract.sign_burn_nonce(keys, nonce)
        return SubjectAct("BurnNonce", keys.commitment, nonce, sig)

    def burn(self, index: int) -> Submitted:
        """Void whatever grant number `index`'s key signed and nobody submitted yet."""
        return self.submitter.submit(self.sign_burn(index))

    def _known(self, index: int) -> GrantKeys:
        keys = self.root.grant_keys("subject", uint(index, "grant number", 32))
        if self.contract.subject_of(keys.commitment) != keys.commitment:
            raise InputError(f"grant number {index} is not on ConsentGrants {self.contract.address}")
        return keys

    # ---- handing out one grant's keys ----------------------------------------------------------

    def export_keys(self, index: int, private_key: bool = False) -> dict[str, Any]:
        """One grant's key material as JSON, for a clinic or a FHIR export: its id, subject key's address,
        salts, and per category the resource hash, leaf and proof a custodian checks access with. The
        subject key's private key only with `private_key` (it can withdraw the grant); never the patient's
        key root, which opens every other grant."""
        found = self.grant_of(index)
        if found.grant is None:
            raise InputError(f"grant number {index} is not on ConsentGrants {self.contract.address}")
        keys = found.keys
        exported: dict[str, Any] = {
            "grantId": "0x" + keys.commitment.hex(),
            "consentGrants": self.contract.address,
            "chainId": int(self.contract.w3.eth.chain_id),
            "subjectKey": keys.address,
            "subjectSalt": "0x" + keys.salt.hex(),
            "scopeSalt": "0x" + keys.scope_salt.hex(),
            "scopeRef": "0x" + found.grant.scope_ref.hex(),
            "categories": None,
        }
        if found.categories is not None:
            exported["categories"] = {
                category: {
                    "resource": grants.category_scope(category),
                    "resourceHash": "0x" + grants.resource_hash(keys.scope_salt, resource).hex(),
                    "leaf": "0x" + grants.scope_leaf(keys.scope_salt, resource).hex(),
                    "proof": ["0x" + node.hex() for node in self._proof(found, category)],
                }
                for category, resource in ((c, grants.category_scope(c)) for c in found.categories)
            }
        if private_key:
            exported["subjectPrivateKey"] = "0x" + keys.private_key.hex()
        return exported
