"""Who appoints registrars (finding A.6): on a public chain a timelock whose proposer and executor is the
operator's multisig administers CredentialRegistry; the deploy refuses to leave the deployer as admin
unless told so; the manifest records the timelock, and a re-run or an interrupted run carries on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from brownie import accounts, chain, web3
from conftest import EMERGENCY, REGISTRAR_ROLE, license_hash
from eth_utils.crypto import keccak

from carechain.clients.credentials import CredentialClient
from carechain.clients.governance import OperationState, TimelockClient
from carechain.core import deployments
from carechain.core.sender import Sender
from carechain.errors import ERROR_CLASSES, DeploymentError

REPO = Path(__file__).parents[2]
UNCONSCIOUS = keccak(text="carechain.break-glass.UNCONSCIOUS")
DELAY = 2 * 24 * 3600  # the default on a public chain
ZERO = "0x" + "00" * 20
GAS = 500_000  # given, not estimated: with automining off each estimate would run before the others land


@pytest.fixture
def root(tmp_path):
    (tmp_path / "build").symlink_to(REPO / "build")
    return tmp_path


@pytest.fixture
def public_chain(monkeypatch):
    """Deploy as on Sepolia or mainnet: the chain id is not a local one."""
    monkeypatch.setattr(deployments, "is_local_chain", lambda chain_id: False)


def _contract(manifest: deployments.Manifest, root: Path, name: str) -> Any:
    return web3.eth.contract(manifest.address(name), abi=deployments.load_abi(root, name))


def _one_block(*calls: tuple[Any, str]) -> list[Any]:
    """Send each (contract function, sender) with automining off, then mine them all in one block."""
    web3.provider.make_request("evm_setAutomine", [False])
    try:
        hashes = [
            web3.eth.send_transaction(function.build_transaction({"from": sender, "gas": GAS}))
            for function, sender in calls
        ]
        web3.provider.make_request("evm_mine", [])
    finally:
        web3.provider.make_request("evm_setAutomine", [True])
    return [web3.eth.get_transaction_receipt(tx_hash) for tx_hash in hashes]


def _deploy_governed(root: Path, delay: int = DELAY) -> deployments.Manifest:
    """As a public-chain deploy is made now: CARECHAIN_ADMIN names the multisig, a timelock waits `delay`."""
    governance = deployments.Governance(multisig=accounts[1].address, timelock_delay=delay)
    return deployments.deploy(web3, Sender(web3, accounts[0].address), root, governance=governance)


@pytest.mark.usefixtures("public_chain")
def test_review_A6_nobody_appoints_a_registrar_who_breaks_glass_in_one_block(root):
    """Finding A.6 (regression): the same block as the exploit's, on a deployment made as on a public chain
    now: the deployer holds no role, the multisig cannot appoint directly, and an appointment scheduled in
    that block cannot run in it, so no registrar attests and no glass is broken."""
    deployer, multisig, registrar, er_doctor, patient = (accounts[i] for i in (0, 1, 7, 8, 9))
    manifest = _deploy_governed(root)
    credentials = _contract(manifest, root, "CredentialRegistry")
    access = _contract(manifest, root, "AccessGrants")
    timelock = _contract(manifest, root, deployments.TIMELOCK)
    assert credentials.functions.defaultAdmin().call() == timelock.address
    appointment = (credentials.address, 0, _grant_call(credentials, registrar), bytes(32), bytes(32))

    receipts = _one_block(
        (credentials.functions.grantRole(REGISTRAR_ROLE, registrar.address), deployer.address),
        (credentials.functions.grantRole(REGISTRAR_ROLE, registrar.address), multisig.address),
        (timelock.functions.schedule(*appointment, DELAY), multisig.address),
        (timelock.functions.execute(*appointment), multisig.address),
        (
            credentials.functions.attest(
                er_doctor.address, EMERGENCY, license_hash(er_doctor, EMERGENCY), 0, 0
            ),
            registrar.address,
        ),
        (access.functions.breakGlass(patient.address, UNCONSCIOUS, 3600), er_doctor.address),
    )
    assert [receipt["status"] for receipt in receipts] == [0, 0, 1, 0, 0, 0]
    assert not credentials.functions.hasRole(REGISTRAR_ROLE, registrar.address).call()
    assert access.functions.episodeCount().call() == 0


def _grant_call(credentials: Any, registrar: Any) -> bytes:
    return bytes.fromhex(
        credentials.encode_abi("grantRole", [REGISTRAR_ROLE, registrar.address]).removeprefix("0x")
    )


def _clients(manifest: deployments.Manifest, root: Path, who: Any) -> tuple[Any, Any]:
    sender = Sender(web3, who.address)
    return (
        TimelockClient.from_manifest(web3, root, sender),
        CredentialClient.from_manifest(web3, root, sender),
    )


def test_an_appointment_waits_the_timelock_delay_then_the_registrar_attests(root):
    """Local chains opt in the same way; the errors are OpenZeppelin's, decoded to typed exceptions."""
    multisig, registrar, er_doctor = accounts[1], accounts[7], accounts[8]
    manifest = _deploy_governed(root)
    timelock, as_multisig = _clients(manifest, root, multisig)
    _, as_deployer = _clients(manifest, root, accounts[0])
    with pytest.raises(ERROR_CLASSES["AccessControlUnauthorizedAccount"]) as refused:
        as_deployer.add_registrar(registrar.address)
    assert refused.value.arguments == {"account": accounts[0].address, "neededRole": bytes(32)}
    with pytest.raises(ERROR_CLASSES["AccessControlUnauthorizedAccount"]):
        as_multisig.add_registrar(registrar.address)

    operation = TimelockClient.registrar_operation(as_multisig, True, registrar.address)
    operation_id = timelock.operation_id(operation)
    with pytest.raises(ERROR_CLASSES["TimelockInsufficientDelay"]):
        timelock.schedule(operation, DELAY - 1)
    scheduled = timelock.schedule(operation, DELAY)
    assert timelock.state(operation_id) is OperationState.WAITING
    assert timelock.ready_at(operation_id) == web3.eth.get_block(scheduled.block_number)["timestamp"] + DELAY
    with pytest.raises(ERROR_CLASSES["TimelockUnexpectedOperationState"]) as early:
        timelock.execute(operation)
    assert early.value.arguments["operationId"] == operation_id

    chain.sleep(DELAY)
    chain.mine()
    assert timelock.state(operation_id) is OperationState.READY
    timelock.execute(operation)
    assert timelock.state(operation_id) is OperationState.DONE
    as_registrar = as_multisig.with_sender(Sender(web3, registrar.address))
    as_registrar.attest(er_doctor.address, "EMERGENCY", license_hash(er_doctor, EMERGENCY))
    assert as_registrar.has_credential(er_doctor.address, "EMERGENCY")


