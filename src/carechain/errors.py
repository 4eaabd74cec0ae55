"""Every exception CareChain raises on purpose, in one tree under `CareChainError`.

Catch `CareChainError` for "anything CareChain refused or could not do", or a branch for one kind of
failure. The tree (web3.py's and httpx's exception pages are the model)::

    CareChainError
    ├── ToolchainError              the Solidity compiler or the Node.js tools are missing
    ├── ConfigError                 bad or missing RPC URL, key, keystore, network, service setting
    ├── DeploymentError             a manifest or build artifact is missing, stale or inconsistent
    ├── InputError                  a value a user gave is not valid (address, purpose, scope, time)
    │   ├── MerkleTreeError         values, encoding, index, proof or dump a Merkle tree cannot take
    │   │   └── InvalidMerkleTree   the tree cannot back its values or proofs (a tampered dump)
    │   └── NondeterministicSignature   a wallet signed one message twice differently: no keys from it
    ├── InvalidReceipt              a gateway's read receipt whose signature, proof or root fails
    ├── ChainUnavailable            the node at the RPC URL does not answer
    ├── TransactionFailed           a transaction reverted once mined, or was not mined in time
    │   └── OutOfGas                a simulated call ran out of the gas limit it was given
    ├── ContractError               a call reverted; `name` and `arguments` of the custom error
    │   └── <one class per custom error>    ERROR_CLASSES: ConsentAlreadyActive, AccessDenied, ...
    └── ServiceError                an HTTP service's refusal; `status` and `code` are its answer
        ├── BadRequest              400 bad-request
        ├── RequestExpired          400 expired
        ├── BadSignature            401 bad-signature
        ├── Unauthorized            401 unauthorized
        ├── AccessRefused           403 denied
        ├── RecordNotFound          404 unknown-record
        ├── ReceiptNotFound         404 unknown-receipt
        ├── SubmissionNotFound      404 unknown-submission
        ├── Replayed                409 replayed
        ├── Erased                  410 erased
        ├── TooLarge                413 too-large
        ├── Refused                 422 refused
        ├── RateLimited             429 rate-limited
        ├── IntegrityFailure        500 integrity-failure
        ├── KeyUnavailable          500 key-unavailable
        ├── ChainUnreachable        502 chain-unreachable
        └── ChainRefused            502 chain-refused

A contract's custom error keeps its Solidity name (`UnknownRecord`); a service refusal says what is
not found in its own words (`RecordNotFound`), so the two never share a name. How the services turn
the rest of the tree into HTTP answers is `carechain.services.kernel`'s table.
"""

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


class MerkleTreeError(InputError):
    """Values, leaf encoding, index, proof or dump a Merkle tree cannot take (JS: InvalidArgumentError)."""


class InvalidMerkleTree(MerkleTreeError):
    """The tree cannot back its values or proofs: a tampered dump, or a custom node hash proofs cannot follow.

    (JS: InvariantError.)
    """


class NondeterministicSignature(InputError):
    """A wallet signed the key-derivation message twice with different signatures (not RFC 6979): the
    consent keys cannot come from it, a keystore secret must (carechain.core.keys)."""


class InvalidReceipt(CareChainError):
    """A gateway's read receipt whose signature, proof or on-chain root does not check out."""


