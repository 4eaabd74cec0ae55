"""The relayer's side of ConsentGrants: take a patient's signed subject act, check it, pay its gas.

A subject act (`carechain.core.acts.SubjectAct`: a grant, a signed revocation, a withdrawn scope leaf, a
nonce burn) is sent only after, in this order: the client (its IP address, held in memory only, never
logged or stored) has a token left and the relayer's budget of acts across everyone is not spent — both
before the node is asked anything; it is well formed; it is new (the same act again answers with its
first submission and sends nothing); its signature opens the subject commitment it acts for (the key it
recovers to, with the salt it carries, commits to it); a contract key (ERC-1271) is an EIP-1167 clone of
the implementation of the GuardianshipFactory the manifest records (`carechain deploy` deploys it), once
that implementation's runtime code is checked to be GuardianshipAccount's (the build's); contract keys are
refused when the manifest records no factory (one written before it did), when there is no build to check
the implementation against, or when it is not GuardianshipAccount (an edited manifest naming a lookalike
factory); its nonce is the commitment's current one and held by no other act
here; a grant's purpose is registered; a withdrawn category's grant is ACTIVE or SUSPENDED and the leaf
not withdrawn yet; an eth_call of it with its kind's gas limit (`GAS`) succeeds; and the commitment has a
token left in its bucket. Each act is one transaction of its own, sent with that gas limit (nothing
estimated): two grants of one patient never share one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from web3.contract.contract import ContractFunction

from carechain.clients.grants import ConsentGrantsClient
from carechain.clients.guardianship import GuardianshipFactoryClient
from carechain.clients.purposes import PurposeRegistryClient
from carechain.core import acts, eip712, grants
from carechain.core.acts import SubjectAct
from carechain.core.deployments import ACCOUNT, FACTORY, Artifact, Manifest, load_artifact
from carechain.core.grants import Status
from carechain.core.values import bytes32, checksum
from carechain.errors import BadRequest, BadSignature, InputError, RateLimited, Refused, Replayed
from carechain.services.kernel import chain_reached
from carechain.services.relay.service import Rate, Relay, RelayService, TokenBucket, bad_request
from carechain.services.relay.store import FAILED, Store, Submission, subject_acts_table

BUDGET_ENV: Final = "CARECHAIN_RELAY_ACT_BUDGET"
DEFAULT_BUDGET: Final = "200/h"  # subject acts the relayer pays for, all patients together
CLIENT_RATE_ENV: Final = "CARECHAIN_RELAY_CLIENT_RATE"
DEFAULT_CLIENT_RATE: Final = "60/h"  # requests that cost a node read, per client IP address
# Gas limits per act: a grant measured 118,044 by an EOA key and 127,718 through a GuardianshipAccount, a
# revocation 46,578 and 59,326 (docs/private-consent.md, forge), with a quarter's room. An act that needs
# more is refused by its eth_call, so a key's contract can never make the relayer pay for more.
GAS: Final = {"Grant": 160_000, "RevokeBySubject": 80_000, "RevokeScopeLeaf": 80_000, "BurnNonce": 80_000}
_CLONE_HEAD: Final = bytes.fromhex("363d3d373d3d3d363d73")  # EIP-1167 minimal proxy runtime code
_CLONE_TAIL: Final = bytes.fromhex("5af43d82803e903d91602b57fd5bf3")
_ANYONE: Final = "*"  # the budget's one bucket


def clone_code(implementation: str) -> bytes:
    """The runtime code of an EIP-1167 minimal proxy of `implementation` (what OpenZeppelin's Clones
    deploys)."""
    return _CLONE_HEAD + bytes.fromhex(checksum(implementation, "implementation")[2:]) + _CLONE_TAIL


def open_subject_acts(
    service: RelayService, root: Path, budget: str | None = None, client_rate: str | None = None
) -> SubjectActRelay | None:
    """The subject-act relay beside `service` (`open_relay`'s): the same node, paying key, database and rate,
    on the deployment's ConsentGrants; None when the deployment has none. `budget` (else
    $CARECHAIN_RELAY_ACT_BUDGET, else 200/h) caps the acts it pays for in all, `client_rate` (else
    $CARECHAIN_RELAY_CLIENT_RATE, else 60/h) the requests per client IP address."""
    w3 = service.client.w3
    with chain_reached():
        recorded = Manifest.load(root, int(w3.eth.chain_id)).contracts
        if "ConsentGrants" not in recorded:
            return None
        client = ConsentGrantsClient.from_manifest(w3, root, service.client.sender)
        purposes = PurposeRegistryClient.from_manifest(w3, root)
        guardianship = None  # a manifest written before `carechain deploy` deployed the factory has none
        if FACTORY in recorded:
            guardianship = GuardianshipFactoryClient.from_manifest(w3, root)
    # The code its implementation must hold: the build's (an install with only abi/ has none to check with,
    # and then takes no contract key).
    built = root / "build" / "contracts" / f"{ACCOUNT}.json"
    account = load_artifact(root, ACCOUNT) if built.is_file() else None
    return SubjectActRelay(
        Store(service.store.url, subject_acts_table),
        client,
        service.limiter.rate,
        purposes,
        budget=Rate.parse(budget or os.environ.get(BUDGET_ENV) or DEFAULT_BUDGET),
        client_rate=Rate.parse(client_rate or os.environ.get(CLIENT_RATE_ENV) or DEFAULT_CLIENT_RATE),
        guardianship=guardianship,
        account=account,
    )


def act_request(fields: Any) -> SubjectAct:
    """A subject act from its JSON object; BadRequest names what is wrong."""
    with bad_request():
        return SubjectAct.from_json(fields)


class SubjectActRelay(Relay):
    """One relayer of ConsentGrants' subject acts: its key (the client's Sender pays), a store (the
    `subject_acts_table`), a rate per subject commitment, a `budget` of acts across all of them, a
    `client_rate` per client IP address, the contract's PurposeRegistry (`purposes`), in which a grant's
    purpose must be registered, and the GuardianshipFactory whose clones may be contract keys
    (`open_subject_acts`: the manifest's; none: no contract key is taken) with the `account` artifact its
    implementation's runtime code must match (none: it cannot be checked, and no contract key is taken)."""

    client: ConsentGrantsClient

    def __init__(
        self,
        store: Store,
        client: ConsentGrantsClient,
        rate: Rate,
        purposes: PurposeRegistryClient | None = None,
        clock: Callable[[], float] = time.monotonic,
        *,
        budget: Rate | None = None,
        client_rate: Rate | None = None,
        guardianship: GuardianshipFactoryClient | None = None,
        account: Artifact | None = None,
    ) -> None:
        super().__init__(store, client, rate, clock)
        implementation = code = None
        with chain_reached():
            registry = client.purpose_registry()
            if guardianship is not None:
                implementation = guardianship.implementation()
                code = bytes(client.w3.eth.get_code(checksum(implementation, "implementation")))
        if registry is not None and (purposes is None or purposes.address != registry):
            raise InputError(f"ConsentGrants checks purposes in PurposeRegistry {registry}: give its client")
        self.purposes = purposes
        self.budget = TokenBucket(budget or Rate.parse(DEFAULT_BUDGET), clock, max_keys=1)
        self.clients = TokenBucket(client_rate or Rate.parse(DEFAULT_CLIENT_RATE), clock)
        self.clone_code: bytes | None = None  # what a contract key's code must be
        self.implementation: str | None = None  # the GuardianshipAccount implementation it is a clone of
        if implementation is None:
            self.no_contract_keys = (
                "the deployment records no GuardianshipFactory whose accounts it could trust (`carechain "
                "deploy` adds one)"
            )
        elif account is None:
            self.no_contract_keys = (
                f"it cannot check that {FACTORY} {guardianship and guardianship.address}'s implementation "
                f"{implementation} is {ACCOUNT} (no build/contracts/{ACCOUNT}.json: run `make compile`)"
            )
        elif not account.is_held_in(code or b""):
            self.no_contract_keys = (
                f"the implementation {implementation} of {FACTORY} {guardianship and guardianship.address} "
                f"does not hold {ACCOUNT}'s code (was the manifest edited?)"
            )
        else:
            self.no_contract_keys = ""
            self.clone_code = clone_code(implementation)
            self.implementation = checksum(implementation, "implementation")

    def info(self) -> dict[str, Any]:
        """What a patient's page signs a subject act with (types without EIP712Domain)."""
        return {
            "chainId": self.chain_id,
            "consentGrants": self.client.address,
            "relayer": self.relayer,
            "domain": self.domain.as_dict(),
            "domainType": eip712.DOMAIN_TYPE,
            "types": dict(grants.TYPES),
            "rate": {"requests": self.limiter.rate.count, "periodSeconds": self.limiter.rate.period},
            "contractKeys": self.clone_code is not None,
        }

    def nonce(self, subject_commit: str, client: str | None = None) -> dict[str, Any]:
        """The nonce a subject commitment's next signed act carries."""
        with bad_request():
            commitment = bytes32(subject_commit, "subject commitment")
        self._admit(client)
        with chain_reached():
            return {"subjectCommit": "0x" + commitment.hex(), "nonce": self.client.nonce(commitment)}

    def submit(self, act: SubjectAct, client: str | None = None) -> tuple[Submission, bool]:
        """Check and send a subject act from `client` (its IP address; None: not over HTTP); the submission
        and whether it is new (False: seen before)."""
        self._admit(client)
        digest = act.digest(self.domain)
        known = self.store.get(digest)
        if known is not None:
            known = self._follow(known)
            if known.status != FAILED:  # a failed act may be sent again, checked as a new one
                return known, False
        with chain_reached():
            subject = act.target if act.kind in ("Grant", "BurnNonce") else self.client.subject_of(act.target)
            if subject == bytes(32):
                raise Refused(f"there is no grant 0x{act.target.hex()} to withdraw.", "UnknownGrant")
            opened = acts.opens(subject, digest, act.subject_sig)
            if opened is False:
                raise BadSignature(
                    f"the subjectSig does not open subject commitment 0x{subject.hex()}: another key or "
                    "salt signed, or over other values."
                )
            if opened is None:
                self._check_contract_key(act)
            chain_nonce = self.client.nonce(subject)
        signer = "0x" + subject.hex()
        if act.nonce < chain_nonce:
            raise Replayed(
                f"nonce {act.nonce} of {signer} was used on chain already (the next is "
                f"{chain_nonce}): sign again."
            )
        if act.nonce > chain_nonce:
            raise BadRequest(f"nonce {act.nonce} of {signer} is ahead of the chain's ({chain_nonce}).")
        if act.grant is not None and self.purposes is not None:
            code = act.grant.policy.purpose_code
            with chain_reached():
                registered = self.purposes.is_registered(code)
            if not registered:
                raise Refused(f"purpose code {code} is not registered.", "PurposeNotRegistered")
        if act.kind == "RevokeScopeLeaf":
            self._check_leaf(act)
        return self._claim_and_send(
            digest,
            act.kind,
            signer,
            act.nonce,
            act.to_json(),
            self.client.act_call(act),
            lambda: self._check_holder(signer, act.nonce),
            GAS[act.kind],
        )

    def _admit(self, client: str | None) -> None:
        """Refuse, before any node read, a client out of tokens or any request once the budget is spent."""
        if client is not None:
            wait = self.clients.take(client)
            if wait:
                retry_after = max(1, int(wait + 0.999))
                raise RateLimited(
                    f"this client has made the {self.clients.rate.count} requests the relayer answers per "
                    f"{self.clients.rate.period}s: retry in {retry_after}s.",
                    retry_after,
                )
        wait = self.budget.wait(_ANYONE)
        if wait:
            self._spent(wait)

    def _take_budget(self) -> None:
        wait = self.budget.take(_ANYONE)
        if wait:
            self._spent(wait)

    def _spent(self, wait: float) -> None:
        retry_after = max(1, int(wait + 0.999))
        raise RateLimited(
            f"the relayer has paid for the {self.budget.rate.count} subject acts of its budget per "
            f"{self.budget.rate.period}s: retry in {retry_after}s.",
            retry_after,
        )

    def _check_contract_key(self, act: SubjectAct) -> None:
        """A contract key is taken only when it is a GuardianshipFactory clone: any other contract could burn
        the relayer's gas in isValidSignature, or answer an eth_call otherwise than the transaction."""
        if self.clone_code is None:
            raise Refused(
                f"this relayer takes no contract (ERC-1271) subject keys: {self.no_contract_keys}.",
                "ContractKeyRefused",
            )
        key = checksum("0x" + acts.split_subject_sig(act.subject_sig)[1][:20].hex())
        if bytes(self.client.w3.eth.get_code(key)) != self.clone_code:
            raise Refused(
                f"contract key {key} is not an account of GuardianshipFactory: its code is not an EIP-1167 "
                f"clone of the trusted GuardianshipAccount implementation {self.implementation}, and this "
                "relayer takes no other contract keys.",
                "ContractKeyRefused",
            )

    def _check_leaf(self, act: SubjectAct) -> None:
        """A category withdrawn is of a live grant and not withdrawn yet: else the act would do nothing."""
        with chain_reached():
            status = self.client.effective_status(act.target)
            withdrawn = self.client.is_leaf_withdrawn(act.target, act.leaf)
        if status not in (Status.ACTIVE, Status.SUSPENDED):
            raise Refused(
                f"grant 0x{act.target.hex()} is {status.name}: withdrawing a category would do nothing.",
                "GrantNotLive",
            )
        if withdrawn:
            raise Refused(
                f"leaf 0x{act.leaf.hex()} of grant 0x{act.target.hex()} is withdrawn already.",
                "LeafWithdrawn",
            )

    def _function(self, submission: Submission) -> ContractFunction:
        return self.client.act_call(SubjectAct.from_json(submission.request))

    def _check_holder(self, signer: str, nonce: int) -> None:
        self._holder_free(signer, nonce, "act")
