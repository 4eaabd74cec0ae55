"""PurposeRegistry on web3.py: the registered purpose codes ERC-8356 grants name, and their narrowing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from carechain.clients.base import ContractClient
from carechain.core import profiles
from carechain.core.batching import planner
from carechain.core.deployments import PURPOSE_GAS
from carechain.core.profiles import PurposeCode
from carechain.core.sender import TxResult
from carechain.core.values import uint
from carechain.errors import InputError


@dataclass(frozen=True)
class RegisteredPurpose:
    """IPurposeCodes.Purpose: what a code means on chain, for good (a zero term: not registered)."""

    code: int
    term: bytes  # keccak256 of the term's CURIE
    release: bytes  # keccak256 of the pinned ontology release
    narrows: int  # the code it narrows (0: none)

    @property
    def registered(self) -> bool:
        return self.term != bytes(32)


def _code(code: int) -> int:
    return uint(code, "purpose code", 32)


class PurposeRegistryClient(ContractClient):
    """A PurposeRegistry deployment; its admin registers, anyone reads."""

    name = "PurposeRegistry"

    def register(self, entries: Sequence[PurposeCode] | None = None) -> list[TxResult]:
        """As the admin: register `entries` (default: every CareChain code, `profiles.registry_entries`,
        parents first) in as few transactions as the network's gas cap allows; an entry's parent must be
        registered already or come earlier. A registered code is refused (PurposeAlreadyRegistered)."""
        todo = profiles.registry_entries() if entries is None else list(entries)
        if not todo:
            raise InputError("nothing to register: give at least one purpose code")
        cap = self.sender.tx_gas_cap if self.sender is not None else None
        return [
            self._send("register", *profiles.registration(batch))
            for batch in planner(self.w3, cap).batches(todo, PURPOSE_GAS)
        ]

    def is_registered(self, code: int) -> bool:
        return bool(self._call("isRegistered", _code(code)))

    def purpose_of(self, code: int) -> RegisteredPurpose:
        term, release, narrows = self._call("purposeOf", _code(code))
        return RegisteredPurpose(code, bytes(term), bytes(release), int(narrows))

    def is_narrowing(self, child_code: int, parent_code: int) -> bool:
        """Whether `child_code` narrows `parent_code`, directly or through registered steps (strict)."""
        return bool(self._call("isNarrowing", _code(child_code), _code(parent_code)))
