"""What the audit reports share: where the index stands, block times, names for purposes and scopes,
and the liveness of a credential or a break-glass episode, by the index and by the chain."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, cast

from web3 import Web3

from carechain.clients.access import AccessClient, Episode
from carechain.clients.base import bytes32
from carechain.clients.credentials import ROLES, CredentialClient
from carechain.core.purposes import ALL_SCOPES, purpose_by_id, scope_names, trial_purpose
from carechain.index.indexer import Indexer

ZERO32 = "0x" + "00" * 32


def to_hex(value: bytes) -> str:
    return "0x" + value.hex()


def scope_labels(mask: int) -> list[str]:
    """Scope names of a mask; bits this table does not know are shown as numbers, not refused."""
    known = mask & ALL_SCOPES
    names = scope_names(known) if known else []
    return names + [f"bit{bit}" for bit in range(64) if (mask & ~ALL_SCOPES) >> bit & 1]


class Serialisable:
    def to_dict(self) -> dict[str, Any]:
        return asdict(cast(Any, self))


@dataclass(frozen=True)
class Snapshot:
    """Where the answer stands: the index's last block against the chain's head and time."""

    chain_id: int
    indexed_block: int
    head: int
    time: int


def snapshot(indexer: Indexer) -> Snapshot:
    latest = indexer.w3.eth.get_block("latest")
    last = indexer.last_block()
    return Snapshot(
        indexer.chain_id, -1 if last is None else last, int(latest["number"]), int(latest["timestamp"])
    )


class Clock:
    """Block timestamps, each asked of the node once (the index keeps numbers, not times)."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self.cache: dict[int, int] = {}

    def __call__(self, block: int) -> int:
        if block not in self.cache:
            self.cache[block] = int(self.w3.eth.get_block(block)["timestamp"])
        return self.cache[block]


def purpose_label(purpose: str, trial_purposes: dict[str, str] | None = None) -> str:
    """HMB, TREAT ... for a known purpose; 'trial 3 v1' for a trial's; else the hex."""
    known = purpose_by_id(bytes32(purpose, "purpose"))
    if known is not None:
        return known.code
    return (trial_purposes or {}).get(purpose.lower(), purpose)


def trial_purposes(indexer: Indexer) -> dict[str, str]:
    """The opaque purpose of every protocol version of every indexed trial, named."""
    named: dict[str, str] = {}
    for row in indexer.events(contract="TrialRegistry"):
        if row["event"] == "TrialRegistered":
            version = 1
        elif row["event"] == "ProtocolAmended":
            version = int(row["args"]["version"])
        else:
            continue
        trial_id = int(row["trial_id"])
        named[to_hex(trial_purpose(trial_id, version))] = f"trial {trial_id} v{version}"
    return named


def credential_live(indexer: Indexer, account: str, role: str, now: int) -> bool:
    """hasCredential, from the index: attested and active (not suspended or revoked), within validity."""
    role_hex = to_hex(ROLES[role])
    state: dict[str, Any] | None = None
    for row in indexer.events(contract="CredentialRegistry", party=account):
        if str(row["args"].get("role", "")).lower() != role_hex:
            continue
        args = row["args"]
        if row["event"] == "CredentialAttested":
            state = {"active": True, "from": int(args["validFrom"]), "until": int(args["validUntil"])}
        elif state is not None and row["event"] in {"CredentialSuspended", "CredentialRevoked"}:
            state["active"] = False
        elif state is not None and row["event"] == "CredentialReinstated":
            state["active"] = True
    return (
        state is not None
        and bool(state["active"])
        and state["from"] <= now
        and (state["until"] == 0 or now < state["until"])
    )


@dataclass(frozen=True)
class EpisodeLiveness:
    """A break-glass episode's access by the index and by the chain, and the chain's episode."""

    index_live: bool
    chain_live: bool
    on_chain: Episode


def episode_liveness(
    indexer: Indexer,
    access: AccessClient,
    credentials: CredentialClient,
    episode_id: int,
    provider: str,
    expires: int,
    now: int,
) -> EpisodeLiveness:
    """Break-glass access lasts until the episode expires, and only for a live EMERGENCY credential."""
    index_live = now < expires and credential_live(indexer, provider, "EMERGENCY", now)
    on_chain = access.get_episode(episode_id)
    chain_live = now < on_chain.expires_at and credentials.has_credential(provider, "EMERGENCY")
    return EpisodeLiveness(index_live, chain_live, on_chain)
