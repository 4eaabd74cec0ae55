"""ConsentGrants on web3.py: ERC-8356 grants signed by per-grant subject keys and sent by a relayer.

A patient's subject key (`carechain.core.keys.GrantKeys`) only signs, here or in a browser, with
`carechain.core.grants`' typed data; the client's Sender (the relayer, the portal's backend) sends, so no
key of the patient ever pays for or appears as the sender of a transaction. The grantee, its agent and the
issuer act from their own accounts. docs/private-consent.md is the design.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, overload

from web3.contract.contract import ContractFunction
from web3.exceptions import Web3RPCError

from carechain.clients.base import ContractClient, bytes32, checksum, uint
from carechain.core import eip712, grants
from carechain.core.acts import SubjectAct
from carechain.core.grants import AgentKind, AgentStatus, GrantInput, Policy, Status
from carechain.core.keys import GrantKeys
from carechain.core.reverts import call, error_table
from carechain.core.sender import TxResult
from carechain.errors import InputError

NO_REASON: Final = bytes(32)
ZERO_ADDRESS: Final = "0x" + "00" * 20
UNKNOWN_REVERT: Final = "UnknownRevert"  # what decode_revert names revert data no ABI explains

Payload = Callable[[eip712.Domain, int], dict[str, Any]]


@dataclass(frozen=True)
class ConsentGrant:
    """IConsentGrants.ConsentGrant, ERC-8356's grant (slots 0-8) in its fields' order, after its id; a grant
    that does not exist has status NONE and every field zero."""

    grant_id: bytes
    scope_ref: bytes
    purpose_profile_ref: bytes
    terms_ref: bytes
    parent_grant_id: bytes
    asset_token_id: int
    subject_commit: bytes
    grantee: str
    not_before: int
    expires_at: int
    agent: str
    ops: int
    purpose_code: int
    status: Status
    flags: int
    depth: int
    agent_kind: AgentKind
    agent_status: AgentStatus
    last_used_at: int
    use_count: int
    uses_max: int

    @property
    def exists(self) -> bool:
        return self.status != Status.NONE

    @property
    def policy(self) -> Policy:
        """The seven scalars the subject signed, packed in `policy`."""
        return Policy(
            self.not_before,
            self.expires_at,
            self.ops,
            self.purpose_code,
            self.uses_max,
            self.agent_kind,
            self.flags,
        )

    def as_input(self) -> GrantInput:
        """The `GrantInput` that minted this grant (for a root grant, what its subject key signed)."""
        return GrantInput(
            self.scope_ref,
            self.purpose_profile_ref,
            self.terms_ref,
            self.asset_token_id,
            self.subject_commit,
            self.grantee,
            self.agent,
            self.policy,
        )


@dataclass(frozen=True)
class FailedGrant:
    """One item of a batch that minted nothing (its GrantFailed event)."""

    index: int
    subject_commit: bytes
    selector: bytes  # the revert's first four bytes (zero: no revert data, e.g. out of gas)
    error: str  # the custom error's name, or UnknownRevert for a selector no ABI of the client explains


@dataclass(frozen=True)
class GrantBatch:
    """A sent `grantBatch`: which items (by position) minted their grant and which failed, and why."""

    result: TxResult
    minted: tuple[int, ...]
    failed: tuple[FailedGrant, ...]


def _input(grant: GrantInput) -> tuple[bytes, bytes, bytes, int, bytes, str, str, int]:
    if not isinstance(grant, GrantInput):
        raise InputError(f"a grant is a carechain.core.grants.GrantInput, got {type(grant).__name__}")
    return grant.as_tuple()


def _grant(grant_id: bytes, answer: Any) -> ConsentGrant:
    """getGrant's answer as a ConsentGrant."""
    raw: list[Any] = [bytes(v) if isinstance(v, bytes) else v for v in answer]
    raw[12], raw[15], raw[16] = Status(raw[12]), AgentKind(raw[15]), AgentStatus(raw[16])
    return ConsentGrant(grant_id, *raw)


def _sig(subject_sig: bytes) -> bytes:
    if not isinstance(subject_sig, bytes | bytearray) or len(subject_sig) < 96:
        raise InputError(
            "a subjectSig is the bytes of abi.encode(bytes32 subjectSalt, bytes signature) "
            "(carechain.core.grants.subject_sig)"
        )
    return bytes(subject_sig)


