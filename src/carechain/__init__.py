"""CareChain: patient consents, access grants and trial integrity on an Ethereum chain.

The public API is re-exported here; see README.md for a walkthrough.
"""

from carechain.chain import ChainUnavailable, Sender, TransactionFailed, TxResult, connect, decode_revert
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
from carechain.deployments import Manifest, deploy, export_abis
from carechain.errors import (
    CareChainError,
    ConfigError,
    ContractError,
    DeploymentError,
    InputError,
    ToolchainError,
)
from carechain.indexer import Indexer, SyncResult
from carechain.localnode import LocalNode, local_node
from carechain.merkle import (
    InvalidMerkleTree,
    MerkleTreeError,
    MultiProof,
    SimpleMerkleTree,
    StandardMerkleTree,
)
from carechain.purposes import (
    PURPOSES,
    SCOPES,
    Purpose,
    Scope,
    purpose_id,
    scope_names,
    scopes_mask,
    trial_purpose,
)
from carechain.signed import SignedAction

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
    "LocalNode",
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
    "local_node",
    "purpose_id",
    "scope_names",
    "scopes_mask",
    "trial_purpose",
]
