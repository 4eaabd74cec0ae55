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


class ChainUnavailable(ConfigError):
    """The node at the RPC URL does not answer."""


class TransactionFailed(CareChainError):
    """A transaction was mined but reverted, or was not mined in time."""


class OutOfGas(TransactionFailed):
    """A simulated call ran out of the gas limit it was given."""


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


def _contract_error(name: str, doc: str) -> type[ContractError]:
    return type(name, (ContractError,), {"__doc__": doc, "error_name": name})


# One exception class per custom error name of CareChain's contracts (and of the OpenZeppelin parts
# they inherit). A name means the same thing in every contract that declares it.
_ERRORS: dict[str, str] = {
    # ConsentRegistry
    "InvalidGrantee": "The grantee is the zero address.",
    "InvalidPatient": "The patient is the zero address (or, for break-glass, the provider themself).",
    "InvalidDelegate": "The delegate is the zero address or the patient.",
    "EmptyScopes": "A consent must cover at least one data scope.",
    "InvalidExpiry": "An expiry must lie in the future.",
    "ConsentAlreadyActive": "A live consent exists; use update.",
    "ConsentNotActive": "No live consent to update.",
    "ConsentNotRevocable": "Never granted, or already revoked.",
    "NotPatientOrDelegate": "The caller is not the patient or a live delegate.",
    "DelegateNotFound": "The patient has no such delegate.",
    "SignatureExpired": "The signed request's deadline has passed.",
    "InvalidSignature": "The signature is not the patient's for this request.",
    "EmptyBatch": "A batch must hold at least one item.",
    "InvalidAccountNonce": "The nonce was used already (a replay) or is ahead of the signer's.",
    # CredentialRegistry
    "UnknownRole": "Not a credential role the registry knows.",
    "InvalidAccount": "The account is the zero address.",
    "InvalidValidity": "The validity window is empty or already over.",
    "InvalidLicenseHash": "The licence hash is zero.",
    "InvalidCredentialStatus": "The credential is not in the state this action needs.",
    "AccessControlUnauthorizedAccount": "The caller lacks the role this action needs.",
    "AccessControlEnforcedDefaultAdminDelay": "The admin transfer's delay has not passed yet.",
    "AccessControlInvalidDefaultAdmin": "Not the pending default admin.",
    "AccessControlEnforcedDefaultAdminRules": "The default admin role follows the two-step rules.",
    "AccessControlBadConfirmation": "A role renouncement must name the caller.",
    # RecordRegistry
    "NotCustodian": "The caller holds no live CUSTODIAN credential.",
    "NotRecordCustodian": "The record belongs to another custodian.",
    "RecordExists": "A record with this id exists already; amend it.",
    "UnknownRecord": "No record with this id.",
    "InvalidRecord": "Zero id, patient or content hash, or a category outside the 64 scope bits.",
    "UnknownVersion": "No such version of the record.",
    # AccessGrants
    "UncredentialedProvider": "The provider holds no live PROVIDER credential.",
    "EmptyCategories": "An access grant must cover at least one category.",
    "GrantNotActive": "No live access grant to revoke.",
    "NotEmergencyProvider": "The caller holds no live EMERGENCY credential.",
    "NotReviewer": "The caller holds no live REVIEWER credential.",
    "InvalidBreakGlassDuration": "Break-glass access lasts more than nothing and at most 24 hours.",
    "EpisodeNotOpen": "No such break-glass episode, or it was reviewed already.",
    "SelfReview": "A clinician cannot review their own break-glass episode.",
    "AccessDenied": "canAccess is false: the read is refused, not logged.",
    "NotRecordPatient": "A signed one-record grant names a patient the record is not about.",
    # TrialRegistry
    "UnknownTrial": "No trial with this id.",
    "NotSponsor": "Only the trial's sponsor may do this.",
    "NotIrb": "The caller holds no live IRB credential.",
    "IrbIsSponsor": "A sponsor cannot approve their own trial.",
    "NotResearcher": "A site must hold a live RESEARCHER credential.",
    "NotSite": "The caller is not an active site of the trial (or its RESEARCHER credential lapsed).",
    "SiteExists": "The site is already active in this trial.",
    "InvalidRegistration": "A trial needs a protocol hash, scopes, and plain or blinded endpoints.",
    "InvalidHash": "A zero hash or root, or an empty batch.",
    "TrialLocked": "The database is locked: nothing more is enrolled, committed or amended.",
    "InvalidTrialStatus": "The trial is not in the status this action needs.",
    "InvalidVersion": "Not the latest, unapproved protocol version (or no such version).",
    "ProtocolNotApproved": "The latest protocol version awaits IRB approval.",
    "NoConsent": "The subject has no live consent to this trial's consent version and scopes.",
    "InvalidSubject": "The subject is the zero address, the site or the sponsor.",
    "AlreadyEnrolled": "The subject was enrolled in this trial already.",
    "NotEnrolled": "The subject is not enrolled, or has withdrawn.",
    "ConsentStillLive": "Only the subject or a site may withdraw a subject whose consent stands.",
    "AlreadyReconsented": "The subject's consent already names the current consent version.",
    "BatchExists": "A batch with this Merkle root was committed already.",
    "NotBlinded": "The endpoints were pre-registered in the clear: nothing to reveal.",
    "AlreadyRevealed": "The blinded analysis plan was revealed already.",
    "RevealMismatch": "The endpoints and salt do not match the commitment.",
    "EndpointsNotRevealed": "Reveal the blinded analysis plan before reporting results.",
    "EndpointsMismatch": "The results name endpoints other than the pre-registered ones.",
    "MerkleProofInvalidMultiproof": "The multiproof is malformed (its lengths or flags do not fit).",
}

ERROR_CLASSES: dict[str, type[ContractError]] = {
    name: _contract_error(name, doc) for name, doc in _ERRORS.items()
}

# Named handles for the errors callers most often catch.
ConsentAlreadyActive = ERROR_CLASSES["ConsentAlreadyActive"]
ConsentNotActive = ERROR_CLASSES["ConsentNotActive"]
ConsentNotRevocable = ERROR_CLASSES["ConsentNotRevocable"]
NotPatientOrDelegate = ERROR_CLASSES["NotPatientOrDelegate"]
InvalidAccountNonce = ERROR_CLASSES["InvalidAccountNonce"]
SignatureExpired = ERROR_CLASSES["SignatureExpired"]
InvalidSignature = ERROR_CLASSES["InvalidSignature"]
InvalidExpiry = ERROR_CLASSES["InvalidExpiry"]
EmptyScopes = ERROR_CLASSES["EmptyScopes"]
UncredentialedProvider = ERROR_CLASSES["UncredentialedProvider"]
AccessDenied = ERROR_CLASSES["AccessDenied"]
NotRecordCustodian = ERROR_CLASSES["NotRecordCustodian"]
NoConsent = ERROR_CLASSES["NoConsent"]
TrialLocked = ERROR_CLASSES["TrialLocked"]
