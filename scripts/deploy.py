"""brownie run scripts/deploy.py [--network NAME]: deploy what is missing, write deployments/ and abi/.

Thin over `carechain.core.deployments.deploy`, like `carechain deploy`. The key comes from PRIVATE_KEY
or KEYSTORE (.env or environment); on a local chain without one, brownie's first account. Who appoints
registrars: CARECHAIN_ADMIN (a multisig, behind a timelock of CARECHAIN_TIMELOCK_DELAY seconds), required
on a public chain unless CARECHAIN_ALLOW_DEPLOYER_ADMIN=1 (docs/governance.md).
"""

from brownie import accounts, web3

from carechain.core.config import load_account, load_governance, load_settings, project_root
from carechain.core.deployments import deploy
from carechain.core.sender import Sender
from carechain.core.transport import LOCAL_CHAIN_IDS
from carechain.errors import ConfigError


def main() -> None:
    root = project_root()
    account = load_account(load_settings(root))
    if account is not None:
        sender = Sender(web3, account)
    elif web3.eth.chain_id in LOCAL_CHAIN_IDS:
        sender = Sender(web3, accounts[0].address)
    else:
        raise ConfigError("no key: set PRIVATE_KEY or KEYSTORE in the environment or .env")
    manifest = deploy(web3, sender, root, log=print, governance=load_governance(root))
    print(f"manifest written to {manifest.path}")
