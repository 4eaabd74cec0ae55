"""The relayer's side of ConsentGrants: take a patient's signed subject act, check it, pay its gas.

A subject act (`carechain.core.acts.SubjectAct`: a grant, a signed revocation, a withdrawn scope leaf, a
nonce burn) is sent only after, in this order: it is well formed; it is new (the same act again answers
with its first submission and sends nothing); its signature opens the subject commitment it acts for
(the key it recovers to, with the salt it carries, commits to it; a contract key's signature is left to
the contract, ERC-1271); its nonce is the commitment's current one and held by no other act here; a
grant's purpose is registered; an eth_call of it succeeds; and the commitment has a token left in its
bucket. Each act is one transaction of its own: two grants of one patient never share one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from web3.contract.contract import ContractFunction

from carechain.clients.grants import ConsentGrantsClient
from carechain.clients.purposes import PurposeRegistryClient
from carechain.core import acts, eip712, grants
from carechain.core.acts import SubjectAct
from carechain.core.deployments import Manifest
from carechain.core.values import bytes32
from carechain.errors import BadRequest, BadSignature, InputError, Refused, Replayed
from carechain.services.kernel import chain_reached
from carechain.services.relay.service import Rate, Relay, RelayService, bad_request
from carechain.services.relay.store import Store, Submission, subject_acts_table


def open_subject_acts(service: RelayService, root: Path) -> SubjectActRelay | None:
    """The subject-act relay beside `service` (`open_relay`'s): the same node, paying key, database and rate,
    on the deployment's ConsentGrants; None when the deployment has none."""
    w3 = service.client.w3
    with chain_reached():
        if "ConsentGrants" not in Manifest.load(root, int(w3.eth.chain_id)).contracts:
            return None
        client = ConsentGrantsClient.from_manifest(w3, root, service.client.sender)
        purposes = PurposeRegistryClient.from_manifest(w3, root)
    return SubjectActRelay(
        Store(service.store.url, subject_acts_table), client, service.limiter.rate, purposes
    )


def act_request(fields: Any) -> SubjectAct:
    """A subject act from its JSON object; BadRequest names what is wrong."""
    with bad_request():
        return SubjectAct.from_json(fields)


class SubjectActRelay(Relay):
    """One relayer of ConsentGrants' subject acts: its key (the client's Sender pays), a store (the
    `subject_acts_table`), a rate per subject commitment, and the contract's PurposeRegistry (`purposes`),
    in which a grant's purpose must be registered."""

    client: ConsentGrantsClient

    def __init__(
        self,
        store: Store,
        client: ConsentGrantsClient,
        rate: Rate,
        purposes: PurposeRegistryClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(store, client, rate, clock)
        with chain_reached():
            registry = client.purpose_registry()
        if registry is not None and (purposes is None or purposes.address != registry):
            raise InputError(f"ConsentGrants checks purposes in PurposeRegistry {registry}: give its client")
        self.purposes = purposes

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
        }

    def nonce(self, subject_commit: str) -> dict[str, Any]:
        """The nonce a subject commitment's next signed act carries."""
        with bad_request():
            commitment = bytes32(subject_commit, "subject commitment")
        with chain_reached():
            return {"subjectCommit": "0x" + commitment.hex(), "nonce": self.client.nonce(commitment)}

    def submit(self, act: SubjectAct) -> tuple[Submission, bool]:
        """Check and send a subject act; the submission and whether it is new (False: seen before)."""
        digest = act.digest(self.domain)
        known = self.store.get(digest)
        if known is not None:
            return self._follow(known), False
        with chain_reached():
            subject = act.target if act.kind in ("Grant", "BurnNonce") else self.client.subject_of(act.target)
            if subject == bytes(32):
                raise Refused(f"there is no grant 0x{act.target.hex()} to withdraw.", "UnknownGrant")
            chain_nonce = self.client.nonce(subject)
        if acts.opens(subject, digest, act.subject_sig) is False:
            raise BadSignature(
                f"the subjectSig does not open subject commitment 0x{subject.hex()}: another key or salt "
                "signed, or over other values."
            )
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
        return self._claim_and_send(
            digest,
            act.kind,
            signer,
            act.nonce,
            act.to_json(),
            self.client.act_call(act),
            lambda: self._check_holder(signer, act.nonce),
        )

    def _function(self, submission: Submission) -> ContractFunction:
        return self.client.act_call(SubjectAct.from_json(submission.request))

    def _check_holder(self, signer: str, nonce: int) -> None:
        holder = self.store.holder(signer, nonce)
        if holder is not None:
            raise Replayed(
                f"another signed act of {signer} holds nonce {nonce} here (submission "
                f"0x{holder.id.hex()}): once it is mined, sign again with the next nonce."
            )
