"""CareChain: patient consents, access grants and trial integrity on an Ethereum chain.

The public API is re-exported here; see README.md for a walkthrough.
"""

from carechain.clients import (
    AccessClient,
    Consent,
    ConsentClient,
    CredentialClient,
    GrantRequest,
    RecordClient,
    SignedGrant,
    SignedRevoke,
    TrialClient,
)
from carechain.core.deployments import Manifest, deploy, export_abis
from carechain.core.purposes import (
    PURPOSES,
    SCOPES,
    Purpose,
    Scope,
    purpose_id,
    scope_names,
    scopes_mask,
    trial_purpose,
)
from carechain.core.reverts import decode_revert
from carechain.core.sender import Sender, TxResult
from carechain.core.signed import SignedAction
from carechain.core.transport import connect
from carechain.errors import (
    CareChainError,
    ChainUnavailable,
    ConfigError,
    ContractError,
    DeploymentError,
    InputError,
    ToolchainError,
    TransactionFailed,
)
from carechain.index.indexer import Indexer, SyncResult
from carechain.offchain.merkle import (
    InvalidMerkleTree,
    MerkleTreeError,
    MultiProof,
    SimpleMerkleTree,
    StandardMerkleTree,
)

__version__ = "0.1.0"

__all__ = [
    "PURPOSES",
    "SCOPES",
    "AccessClient",
    "CareChainError",
    "ChainUnavailable",
    "ConfigError",
    "Consent",
    "ConsentClient",
    "ContractError",
    "CredentialClient",
    "DeploymentError",
    "GrantRequest",
    "Indexer",
    "InputError",
    "InvalidMerkleTree",
    "Manifest",
    "MerkleTreeError",
    "MultiProof",
    "Purpose",
    "RecordClient",
    "Scope",
    "Sender",
    "SignedAction",
    "SignedGrant",
    "SignedRevoke",
    "SimpleMerkleTree",
    "StandardMerkleTree",
    "SyncResult",
    "ToolchainError",
    "TransactionFailed",
    "TrialClient",
    "TxResult",
    "connect",
    "decode_revert",
    "deploy",
    "export_abis",
    "purpose_id",
    "scope_names",
    "scopes_mask",
    "trial_purpose",
]
