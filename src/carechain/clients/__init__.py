"""One web3.py client per CareChain contract."""

from carechain.clients.access import AccessClient, Basis, Episode, Grant, Read, Review
from carechain.clients.base import ContractClient, bytes32, checksum
from carechain.clients.consent import Consent, ConsentClient, GrantRequest, SignedGrant, SignedRevoke
from carechain.clients.credentials import ROLES, Credential, CredentialClient, Status, license_hash, role_id
from carechain.clients.grants import ConsentGrant, ConsentGrantsClient, FailedGrant, GrantBatch
from carechain.clients.guardianship import GuardianshipFactoryClient
from carechain.clients.purposes import PurposeRegistryClient, RegisteredPurpose
from carechain.clients.records import Record, RecordClient, Version, category_bit, content_hash, record_id
from carechain.clients.trials import (
    Batch,
    BatchEvent,
    Enrolment,
    ProtocolVersion,
    Row,
    Site,
    Trial,
    TrialClient,
    TrialStatus,
)
from carechain.core.grants import AgentStatus

__all__ = [
    "ROLES",
    "AccessClient",
    "AgentStatus",
    "Basis",
    "Batch",
    "BatchEvent",
    "Consent",
    "ConsentClient",
    "ConsentGrant",
    "ConsentGrantsClient",
    "ContractClient",
    "Credential",
    "CredentialClient",
    "Enrolment",
    "Episode",
    "FailedGrant",
    "Grant",
    "GrantBatch",
    "GrantRequest",
    "GuardianshipFactoryClient",
    "ProtocolVersion",
    "PurposeRegistryClient",
    "Read",
    "Record",
    "RecordClient",
    "RegisteredPurpose",
    "Review",
    "Row",
    "SignedGrant",
    "SignedRevoke",
    "Site",
    "Status",
    "Trial",
    "TrialClient",
    "TrialStatus",
    "Version",
    "bytes32",
    "category_bit",
    "checksum",
    "content_hash",
    "license_hash",
    "record_id",
    "role_id",
]
