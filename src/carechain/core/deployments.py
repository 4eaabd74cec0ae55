"""Per-chain deployment manifests, idempotent deploys, and the ABI files frontends load.

`deployments/<chainId>.json` records, per contract, its address, deploy transaction and block, the
hashes of its ABI and creation code, and the compiler settings. A deploy run reuses every contract
whose code is still at its recorded address and was built from the same creation code; it
deploys only what is missing or changed, and records a transaction before waiting for it, so an
interrupted run picks up where it stopped. No key or secret ever goes into a manifest.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TransactionNotFound

from carechain.core import eip712, purposes
from carechain.core.sender import Sender
from carechain.core.transport import LOCAL_CHAIN_IDS
from carechain.errors import DeploymentError, TransactionFailed

# Deployables in deploy order, each with the deployables its constructor takes (by address).
DEPENDENCIES: dict[str, tuple[str, ...]] = {
    "ConsentRegistry": (),
    "CredentialRegistry": (),
    "RecordRegistry": ("CredentialRegistry",),
    "AccessGrants": ("ConsentRegistry", "CredentialRegistry", "RecordRegistry"),
    "TrialRegistry": ("ConsentRegistry", "CredentialRegistry"),
}
CONTRACTS: tuple[str, ...] = tuple(DEPENDENCIES)
LIVE_ADMIN_DELAY = 2 * 24 * 3600  # two days to notice and cancel a hostile admin transfer on a public chain

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
    data = json.loads(path.read_text())
    return Artifact(name, data["abi"], data["bytecode"], data["compiler"])


def abi_path(root: Path, name: str) -> Path:
    return root / "abi" / f"{name}.json"


def load_abi(root: Path, name: str) -> list[dict[str, Any]]:
    """A contract's ABI: from abi/ (committed for frontends), else from the build artifact."""
    path = abi_path(root, name)
    if path.is_file():
        abi: list[dict[str, Any]] = json.loads(path.read_text())
        return abi
    return load_artifact(root, name).abi


def export_abis(root: Path, names: tuple[str, ...] = CONTRACTS) -> list[Path]:
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
            data = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise DeploymentError(f"{path} is not valid JSON ({err.msg}); delete it to redeploy") from err
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


def deploy(
    w3: Web3,
    sender: Sender,
    root: Path,
    names: tuple[str, ...] = CONTRACTS,
    log: Log = _quiet,
    admin: str | None = None,
    admin_delay: int | None = None,
) -> Manifest:
    """Deploy what is missing or changed on this chain; reuse the rest. Safe to re-run.

    `admin` (default: the deployer) administers CredentialRegistry, whose admin transfers wait
    `admin_delay` seconds (default: none on a local chain, two days elsewhere).
    """
    chain_id = w3.eth.chain_id
    manifest = Manifest.load(root, chain_id)
    if admin_delay is None:
        admin_delay = 0 if is_local_chain(chain_id) else LIVE_ADMIN_DELAY
    for name in names:
        artifact = load_artifact(root, name)
        entry = manifest.contracts.get(name, {})
        depends_on = {dep: manifest.address(dep) for dep in DEPENDENCIES.get(name, ())}
        if _resume_pending(w3, sender, manifest, name, entry, artifact, depends_on, log):
            continue
        reason = _why_redeploy(w3, entry, artifact, depends_on)
        if reason is None:
            log(f"{name}: reusing {entry['address']} (deployed in block {entry['block']})")
            continue
        log(f"{name}: deploying ({reason})")
        args = _constructor_args(name, depends_on, admin or sender.address, admin_delay)
        tx_hash = sender.send(sender.constructor(artifact.abi, artifact.bytecode, *args), artifact.abi)
        manifest.contracts[name] = {
            "status": "pending",
            "txHash": "0x" + bytes(tx_hash).hex(),
            "bytecodeHash": artifact.bytecode_hash,
            "dependsOn": depends_on,
        }
        manifest.save()
        _record(manifest, name, artifact, sender, tx_hash, depends_on, log)
    export_abis(root, names)
    return manifest


def _constructor_args(name: str, depends_on: dict[str, str], admin: str, admin_delay: int) -> list[Any]:
    if name == "CredentialRegistry":
        return [to_checksum_address(admin), admin_delay]
    return [depends_on[dep] for dep in DEPENDENCIES.get(name, ())]


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


def is_local_chain(chain_id: int) -> bool:
    """Anvil and Ganache: manifests are git-ignored and dev keys are acceptable."""
    return chain_id in LOCAL_CHAIN_IDS