def _id(grant_id: bytes | str) -> bytes:
    return bytes32(grant_id, "grant id")


def _reason(reason_code: bytes | str) -> bytes:
    return bytes32(reason_code, "reason code")


def _proof(proof: Sequence[bytes | str]) -> list[bytes]:
    return [bytes32(node, "proof node") for node in proof]


class ConsentGrantsClient(ContractClient):
    """A ConsentGrants deployment, seen from one account (the relayer, a grantee, an issuer) or read-only."""

    name = "ConsentGrants"

    # ---- relayed subject acts: the subject key signed, the sender submits --------------------------

    def grant(self, grant: GrantInput, subject_sig: bytes) -> TxResult:
        """Mint a root grant its subject key signed (`sign_grant`); its id is `grant.subject_commit`."""
        return self._send("grant", _input(grant), _sig(subject_sig))

    def grant_batch(self, items: Sequence[tuple[GrantInput, bytes]]) -> GrantBatch:
        """Mint many signed grants in one transaction; an item that fails (taken, badly signed, expired...)
        is skipped and reported by its GrantFailed event, the others are minted."""
        if not items or any(not isinstance(item, tuple) or len(item) != 2 for item in items):
            raise InputError("a grant batch is at least one (GrantInput, subjectSig) pair")
        result = self._send(
            "grantBatch", [_input(grant) for grant, _ in items], [_sig(sig) for _, sig in items]
        )
        names = {selector: entry["name"] for selector, entry in error_table(self.errors).items()}
        failed = tuple(
            FailedGrant(
                int(event["args"]["index"]),
                bytes(event["args"]["subjectCommit"]),
                bytes(event["args"]["reason"]),
                names.get(bytes(event["args"]["reason"]), UNKNOWN_REVERT),
            )
            for event in self._events(result, "GrantFailed")
        )
        skipped = {failure.index for failure in failed}
        return GrantBatch(result, tuple(i for i in range(len(items)) if i not in skipped), failed)

    def revoke_by_subject(
        self, grant_id: bytes | str, reason_code: bytes | str = NO_REASON, subject_sig: bytes | None = None
    ) -> TxResult:
        """Withdraw a grant with its subject's signature (`sign_revoke`). Without one, ERC-8356's direct
        call from the subject key itself, which CareChain refuses (SubjectSignatureRequired): its subject
        keys never send."""
        if subject_sig is None:
            return self._send("revokeBySubject", _id(grant_id), _reason(reason_code))
        return self._send("revokeBySubjectWithSig", _id(grant_id), _reason(reason_code), _sig(subject_sig))

    def revoke_scope_leaf(
        self, grant_id: bytes | str, leaf: bytes | str, subject_sig: bytes | None = None
    ) -> TxResult:
        """Withdraw one resource (its Merkle leaf, `core.grants.scope_leaf`) of a root-scoped grant with
        its subject's signature (`sign_revoke_leaf`); without one, the refused direct call, as
        `revoke_by_subject`."""
        leaf = bytes32(leaf, "leaf")
        if subject_sig is None:
            return self._send("revokeScopeLeaf", _id(grant_id), leaf)
        return self._send("revokeScopeLeafWithSig", _id(grant_id), leaf, _sig(subject_sig))

    def burn_nonce(self, subject_commit: bytes | str, subject_sig: bytes) -> TxResult:
        """Consume the subject's nonce (`sign_burn_nonce`): every signature given out with it becomes void."""
        return self._send("burnNonce", bytes32(subject_commit, "subjectCommit"), _sig(subject_sig))

    def act_call(self, act: SubjectAct) -> ContractFunction:
        """The call that submits a signed subject act, not sent: a relayer simulates, sends and follows it
        itself (one act, one transaction)."""
        if not isinstance(act, SubjectAct):
            raise InputError(f"a subject act is a carechain.core.acts.SubjectAct, got {type(act).__name__}")
        functions = self.contract.functions
        if act.kind == "Grant":
            assert act.grant is not None
            return functions.grant(_input(act.grant), _sig(act.subject_sig))
        if act.kind == "RevokeBySubject":
            return functions.revokeBySubjectWithSig(act.target, act.reason_code, _sig(act.subject_sig))
        if act.kind == "RevokeScopeLeaf":
            return functions.revokeScopeLeafWithSig(act.target, act.leaf, _sig(act.subject_sig))
        return functions.burnNonce(act.target, _sig(act.subject_sig))

    def submit(self, act: SubjectAct) -> TxResult:
        """Send a signed subject act in a transaction of its own and wait for it."""
        if self.sender is None:
            raise InputError("this client is read-only: give it a Sender (a key) to send transactions")
        return self.sender.transact(self.act_call(act), self.errors)

    # ---- the subject key signs (nothing is sent) --------------------------------------------------

    def sign_grant(self, keys: GrantKeys, grant: GrantInput, nonce: int | None = None) -> bytes:
        """`keys`' subjectSig over `grant` with the subject's nonce (default: the chain's) in this domain."""
        _input(grant)
        return self._subject_sig(
            keys, grant.subject_commit, lambda domain, n: grants.grant_typed_data(domain, grant, n), nonce
        )

    def sign_revoke(
        self,
        keys: GrantKeys,
        grant_id: bytes | str,
        reason_code: bytes | str = NO_REASON,
        nonce: int | None = None,
    ) -> bytes:
        """`keys`' subjectSig withdrawing `grant_id` (a root grant of theirs or a sub-grant under it)."""
        grant_id, reason = _id(grant_id), _reason(reason_code)
        return self._subject_sig(
            keys,
            self._subject_of_known(grant_id),
            lambda domain, n: grants.revoke_typed_data(domain, grant_id, reason, n),
            nonce,
        )

    def sign_revoke_leaf(
        self, keys: GrantKeys, grant_id: bytes | str, leaf: bytes | str, nonce: int | None = None
    ) -> bytes:
        """`keys`' subjectSig withdrawing one scope leaf of `grant_id`."""
        grant_id, leaf = _id(grant_id), bytes32(leaf, "leaf")
        return self._subject_sig(
            keys,
            self._subject_of_known(grant_id),
            lambda domain, n: grants.revoke_leaf_typed_data(domain, grant_id, leaf, n),
            nonce,
        )

    def sign_burn_nonce(self, keys: GrantKeys, nonce: int | None = None) -> bytes:
        """`keys`' subjectSig consuming its current nonce."""
        commitment = keys.commitment
        return self._subject_sig(
            keys, commitment, lambda domain, n: grants.burn_nonce_typed_data(domain, commitment, n), nonce
        )

    def sign_and_grant(self, keys: GrantKeys, grant: GrantInput) -> TxResult:
        """The relayer's path: the subject key signs `grant` with the chain's nonce and domain, the sender
        submits it. Returns the mined transaction; the grant's id is `keys.commitment`."""
        return self.grant(grant, self.sign_grant(keys, grant))

    def sign_and_revoke(
        self, keys: GrantKeys, grant_id: bytes | str, reason_code: bytes | str = NO_REASON
    ) -> TxResult:
        """The relayer's path for a withdrawal: signed by the subject key, submitted by the sender."""
        return self.revoke_by_subject(grant_id, reason_code, self.sign_revoke(keys, grant_id, reason_code))

    def _subject_sig(
        self, keys: GrantKeys, subject_commit: bytes, payload: Payload, nonce: int | None
    ) -> bytes:
        if not isinstance(keys, GrantKeys):
            raise InputError(f"a subject key is a carechain.core.keys.GrantKeys, got {type(keys).__name__}")
        if bytes32(subject_commit, "subjectCommit") != keys.commitment:
            raise InputError(
                f"subject key {keys.address} (commitment 0x{keys.commitment.hex()}) is not the subject of "
                f"0x{bytes(subject_commit).hex()}: it would sign in vain"
            )
        current = self.nonce(keys.commitment) if nonce is None else uint(nonce, "nonce")
        return grants.signed_by_subject(keys, payload(self.domain(), current))

    def _subject_of_known(self, grant_id: bytes) -> bytes:
        subject = self.subject_of(grant_id)
        if subject == bytes(32):
            raise InputError(f"no grant 0x{grant_id.hex()} on ConsentGrants {self.address}")
        return subject

    # ---- grantee, agent, issuer -------------------------------------------------------------------

    def sub_grant(
        self, parent_grant_id: bytes | str, grant: GrantInput, scope_proof: Sequence[bytes | str] = ()
    ) -> tuple[TxResult, bytes]:
        """As a delegable grant's grantee: a narrower grant to another grantee (same subject commitment,
        fewer ops, a window inside, an equal or narrowing purpose; `scope_proof` when it names one leaf of a
        root-scoped parent). Returns the transaction and the child's id, keccak256(abi.encode(parent, g))."""
        parent = _id(parent_grant_id)
        result = self._send("subGrant", parent, _input(grant), _proof(scope_proof))
        return result, grants.sub_grant_id(parent, grant)

    def renounce(self, grant_id: bytes | str) -> TxResult:
        """As the grantee: hand the grant back (RENOUNCED_BY_GRANTEE)."""
        return self._send("renounceByGrantee", _id(grant_id))

    def terminate(self, grant_id: bytes | str, reason_code: bytes | str = NO_REASON) -> TxResult:
        """As an issuer that is the grant's grantee (a trial registry): close it (TERMINATED_BY_ISSUER)."""
        return self._send("terminateByIssuer", _id(grant_id), _reason(reason_code))

    def suspend(self, grant_id: bytes | str, reason_code: bytes | str = NO_REASON) -> TxResult:
        """As the grantee or the verified agent's operator: put the grant on hold (incident response)."""
        return self._send("suspend", _id(grant_id), _reason(reason_code))

    def resume(self, grant_id: bytes | str) -> TxResult:
        """As the party that suspended it: lift the hold."""
        return self._send("resume", _id(grant_id))

    def revoke_agent(self, grant_id: bytes | str, reason_code: bytes | str = NO_REASON) -> TxResult:
        """As the grantee, the agent or its operator: end the agent leg; the grant survives."""
        return self._send("revokeAgent", _id(grant_id), _reason(reason_code))

    def set_agent_operator(self, agent: str, operator: str) -> TxResult:
        """As the agent (first) or its operator (a hand-over): name the operator accountable for it."""
        return self._send("setAgentOperator", checksum(agent, "agent"), checksum(operator, "operator"))

    def commit_usage(self, grant_id: bytes | str, epoch: int, head_hash: bytes | str, count: int) -> TxResult:
        """As the grantee or its verified agent: the head of the epoch's usage hash chain after `count`
        records (never fewer than last committed)."""
        return self._send(
            "commitUsage",
            _id(grant_id),
            uint(epoch, "epoch", 64),
            bytes32(head_hash, "head hash"),
            uint(count, "count", 32),
        )

    # ---- reads ------------------------------------------------------------------------------------

    def get_grant(self, grant_id: bytes | str) -> ConsentGrant:
        return _grant(_id(grant_id), self._call("getGrant", _id(grant_id)))

    def get_grants(self, grant_ids: Sequence[bytes | str]) -> list[ConsentGrant]:
        """getGrant of each id, in JSON-RPC batches (see `_batched`)."""
        ids = [_id(grant_id) for grant_id in grant_ids]
        return [
            _grant(i, raw) for i, raw in zip(ids, self._batched([("getGrant", i) for i in ids]), strict=True)
        ]

    def grant_views(self, grant_ids: Sequence[bytes | str]) -> list[tuple[ConsentGrant, Status, bool]]:
        """getGrant, effectiveStatus and isGrantActive of each id, in JSON-RPC batches (see `_batched`)."""
        ids = [_id(grant_id) for grant_id in grant_ids]
        calls = [(name, i) for i in ids for name in ("getGrant", "effectiveStatus", "isGrantActive")]
        answers = self._batched(calls)
        return [
            (_grant(i, answers[3 * n]), Status(answers[3 * n + 1]), bool(answers[3 * n + 2]))
            for n, i in enumerate(ids)
        ]

    def _batched(self, calls: Sequence[tuple[str, bytes]], size: int = 500) -> list[Any]:
        """Reads of one id each, `size` to a JSON-RPC batch where the provider takes batches; a batch it
        refuses (or answers in part) is asked again one call at a time."""
        answers: list[Any] = []
        for first in range(0, len(calls), size):
            chunk = calls[first : first + size]
            got: list[Any] | None = None
            try:
                with self.w3.batch_requests() as batch:
                    for name, arg in chunk:
                        batch.add(getattr(self.contract.functions, name)(arg))
                    got = list(batch.execute())
            except (NotImplementedError, Web3RPCError, ValueError, TypeError):
                got = None
            if got is None or len(got) != len(chunk):
                got = [self._call(name, arg) for name, arg in chunk]
            answers.extend(got)
        return answers

    def is_active(self, grant_id: bytes | str) -> bool:
        """ERC-8356's authorization answer: the grant and each ancestor active, in window, under their cap."""
        return bool(self._call("isGrantActive", _id(grant_id)))

    def effective_status(self, grant_id: bytes | str) -> Status:
        """The status to show: the grant's own, or the first terminal one of an ancestor."""
        return Status(self._call("effectiveStatus", _id(grant_id)))

    def subject_of(self, grant_id: bytes | str) -> bytes:
        """The grant's subject commitment (zero: no such grant)."""
        return bytes(self._call("subjectOf", _id(grant_id)))

    def nonce(self, subject_commit: bytes | str) -> int:
        """The nonce the subject's next signature must carry."""
        return int(self._call("nonces", bytes32(subject_commit, "subjectCommit")))

    @overload
    def revocation_epoch(self) -> int: ...
    @overload
    def revocation_epoch(self, block: int) -> int | None: ...
    def revocation_epoch(self, block: int | None = None) -> int | None:
        """A counter every revocation of any kind moves: a cache of access answers is stale once it has.

        At `block`: None when the node keeps no state that old (a pruned node), never the latest instead.
        """
        if block is None:
            return int(self._call("revocationEpoch"))
        try:
            return int(call(self.contract.functions.revocationEpoch(), self.errors, block=block))
        except (Web3RPCError, ValueError):
            return None

    def check_access(
        self,
        grant_id: bytes | str,
        purpose_code: int,
        op: int,
        resource_hash: bytes | str,
        proof: Sequence[bytes | str] = (),
        caller: str | None = None,
    ) -> bool:
        """Whether `caller` (default: this client's sender) may perform `op` for `purpose_code` on the
        resource (`core.grants.resource_hash`) under the grant; `proof` under a root-scoped grant."""
        if caller is None:
            if self.sender is None:
                raise InputError("checkAccess answers for a caller: give caller=, or a client with a Sender")
            caller = self.sender.address
        return bool(
            self._call_from(
                checksum(caller, "caller"),
                "checkAccess",
                _id(grant_id),
                uint(purpose_code, "purpose code", 32),
                int(uint(op, "op", 32)),  # an Op flag is iterable, which web3.py would take for a list
                bytes32(resource_hash, "resource hash"),
                _proof(proof),
            )
        )

    def grant_digest(self, grant: GrantInput, nonce: int) -> bytes:
        """The EIP-712 digest the contract checks a subject's signature of `grant` against."""
        return bytes(self._call("grantDigest", _input(grant), uint(nonce, "nonce")))

    def purpose_registry(self) -> str | None:
        """The PurposeRegistry root grants' codes must be registered in (None: none)."""
        registry = str(self._call("purposeRegistry"))
        return None if int(registry, 16) == 0 else registry

    def refs_index(self, purpose_profile_ref: bytes | str, terms_ref: bytes | str) -> int:
        """The index grants store for a template pair (0: not stored yet)."""
        return int(
            self._call(
                "refsIndex",
                bytes32(purpose_profile_ref, "purposeProfileRef"),
                bytes32(terms_ref, "termsRef"),
            )
        )

    def is_leaf_withdrawn(self, grant_id: bytes | str, leaf: bytes | str) -> bool:
        """Whether the subject withdrew `leaf` on this grant itself (ancestors not included)."""
        return bool(self._call("isLeafWithdrawn", _id(grant_id), bytes32(leaf, "leaf")))

    def usage_count(self, grant_id: bytes | str, epoch: int) -> int:
        return int(self._call("usageCount", _id(grant_id), uint(epoch, "epoch", 64)))

    def agent_operator_of(self, agent: str) -> str | None:
        operator = str(self._call("agentOperatorOf", checksum(agent, "agent")))
        return None if int(operator, 16) == 0 else operator

    def _events(self, result: TxResult, name: str) -> list[Any]:
        """`name` events this contract emitted in the transaction (others' logs skipped)."""
        event = getattr(self.contract.events, name)()
        topic = bytes.fromhex(event.topic[2:])
        return [
            event.process_log(log)
            for log in result.receipt["logs"]
            if log["address"] == self.address and log["topics"] and bytes(log["topics"][0]) == topic
        ]
