"""One web3.py client per CareChain contract."""

from carechain.clients.access import AccessClient, Basis, Episode, Grant, Read, Review
from carechain.clients.base import ContractClient, bytes32, checksum
from carechain.clients.consent import Consent, ConsentClient, GrantRequest, SignedGrant, SignedRevoke
from carechain.clients.credentials import ROLES, Credential, CredentialClient, Status, license_hash, role_id
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

__all__ = [
    "ROLES",
    "AccessClient",
    "Basis",
    "Batch",
    "BatchEvent",
    "Consent",
    "ConsentClient",
    "ContractClient",
    "Credential",
    "CredentialClient",
    "Enrolment",
    "Episode",
    "Grant",
    "GrantRequest",
    "ProtocolVersion",
    "Read",
    "Record",
    "RecordClient",
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