class ChainUnavailable(CareChainError):
    """The node at the RPC URL does not answer (not a ConfigError: the URL may be right, the node down)."""


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
    "InvalidGrantee": "The grantee is the zero address (ConsentGrants: or the subject commitment is zero).",
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
    "InvalidCredentialStatus": (
        "The credential is not in the state this action needs (only reinstate lifts a suspension, "
        "even after a revocation)."
    ),
    "AccessControlUnauthorizedAccount": "The caller lacks the role this action needs.",
    "AccessControlEnforcedDefaultAdminDelay": "The admin transfer's delay has not passed yet.",
    "AccessControlInvalidDefaultAdmin": "Not the pending default admin.",
    "AccessControlEnforcedDefaultAdminRules": "The default admin role follows the two-step rules.",
    "AccessControlBadConfirmation": "A role renouncement must name the caller.",
    # CareChainTimelock (OpenZeppelin TimelockController): the CredentialRegistry's admin on public chains
    "TimelockInsufficientDelay": "An operation must wait at least the timelock's min delay.",
    "TimelockUnexpectedOperationState": (
        "The operation is not in the state this needs (scheduled already, not ready yet, done, or unknown)."
    ),
    "TimelockUnexecutedPredecessor": "The operation's predecessor has not run yet.",
    "TimelockInvalidOperationLength": "A batch's targets, values and payloads differ in length.",
    "TimelockUnauthorizedCaller": "Only the timelock itself may change its delay.",
    "FailedInnerCall": "The call the timelock made reverted without a reason.",
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
    "NotPendingSponsor": "Only the proposed sponsor accepts a sponsor transfer (none may be pending).",
    "NotIrb": "The account holds no live IRB credential (an IRB of record must, to be named and to approve).",
    "IrbIsSponsor": "A sponsor cannot be the IRB of their own trial: neither named as it nor approving it.",
    "NotIrbOfRecord": "Only the trial's IRB of record approves it (`trial show` names it).",
    "IrbReviewPending": (
        "A protocol version awaits the IRB of record, which can still act on it: the sponsor names another"
        " IRB only once it decides, or once its IRB credential lapses (suspended, revoked, expired)."
    ),
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
    "AlreadyEnrolled": "The subject is enrolled in this trial (a withdrawn subject may be enrolled afresh).",
    "NotEnrolled": "The subject is not enrolled, or has withdrawn.",
    "UnauthorizedWithdrawal": "Only the subject, their enrolling site or the sponsor withdraws a subject.",
    "AlreadyReconsented": "The subject's consent already names the current consent version.",
    "BatchExists": "A batch with this Merkle root was committed already.",
    "NotBlinded": "The endpoints were pre-registered in the clear: nothing to reveal.",
    "AlreadyRevealed": "The blinded analysis plan was revealed already.",
    "RevealMismatch": "The endpoints and salt do not match the commitment.",
    "EndpointsNotRevealed": "Reveal the blinded analysis plan before reporting results.",
    "EndpointsMismatch": "The results name endpoints other than the pre-registered ones.",
    "MerkleProofInvalidMultiproof": "The multiproof is malformed (its lengths or flags do not fit).",
    "NoTrialGrant": (
        "The grant does not let the trial registry enrol its subject in this version: it must be active, made"
        " to the registry for CLINTRCH with READ, scoped to the trial version's salted resource."
    ),
    "GrantAlreadyEnrolled": "An enrolment on this grant exists (a new enrolment needs a new grant).",
    "GrantAlreadyReconsented": "The enrolment on this grant already covers the current consent version.",
    "GrantNotEnrolled": "No live enrolment on this grant.",
    "UnauthorizedGrantWithdrawal": (
        "While the grant is live or on hold, only the enrolling site or the sponsor ends its enrolment."
    ),
    # PurposeRegistry
    "InvalidPurpose": "Code 0, a zero term or a zero release cannot be registered.",
    "PurposeAlreadyRegistered": "A purpose code is registered once, for good.",
    "UnknownPurpose": "A code can only narrow a registered code.",
    # ConsentGrants (ERC-8356)
    "GrantExists": "A grant with this id exists (or existed): a new grant needs a new subject key.",
    "UnknownGrant": "No grant has this id.",
    "InvalidSubjectSignature": (
        "The subject signature is malformed, invalid, or not by the key the commitment opens to (or signed"
        " with another nonce, chain or contract)."
    ),
    "SubjectSignatureRequired": "CareChain takes subject acts only signed and relayed (...WithSig).",
    "InvalidPolicy": "The policy word has a reserved bit set, no ops, no purpose, or a value out of range.",
    "InvalidWindow": "The grant's window is empty or already over.",
    "PurposeNotRegistered": "The purpose code is not in the purpose registry.",
    "InvalidAgent": "The agent and its kind disagree (an agent without a kind, or a kind without an agent).",
    "NotGrantee": "Only the grant's grantee may do this.",
    "NotAuthorized": "The caller may not do this to the grant.",
    "NotDelegable": "The parent grant does not allow delegation.",
    "AttenuationViolated": "A sub-grant may not exceed its parent (`rule` names the rule it broke).",
    "DepthExceeded": "The delegation chain would be deeper than MAX_DEPTH.",
    "WrongStatus": "The grant is not in a status this act applies to.",
    "NoAgentLeg": "The grant has no live agent leg.",
    "UsageCountDecreased": "A usage count may not go down within an epoch.",
    "NotScopeRoot": "Scope leaves exist only under a root-scoped grant.",
    "LeafAlreadyWithdrawn": "The scope leaf is withdrawn already.",
    "NotAgentOperator": "The agent has an operator already; only that operator hands over.",
    "LengthMismatch": "A batch's grants and signatures differ in number.",
    "OnlySelf": "Only ConsentGrants itself calls this (one batch item at a time).",
    "RefsFull": "Too many template pairs (2^32) have been stored.",
    "BeyondAuthority": "A guardian's key grants nothing that outlasts the guardian's term.",
    # GuardianshipFactory and GuardianshipAccount
    "ERC1167FailedCreateClone": "The account's clone could not be created.",
    "AlreadyInitialized": "The guardianship account is set up already.",
    "InvalidSigner": "A signer must be a key (not 0), and the successor not the guardian's key.",
    "InvalidTerm": "A guardianship term must end in the future.",
    "TermNotShortened": "A guardianship term can only be shortened.",
    "TermEnded": "The guardianship term is over: the guardian can no longer act.",
    "NoSuccessor": "A term ends early only into the hands of a named successor.",
    "InvalidGuardianSignature": "Not the guardian's signature of this act with the account's nonce.",
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
NotIrbOfRecord = ERROR_CLASSES["NotIrbOfRecord"]
IrbReviewPending = ERROR_CLASSES["IrbReviewPending"]
GrantExists = ERROR_CLASSES["GrantExists"]
UnknownGrant = ERROR_CLASSES["UnknownGrant"]
InvalidSubjectSignature = ERROR_CLASSES["InvalidSubjectSignature"]
SubjectSignatureRequired = ERROR_CLASSES["SubjectSignatureRequired"]
WrongStatus = ERROR_CLASSES["WrongStatus"]
NotGrantee = ERROR_CLASSES["NotGrantee"]
AttenuationViolated = ERROR_CLASSES["AttenuationViolated"]


