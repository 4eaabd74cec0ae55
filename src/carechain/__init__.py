"""CareChain: patient consents, access grants and trial integrity on an Ethereum chain.

The public API is re-exported here; see README.md for a walkthrough.
"""

from carechain.chain import ChainUnavailable, Sender, TransactionFailed, TxResult, connect, decode_revert
from carechain.clients import Consent, ConsentClient, GrantRequest, SignedGrant, SignedRevoke
from carechain.deployments import Manifest, deploy, export_abis
from carechain.errors import (
    CareChainError,
    ConfigError,
    ContractError,
    DeploymentError,
    InputError,
    ToolchainError,
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

__version__ = "0.1.0"

__all__ = [
    "PURPOSES",
    "SCOPES",
    "CareChainError",
    "ChainUnavailable",
    "ConfigError",
    "Consent",
    "ConsentClient",
    "ContractError",
    "DeploymentError",
    "GrantRequest",
    "InputError",
    "Manifest",
    "Purpose",
    "Scope",
    "Sender",
    "SignedGrant",
    "SignedRevoke",
    "ToolchainError",
    "TransactionFailed",
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
