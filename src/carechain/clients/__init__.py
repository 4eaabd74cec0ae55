"""One web3.py client per CareChain contract."""

from carechain.clients.access import AccessClient, Basis, Episode, Grant, Read, Review
from carechain.clients.base import ContractClient, bytes32, checksum
from carechain.clients.consent import Consent, ConsentClient, GrantRequest, SignedGrant, SignedRevoke
from carechain.clients.credentials import ROLES, Credential, CredentialClient, Status, license_hash, role_id
from carechain.clients.records import Record, RecordClient, Version, category_bit, content_hash, record_id

__all__ = [
    "ROLES",
    "AccessClient",
    "Basis",
    "Consent",
    "ConsentClient",
    "ContractClient",
    "Credential",
    "CredentialClient",
    "Episode",
    "Grant",
    "GrantRequest",
    "Read",
    "Record",
    "RecordClient",
    "Review",
    "SignedGrant",
    "SignedRevoke",
    "Status",
    "Version",
    "bytes32",
    "category_bit",
    "checksum",
    "content_hash",
    "license_hash",
    "record_id",
    "role_id",
]
