"""Faults survived (issue #10, item 4) and bad input everywhere (item 5).

Where each fault is tested, on real Anvil nodes:

- node killed mid multi-contract deploy, re-run without duplicates: test_deploy_killed.py
- killed mid-indexing, the resumed index equals a fresh one: tests/indexer/test_node_restart.py
  (and tests/indexer/test_resume.py for a stop between two passes)
- a reorg rolled back: tests/indexer/test_reorg.py
- nonce too low (a transaction from the same key behind the Sender's back), a lost answer, an
  underpriced replacement (a pending transaction at the same nonce): test_send_retries.py
- an RPC that times out, retried with backoff, then one clear error: test_rpc_timeout.py
- a manifest whose chain id differs from the node's, refused: test_chain_id.py
- malformed input to the CLI, the scripts and the library: test_bad_input.py
"""
