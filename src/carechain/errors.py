"""One root exception for everything CareChain raises, and typed exceptions for contract reverts."""

from __future__ import annotations

from typing import Any, ClassVar


class CareChainError(Exception):
    """Root of every error the carechain library raises on purpose."""


class ToolchainError(CareChainError):
    """The Solidity compiler or the Node.js tools the project needs are missing."""


class ConfigError(CareChainError):
    """Bad or missing configuration: RPC URL, key, keystore, network."""


class DeploymentError(CareChainError):
    """A manifest or a build artifact is missing, stale or inconsistent."""


class InputError(CareChainError):
    """A value given by a user (address, purpose code, scope name, time) is not valid."""


class ContractError(CareChainError):
    """A contract call reverted; `name` and `arguments` come from the decoded custom error."""

    error_name: ClassVar[str] = ""

    def __init__(self, name: str, arguments: dict[str, Any], message: str | None = None) -> None:
        self.name = name
        self.arguments = arguments
        shown = ", ".join(f"{key}={_show(value)}" for key, value in arguments.items())
        super().__init__(message or f"{name}({shown})")


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


class ConsentError(ContractError):
    """A ConsentRegistry custom error."""


def _consent_error(name: str, doc: str) -> type[ConsentError]:
    return type(name, (ConsentError,), {"__doc__": doc, "error_name": name})


# One exception class per custom error of IConsentRegistry (and of OpenZeppelin's Nonces it inherits).
InvalidGrantee = _consent_error("InvalidGrantee", "The grantee is the zero address.")
InvalidPatient = _consent_error("InvalidPatient", "The patient is the zero address.")
InvalidDelegate = _consent_error("InvalidDelegate", "The delegate is the zero address or the patient.")
EmptyScopes = _consent_error("EmptyScopes", "A consent must cover at least one data scope.")
InvalidExpiry = _consent_error("InvalidExpiry", "An expiry must lie in the future (or be 0: never).")
ConsentAlreadyActive = _consent_error("ConsentAlreadyActive", "A live consent exists; use update.")
ConsentNotActive = _consent_error("ConsentNotActive", "No live consent to update.")
ConsentNotRevocable = _consent_error("ConsentNotRevocable", "Never granted, or already revoked.")
NotPatientOrDelegate = _consent_error("NotPatientOrDelegate", "Caller is not the patient or a live delegate.")
DelegateNotFound = _consent_error("DelegateNotFound", "The patient has no such delegate.")
SignatureExpired = _consent_error("SignatureExpired", "The signed request's deadline has passed.")
InvalidSignature = _consent_error("InvalidSignature", "The signature is not the patient's for this request.")
EmptyBatch = _consent_error("EmptyBatch", "A batch must hold at least one item.")
InvalidAccountNonce = _consent_error(
    "InvalidAccountNonce", "The nonce was used already (a replay) or is ahead of the patient's."
)

ERROR_CLASSES: dict[str, type[ContractError]] = {
    cls.error_name: cls
    for cls in (
        InvalidGrantee,
        InvalidPatient,
        InvalidDelegate,
        EmptyScopes,
        InvalidExpiry,
        ConsentAlreadyActive,
        ConsentNotActive,
        ConsentNotRevocable,
        NotPatientOrDelegate,
        DelegateNotFound,
        SignatureExpired,
        InvalidSignature,
        EmptyBatch,
        InvalidAccountNonce,
    )
}
