"""`carechain admin`: a registrar appointed and removed through the timelock, as the multisig would do it."""

from __future__ import annotations

import json

import pytest
from brownie import accounts, chain
from cli_fixtures import funded, ok
from eth_utils.crypto import keccak

pytest_plugins = ["cli_fixtures"]

DELAY = 3600
SCHEDULE = "0x" + keccak(text="schedule(address,uint256,bytes,bytes32,bytes32,uint256)")[:4].hex()
EXECUTE = "0x" + keccak(text="execute(address,uint256,bytes,bytes32,bytes32)")[:4].hex()
GRANT_ROLE = "0x" + keccak(text="grantRole(bytes32,address)")[:4].hex()


@pytest.fixture
def multisig():
    return funded()


@pytest.fixture
def governed(run, multisig):
    """A local deploy that opts in: the multisig (a plain key here) proposes and executes."""
    return json.loads(
        ok(run("--json", "deploy", "--admin", multisig.address, "--timelock-delay", str(DELAY))).stdout
    )["governance"]


def test_appoint_prints_what_the_multisig_submits(run, governed):
    registrar = accounts[7].address
    plan = json.loads(ok(run("--json", "admin", "appoint-registrar", registrar)).stdout)
    assert plan["command"] == "appoint-registrar" and plan["account"] == registrar
    assert plan["state"] == "unset" and plan["readyAt"] is None
    assert plan["timelock"] == governed["timelock"]
    assert plan["call"]["data"].startswith(GRANT_ROLE) and plan["call"]["data"].endswith(
        registrar[2:].lower()
    )
    assert (plan["call"]["value"], plan["call"]["delay"]) == (0, DELAY)
    assert plan["call"]["salt"] == plan["call"]["predecessor"] == "0x" + "00" * 32
    assert plan["schedule"]["to"] == plan["execute"]["to"] == governed["timelock"]
    assert plan["schedule"]["data"].startswith(SCHEDULE) and plan["execute"]["data"].startswith(EXECUTE)
    text = ok(run("admin", "appoint-registrar", registrar)).stdout
    assert f"operation {plan['operation']} (unset)" in text and plan["schedule"]["data"] in text


def test_send_schedules_waits_then_executes(run, governed, multisig):
    registrar = accounts[7].address
    scheduled = json.loads(
        ok(run("--json", "admin", "appoint-registrar", registrar, "--send", key=multisig)).stdout
    )
    operation = scheduled["operation"]
    assert scheduled["action"].startswith("scheduled (ready at ")
    status = json.loads(ok(run("--json", "admin", "status", operation)).stdout)
    assert status == {"operation": operation, "state": "waiting", "readyAt": scheduled["readyAt"]}

    early = run("admin", "appoint-registrar", registrar, "--send", key=multisig)
    assert early.exit_code == 1
    assert early.output.startswith(f"error: operation {operation} is scheduled and waits until ")
    assert len(early.output.strip().splitlines()) == 1

    chain.sleep(DELAY)
    chain.mine()
    assert "ready" in ok(run("admin", "status", operation)).stdout
    executed = json.loads(
        ok(run("--json", "admin", "appoint-registrar", registrar, "--send", key=multisig)).stdout
    )
    assert executed["action"] == "executed"
    assert json.loads(ok(run("--json", "admin", "status", operation)).stdout)["state"] == "done"
    again = run("admin", "appoint-registrar", registrar)
    assert again.exit_code == 1 and again.output == f"error: {registrar} is already a registrar\n"
    summary = json.loads(ok(run("--json", "admin", "status")).stdout)
    assert summary["credentialAdmin"] == summary["timelock"] == governed["timelock"]
    assert summary["minDelay"] == DELAY


def test_cancel_a_scheduled_removal(run, governed, multisig):
    registrar = accounts[0].address  # not a registrar yet: appoint first, as the fixture deploys with none
    refused = run("admin", "revoke-registrar", registrar)
    assert refused.exit_code == 1 and refused.output == f"error: {registrar} is not a registrar\n"
    operation = json.loads(
        ok(run("--json", "admin", "appoint-registrar", registrar, "--send", key=multisig)).stdout
    )["operation"]
    plan = json.loads(ok(run("--json", "admin", "cancel", operation)).stdout)
    assert plan["cancel"]["to"] == governed["timelock"]
    assert plan["cancel"]["data"] == "0x" + keccak(text="cancel(bytes32)")[:4].hex() + operation[2:]
    ok(run("admin", "cancel", operation, "--send", key=multisig))
    assert json.loads(ok(run("--json", "admin", "status", operation)).stdout)["state"] == "unset"
    twice = run("admin", "cancel", operation)
    assert twice.exit_code == 1 and "is unset: only a scheduled one is cancelled" in twice.output


def test_only_the_proposer_schedules(run, governed):
    stranger = funded()
    refused = run("admin", "appoint-registrar", accounts[7].address, "--send", key=stranger)
    assert refused.exit_code == 1
    assert refused.output.startswith(f"error: AccessControlUnauthorizedAccount(account={stranger.address}")
    assert "Traceback" not in refused.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("appoint-registrar", "0x1234"), "registrar '0x1234' is not an Ethereum address"),
        (("appoint-registrar", "0x" + "ab" * 20, "--salt", "0x12"), "a salt is 32 bytes, got 1"),
        (("status", "nothex"), "operation id 'nothex' is not hex"),
    ],
)
def test_bad_input_is_one_line(run, governed, args, message):
    result = run("admin", *args)
    assert result.exit_code != 0
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_a_deployment_without_a_timelock_says_how_registrars_are_appointed(run):
    ok(run("deploy"))  # a local chain's default: the deployer appoints directly
    result = run("admin", "status")
    assert result.exit_code == 1
    assert "has no timelock" in result.output and "carechain credential add-registrar" in result.output
