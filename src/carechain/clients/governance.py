"""CareChainTimelock on web3.py: the multisig schedules, waits and executes registrar appointments.

On a public chain the CredentialRegistry's default admin is a timelock (finding A.6): appointing or
removing a registrar is an operation the multisig schedules, which runs no sooner than the timelock's
min delay later. A Safe (or any multisig) submits the `schedule` and `execute` calls whose calldata
`Operation` gives; a key that is itself proposer and executor sends them directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

from web3 import Web3

from carechain.clients.base import ContractClient, bytes32, checksum
from carechain.clients.credentials import REGISTRAR_ROLE, CredentialClient
from carechain.core.deployments import TIMELOCK, Manifest
from carechain.core.sender import Sender, TxResult
from carechain.errors import DeploymentError

NO_PREDECESSOR = bytes(32)


class OperationState(IntEnum):
    """TimelockController.OperationState."""

    UNSET = 0
    WAITING = 1
    READY = 2
    DONE = 3


@dataclass(frozen=True)
class Operation:
    """One call the timelock makes (target, value, data) once scheduled, after its delay."""

    target: str
    data: bytes
    salt: bytes = bytes(32)
    predecessor: bytes = NO_PREDECESSOR
    value: int = 0

    def args(self) -> tuple[str, int, bytes, bytes, bytes]:
        return (self.target, self.value, self.data, self.predecessor, self.salt)


class TimelockClient(ContractClient):
    """A CareChainTimelock deployment: the CredentialRegistry's admin."""

    name = TIMELOCK

    @classmethod
    def from_manifest(cls, w3: Web3, root: Path, sender: Sender | None = None) -> TimelockClient:
        """The timelock of this chain's manifest; one clear error if registrars are appointed without one."""
        manifest = Manifest.load(root, w3.eth.chain_id)
        if "timelock" not in manifest.data.get("governance", {}):  # as the last deploy left it
            raise DeploymentError(
                f"chain {w3.eth.chain_id} has no timelock in {manifest.path}: its CredentialRegistry admin "
                "appoints registrars directly (`carechain credential add-registrar`); deploy with "
                "CARECHAIN_ADMIN=<multisig> for a timelock (docs/governance.md)"
            )
        client = super().from_manifest(w3, root, sender)
        client.errors = (
            client.abi + CredentialClient.from_manifest(w3, root).abi
        )  # a call's revert bubbles up
        return client

    @staticmethod
    def registrar_operation(
        registry: CredentialClient, appoint: bool, registrar: str, salt: bytes = bytes(32)
    ) -> Operation:
        """grantRole (appoint) or revokeRole(REGISTRAR_ROLE, registrar) on the CredentialRegistry."""
        function = "grantRole" if appoint else "revokeRole"
        data = registry.contract.encode_abi(function, [REGISTRAR_ROLE, checksum(registrar, "registrar")])
        return Operation(registry.address, Web3.to_bytes(hexstr=data), bytes32(salt, "salt"))

    def min_delay(self) -> int:
        return int(self._call("getMinDelay"))

    def operation_id(self, operation: Operation) -> bytes:
        return bytes(self._call("hashOperation", *operation.args()))

    def state(self, operation_id: bytes) -> OperationState:
        return OperationState(self._call("getOperationState", bytes32(operation_id, "operation id")))

    def ready_at(self, operation_id: bytes) -> int:
        """When a scheduled operation may run (1 once done, 0 if never scheduled or cancelled)."""
        return int(self._call("getTimestamp", bytes32(operation_id, "operation id")))

    def schedule_calldata(self, operation: Operation, delay: int) -> bytes:
        return Web3.to_bytes(hexstr=self.contract.encode_abi("schedule", [*operation.args(), delay]))

    def execute_calldata(self, operation: Operation) -> bytes:
        return Web3.to_bytes(hexstr=self.contract.encode_abi("execute", list(operation.args())))

    def cancel_calldata(self, operation_id: bytes) -> bytes:
        return Web3.to_bytes(
            hexstr=self.contract.encode_abi("cancel", [bytes32(operation_id, "operation id")])
        )

    def schedule(self, operation: Operation, delay: int) -> TxResult:
        return self._send("schedule", *operation.args(), delay)

    def execute(self, operation: Operation) -> TxResult:
        return self._send("execute", *operation.args())

    def cancel(self, operation_id: bytes) -> TxResult:
        return self._send("cancel", bytes32(operation_id, "operation id"))
