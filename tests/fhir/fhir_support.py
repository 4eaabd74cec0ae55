"""Plain helpers of the FHIR tests: chain time, funded keys, a CLI result that must have succeeded."""

from __future__ import annotations

from brownie import accounts, web3
from eth_account import Account

DAY = 86_400


def chain_now() -> int:
    """The latest block's time: what the contract and the export judge expiry by."""
    return int(web3.eth.get_block("latest")["timestamp"])


def funded():
    """A fresh key holding 1 ether: the CLI signs with it through PRIVATE_KEY."""
    account = Account.create()
    accounts[0].transfer(account.address, "1 ether", silent=True)
    return account


def ok(result):
    assert result.exit_code == 0, result.output
    return result
