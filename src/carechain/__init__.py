"""CareChain: patient consents, access grants and trial integrity on an Ethereum chain.

The public API is re-exported here; see README.md for a walkthrough. `Indexer` and `SyncResult` load on first
use: they need SQLAlchemy, which only `pip install carechain[index]` brings.
"""

import importlib
from typing import TYPE_CHECKING, Any

from carechain.clients import (
    AccessClient,
    Consent,
    ConsentClient,
    ConsentGrantsClient,
    CredentialClient,
    GrantRequest,
    GuardianshipFactoryClient,
    PurposeRegistryClient,
    RecordClient,
    SignedGrant,
    SignedRevoke,
    TrialClient,
)
from carechain.core.acts import SubjectAct, Submitted
from carechain.core.deployments import Manifest, deploy, export_abis
from carechain.core.grants import GrantInput, Policy
from carechain.core.keys import GrantKeys, KeyRoot
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
    InvalidMerkleTree,
    MerkleTreeError,
    NondeterministicSignature,
    ServiceError,
    ToolchainError,
    TransactionFailed,
)
from carechain.offchain.merkle import MultiProof, SimpleMerkleTree, StandardMerkleTree
from carechain.offchain.patient import DirectSubmitter, Patient, PatientGrant
from carechain.offchain.scopes import ScopeTree

if TYPE_CHECKING:
    from carechain.index.indexer import Indexer, SyncResult

__version__ = "0.1.0"

# Names whose module needs an extra: imported when first asked for, so `import carechain` stays the core.
_LAZY = {"Indexer": "carechain.index.indexer", "SyncResult": "carechain.index.indexer"}


def __getattr__(name: str) -> Any:
    """Imports `Indexer` and `SyncResult` on first use, so the base install need not have SQLAlchemy."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'carechain' has no attribute {name!r}")


__all__ = [
    "PURPOSES",
    "SCOPES",
    "AccessClient",
    "CareChainError",
    "ChainUnavailable",
    "ConfigError",
    "Consent",
    "ConsentClient",
    "ConsentGrantsClient",
    "ContractError",
    "CredentialClient",
    "DeploymentError",
    "DirectSubmitter",
    "GrantInput",
    "GrantKeys",
    "GrantRequest",
    "GuardianshipFactoryClient",
    "Indexer",
    "InputError",
    "InvalidMerkleTree",
    "KeyRoot",
    "Manifest",
    "MerkleTreeError",
    "MultiProof",
    "NondeterministicSignature",
    "Patient",
    "PatientGrant",
    "Policy",
    "Purpose",
    "PurposeRegistryClient",
    "RecordClient",
    "Scope",
    "ScopeTree",
    "Sender",
    "ServiceError",
    "SignedAction",
    "SignedGrant",
    "SignedRevoke",
    "SimpleMerkleTree",
    "StandardMerkleTree",
    "SubjectAct",
    "Submitted",
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
