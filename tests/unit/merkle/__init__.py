"""carechain.offchain.merkle tests (a package, so file names may repeat across folders)."""
