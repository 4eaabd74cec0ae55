"""HTTP services on one kernel: a custodian's record gateway and the consent relayer (extra `services`)."""
