"""The patient portal in headless Chromium (Debian's, driven by playwright-core from tests/portal/e2e.mjs).

Each test deploys with the library into a folder of its own on brownie's Anvil, tells a patient's
story through the clients (a GP's grant and a read the hospital logs with the access client, a
break-glass, a delegate), serves the page (and the relayer), runs the browser script with a test
wallet holding the patient's key, and checks on chain what the page did. Screenshots land in
build/portal/<test>/; with CARECHAIN_PORTAL_SCREENSHOT set (`make portal-screenshot`), the one
taken after the signed grant is copied to docs/portal.png.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from brownie import accounts, web3
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from carechain.clients.access import AccessClient
from carechain.clients.consent import ConsentClient
from carechain.core.deployments import deploy
from carechain.core.purposes import Scope, purpose_id
from carechain.core.sender import Sender
from carechain.dev.localnode import free_port
from carechain.dev.portal import Site, serving
from carechain.dev.stacks import Story, StoryCast, chain_data, seed_story, serving_relay

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("e2e.mjs")
ARTIFACTS = ROOT / "build" / "portal"
SCREENSHOT = ROOT / "docs" / "portal.png"
SCREENSHOT_ENV = "CARECHAIN_PORTAL_SCREENSHOT"
CHROMIUM = Path("/usr/bin/chromium")
HMB, TREAT = purpose_id("HMB"), purpose_id("TREAT")
LABS, MEDICATIONS = int(Scope.LABS), int(Scope.MEDICATIONS)


@pytest.fixture(scope="module")
def w3() -> Web3:
    return Web3(Web3.HTTPProvider(web3.provider.endpoint_uri))


@pytest.fixture(scope="module")
def data(w3: Web3, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The contracts deployed by the library, with their manifest and ABIs in a folder of this module."""
    folder = chain_data(tmp_path_factory.mktemp("chain"), ROOT)
    deploy(w3, Sender(w3, accounts[0].address), folder)
    return folder


@pytest.fixture
def patient() -> LocalAccount:
    """A patient with a key of their own (the test wallet's) and some ether for their own transactions."""
    account: LocalAccount = Account.create()
    accounts[0].transfer(account.address, "10 ether", silent=True)
    return account


@pytest.fixture
def story(w3: Web3, data: Path, patient: LocalAccount) -> Story:
    a = [account.address for account in accounts]
    return seed_story(
        w3,
        data,
        patient,
        StoryCast(admin=a[0], custodian=a[6], gp=a[2], er_doctor=a[8], reviewer=a[9], parent=a[3]),
    )


@pytest.fixture(scope="module")
def researcher() -> str:
    return str(accounts[5].address)


@pytest.fixture(scope="module")
def relayer() -> str:
    return str(accounts[4].address)


