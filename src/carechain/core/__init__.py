"""The chain core: transport, sending, reverts, EIP-712, signatures, config, deployments, purposes, times.

Everything above it (clients, off-chain logic, index, services, CLI) talks to a node through this layer.
"""
