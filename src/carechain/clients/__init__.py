"""One web3.py client per CareChain contract."""

from carechain.clients.consent import Consent, ConsentClient, GrantRequest, SignedGrant, SignedRevoke

__all__ = ["Consent", "ConsentClient", "GrantRequest", "SignedGrant", "SignedRevoke"]
