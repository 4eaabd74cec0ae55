"""Off-chain logic: Merkle trees, trial data, FHIR Consent, and the import of a clinic's signed consents."""
