"""Per-chain deployment manifests, idempotent deploys, and the ABI files frontends load.

`deployments/<chainId>.json` records, per contract, its address, deploy transaction and block, the
hashes of its ABI and creation code, and the compiler settings. A deploy run reuses every contract
whose code is still at its recorded address and was built from the same creation code; it
deploys only what is missing or changed, and records a transaction before waiting for it, so an
interrupted run picks up where it stopped. No key or secret ever goes into a manifest.

Who appoints the CredentialRegistry's registrars is the deploy's `Governance` (finding A.6): on a public
chain a CareChainTimelock, whose proposer and executor is the operator's multisig, is the registry's
default admin, so an appointment waits the timelock's delay in public; the deployer keeps no role. A
public chain refuses a deploy that would leave the deployer as admin unless told so explicitly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from weakref import WeakKeyDictionary

from eth_abi.abi import decode as abi_decode
from eth_typing import HexStr
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from pydantic import BaseModel, ConfigDict
from web3 import JSONBaseProvider, Web3
from web3.exceptions import TransactionNotFound, Web3Exception

from carechain.core import eip712, profiles, purposes
from carechain.core.batching import planner
from carechain.core.files import checked, parse_json, read_text, validated
from carechain.core.reverts import abi_type, encode_call
from carechain.core.sender import Sender
from carechain.core.transport import LOCAL_CHAIN_IDS
from carechain.core.values import checksum, uint
from carechain.errors import DeploymentError, InputError, TransactionFailed

FACTORY = "GuardianshipFactory"  # whose GuardianshipAccount clones the relayer takes as subject keys
ACCOUNT = "GuardianshipAccount"  # the contract of its implementation, which its clones delegate to
# Deployables in deploy order, each with the deployables its constructor takes (by address).
DEPENDENCIES: dict[str, tuple[str, ...]] = {
    "ConsentRegistry": (),
    "CredentialRegistry": (),
    "RecordRegistry": ("CredentialRegistry",),
    "AccessGrants": ("ConsentRegistry", "CredentialRegistry", "RecordRegistry"),
    "PurposeRegistry": (),
    "ConsentGrants": ("PurposeRegistry",),
    "TrialRegistry": ("ConsentRegistry", "CredentialRegistry", "ConsentGrants"),
    # Its constructor deploys the GuardianshipAccount its accounts (relayed contract keys) are clones of.
    FACTORY: (),
}
CONTRACTS: tuple[str, ...] = tuple(DEPENDENCIES)
# The public getter through which a dependent contract names each dependency (its immutable).
GETTERS: dict[str, str] = {
    "ConsentRegistry": "consents",
    "CredentialRegistry": "credentials",
    "RecordRegistry": "records",
    "PurposeRegistry": "purposeRegistry",
    "ConsentGrants": "consentGrants",
}
TIMELOCK = "CareChainTimelock"  # deployed before CredentialRegistry when a multisig governs it
CHECKED_CONTRACTS: tuple[str, ...] = (*CONTRACTS, TIMELOCK)  # what Manifest.check_code checks
# What a deployable's clients need the ABI of beyond its own: GuardianshipFactory's accounts (the guardian's
# acts, and the errors a clone's set-up reverts with), which no manifest records one by one.
CLONES: dict[str, tuple[str, ...]] = {FACTORY: (ACCOUNT,)}
# The contracts the indexer reads events of: all but GuardianshipFactory, whose only event names a grant's
# subject key (a guardianship account) and says nothing an audit or a grant's state needs; an index made
# before the deploy recorded the factory keeps its contract addresses.
INDEXED: tuple[str, ...] = tuple(name for name in CONTRACTS if name != FACTORY)
# What abi/ holds for frontends: the deployables, their clones and the timelock.
ABI_EXPORTS: tuple[str, ...] = (*CONTRACTS, *(c for n in CONTRACTS for c in CLONES.get(n, ())), TIMELOCK)
# ConsentGrants' role for the programmes that terminate their own grants (TrialRegistry).
ISSUER_ROLE = keccak(text="carechain.ISSUER")
DEFAULT_ADMIN_ROLE = bytes(32)
PURPOSE_GAS = 75_000  # PurposeRegistry.register, an entry: three fresh words and an event
GRANT_SETUP = ("PurposeRegistry", "ConsentGrants", "TrialRegistry")
LIVE_ADMIN_DELAY = 2 * 24 * 3600  # two days to notice and cancel a hostile admin transfer on a public chain
TIMELOCK_DELAY = 2 * 24 * 3600  # two days to see a registrar appointment coming and cancel it

Log = Callable[[str], None]


def _quiet(_: str) -> None:
    """Default log: say nothing."""


@dataclass(frozen=True)
class Artifact:
    """A compiled contract as brownie writes it to build/contracts/<Name>.json."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    compiler: dict[str, Any]
    deployed_bytecode: str = ""

    def is_held_in(self, code: bytes) -> bool:
        """Whether runtime `code` is this contract's, whatever its constructor was given."""
        return _runtime(self.deployed_bytecode).matches(code)

    @property
    def abi_hash(self) -> str:
        return "0x" + keccak(text=json.dumps(self.abi, sort_keys=True, separators=(",", ":"))).hex()

    @property
    def bytecode_hash(self) -> str:
        return "0x" + keccak(hexstr=self.bytecode).hex()