def test_a_scheduled_removal_can_be_cancelled(root):
    multisig = accounts[1]
    manifest = _deploy_governed(root, delay=60)
    timelock, registry = _clients(manifest, root, multisig)
    operation = TimelockClient.registrar_operation(registry, False, accounts[7].address)
    timelock.schedule(operation, 60)
    timelock.cancel(timelock.operation_id(operation))
    assert timelock.state(timelock.operation_id(operation)) is OperationState.UNSET
    chain.sleep(60)
    with pytest.raises(ERROR_CLASSES["TimelockUnexpectedOperationState"]):
        timelock.execute(operation)


@pytest.mark.usefixtures("public_chain")
def test_a_public_chain_refuses_the_deployer_as_admin_before_sending_anything(root):
    block = web3.eth.block_number
    with pytest.raises(DeploymentError, match="CARECHAIN_ADMIN=<multisig address>"):
        deployments.deploy(web3, Sender(web3, accounts[0].address), root)
    assert web3.eth.block_number == block
    assert not (root / "deployments").exists()


@pytest.mark.usefixtures("public_chain")
def test_a_public_chain_keeps_the_deployer_as_admin_when_told_so(root):
    governance = deployments.Governance(deployer_admin=True)
    manifest = deployments.deploy(web3, Sender(web3, accounts[0].address), root, governance=governance)
    credentials = _contract(manifest, root, "CredentialRegistry")
    assert credentials.functions.defaultAdmin().call() == accounts[0].address
    assert credentials.functions.defaultAdminDelay().call() == deployments.LIVE_ADMIN_DELAY
    assert deployments.TIMELOCK not in manifest.contracts
    assert manifest.data["governance"] == {
        "credentialAdmin": accounts[0].address,
        "credentialAdminDelay": deployments.LIVE_ADMIN_DELAY,
    }


