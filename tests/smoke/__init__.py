"""Smoke flows run on Anvil and Ganache 7 (a package, so conftest.py does not clash with the root one)."""