def load_artifact(root: Path, name: str) -> Artifact:
    """The build artifact of `name`; one clear error if the project was not compiled."""
    path = root / "build" / "contracts" / f"{name}.json"
    if not path.is_file():
        raise DeploymentError(f"no build artifact for {name} at {path}: run `make compile` first")
    return _artifact(path, name, path.stat().st_mtime_ns)


@cache
def _artifact(path: Path, name: str, mtime_ns: int) -> Artifact:
    """An artifact as parsed once per process and version of its file (a few MB of JSON: the manifest
    check reads every contract's on each client a process builds)."""
    data = json.loads(path.read_text())
    return Artifact(name, data["abi"], data["bytecode"], data["compiler"], data.get("deployedBytecode", ""))


def abi_path(root: Path, name: str) -> Path:
    return root / "abi" / f"{name}.json"


def load_abi(root: Path, name: str) -> list[dict[str, Any]]:
    """A contract's ABI: from abi/ (committed for frontends), else from the build artifact."""
    path = abi_path(root, name)
    if path.is_file():
        abi: list[dict[str, Any]] = json.loads(path.read_text())
        return abi
    return load_artifact(root, name).abi


def export_abis(root: Path, names: tuple[str, ...] = ABI_EXPORTS) -> list[Path]:
    """Write abi/<Name>.json, abi/eip712.json and abi/purposes.json for dApp frontends."""
    folder = root / "abi"
    folder.mkdir(exist_ok=True)
    written = []
    for name in names:
        written.append(_write_json(abi_path(root, name), load_artifact(root, name).abi))
    written.append(_write_json(folder / "eip712.json", eip712.export_types()))
    written.append(_write_json(folder / "purposes.json", purposes.export_table()))
    return written