@pytest.mark.parametrize(
    ("governance", "message"),
    [
        (deployments.Governance(multisig=ZERO, deployer_admin=True), "exclude each other"),
        (deployments.Governance(multisig=ZERO, timelock_delay=0), "0 s appoints registrars at once"),
    ],
)
@pytest.mark.usefixtures("public_chain")
def test_contradictory_governance_is_refused(root, governance, message):
    with pytest.raises(DeploymentError, match=message):
        deployments.deploy(web3, Sender(web3, accounts[0].address), root, governance=governance)


def test_the_manifest_records_the_timelock_its_delay_and_the_multisig(root):
    manifest = _deploy_governed(root)
    timelock = manifest.address(deployments.TIMELOCK)
    data = json.loads(manifest.path.read_text())
    assert data["governance"] == {
        "credentialAdmin": timelock,
        "credentialAdminDelay": 0,
        "timelock": timelock,
        "timelockDelay": DELAY,
        "multisig": accounts[1].address,
    }
    assert data["contracts"]["CredentialRegistry"]["dependsOn"] == {deployments.TIMELOCK: timelock}
    assert json.loads((root / "abi" / f"{deployments.TIMELOCK}.json").read_text()) == deployments.load_abi(
        REPO, deployments.TIMELOCK
    )
    assert data["contracts"][deployments.TIMELOCK]["gasUsed"] > 0


def test_a_re_run_reuses_the_timelock_and_everything_under_it(root):
    first = _deploy_governed(root)
    block = web3.eth.block_number
    logged: list[str] = []
    deployments.deploy(
        web3,
        Sender(web3, accounts[0].address),
        root,
        log=logged.append,
        governance=deployments.Governance(multisig=accounts[1].address, timelock_delay=DELAY),
    )
    assert web3.eth.block_number == block
    assert any(
        line.startswith(f"{deployments.TIMELOCK}: reusing {first.address(deployments.TIMELOCK)}")
        for line in logged
    )


def test_an_interrupted_timelock_deploy_is_adopted_not_repeated(root):
    """The run sent the timelock's deploy and died: the re-run adopts it and carries on under it."""
    tx_hash = _interrupted_timelock_deploy(root, accounts[1].address)
    resumed = _deploy_governed(root)
    adopted = web3.eth.get_transaction_receipt(tx_hash)["contractAddress"]
    assert resumed.address(deployments.TIMELOCK) == adopted
    assert _contract(resumed, root, "CredentialRegistry").functions.defaultAdmin().call() == adopted
    governance = resumed.data["governance"]
    assert (governance["multisig"], governance["timelockDelay"]) == (accounts[1].address, DELAY)


def _interrupted_timelock_deploy(root: Path, multisig: str, delay: int = DELAY) -> Any:
    """What a run leaves when it dies after sending the timelock's deploy: a pending manifest entry."""
    artifact = deployments.load_artifact(root, deployments.TIMELOCK)
    sender = Sender(web3, accounts[0].address)
    tx_hash = sender.send(
        sender.constructor(artifact.abi, artifact.bytecode, delay, [multisig], [multisig]), artifact.abi
    )
    manifest = deployments.Manifest.load(root, web3.eth.chain_id)
    manifest.contracts[deployments.TIMELOCK] = {
        "status": "pending",
        "txHash": "0x" + bytes(tx_hash).hex(),
        "bytecodeHash": artifact.bytecode_hash,
        "dependsOn": {},
    }
    manifest.save()
    return tx_hash


@pytest.mark.parametrize("delay", [DELAY, 60])
def test_review_r1_an_adopted_timelock_of_another_multisig_or_delay_is_refused(root, delay):
    """Review round 1, (1): run 1 sent the timelock's deploy for multisig A (or another delay) and died;
    run 2 with CARECHAIN_ADMIN=B adopts the timelock but checks it as it checks a reused one: refused in
    one line, nothing more sent, and no manifest names B as the multisig."""
    web3.eth.wait_for_transaction_receipt(_interrupted_timelock_deploy(root, accounts[1].address, delay))
    block = web3.eth.block_number
    other = deployments.Governance(multisig=accounts[2].address, timelock_delay=DELAY)
    with pytest.raises(DeploymentError, match="Change the timelock through itself") as refused:
        deployments.deploy(web3, Sender(web3, accounts[0].address), root, governance=other)
    assert "\n" not in str(refused.value)
    assert web3.eth.block_number == block
    data = json.loads((root / "deployments" / f"{web3.eth.chain_id}.json").read_text())
    assert "governance" not in data and "CredentialRegistry" not in data["contracts"]
    with pytest.raises(DeploymentError, match="Change the timelock through itself"):  # and on every re-run
        deployments.deploy(web3, Sender(web3, accounts[0].address), root, governance=other)