def browse(url: str, data: Path, patient: LocalAccount, researcher: str, relayed: bool, shots: Path) -> Any:
    """Run tests/portal/e2e.mjs against the served page; what it saw (it fails on any failed check)."""
    assert CHROMIUM.is_file(), (
        "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
    )
    assert shutil.which("node"), "node is missing: `make test` installs Node.js"
    manifest = json.loads((data / "deployments" / f"{web3.eth.chain_id}.json").read_text())
    shutil.rmtree(shots, ignore_errors=True)  # no screenshot of an earlier run passes for this one's
    env = {
        **os.environ,
        "PORTAL_URL": url,
        "PORTAL_RPC_URL": web3.provider.endpoint_uri,
        "PORTAL_ARTIFACTS": str(shots),
        "PORTAL_RESEARCHER": researcher,
        "PORTAL_RELAY": "1" if relayed else "0",
        "PORTAL_CONSENT_REGISTRY": manifest["contracts"]["ConsentRegistry"]["address"],
        "PORTAL_PATIENT_KEY": "0x" + bytes(patient.key).hex(),
    }
    done = subprocess.run(
        ["node", str(SCRIPT)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"the browser script failed:\n{done.stderr}\n{done.stdout}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def check_story_shown(seen: dict[str, Any], story: Story) -> None:
    """The reads the hospital logged, the break-glass episode, the GP's grant and the delegate, in words."""
    gp_read, er_read = seen["reads"][1], seen["reads"][0]  # newest first
    assert "laboratory results" in gp_read and "treatment (TREAT)" in gp_read
    assert "a grant of this kind of record" in gp_read
    assert f"break the glass (episode {story.episode})" in er_read
    assert "emergency treatment (ETREAT)" in er_read
    (episode,) = seen["episodes"]
    assert episode.startswith(f"#{story.episode}") and "approved by" in episode
    (grant,) = seen["grants"]
    assert "laboratory results" in grant and "active" in grant
    (delegate,) = seen["delegates"]
    assert "active" in delegate


def sender_of_grant(w3: Web3, consent: ConsentClient, patient: str, purpose: bytes) -> str:
    (log,) = consent.contract.events.ConsentGranted().get_logs(
        argument_filters={"patient": patient, "purpose": purpose}, from_block=0
    )
    return str(w3.eth.get_transaction(log["transactionHash"])["from"])


def test_signed_consent_relayed_then_revoked(
    w3: Web3,
    data: Path,
    story: Story,
    patient: LocalAccount,
    researcher: str,
    relayer: str,
    tmp_path: Path,
) -> None:
    """The patient signs a consent (no gas; the relayer submits it), revokes it by signature too, gives a
    second one by transaction and is told in words why a duplicate is refused."""
    reads = AccessClient.from_manifest(w3, data).reads(patient=patient.address)
    assert [r.provider for r in reads] == [str(accounts[2].address), str(accounts[8].address)]
    balance = w3.eth.get_balance(patient.address)
    shots = ARTIFACTS / "relayed"
    with (
        serving_relay(w3, data, relayer, f"sqlite:///{tmp_path / 'relay.db'}") as relay,
        serving(Site(ROOT, data, relay), port=free_port()) as url,
    ):
        seen = browse(url, data, patient, researcher, relayed=True, shots=shots)

    check_story_shown(seen, story)
    assert seen["permittedAfterGrant"] and seen["balanceUnchanged"]
    assert "You paid no gas" in seen["signedGrant"]["text"]
    assert seen["duplicate"]["text"] == (
        f"You already have a live consent for {researcher[:6]}…{researcher[-4:]} for treatment (TREAT): "
        "revoke it first."
    )
    consent = ConsentClient.from_manifest(w3, data)
    assert not consent.is_permitted(patient.address, researcher, HMB, LABS)
    signed = consent.get_consent(patient.address, researcher, HMB)
    assert signed.granted_at > 0 and signed.revoked_at >= signed.granted_at
    assert signed.scopes == int(Scope.LABS | Scope.GENOMICS)
    assert consent.is_permitted(patient.address, researcher, TREAT, MEDICATIONS)
    assert consent.nonce(patient.address) == 2  # the signed grant and the signed revocation
    assert sender_of_grant(w3, consent, patient.address, HMB) == relayer
    assert sender_of_grant(w3, consent, patient.address, TREAT) == patient.address
    assert w3.eth.get_balance(patient.address) < balance  # only the TREAT transaction cost them gas
    if os.environ.get(SCREENSHOT_ENV):
        SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(shots / "02-after-signed-grant.png", SCREENSHOT)
    assert (shots / "02-after-signed-grant.png").stat().st_size > 10_000


def test_without_relayer_the_wallet_sends_transactions(
    w3: Web3, data: Path, story: Story, patient: LocalAccount, researcher: str
) -> None:
    """No relayer configured: signing is not offered, the wallet sends every consent and revocation."""
    shots = ARTIFACTS / "transactions"
    with serving(Site(ROOT, data, None), port=free_port()) as url:
        seen = browse(url, data, patient, researcher, relayed=False, shots=shots)

    check_story_shown(seen, story)
    assert seen["relayStatus"].startswith("No relayer is available")
    assert seen["permittedAfterGrant"] and not seen["balanceUnchanged"]
    consent = ConsentClient.from_manifest(w3, data)
    assert not consent.is_permitted(patient.address, researcher, HMB, LABS)
    assert consent.get_consent(patient.address, researcher, HMB).revoked_at > 0
    assert consent.is_permitted(patient.address, researcher, TREAT, MEDICATIONS)
    assert consent.nonce(patient.address) == 0  # nothing was signed
    assert sender_of_grant(w3, consent, patient.address, HMB) == patient.address
