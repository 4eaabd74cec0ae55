"""CredentialRegistry on web3.py: registrars attest, suspend, reinstate and revoke credentials."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from eth_utils.crypto import keccak

from carechain.clients.base import ContractClient, bytes32, checksum
from carechain.core.sender import TxResult
from carechain.errors import InputError

ROLE_NAMES = ("PROVIDER", "RESEARCHER", "IRB", "EMERGENCY", "REVIEWER", "CUSTODIAN")
ROLES: dict[str, bytes] = {name: keccak(text=f"carechain.credential.{name}") for name in ROLE_NAMES}
REGISTRAR_ROLE = keccak(text="carechain.REGISTRAR")


def role_id(name: str) -> bytes:
    """A credential role by name (case-insensitive), or one clear InputError."""
    role = ROLES.get(name.strip().upper())
    if role is None:
        raise InputError(f"unknown credential role {name!r}: one of {', '.join(ROLE_NAMES)}")
    return role


def license_hash(license_text: str, salt: bytes) -> bytes:
    """The salted hash of a licence number: the licence itself never goes on chain."""
    if len(salt) < 16:
        raise InputError("a licence salt must be at least 16 random bytes")
    return keccak(salt + license_text.encode())


class Status(IntEnum):
    """ICredentialRegistry.Status: a revocation keeps a suspension until `reinstate` lifts it."""

    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    REVOKED = 3
    REVOKED_WHILE_SUSPENDED = 4


@dataclass(frozen=True)
class Credential:
    license_hash: bytes
    valid_from: int
    valid_until: int
    status: Status


class CredentialClient(ContractClient):
    """A CredentialRegistry deployment."""

    name = "CredentialRegistry"

    def add_registrar(self, account: str) -> TxResult:
        """The admin appoints a registrar."""
        return self._send("grantRole", REGISTRAR_ROLE, checksum(account, "registrar"))

    def remove_registrar(self, account: str) -> TxResult:
        return self._send("revokeRole", REGISTRAR_ROLE, checksum(account, "registrar"))

    def default_admin(self) -> str:
        """Who appoints registrars: on a public chain, the timelock (docs/governance.md)."""
        return str(self._call("defaultAdmin"))

    def is_registrar(self, account: str) -> bool:
        return bool(self._call("hasRole", REGISTRAR_ROLE, checksum(account, "registrar")))

    def attest(
        self, account: str, role: str, license_hash: bytes, valid_from: int = 0, valid_until: int = 0
    ) -> TxResult:
        return self._send(
            "attest",
            checksum(account, "account"),
            role_id(role),
            bytes32(license_hash, "licence hash"),
            valid_from,
            valid_until,
        )

    def suspend(self, account: str, role: str) -> TxResult:
        return self._send("suspend", checksum(account, "account"), role_id(role))

    def reinstate(self, account: str, role: str) -> TxResult:
        return self._send("reinstate", checksum(account, "account"), role_id(role))

    def revoke(self, account: str, role: str) -> TxResult:
        return self._send("revoke", checksum(account, "account"), role_id(role))

    def has_credential(self, account: str, role: str) -> bool:
        return bool(self._call("hasCredential", checksum(account, "account"), role_id(role)))

    def get_credential(self, account: str, role: str) -> Credential:
        license, valid_from, valid_until, status = self._call(
            "getCredential", checksum(account, "account"), role_id(role)
        )
        return Credential(bytes(license), valid_from, valid_until, Status(status))