def test_review_r1_a_deployer_administered_registry_is_not_replaced_for_a_timelock(root):
    """Review round 1, (6): a re-run with CARECHAIN_ADMIN over a deployment whose deployer administers
    CredentialRegistry is refused before anything is sent (it would redeploy the registry and everything
    under it); with replace_registry (--replace-registry) it is done."""
    first = deployments.deploy(web3, Sender(web3, accounts[0].address), root)
    block = web3.eth.block_number
    with pytest.raises(DeploymentError, match="beginDefaultAdminTransfer") as refused:
        _deploy_governed(root)
    message = str(refused.value)
    assert "\n" not in message and "--replace-registry" in message and "docs/governance.md" in message
    assert f"is administered by {accounts[0].address}, not a timelock" in message
    assert web3.eth.block_number == block
    assert deployments.Manifest.load(root, web3.eth.chain_id).contracts == first.contracts
    replaced = deployments.deploy(
        web3,
        Sender(web3, accounts[0].address),
        root,
        governance=deployments.Governance(multisig=accounts[1].address, timelock_delay=DELAY),
        replace_registry=True,
    )
    assert replaced.address("CredentialRegistry") != first.address("CredentialRegistry")
    assert replaced.address("ConsentRegistry") == first.address("ConsentRegistry")
    with pytest.raises(DeploymentError, match="is administered by the timelock"):  # and back, the same
        deployments.deploy(web3, Sender(web3, accounts[0].address), root)


@pytest.mark.usefixtures("public_chain")
def test_review_r1_a_public_chain_redeploys_a_trial_registry_alone_without_an_admin_setting(root):
    """Review round 1, (10): a deploy that does not include CredentialRegistry appoints nobody, so it is
    not refused for want of CARECHAIN_ADMIN; one that includes it still is."""
    first = _deploy_governed(root)
    trial = first.address("TrialRegistry")
    manifest = deployments.Manifest.load(root, web3.eth.chain_id)
    manifest.contracts["TrialRegistry"]["bytecodeHash"] = "0x" + "00" * 32  # as after a contract change
    manifest.save()
    again = deployments.deploy(web3, Sender(web3, accounts[0].address), root, names=("TrialRegistry",))
    assert again.address("TrialRegistry") != trial
    assert again.address("CredentialRegistry") == first.address("CredentialRegistry")
    with pytest.raises(DeploymentError, match="CARECHAIN_ADMIN=<multisig address>"):
        deployments.deploy(web3, Sender(web3, accounts[0].address), root, names=("CredentialRegistry",))


def test_review_r1_the_code_check_refuses_a_timelock_that_does_not_administer_the_registry(root):
    """Review round 1, (5): the manifest's timelock is checked too: its code, and that it is
    CredentialRegistry's default admin."""
    from carechain.clients import ConsentClient

    manifest = _deploy_governed(root)
    ConsentClient.from_manifest(web3, root)
    tx_hash = _interrupted_timelock_deploy(root, accounts[2].address)  # another timelock, admin of nothing
    other = web3.eth.get_transaction_receipt(tx_hash)["contractAddress"]
    manifest.contracts[deployments.TIMELOCK]["address"] = other
    manifest.contracts["CredentialRegistry"]["dependsOn"][deployments.TIMELOCK] = other
    manifest.save()
    with pytest.raises(
        DeploymentError, match=f"has defaultAdmin\\(\\) = {manifest.data['governance']['timelock']}"
    ):
        ConsentClient.from_manifest(web3, root)
    manifest.contracts[deployments.TIMELOCK]["address"] = manifest.address("ConsentRegistry")
    manifest.save()
    with pytest.raises(
        DeploymentError, match=f"{deployments.TIMELOCK} at .* holds no {deployments.TIMELOCK}"
    ):
        ConsentClient.from_manifest(web3, root)


def test_a_re_run_asking_for_another_delay_is_refused_not_redeployed(root):
    _deploy_governed(root)
    block = web3.eth.block_number
    with pytest.raises(DeploymentError, match="Change the timelock through itself"):
        _deploy_governed(root, delay=60)
    assert web3.eth.block_number == block
