"""The chain core: transport, sending, revert decoding, EIP-712 and signatures, config, deployments, purposes.

Everything above it (clients, off-chain logic, index, services, CLI) talks to a node through this layer.
"""
