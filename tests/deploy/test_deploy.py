"""carechain.core.deployments.deploy: manifests, ABI export, idempotent and resumable deploys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from brownie import accounts, web3

from carechain.core import deployments, eip712, purposes
from carechain.core.sender import Sender
from carechain.errors import DeploymentError

REPO = Path(__file__).parents[2]


@pytest.fixture
def root(tmp_path):
    """A project folder of its own, sharing the compiled build/ of the repository."""
    (tmp_path / "build").symlink_to(REPO / "build")
    return tmp_path


@pytest.fixture
def sender():
    return Sender(web3, accounts[0].address)


def _manifest(root: Path) -> dict:
    return json.loads((root / "deployments" / f"{web3.eth.chain_id}.json").read_text())


def test_first_deploy_writes_manifest_and_abis(root, sender):
    manifest = deployments.deploy(web3, sender, root)
    entry = _manifest(root)["contracts"]["ConsentRegistry"]
    artifact = deployments.load_artifact(root, "ConsentRegistry")
    assert manifest.address("ConsentRegistry") == entry["address"]
    assert web3.eth.get_code(entry["address"]) != b""
    receipt = web3.eth.get_transaction_receipt(entry["txHash"])
    assert receipt["contractAddress"] == entry["address"] and receipt["blockNumber"] == entry["block"]
    assert entry["abiHash"] == artifact.abi_hash and entry["bytecodeHash"] == artifact.bytecode_hash
    assert entry["compiler"]["version"].startswith("0.8.28")
    assert entry["compiler"]["evmVersion"] == "shanghai"
    assert entry["deployer"] == accounts[0].address
    assert json.loads((root / "abi" / "ConsentRegistry.json").read_text()) == artifact.abi
    assert json.loads((root / "abi" / "eip712.json").read_text()) == eip712.export_types()
    assert json.loads((root / "abi" / "purposes.json").read_text()) == purposes.export_table()


def test_no_key_or_secret_in_the_manifest(root):
    from eth_account import Account

    key = Account.create()
    accounts[0].transfer(key.address, "1 ether")
    deployments.deploy(web3, Sender(web3, key), root)
    text = (root / "deployments" / f"{web3.eth.chain_id}.json").read_text()
    assert key.key.hex().removeprefix("0x") not in text


def test_second_run_deploys_nothing(root, sender):
    first = deployments.deploy(web3, sender, root).address("ConsentRegistry")
    block = web3.eth.block_number
    logged: list[str] = []
    second = deployments.deploy(web3, sender, root, log=logged.append).address("ConsentRegistry")
    assert second == first
    assert web3.eth.block_number == block
    assert any("reusing" in line for line in logged)


def test_manifest_of_a_reset_chain_is_detected_and_redeployed(root, sender):
    deployments.deploy(web3, sender, root)
    data = _manifest(root)
    gone = "0x000000000000000000000000000000000000dEaD"
    data["contracts"]["ConsentRegistry"]["address"] = gone  # no code there, as after a fresh Anvil
    (root / "deployments" / f"{web3.eth.chain_id}.json").write_text(json.dumps(data))
    logged: list[str] = []
    address = deployments.deploy(web3, sender, root, log=logged.append).address("ConsentRegistry")
    assert address != gone and web3.eth.get_code(address) != b""
    assert any("chain was reset" in line for line in logged)


def test_changed_contract_is_redeployed(root, sender):
    first = deployments.deploy(web3, sender, root).address("ConsentRegistry")
    data = _manifest(root)
    data["contracts"]["ConsentRegistry"]["bytecodeHash"] = "0x" + "00" * 32
    (root / "deployments" / f"{web3.eth.chain_id}.json").write_text(json.dumps(data))
    assert deployments.deploy(web3, sender, root).address("ConsentRegistry") != first


def test_interrupted_deploy_is_adopted_not_repeated(root, sender):
    """A run that sent the deploy and died before recording it: the re-run adopts that contract."""
    artifact = deployments.load_artifact(root, "ConsentRegistry")
    tx_hash = sender.send(sender.constructor(artifact.abi, artifact.bytecode), artifact.abi)
    manifest = deployments.Manifest.load(root, web3.eth.chain_id)
    manifest.contracts["ConsentRegistry"] = {
        "status": "pending",
        "txHash": "0x" + bytes(tx_hash).hex(),
        "bytecodeHash": artifact.bytecode_hash,
    }
    manifest.save()
    block = web3.eth.block_number
    address = deployments.deploy(web3, sender, root, names=("ConsentRegistry",)).address("ConsentRegistry")
    assert address == web3.eth.get_transaction_receipt(tx_hash)["contractAddress"]
    assert web3.eth.block_number == block
    assert "status" not in _manifest(root)["contracts"]["ConsentRegistry"]


def test_pending_deploy_unknown_to_the_node_is_sent_again(root, sender):
    artifact = deployments.load_artifact(root, "ConsentRegistry")
    manifest = deployments.Manifest.load(root, web3.eth.chain_id)
    manifest.contracts["ConsentRegistry"] = {
        "status": "pending",
        "txHash": "0x" + "ab" * 32,
        "bytecodeHash": artifact.bytecode_hash,
    }
    manifest.save()
    address = deployments.deploy(web3, sender, root).address("ConsentRegistry")
    assert web3.eth.get_code(address) != b""


def test_corrupt_manifest_is_reported(root, sender):
    (root / "deployments").mkdir()
    (root / "deployments" / f"{web3.eth.chain_id}.json").write_text("{not json")
    with pytest.raises(DeploymentError, match="not valid JSON"):
        deployments.deploy(web3, sender, root)


def test_manifest_of_another_chain_is_refused(root, sender):
    (root / "deployments").mkdir()
    (root / "deployments" / f"{web3.eth.chain_id}.json").write_text(
        json.dumps({"chainId": 5, "contracts": {}})
    )
    with pytest.raises(DeploymentError, match="is for chain 5"):
        deployments.deploy(web3, sender, root)


def test_missing_build_says_how_to_fix(tmp_path, sender):
    with pytest.raises(DeploymentError, match="make compile"):
        deployments.deploy(web3, sender, tmp_path)


def test_address_of_undeployed_contract_says_how_to_fix(root):
    with pytest.raises(DeploymentError, match="carechain deploy"):
        deployments.Manifest.load(root, web3.eth.chain_id).address("ConsentRegistry")


def test_committed_abi_files_are_current():
    """abi/ is committed for frontends: it must match the contracts as compiled now."""
    for name in deployments.ABI_EXPORTS:
        committed = json.loads((REPO / "abi" / f"{name}.json").read_text())
        assert committed == deployments.load_artifact(REPO, name).abi, (
            f"abi/{name}.json is stale: run make abi"
        )
    assert json.loads((REPO / "abi" / "eip712.json").read_text()) == eip712.export_types()
    assert json.loads((REPO / "abi" / "purposes.json").read_text()) == purposes.export_table()


def test_contracts_are_wired_to_their_dependencies(root, sender):
    manifest = deployments.deploy(web3, sender, root)
    access = web3.eth.contract(
        manifest.address("AccessGrants"), abi=deployments.load_abi(root, "AccessGrants")
    )
    assert access.functions.consents().call() == manifest.address("ConsentRegistry")
    assert access.functions.credentials().call() == manifest.address("CredentialRegistry")
    assert access.functions.records().call() == manifest.address("RecordRegistry")
    credentials = web3.eth.contract(
        manifest.address("CredentialRegistry"), abi=deployments.load_abi(root, "CredentialRegistry")
    )
    assert credentials.functions.defaultAdmin().call() == sender.address
    assert credentials.functions.defaultAdminDelay().call() == 0  # a local chain; two days elsewhere


def test_redeployed_dependency_redeploys_its_dependents_only(root, sender):
    first = deployments.deploy(web3, sender, root)
    before = {name: first.address(name) for name in deployments.CONTRACTS}
    data = _manifest(root)
    data["contracts"]["CredentialRegistry"]["address"] = "0x000000000000000000000000000000000000dEaD"
    (root / "deployments" / f"{web3.eth.chain_id}.json").write_text(json.dumps(data))
    logged: list[str] = []
    second = deployments.deploy(web3, sender, root, log=logged.append)
    after = {name: second.address(name) for name in deployments.CONTRACTS}
    assert after["ConsentRegistry"] == before["ConsentRegistry"]
    assert after["GuardianshipFactory"] == before["GuardianshipFactory"]  # it depends on nothing
    for name in ("CredentialRegistry", "RecordRegistry", "AccessGrants"):
        assert after[name] != before[name]
    assert any(
        "RecordRegistry: deploying (a contract it depends on was redeployed)" in line for line in logged
    )


def test_explicit_admin_and_delay(root, sender):
    admin = accounts[5].address
    manifest = deployments.deploy(web3, sender, root, admin=admin, admin_delay=3600)
    credentials = web3.eth.contract(
        manifest.address("CredentialRegistry"), abi=deployments.load_abi(root, "CredentialRegistry")
    )
    assert credentials.functions.defaultAdmin().call() == admin
    assert credentials.functions.defaultAdminDelay().call() == 3600


# ---- C.14: a hand-edited manifest is caught before a client calls the wrong contract ------------------


def _edit(root: Path, change) -> Path:
    path = root / "deployments" / f"{web3.eth.chain_id}.json"
    data = json.loads(path.read_text())
    change(data["contracts"])
    path.write_text(json.dumps(data))
    return path


def test_every_client_of_a_fresh_deploy_passes_the_code_check(root, sender):
    """Immutables (AccessGrants, RecordRegistry, TrialRegistry, EIP-712's cached domain) differ from the
    artifact's zeros; the check blanks them, so every deployed contract is recognised."""
    from carechain.clients import (
        AccessClient,
        ConsentClient,
        ConsentGrantsClient,
        CredentialClient,
        GuardianshipFactoryClient,
        PurposeRegistryClient,
        RecordClient,
        TrialClient,
    )

    deployments.deploy(web3, sender, root)
    for kind in (
        ConsentClient,
        CredentialClient,
        RecordClient,
        AccessClient,
        TrialClient,
        PurposeRegistryClient,
        ConsentGrantsClient,
        GuardianshipFactoryClient,
    ):
        assert kind.from_manifest(web3, root).address == _manifest(root)["contracts"][kind.name]["address"]


def test_the_guardianship_factory_is_deployed_recorded_and_exported(root, sender):
    """GuardianshipFactory takes no constructor argument and deploys its GuardianshipAccount implementation;
    the manifest records it like every contract, and abi/ holds its ABI and the accounts'."""
    from carechain.clients import GuardianshipFactoryClient

    logged: list[str] = []
    manifest = deployments.deploy(web3, sender, root, log=logged.append)
    entry = _manifest(root)["contracts"]["GuardianshipFactory"]
    assert entry["address"] == manifest.address("GuardianshipFactory") and entry["dependsOn"] == {}
    receipt = web3.eth.get_transaction_receipt(entry["txHash"])
    assert receipt["contractAddress"] == entry["address"] and receipt["blockNumber"] == entry["block"]
    assert any(line.startswith("GuardianshipFactory: deployed at") for line in logged)
    factory = GuardianshipFactoryClient.from_manifest(web3, root)
    implementation = factory.implementation()
    account = deployments.load_artifact(root, "GuardianshipAccount")
    assert account.is_held_in(bytes(web3.eth.get_code(implementation)))
    for name in ("GuardianshipFactory", "GuardianshipAccount"):
        exported = json.loads((root / "abi" / f"{name}.json").read_text())
        assert exported == deployments.load_artifact(root, name).abi
    # A re-run reuses it, and so the implementation its accounts are clones of.
    logged.clear()
    again = deployments.deploy(web3, sender, root, log=logged.append)
    assert again.contracts["GuardianshipFactory"] == manifest.contracts["GuardianshipFactory"]
    assert any(line.startswith("GuardianshipFactory: reusing") for line in logged)


def test_a_live_guardianship_factory_whose_code_changed_is_kept_unless_replace_factory(root, sender):
    """The relayer trusts the clones of the recorded factory's implementation only: a redeployed factory
    would strand every existing (minor's) account, so a changed factory is refused before anything is sent,
    and replaced only with replace_factory (--replace-factory)."""
    first = deployments.deploy(web3, sender, root).address("GuardianshipFactory")
    changed = "0x" + "00" * 32  # as after a change to the contract
    path = _edit(root, lambda contracts: contracts["GuardianshipFactory"].update(bytecodeHash=changed))
    block = web3.eth.block_number
    with pytest.raises(DeploymentError) as caught:
        deployments.deploy(web3, sender, root)
    assert str(caught.value).startswith(f"GuardianshipFactory at {first} in {path} is live and its code")
    assert "--replace-factory" in str(caught.value)
    assert web3.eth.block_number == block  # nothing was sent
    replaced = deployments.deploy(web3, sender, root, replace_factory=True)
    assert replaced.address("GuardianshipFactory") != first


def test_a_manifest_naming_another_contract_as_the_factory_is_refused(root, sender):
    """The relayer trusts the clones of the manifest's factory as subject keys: an edit is refused."""
    from carechain.clients import GuardianshipFactoryClient

    manifest = deployments.deploy(web3, sender, root)
    purposes = manifest.address("PurposeRegistry")
    path = _edit(root, lambda contracts: contracts["GuardianshipFactory"].update(address=purposes))
    with pytest.raises(DeploymentError) as caught:
        GuardianshipFactoryClient.from_manifest(web3, root)
    assert str(caught.value) == (
        f"{path}: GuardianshipFactory at {purposes} holds no GuardianshipFactory "
        "(it holds PurposeRegistry) — was the manifest edited?"
    )


def test_swapped_addresses_are_one_deployment_error(root, sender):
    from carechain.clients import ConsentClient, TrialClient

    deployments.deploy(web3, sender, root)

    def swap(contracts):
        consent, trial = contracts["ConsentRegistry"]["address"], contracts["TrialRegistry"]["address"]
        contracts["ConsentRegistry"]["address"], contracts["TrialRegistry"]["address"] = trial, consent

    path = _edit(root, swap)
    trial_address = _manifest(root)["contracts"]["ConsentRegistry"]["address"]
    with pytest.raises(DeploymentError) as caught:
        ConsentClient.from_manifest(web3, root)
    assert str(caught.value) == (
        f"{path}: ConsentRegistry at {trial_address} holds no ConsentRegistry (it holds TrialRegistry) — "
        "was the manifest edited?"
    )
    with pytest.raises(DeploymentError, match="holds no"):
        TrialClient.from_manifest(web3, root)  # every address is checked, not only the client's own


def test_an_address_without_code_or_with_a_bad_checksum_is_refused(root, sender):
    from carechain.clients import ConsentClient

    deployments.deploy(web3, sender, root)
    nobody = "0x" + "12" * 20
    _edit(root, lambda contracts: contracts["CredentialRegistry"].update(address=nobody))
    with pytest.raises(DeploymentError, match=f"CredentialRegistry at {nobody} holds no code"):
        ConsentClient.from_manifest(web3, root)
    _edit(
        root,
        lambda contracts: contracts["CredentialRegistry"].update(
            address="0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"
        ),
    )
    with pytest.raises(
        DeploymentError, match="address 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD has a bad checksum"
    ):
        ConsentClient.from_manifest(web3, root)


def test_a_deploy_re_run_over_a_checked_manifest_reuses_everything(root, sender):
    first = deployments.deploy(web3, sender, root)
    from carechain.clients import AccessClient

    AccessClient.from_manifest(web3, root)
    again = deployments.deploy(web3, sender, root)
    assert again.contracts == first.contracts


def test_review_r1_a_trial_registry_wired_to_a_rogue_credential_registry_is_refused(root, sender):
    """Review round 1, (5): the code check blanks immutables, which are the dependency addresses; so each
    contract's getters are read against the manifest: a TrialRegistry built against a rogue
    CredentialRegistry (same code, another admin) is one DeploymentError, not a trusted registry."""
    from carechain.clients import ConsentClient, TrialClient

    manifest = deployments.deploy(web3, sender, root)
    TrialClient.from_manifest(web3, root)  # passes, and is remembered as passed in this process
    registry = deployments.load_artifact(root, "CredentialRegistry")
    rogue = sender.wait(
        sender.send(sender.constructor(registry.abi, registry.bytecode, accounts[6].address, 0), registry.abi)
    ).contract_address
    trial = deployments.load_artifact(root, "TrialRegistry")
    wired = sender.wait(
        sender.send(
            sender.constructor(
                trial.abi,
                trial.bytecode,
                manifest.address("ConsentRegistry"),
                rogue,
                manifest.address("ConsentGrants"),
            ),
            trial.abi,
        )
    ).contract_address
    path = _edit(root, lambda contracts: contracts["TrialRegistry"].update(address=wired))
    with pytest.raises(DeploymentError) as caught:
        ConsentClient.from_manifest(web3, root)
    assert str(caught.value) == (
        f"{path}: TrialRegistry at {wired} has credentials() = {rogue}, not the CredentialRegistry "
        f"{manifest.address('CredentialRegistry')} the manifest records — was the manifest edited?"
    )
