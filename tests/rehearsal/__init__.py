"""The testnet rehearsal: a separate Anvil plays a public testnet; the CLI runs against it as a user would."""
