"""ConsentGrantsClient's other acts: a signed scope-leaf withdrawal, a signed nonce burn, and what the
grantee, its agent, the agent's operator and an issuer do to a grant; each refusal as its named exception."""

from __future__ import annotations

from dataclasses import replace

import pytest
from brownie import ConsentGrants, accounts
from eth_utils.crypto import keccak
from grants_support import HMB, client_of, grant_input

from carechain import errors
from carechain.clients import AgentStatus
from carechain.core.deployments import ISSUER_ROLE
from carechain.core.grants import FLAG_SCOPE_IS_ROOT, AgentKind, Op, Status, category_scope, resource_hash
from carechain.offchain.scopes import ScopeTree

pytestmark = pytest.mark.usefixtures("wallet_never_on_chain")

INCIDENT = keccak(text="carechain:reason:incident")
LABS, GENOMICS = category_scope("labs"), category_scope("genomics")


@pytest.fixture(scope="module")
def agent(project):
    """The hospital's session key, acting for it."""
    return client_of(project, accounts[6])


@pytest.fixture(scope="module")
def operator(project):
    """The company accountable for the agent."""
    return client_of(project, accounts[7])


def test_a_signed_leaf_withdrawal_closes_that_resource_only(relay, hospital, key_root):
    subject = key_root.grant_keys("subject", 20)
    tree = ScopeTree(subject.scope_salt, [LABS, GENOMICS])
    base = grant_input(subject, hospital.sender.address)
    relay.sign_and_grant(
        subject, replace(base, scope_ref=tree.root, policy=replace(base.policy, flags=FLAG_SCOPE_IS_ROOT))
    )
    labs, genomics = resource_hash(subject.scope_salt, LABS), resource_hash(subject.scope_salt, GENOMICS)
    assert hospital.check_access(subject.commitment, HMB, Op.READ, genomics, tree.proof(GENOMICS))

    leaf = tree.leaf(GENOMICS)
    relay.revoke_scope_leaf(
        subject.commitment, leaf, relay.sign_revoke_leaf(subject, subject.commitment, leaf)
    )

    assert relay.is_leaf_withdrawn(subject.commitment, leaf)
    assert not hospital.check_access(subject.commitment, HMB, Op.READ, genomics, tree.proof(GENOMICS))
    assert hospital.check_access(subject.commitment, HMB, Op.READ, labs, tree.proof(LABS))
    with pytest.raises(errors.ERROR_CLASSES["LeafAlreadyWithdrawn"]):
        relay.revoke_scope_leaf(
            subject.commitment, leaf, relay.sign_revoke_leaf(subject, subject.commitment, leaf)
        )
    with pytest.raises(errors.SubjectSignatureRequired):
        relay.revoke_scope_leaf(subject.commitment, tree.leaf(LABS))


def test_a_burned_nonce_voids_a_signature_given_out(relay, hospital, key_root):
    subject = key_root.grant_keys("subject", 21)
    signed = grant_input(subject, hospital.sender.address)
    given_out = relay.sign_grant(subject, signed)  # the patient changes their mind before it is sent

    result = relay.burn_nonce(subject.commitment, relay.sign_burn_nonce(subject))

    (event,) = relay.contract.events.NonceBurned().process_receipt(result.receipt)
    assert (bytes(event["args"]["subjectCommit"]), event["args"]["nonce"]) == (subject.commitment, 0)
    assert relay.nonce(subject.commitment) == 1 and not relay.get_grant(subject.commitment).exists
    with pytest.raises(errors.InvalidSubjectSignature):
        relay.grant(signed, given_out)
    relay.sign_and_grant(subject, signed)  # signed afresh with nonce 1
    assert relay.is_active(subject.commitment)


def test_the_grantee_suspends_resumes_and_renounces(relay, hospital, operator, key_root):
    subject = key_root.grant_keys("subject", 22)
    relay.sign_and_grant(subject, grant_input(subject, hospital.sender.address))

    with pytest.raises(errors.ERROR_CLASSES["NotAuthorized"]):
        operator.suspend(subject.commitment, INCIDENT)  # no agent leg: no operator of it
    hospital.suspend(subject.commitment, INCIDENT)
    assert relay.get_grant(subject.commitment).status is Status.SUSPENDED
    assert not relay.is_active(subject.commitment)
    hospital.resume(subject.commitment)
    assert relay.is_active(subject.commitment)
    with pytest.raises(errors.NotGrantee):
        relay.renounce(subject.commitment)
    hospital.renounce(subject.commitment)
    assert relay.effective_status(subject.commitment) is Status.RENOUNCED_BY_GRANTEE
    with pytest.raises(errors.WrongStatus):
        hospital.resume(subject.commitment)


def test_an_agent_its_operator_and_the_usage_it_commits(relay, hospital, agent, operator, key_root):
    subject = key_root.grant_keys("subject", 23)
    base = grant_input(subject, hospital.sender.address)
    relay.sign_and_grant(
        subject,
        replace(
            base,
            agent=agent.sender.address,
            policy=replace(base.policy, agent_kind=AgentKind.SESSION_KEY, uses_max=5),
        ),
    )
    agent.set_agent_operator(agent.sender.address, operator.sender.address)
    assert relay.agent_operator_of(agent.sender.address) == operator.sender.address
    assert relay.agent_operator_of(relay.sender.address) is None

    head = keccak(text="usage chain head after 2 records")
    agent.commit_usage(subject.commitment, 1, head, 2)
    assert (
        relay.usage_count(subject.commitment, 1) == 2 and relay.get_grant(subject.commitment).use_count == 2
    )
    with pytest.raises(errors.ERROR_CLASSES["UsageCountDecreased"]):
        agent.commit_usage(subject.commitment, 1, head, 1)
    operator.suspend(subject.commitment, INCIDENT)
    with pytest.raises(errors.ERROR_CLASSES["NotAuthorized"]):
        hospital.resume(subject.commitment)  # only the party that suspended lifts the hold
    operator.resume(subject.commitment)

    hospital.revoke_agent(subject.commitment, INCIDENT)
    grant = relay.get_grant(subject.commitment)
    assert (grant.agent_status, grant.status) == (AgentStatus.REVOKED, Status.ACTIVE)
    with pytest.raises(errors.ERROR_CLASSES["NotAuthorized"]):
        agent.commit_usage(subject.commitment, 1, head, 3)
    with pytest.raises(errors.ERROR_CLASSES["NoAgentLeg"]):
        hospital.revoke_agent(subject.commitment, INCIDENT)


def test_an_issuer_terminates_the_grants_made_to_it(relay, hospital, key_root):
    subject = key_root.grant_keys("subject", 24)
    relay.sign_and_grant(subject, grant_input(subject, hospital.sender.address))
    with pytest.raises(errors.ERROR_CLASSES["AccessControlUnauthorizedAccount"]):
        hospital.terminate(subject.commitment, INCIDENT)

    ConsentGrants.at(relay.address).grantRole(ISSUER_ROLE, hospital.sender.address, {"from": accounts[0]})
    hospital.terminate(subject.commitment, INCIDENT)

    assert relay.effective_status(subject.commitment) is Status.TERMINATED_BY_ISSUER
