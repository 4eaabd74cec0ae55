"""The chain-free tier (`make test-unit`): plain pytest, no brownie, no node. A package, so its modules and
tests/unit/merkle/ do not take names that other test folders use."""