# ---- HTTP refusals of the gateway and the relayer ------------------------------------------------


class ServiceError(CareChainError):
    """A refusal of an HTTP service (gateway, relayer); `status` and `code` are what its answer carries."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal"


class BadRequest(ServiceError):
    """A malformed request (a missing field, a bad address, an unknown purpose...), or one addressed to
    another gateway or chain."""

    status = 400
    code = "bad-request"


class RequestExpired(ServiceError):
    """The signed request's time is up: issued outside the gateway's window, or past its deadline."""

    status = 400
    code = "expired"


class BadSignature(ServiceError):
    """The signature is not the named provider's or patient's for this request."""

    status = 401
    code = "bad-signature"


class Unauthorized(ServiceError):
    """The custodian's API token is missing or wrong."""

    status = 401
    code = "unauthorized"


class AccessRefused(ServiceError):
    """The chain does not allow this provider to read this record."""

    status = 403
    code = "denied"


class RecordNotFound(ServiceError):
    """This gateway keeps no record with this id."""

    status = 404
    code = "unknown-record"


class ReceiptNotFound(ServiceError):
    """This gateway signed no read receipt with this id."""

    status = 404
    code = "unknown-receipt"


class SubmissionNotFound(ServiceError):
    """This relayer has no submission with this id."""

    status = 404
    code = "unknown-submission"


class Replayed(ServiceError):
    """The signed request was used already: its digest was seen, or its nonce is used or held."""

    status = 409
    code = "replayed"


class Erased(ServiceError):
    """The record was erased (its data keys destroyed): it can never be served again."""

    status = 410
    code = "erased"


class TooLarge(ServiceError):
    """The request's body is over the service's size limit (the gateway's CARECHAIN_GATEWAY_MAX_BYTES)."""

    status = 413
    code = "too-large"


class Refused(ServiceError):
    """The contract would revert (simulated with eth_call): nothing was sent, no gas spent."""

    status = 422
    code = "refused"

    def __init__(self, message: str, error_name: str) -> None:
        super().__init__(message)
        self.error_name = error_name


class RateLimited(ServiceError):
    """The patient sent more requests than the relayer pays for in the period."""

    status = 429
    code = "rate-limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class IntegrityFailure(ServiceError):
    """The stored ciphertext does not match its anchored hash or does not decrypt: never served."""

    status = 500
    code = "integrity-failure"


class KeyUnavailable(ServiceError):
    """No custodian key this gateway holds unwraps the record's data key."""

    status = 500
    code = "key-unavailable"


class ChainUnreachable(ServiceError):
    """The Ethereum node did not answer, or the service's transaction failed on the way (not mined, or
    reverted without a custom error)."""

    status = 502
    code = "chain-unreachable"


class ChainRefused(ServiceError):
    """The chain reverted the service's own transaction (e.g. the access log) for a reason the caller
    cannot fix."""

    status = 502
    code = "chain-refused"
