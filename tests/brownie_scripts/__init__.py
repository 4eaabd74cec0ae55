"""brownie scripts, run as `brownie run` runs them."""