def _write_json(path: Path, data: Any) -> Path:
    """Write atomically, so an interrupted run never leaves half a file."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)
    return path


class Manifest:
    """deployments/<chainId>.json: what is deployed where on one chain."""

    def __init__(self, path: Path, chain_id: int, data: dict[str, Any] | None = None) -> None:
        self.path = path
        self.chain_id = chain_id
        self.data: dict[str, Any] = data or {"chainId": chain_id, "contracts": {}}

    @classmethod
    def load(cls, root: Path, chain_id: int) -> Manifest:
        path = root / "deployments" / f"{chain_id}.json"
        if not path.is_file():
            return cls(path, chain_id)
        try:
            data = parse_json(read_text(path, "deployment manifest"), str(path))
            validated(_ManifestFile, data, str(path))
        except InputError as err:
            raise DeploymentError(f"{err}; fix or delete it to redeploy") from None
        if data.get("chainId") != chain_id:
            raise DeploymentError(f"{path} is for chain {data.get('chainId')}, not {chain_id}")
        return cls(path, chain_id, data)

    @property
    def contracts(self) -> dict[str, dict[str, Any]]:
        contracts: dict[str, dict[str, Any]] = self.data["contracts"]
        return contracts

    def address(self, name: str) -> str:
        entry = self.contracts.get(name)
        if not entry or "address" not in entry:
            raise DeploymentError(
                f"{name} is not deployed on chain {self.chain_id} ({self.path}): run `carechain deploy`"
            )
        return str(entry["address"])

    def save(self) -> None:
        self.path.parent.mkdir(exist_ok=True)
        _write_json(self.path, self.data)

    def check_code(self, w3: Web3, root: Path) -> None:
        """Each recorded address holds the contract the manifest says (its code, immutables and compiler
        metadata aside), so a hand-edited or swapped address is one DeploymentError, not a call to the
        wrong contract; and each contract was built against the addresses the manifest records for its
        dependencies (the immutables left out of the code's comparison: `credentials()`, `consents()`,
        `records()`; CredentialRegistry's `defaultAdmin()` when a timelock administers it). One batched
        JSON-RPC request for all of it; what passed is not asked again in this process. Without build/
        (an install with only abi/) only the code's presence is checked, and the wiring."""
        expected = {
            name: str(entry["address"])
            for name, entry in self.contracts.items()
            if name in CHECKED_CONTRACTS and "address" in entry
        }
        done = _CHECKED.setdefault(w3.provider, set())
        folder = str(root.resolve())
        wired = {name: (address, self._wiring(name, expected)) for name, address in expected.items()}
        pending = {
            name: (address, wiring)
            for name, (address, wiring) in wired.items()
            if (folder, self.chain_id, name, address, wiring) not in done
        }
        if not pending:
            return
        calls = [
            (name, address, getter, dependency, want)
            for name, (address, wiring) in pending.items()
            for getter, dependency, want in wiring
        ]
        answers = _answers(
            w3,
            [("eth_getCode", [address, "latest"]) for address, _ in pending.values()]
            + [
                (
                    "eth_call",
                    [{"to": address, "data": _hex(encode_call(load_abi(root, name), getter))}, "latest"],
                )
                for name, address, getter, _, _ in calls
            ],
        )
        for (name, (address, _)), code in zip(pending.items(), answers, strict=False):
            self._check_held(root, name, address, code or b"", expected)
        for (name, address, getter, dependency, want), raw in zip(
            calls, answers[len(pending) :], strict=True
        ):
            held = _address_in(raw)
            if held != to_checksum_address(want):
                raise DeploymentError(
                    f"{self.path}: {name} at {address} has {getter}() = {held or 'nothing readable'}, "
                    f"not the {dependency} {want} the manifest records — was the manifest edited?"
                )
        for name, (address, wiring) in pending.items():
            done.add((folder, self.chain_id, name, address, wiring))

    def _wiring(self, name: str, expected: dict[str, str]) -> tuple[tuple[str, str, str], ...]:
        """(getter, dependency, its recorded address) for each contract `name` was built against."""
        wiring = []
        for dependency in DEPENDENCIES.get(name, ()):
            if dependency not in expected:
                raise DeploymentError(
                    f"{self.path}: {name} depends on {dependency}, which the manifest does not record: "
                    "run `carechain deploy`"
                )
            wiring.append((GETTERS[dependency], dependency, expected[dependency]))
        timelock = self.contracts.get(name, {}).get("dependsOn", {}).get(TIMELOCK)
        if name == "CredentialRegistry" and timelock:
            if TIMELOCK not in expected:
                raise DeploymentError(
                    f"{self.path}: CredentialRegistry is administered by a {TIMELOCK} the manifest does not "
                    "record: run `carechain deploy`"
                )
            wiring.append(("defaultAdmin", TIMELOCK, expected[TIMELOCK]))
        return tuple(wiring)

    def _check_held(self, root: Path, name: str, address: str, code: bytes, expected: dict[str, str]) -> None:
        if not code:
            raise DeploymentError(
                f"{self.path}: {name} at {address} holds no code (was the chain reset? "
                "run `carechain deploy`)"
            )
        if not _holds(root, name, code):
            if self.contracts[name].get("bytecodeHash") != load_artifact(root, name).bytecode_hash:
                raise DeploymentError(
                    f"{self.path}: {name} at {address} was deployed from other code than build/ "
                    "holds now: run `carechain deploy`"
                )
            owner = next((other for other in expected if _holds(root, other, code)), None)
            found = f"it holds {owner}" if owner else "code differs"
            raise DeploymentError(
                f"{self.path}: {name} at {address} holds no {name} ({found}) — was the manifest edited?"
            )


class _ManifestEntry(BaseModel):
    model_config = ConfigDict(extra="allow")

    address: Annotated[str, checked(checksum)] | None = None
    block: Annotated[int, checked(uint)] | None = None


class _ManifestFile(BaseModel):
    model_config = ConfigDict(extra="allow", title="a deployment manifest")

    chainId: Annotated[int, checked(uint)]
    contracts: dict[str, _ManifestEntry]


# Per provider (held weakly, so a new provider at a reused id() starts afresh): (project root, chain,
# contract, address, wiring) whose code and wiring matched.
_CHECKED: WeakKeyDictionary[Any, set[tuple[str, int, str, str, tuple[tuple[str, str, str], ...]]]] = (
    WeakKeyDictionary()
)


def _holds(root: Path, name: str, code: bytes) -> bool:
    """Whether `code` is `name`'s; True without a build to compare with (an install with only abi/)."""
    if not (root / "build" / "contracts" / f"{name}.json").is_file():
        return True
    return load_artifact(root, name).is_held_in(code)


def _answers(w3: Web3, requests: list[tuple[str, list[Any]]]) -> list[bytes | None]:
    """Each eth_getCode's code or eth_call's return data, in one JSON-RPC batch where the provider takes
    batches; an answer the batch lacks is asked for alone. A call that reverts answers None."""
    batch: list[Any] = [None] * len(requests)
    provider = w3.provider
    if isinstance(provider, JSONBaseProvider) and len(requests) > 1:
        answers = provider.make_batch_request(requests)  # type: ignore[arg-type]
        if isinstance(answers, list) and len(answers) == len(requests):
            ordered = sorted(answers, key=lambda a: int(str(a.get("id", 0))))
            batch = [a.get("result") if "error" not in a else None for a in ordered]
    return [
        bytes.fromhex(answer.removeprefix("0x")) if isinstance(answer, str) else _answer(w3, method, params)
        for answer, (method, params) in zip(batch, requests, strict=True)
    ]


def _answer(w3: Web3, method: str, params: list[Any]) -> bytes | None:
    if method == "eth_getCode":
        return bytes(w3.eth.get_code(to_checksum_address(params[0])))
    try:
        return bytes(w3.eth.call({"to": to_checksum_address(params[0]["to"]), "data": params[0]["data"]}))
    except (Web3Exception, ValueError):
        return None


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


def _address_in(raw: bytes | None) -> str | None:
    """The address a getter returned, or None if it returned no address (reverted, or not a getter)."""
    if raw is None or len(raw) != 32 or any(raw[:12]):
        return None
    return to_checksum_address(raw[12:])


@dataclass(frozen=True)
class _Runtime:
    """A contract's runtime code as compiled: what every deployment of it holds, but for the values of
    its immutables (PUSH32 placeholders, zero here and the constructor's values on chain) and its CBOR
    metadata trailer (a changed comment changes it), which are left out of the comparison."""

    code: bytes
    placeholders: tuple[int, ...]

    def matches(self, code: bytes) -> bool:
        held = bytearray(_without_metadata(code))
        if len(held) != len(self.code):
            return False
        for start in self.placeholders:
            held[start : start + 32] = bytes(32)
        return keccak(bytes(held)) == keccak(self.code)


@cache
def _runtime(deployed_bytecode: str) -> _Runtime:
    code = _without_metadata(bytes.fromhex(deployed_bytecode.removeprefix("0x")))
    placeholders = []
    start = code.find(_PUSH32_ZERO)
    while start != -1:
        placeholders.append(start + 1)
        start = code.find(_PUSH32_ZERO, start + len(_PUSH32_ZERO))
    return _Runtime(code, tuple(placeholders))


def _without_metadata(code: bytes) -> bytes:
    """Runtime code without solc's CBOR metadata (its length is the last two bytes)."""
    size = int.from_bytes(code[-2:], "big") + 2 if len(code) > 2 else 0
    return code[:-size] if 2 < size <= len(code) else code


_PUSH32_ZERO = b"\x7f" + bytes(32)


@dataclass(frozen=True)
class Governance:
    """Who appoints the CredentialRegistry's registrars.

    With `multisig`, a CareChainTimelock administers the registry: the multisig is its only proposer,
    canceller and executor, each appointment or removal waits `timelock_delay` seconds, and the deployer
    keeps no role. Without, the deployer appoints at once: a public chain refuses that unless
    `deployer_admin` says it is meant (finding A.6).
    """

    multisig: str | None = None
    timelock_delay: int = TIMELOCK_DELAY
    deployer_admin: bool = False

    def check(self, chain_id: int, deployer: str, names: tuple[str, ...] = CONTRACTS) -> None:
        """Refuse, before anything is sent, a deploy that would let one key appoint registrars at once.
        A deploy of `names` without CredentialRegistry (TrialRegistry alone, say) appoints nobody: it leaves
        the registry and its admin as they are, so only contradictory settings are refused then."""
        if self.multisig is None:
            if "CredentialRegistry" in names and not (is_local_chain(chain_id) or self.deployer_admin):
                raise DeploymentError(
                    f"chain {chain_id} is not a local chain: the deployer {deployer} would appoint "
                    "registrars at once (finding A.6). Set CARECHAIN_ADMIN=<multisig address> (or --admin) "
                    "to put appointments behind a timelock (docs/governance.md), or "
                    "CARECHAIN_ALLOW_DEPLOYER_ADMIN=1 (or --deployer-admin) to keep the deployer as admin"
                )
            return
        if self.deployer_admin:
            raise DeploymentError(
                "--admin/CARECHAIN_ADMIN and --deployer-admin exclude each other: choose one"
            )
        if self.timelock_delay <= 0 and not is_local_chain(chain_id):
            raise DeploymentError(
                "a timelock delay of 0 s appoints registrars at once: give a delay (seconds)"
            )


def deploy(
    w3: Web3,
    sender: Sender,
    root: Path,
    names: tuple[str, ...] = CONTRACTS,
    log: Log = _quiet,
    admin: str | None = None,
    admin_delay: int | None = None,
    governance: Governance | None = None,
    replace_registry: bool = False,
    replace_factory: bool = False,
) -> Manifest:
    """Deploy what is missing or changed on this chain; reuse the rest. Safe to re-run.

    `governance` says who appoints registrars (default: the deployer, local chains only). Without a
    multisig, `admin` (default: the deployer) administers CredentialRegistry. Its admin transfers wait
    `admin_delay` seconds (default: none on a local chain, two days elsewhere). A live CredentialRegistry
    is not replaced to change who administers it (with or without a timelock) unless `replace_registry`.
    A live GuardianshipFactory whose code changed is not replaced unless `replace_factory`: the relayer
    trusts the clones of the recorded factory's implementation only, so its existing accounts would be
    stranded.
    """
    chain_id = w3.eth.chain_id
    governance = governance or Governance()
    governance.check(chain_id, sender.address, names)
    if governance.multisig and admin:
        raise DeploymentError("with a multisig, the timelock is CredentialRegistry's admin: give no admin")
    manifest = Manifest.load(root, chain_id)
    if admin_delay is None:
        admin_delay = 0 if is_local_chain(chain_id) else LIVE_ADMIN_DELAY
    timelocked = governance.multisig is not None and "CredentialRegistry" in names
    if "CredentialRegistry" in names and not replace_registry:
        _refuse_replacing_the_registry(w3, root, manifest, timelocked)
    if FACTORY in names and not replace_factory:
        _refuse_replacing_the_factory(w3, root, manifest)
    if timelocked:
        _warn_single_key(w3, chain_id, str(governance.multisig), log)
    for name in (TIMELOCK, *names) if timelocked else names:
        artifact = load_artifact(root, name)
        entry = manifest.contracts.get(name, {})
        depends_on = {dep: manifest.address(dep) for dep in _dependencies(name, timelocked)}
        if _resume_pending(w3, sender, manifest, name, entry, artifact, depends_on, log):
            if name == TIMELOCK:  # adopted from an earlier run that may have asked for another multisig
                _check_timelock(w3, manifest.address(TIMELOCK), artifact.abi, governance)
            continue
        reason = _why_redeploy(w3, entry, artifact, depends_on)
        if reason is None:
            if name == TIMELOCK:
                _check_timelock(w3, entry["address"], artifact.abi, governance)
            log(f"{name}: reusing {entry['address']} (deployed in block {entry['block']})")
            continue
        log(f"{name}: deploying ({reason})")
        args = _constructor_args(name, depends_on, admin or sender.address, admin_delay, governance, sender)
        tx_hash = sender.send(sender.constructor(artifact.abi, artifact.bytecode, *args), artifact.abi)
        manifest.contracts[name] = {
            "status": "pending",
            "txHash": "0x" + bytes(tx_hash).hex(),
            "bytecodeHash": artifact.bytecode_hash,
            "dependsOn": depends_on,
        }
        manifest.save()
        _record(manifest, name, artifact, sender, tx_hash, depends_on, log)
    if "CredentialRegistry" in names:
        _record_governance(w3, root, manifest, governance if timelocked else None)
    if any(name in names for name in GRANT_SETUP):
        handover = manifest.address(TIMELOCK) if timelocked else admin
        _set_up_grants(w3, sender, root, manifest, handover, log)
    exported = (*names, *(clone for name in names for clone in CLONES.get(name, ())))
    export_abis(root, (TIMELOCK, *exported) if timelocked else exported)
    return manifest


def _dependencies(name: str, timelocked: bool) -> tuple[str, ...]:
    """What `name`'s constructor takes by address: CredentialRegistry takes the timelock as its admin."""
    if name == "CredentialRegistry" and timelocked:
        return (TIMELOCK,)
    return DEPENDENCIES.get(name, ())


def _constructor_args(
    name: str,
    depends_on: dict[str, str],
    admin: str,
    admin_delay: int,
    governance: Governance,
    sender: Sender,
) -> list[Any]:
    if name == "PurposeRegistry":  # the deployer registers the codes, then hands over (_set_up_grants)
        return [sender.address]
    if name == "ConsentGrants":
        return [sender.address, depends_on["PurposeRegistry"]]
    if name == TIMELOCK:
        multisig = [to_checksum_address(str(governance.multisig))]
        return [governance.timelock_delay, multisig, multisig]
    if name == "CredentialRegistry":
        return [to_checksum_address(depends_on.get(TIMELOCK, admin)), admin_delay]
    return [depends_on[dep] for dep in DEPENDENCIES.get(name, ())]


def _set_up_grants(
    w3: Web3, sender: Sender, root: Path, manifest: Manifest, handover: str | None, log: Log
) -> None:
    """What the private-consent contracts need beyond their constructors, each step skipped when the chain
    shows it done (a re-run after an interruption carries on): PurposeRegistry holds CareChain's purpose
    codes (`profiles.registry_entries`, in batches under the network's gas cap); ConsentGrants holds the
    shipped template pairs (`profiles.shipped_pairs`) and TrialRegistry is its issuer; then, when `handover`
    is given (the timelock, or CARECHAIN_ADMIN), the deployer passes both admin roles to it and keeps none."""
    recorded = {name for name in GRANT_SETUP if "address" in manifest.contracts.get(name, {})}
    if "PurposeRegistry" in recorded:
        _register_purposes(w3, sender, root, manifest, log)
    if "ConsentGrants" in recorded:
        _set_up_consent_grants(w3, sender, root, manifest, log)
    if handover:
        for name in ("PurposeRegistry", "ConsentGrants"):
            if name in recorded:
                _hand_over(w3, sender, manifest.address(name), load_abi(root, name), checksum(handover), log)


def _register_purposes(w3: Web3, sender: Sender, root: Path, manifest: Manifest, log: Log) -> None:
    """Register the codes PurposeRegistry lacks. Deploys register `registry_entries()` in its order, a batch
    at a time and each batch whole, so the registered codes are a prefix of that list: found by bisection
    (a few calls), the rest registered in batches under the network's gas cap."""
    purposes = manifest.address("PurposeRegistry")
    purposes_abi = load_abi(root, "PurposeRegistry")
    entries = profiles.registry_entries()
    low, high = 0, len(entries)  # entries[:low] registered, entries[high:] not
    while low < high:
        middle = (low + high) // 2
        if _read(w3, purposes, purposes_abi, "isRegistered", entries[middle].code):
            low = middle + 1
        else:
            high = middle
    missing = entries[low:]
    if missing and not _is_admin(w3, purposes, purposes_abi, sender.address):
        log(
            f"warning: PurposeRegistry {purposes} lacks {len(missing)} purpose codes and its admin is not "
            "the deployer: its admin must register them (carechain.core.profiles.registry_entries)"
        )
        return
    for batch in planner(w3, sender.tx_gas_cap).batches(missing, PURPOSE_GAS):
        call = _contract(w3, purposes, purposes_abi).functions.register(*profiles.registration(batch))
        sender.transact(call, purposes_abi)
        log(f"PurposeRegistry: registered purpose codes {batch[0].code}..{batch[-1].code}")


def _set_up_consent_grants(w3: Web3, sender: Sender, root: Path, manifest: Manifest, log: Log) -> None:
    grants = manifest.address("ConsentGrants")
    grants_abi = load_abi(root, "ConsentGrants")
    contract = _contract(w3, grants, grants_abi)
    for profile, terms in profiles.shipped_pairs():
        if not _read(w3, grants, grants_abi, "refsIndex", profile, terms):
            sender.transact(contract.functions.internRefs(profile, terms), grants_abi)
            log(f"ConsentGrants: stored the template pair {'0x' + terms.hex()[:12]}...")
    trials = manifest.contracts.get("TrialRegistry", {}).get("address")
    if trials and not _read(w3, grants, grants_abi, "hasRole", ISSUER_ROLE, trials):
        if not _is_admin(w3, grants, grants_abi, sender.address):
            log(
                f"warning: ConsentGrants {grants} is administered by another account: it must grant "
                f"ISSUER_ROLE (0x{ISSUER_ROLE.hex()}) to TrialRegistry {trials} before trials close grants"
            )
            return
        sender.transact(contract.functions.grantRole(ISSUER_ROLE, to_checksum_address(trials)), grants_abi)
        log(f"ConsentGrants: TrialRegistry {trials} may close its trial grants (ISSUER_ROLE)")


def _is_admin(w3: Web3, address: str, abi: list[dict[str, Any]], account: str) -> bool:
    return bool(_read(w3, address, abi, "hasRole", DEFAULT_ADMIN_ROLE, account))


def _hand_over(w3: Web3, sender: Sender, address: str, abi: list[dict[str, Any]], to: str, log: Log) -> None:
    """Give `to` the default admin role of the AccessControl contract at `address`; the deployer renounces."""
    contract = _contract(w3, address, abi)
    if not _is_admin(w3, address, abi, sender.address):
        return  # handed over already (or never the deployer's)
    if not _is_admin(w3, address, abi, to):
        sender.transact(contract.functions.grantRole(DEFAULT_ADMIN_ROLE, to), abi)
    if to != sender.address:
        sender.transact(contract.functions.renounceRole(DEFAULT_ADMIN_ROLE, sender.address), abi)
        log(f"{address}: administered by {to}; the deployer keeps no role")


def _contract(w3: Web3, address: str, abi: list[dict[str, Any]]) -> Any:
    return w3.eth.contract(address=to_checksum_address(address), abi=abi)


def _refuse_replacing_the_registry(w3: Web3, root: Path, manifest: Manifest, timelocked: bool) -> None:
    """A live CredentialRegistry with another admin arrangement than asked for would be redeployed, and
    RecordRegistry, AccessGrants and TrialRegistry under it, their state abandoned: refuse that, before
    anything is sent, unless asked for explicitly (docs/governance.md)."""
    entry = manifest.contracts.get("CredentialRegistry", {})
    if (
        "address" not in entry
        or (TIMELOCK in entry.get("dependsOn", {})) == timelocked
        or entry.get("bytecodeHash") != load_artifact(root, "CredentialRegistry").bytecode_hash
        or not w3.eth.get_code(to_checksum_address(entry["address"]))
    ):
        return  # nothing live to keep, the same arrangement, or replaced anyway (new code, reset chain)
    address = entry["address"]
    admin = to_checksum_address(_read(w3, address, load_abi(root, "CredentialRegistry"), "defaultAdmin"))
    if timelocked:
        change = f"is administered by {admin}, not a timelock: deploying with CARECHAIN_ADMIN"
        keep = "move its default admin to a timelock (beginDefaultAdminTransfer, acceptDefaultAdminTransfer"
    else:
        change = f"is administered by the timelock {admin}: deploying without CARECHAIN_ADMIN"
        keep = "set CARECHAIN_ADMIN to the timelock's multisig (docs/governance.md"
    raise DeploymentError(
        f"CredentialRegistry at {address} in {manifest.path} {change} would replace it and RecordRegistry, "
        f"AccessGrants and TrialRegistry under it, abandoning their state. Instead {keep}; "
        f"docs/governance.md), or move {manifest.path.name} aside to deploy afresh; pass --replace-registry "
        "to replace them anyway"
    )


def _refuse_replacing_the_factory(w3: Web3, root: Path, manifest: Manifest) -> None:
    """A live GuardianshipFactory whose code changed (a comment changes its metadata) would be redeployed
    with a new GuardianshipAccount implementation; the relayer trusts the clones of the recorded factory's
    implementation only, so every existing account (a minor's, whose guardian must be able to revoke)
    would be refused from then on. Refuse that, before anything is sent, unless asked for explicitly."""
    entry = manifest.contracts.get(FACTORY, {})
    if (
        "address" not in entry
        or entry.get("bytecodeHash") == load_artifact(root, FACTORY).bytecode_hash
        or not w3.eth.get_code(to_checksum_address(entry["address"]))
    ):
        return  # nothing live, or the same code (reused)
    raise DeploymentError(
        f"{FACTORY} at {entry['address']} in {manifest.path} is live and its code changed: redeploying it "
        "would make the relayer refuse every GuardianshipAccount deployed through it (their guardians could "
        "no longer grant or revoke through the relayer). Keep the built contract as deployed, or pass "
        "--replace-factory to replace it anyway"
    )


def _warn_single_key(w3: Web3, chain_id: int, multisig: str, log: Log) -> None:
    """A multisig is a contract (a Safe): an address without code is one key, which a timelock only slows."""
    if not is_local_chain(chain_id) and not w3.eth.get_code(to_checksum_address(multisig)):
        log(f"warning: the admin {multisig} has no contract code on chain {chain_id}: a key, not a multisig?")


def _check_timelock(w3: Web3, address: str, abi: list[dict[str, Any]], governance: Governance) -> None:
    """A recorded timelock is reused only if it still has the asked-for multisig and delay: redeploying it
    would redeploy every contract under it, so a change is refused here and made through the timelock."""
    multisig = to_checksum_address(str(governance.multisig))
    delay = _read(w3, address, abi, "getMinDelay")
    if delay != governance.timelock_delay or not _has_roles(w3, address, abi, multisig):
        raise DeploymentError(
            f"the timelock {address} in the manifest has a min delay of {delay} s and may not have "
            f"{multisig} as proposer and executor; the deploy asks for {governance.timelock_delay} s and "
            f"{multisig}. Change the timelock through itself (docs/governance.md) or set CARECHAIN_ADMIN "
            "and CARECHAIN_TIMELOCK_DELAY to what it has"
        )


def _has_roles(w3: Web3, address: str, abi: list[dict[str, Any]], multisig: str) -> bool:
    """Whether the timelock at `address` has `multisig` as proposer and executor, as the chain says."""
    roles = (_read(w3, address, abi, "PROPOSER_ROLE"), _read(w3, address, abi, "EXECUTOR_ROLE"))
    return all(_read(w3, address, abi, "hasRole", role, multisig) for role in roles)


def _record_governance(w3: Web3, root: Path, manifest: Manifest, governance: Governance | None) -> None:
    """The manifest's `governance`: CredentialRegistry's admin as the chain says, and the timelock."""
    address = manifest.address("CredentialRegistry")
    abi = load_abi(root, "CredentialRegistry")
    record: dict[str, Any] = {
        "credentialAdmin": to_checksum_address(_read(w3, address, abi, "defaultAdmin")),
        "credentialAdminDelay": _read(w3, address, abi, "defaultAdminDelay"),
    }
    if governance is not None:
        timelock = manifest.address(TIMELOCK)
        timelock_abi = load_abi(root, TIMELOCK)
        multisig = to_checksum_address(str(governance.multisig))
        if not _has_roles(w3, timelock, timelock_abi, multisig):
            raise DeploymentError(
                f"the timelock {timelock} does not have {multisig} as proposer and executor: "
                "not recording it as the multisig (docs/governance.md)"
            )
        record.update(
            timelock=timelock,
            timelockDelay=_read(w3, timelock, timelock_abi, "getMinDelay"),
            multisig=multisig,
        )
    manifest.data["governance"] = record
    manifest.save()


def _resume_pending(
    w3: Web3,
    sender: Sender,
    manifest: Manifest,
    name: str,
    entry: dict[str, Any],
    artifact: Artifact,
    depends_on: dict[str, str],
    log: Log,
) -> bool:
    """A deploy an earlier run sent but did not see mined: adopt it if it landed, else forget it."""
    if (
        entry.get("status") != "pending"
        or entry.get("bytecodeHash") != artifact.bytecode_hash
        or entry.get("dependsOn", {}) != depends_on
    ):
        return False
    tx_hash = HexBytes(entry["txHash"])
    try:
        w3.eth.get_transaction(tx_hash)
    except TransactionNotFound:
        log(f"{name}: the earlier deploy {entry['txHash']} never reached this node; deploying again")
        return False
    try:
        _record(manifest, name, artifact, sender, tx_hash, depends_on, log)
    except TransactionFailed as err:
        log(f"{name}: the earlier deploy failed ({err}); deploying again")
        return False
    return True


def _record(
    manifest: Manifest,
    name: str,
    artifact: Artifact,
    sender: Sender,
    tx_hash: HexBytes,
    depends_on: dict[str, str],
    log: Log,
) -> None:
    result = sender.wait(tx_hash)
    if not result.contract_address:
        raise TransactionFailed(f"{name}: deploy transaction {result.tx_hash} created no contract")
    manifest.contracts[name] = {
        "address": to_checksum_address(result.contract_address),
        "txHash": result.tx_hash,
        "block": result.block_number,
        "gasUsed": result.gas_used,
        "deployer": sender.address,
        "abiHash": artifact.abi_hash,
        "bytecodeHash": artifact.bytecode_hash,
        "dependsOn": depends_on,
        "compiler": {
            "version": artifact.compiler.get("version"),
            "evmVersion": artifact.compiler.get("evm_version"),
            "optimizer": artifact.compiler.get("optimizer"),
        },
    }
    manifest.save()
    log(
        f"{name}: deployed at {result.contract_address} (tx {result.tx_hash}, block {result.block_number}, "
        f"{result.gas_used:,} gas)"
    )


def _why_redeploy(
    w3: Web3, entry: dict[str, Any], artifact: Artifact, depends_on: dict[str, str]
) -> str | None:
    """Why a recorded contract cannot be reused, or None if it can."""
    if "address" not in entry:
        return "not deployed on this chain yet"
    if not w3.eth.get_code(entry["address"]):
        return f"no code at the recorded {entry['address']}: the chain was reset"
    if entry.get("bytecodeHash") != artifact.bytecode_hash:
        return "the contract changed since it was deployed"
    if entry.get("dependsOn", {}) != depends_on:
        return "a contract it depends on was redeployed"
    return None


def _read(w3: Web3, address: str, abi: list[dict[str, Any]], function: str, *args: Any) -> Any:
    """One view call's single result: deploy reads the chain without a client (clients sit above core)."""
    entry = next(e for e in abi if e.get("type") == "function" and e.get("name") == function)
    data = "0x" + encode_call(abi, function, *args).hex()
    raw = w3.eth.call({"to": to_checksum_address(address), "data": HexStr(data)})
    return abi_decode([abi_type(output) for output in entry["outputs"]], raw)[0]


def is_local_chain(chain_id: int) -> bool:
    """Anvil and Ganache: manifests are git-ignored and dev keys are acceptable."""
    return chain_id in LOCAL_CHAIN_IDS
