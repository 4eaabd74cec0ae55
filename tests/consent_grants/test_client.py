"""carechain.clients.ConsentGrantsClient: a patient's per-grant keys sign, a relayer sends, the grant holds
what was signed; batches report the item that failed; sub-grants; each revert as its named exception; and
the patient's wallet appears in no transaction or log of any test."""

from __future__ import annotations

import pytest
from brownie import accounts, web3
from eth_utils.crypto import keccak
from grants_support import HMB, PROFILE, REPO, TERMS, client_of, grant_input
from web3.logs import DISCARD

from carechain import errors
from carechain.clients import AgentStatus, ConsentGrantsClient, FailedGrant, PurposeRegistryClient
from carechain.core import eip712, grants
from carechain.core.grants import FLAG_DELEGABLE, AgentKind, Op, Status
from carechain.core.profiles import purpose_code

pytestmark = pytest.mark.usefixtures("wallet_never_on_chain")

WITHDRAWN = keccak(text="carechain:reason:withdrawn")
ZERO32 = bytes(32)
GRU = purpose_code("GRU")  # the broader purpose HMB narrows


def sender_of(result) -> str:
    return web3.eth.get_transaction(result.tx_hash)["from"]


def test_a_relayed_grant_holds_exactly_what_the_subject_key_signed(relay, hospital, key_root):
    subject = key_root.grant_keys("subject", 0)
    signed = grant_input(subject, hospital.sender.address)
    result = relay.sign_and_grant(subject, signed)

    assert sender_of(result) == relay.sender.address != subject.address
    (event,) = relay.contract.events.ConsentGranted().process_receipt(result.receipt)
    assert bytes(event["args"]["grantId"]) == subject.commitment
    grant = relay.get_grant(subject.commitment)
    assert grant.as_input() == signed
    assert (grant.status, grant.depth, grant.parent_grant_id) == (Status.ACTIVE, 0, ZERO32)
    assert (grant.agent_kind, grant.agent_status) == (AgentKind.NONE, AgentStatus.NONE)
    assert (grant.use_count, grant.last_used_at) == (0, 0)
    assert relay.is_active(subject.commitment) and relay.effective_status(subject.commitment) is Status.ACTIVE
    assert relay.subject_of(subject.commitment) == subject.commitment
    assert relay.nonce(subject.commitment) == 1
    assert relay.grant_digest(signed, 0) == eip712.digest(grants.grant_typed_data(relay.domain(), signed, 0))


def test_two_grants_of_one_patient_share_nothing_but_grantee_templates_and_purpose(relay, hospital, key_root):
    first, second = key_root.grant_keys("subject", 0), key_root.grant_keys("subject", 1)
    sent = [
        relay.sign_and_grant(first, grant_input(first, hospital.sender.address)),
        relay.sign_and_grant(
            second, grant_input(second, hospital.sender.address, lead=600, lasts=200 * 86400)
        ),
    ]
    one, two = relay.get_grant(first.commitment), relay.get_grant(second.commitment)

    assert one.subject_commit != two.subject_commit
    assert one.scope_ref != two.scope_ref  # the same category under two scope salts
    assert (one.not_before, one.expires_at) != (two.not_before, two.expires_at)
    assert (
        (one.grantee, one.purpose_profile_ref, one.terms_ref, one.purpose_code)
        == (
            two.grantee,
            PROFILE,
            TERMS,
            HMB,
        )
        == (two.grantee, two.purpose_profile_ref, two.terms_ref, two.purpose_code)
    )
    # Their calldata shares no word but the grantee, the templates, the ABI's offsets and lengths and the
    # signatures' v (27 or 28, padded).
    words = [_words(bytes(web3.eth.get_transaction(r.tx_hash)["input"])[4:]) for r in sent]
    shared = {word for word in words[0] & words[1] if int.from_bytes(word, "big") >= 2**16}
    v_words = {bytes([27]) + bytes(31), bytes([28]) + bytes(31)}
    assert shared - v_words == {bytes(12) + bytes.fromhex(hospital.sender.address[2:]), PROFILE, TERMS}


def _words(data: bytes) -> set[bytes]:
    return {data[i : i + 32] for i in range(0, len(data), 32)}


def test_a_signed_revocation_relayed_ends_the_grant(relay, hospital, key_root):
    subject = key_root.grant_keys("subject", 0)
    relay.sign_and_grant(subject, grant_input(subject, hospital.sender.address))
    epoch = relay.revocation_epoch()

    result = relay.sign_and_revoke(subject, subject.commitment, WITHDRAWN)

    assert sender_of(result) == relay.sender.address
    (event,) = relay.contract.events.ConsentRevoked().process_receipt(result.receipt)
    assert bytes(event["args"]["by"]) == subject.commitment and event["args"]["reasonCode"] == WITHDRAWN
    assert not relay.is_active(subject.commitment)
    assert relay.effective_status(subject.commitment) is Status.REVOKED_BY_SUBJECT
    assert relay.get_grant(subject.commitment).status is Status.REVOKED_BY_SUBJECT
    assert relay.revocation_epoch() == epoch + 1 and relay.nonce(subject.commitment) == 2


def test_a_batch_reports_exactly_the_front_run_item(project, relay, hospital, key_root):
    subjects = [key_root.grant_keys("subject", i) for i in (2, 3, 4)]
    items = [
        (g, relay.sign_grant(s, g))
        for s, g in ((s, grant_input(s, hospital.sender.address)) for s in subjects)
    ]
    # Someone who saw the batch in the mempool submits its second item alone first.
    client_of(project, accounts[5]).grant(*items[1])

    batch = relay.grant_batch(items)

    selector = keccak(text="GrantExists(bytes32)")[:4]
    assert batch.failed == (FailedGrant(1, subjects[1].commitment, selector, "GrantExists"),)
    assert batch.minted == (0, 2)
    granted = relay.contract.events.ConsentGranted().process_receipt(batch.result.receipt, errors=DISCARD)
    assert [bytes(e["args"]["grantId"]) for e in granted] == [subjects[0].commitment, subjects[2].commitment]
    assert all(relay.is_active(s.commitment) for s in subjects)


def test_a_delegable_grants_grantee_sub_grants_and_the_subjects_revocation_cascades(
    relay, hospital, lab, key_root
):
    subject = key_root.grant_keys("subject", 5)
    parent = grant_input(subject, hospital.sender.address, ops=Op.READ | Op.DERIVE, flags=FLAG_DELEGABLE)
    relay.sign_and_grant(subject, parent)
    narrower = grants.GrantInput(
        parent.scope_ref,
        PROFILE,
        TERMS,
        0,
        subject.commitment,
        lab.sender.address,
        parent.agent,
        grants.Policy(parent.policy.not_before, parent.policy.expires_at - 86400, Op.READ, HMB),
    )

    with pytest.raises(errors.NotGrantee):
        relay.sub_grant(subject.commitment, narrower)
    result, child = hospital.sub_grant(subject.commitment, narrower)

    (event,) = hospital.contract.events.ConsentSubGranted().process_receipt(result.receipt)
    assert bytes(event["args"]["grantId"]) == child and event["args"]["depth"] == 1
    held = relay.get_grant(child)
    assert (held.parent_grant_id, held.subject_commit, held.depth) == (
        subject.commitment,
        subject.commitment,
        1,
    )
    assert held.as_input() == narrower and relay.subject_of(child) == subject.commitment
    labs = parent.scope_ref
    assert lab.check_access(child, HMB, Op.READ, labs) and relay.is_active(child)

    relay.sign_and_revoke(subject, subject.commitment, WITHDRAWN)  # the root: lazily, the child too
    assert relay.get_grant(child).status is Status.ACTIVE
    assert relay.effective_status(child) is Status.REVOKED_BY_SUBJECT
    assert not relay.is_active(child) and not lab.check_access(child, HMB, Op.READ, labs)


def test_each_refusal_is_its_named_exception(relay, hospital, key_root):
    subject = key_root.grant_keys("subject", 6)
    signed = grant_input(subject, hospital.sender.address)

    with pytest.raises(errors.InvalidSubjectSignature) as stale:  # signed for a nonce not yet reached
        relay.grant(signed, relay.sign_grant(subject, signed, nonce=1))
    assert stale.value.arguments == {"subjectCommit": subject.commitment}
    other = key_root.grant_keys("subject", 7)
    forged = grants.signed_by_subject(other, grants.grant_typed_data(relay.domain(), signed, 0))
    with pytest.raises(errors.InvalidSubjectSignature):  # another subject key cannot open the commitment
        relay.grant(signed, forged)

    relay.sign_and_grant(subject, signed)
    with pytest.raises(errors.GrantExists) as taken:
        relay.sign_and_grant(subject, signed)
    assert taken.value.arguments == {"grantId": subject.commitment}
    with pytest.raises(
        errors.SubjectSignatureRequired
    ):  # ERC-8356's direct path: CareChain's keys never send
        relay.revoke_by_subject(subject.commitment, WITHDRAWN)
    relay.sign_and_revoke(subject, subject.commitment, WITHDRAWN)
    with pytest.raises(errors.WrongStatus) as ended:
        relay.sign_and_revoke(subject, subject.commitment, WITHDRAWN)
    assert ended.value.arguments == {"grantId": subject.commitment, "status": Status.REVOKED_BY_SUBJECT}
    with pytest.raises(errors.WrongStatus):
        hospital.suspend(subject.commitment)


def test_a_key_that_is_not_the_grants_subject_is_refused_before_anything_is_sent(relay, hospital, key_root):
    subject, other = key_root.grant_keys("subject", 8), key_root.grant_keys("subject", 9)
    signed = grant_input(subject, hospital.sender.address)
    relay.sign_and_grant(subject, signed)
    nonce = web3.eth.get_transaction_count(relay.sender.address)

    with pytest.raises(errors.InputError, match="not the subject"):
        relay.sign_and_grant(other, signed)
    with pytest.raises(errors.InputError, match="not the subject"):
        relay.sign_and_revoke(other, subject.commitment)
    with pytest.raises(errors.InputError, match="no grant"):
        relay.sign_and_revoke(other, other.commitment)
    with pytest.raises(errors.InputError, match="GrantInput"):
        relay.grant(signed.as_tuple(), b"")  # type: ignore[arg-type]
    with pytest.raises(errors.InputError, match="at least one"):
        relay.grant_batch([])
    with pytest.raises(errors.InputError, match="pair"):
        relay.grant_batch([signed])  # type: ignore[list-item]
    assert web3.eth.get_transaction_count(relay.sender.address) == nonce


def test_check_access_answers_for_the_grantee_and_its_scope_only(project, relay, hospital, key_root):
    subject = key_root.grant_keys("subject", 10)
    signed = grant_input(subject, hospital.sender.address)
    relay.sign_and_grant(subject, signed)
    labs = grants.resource_hash(subject.scope_salt, grants.category_scope("labs"))
    genomics = grants.resource_hash(subject.scope_salt, grants.category_scope("genomics"))

    assert hospital.check_access(subject.commitment, HMB, Op.READ, labs)
    assert hospital.check_access(subject.commitment, HMB, Op.READ | Op.QUERY, labs)
    assert not hospital.check_access(subject.commitment, HMB, Op.EXPORT, labs)
    assert not hospital.check_access(subject.commitment, HMB, Op.READ, genomics)
    assert not hospital.check_access(subject.commitment, GRU, Op.READ, labs)
    assert not relay.check_access(subject.commitment, HMB, Op.READ, labs)
    reader = ConsentGrantsClient.from_manifest(web3, project)
    assert reader.check_access(subject.commitment, HMB, Op.READ, labs, caller=hospital.sender.address)
    with pytest.raises(errors.InputError, match="caller"):
        reader.check_access(subject.commitment, HMB, Op.READ, labs)
    relay.sign_and_revoke(subject, subject.commitment)
    assert not hospital.check_access(subject.commitment, HMB, Op.READ, labs)


def test_the_deployment_reads(relay, project):
    registry = PurposeRegistryClient.from_manifest(web3, project)
    assert relay.purpose_registry() == registry.address
    assert relay.refs_index(PROFILE, TERMS) > 0
    assert relay.refs_index(PROFILE, keccak(text="no such template")) == 0


def test_the_python_section_of_the_design_page_runs(project, relay, wallet):
    text = (REPO / "docs" / "private-consent.md").read_text()
    block = text.split("### Python\n", 1)[1].split("```python\n", 1)[1].split("```\n", 1)[0]
    hospital = accounts[2].address
    scope = {"w3": web3, "root": project, "sender": relay.sender, "wallet": wallet, "hospital": hospital}

    exec(compile(block, "docs/private-consent.md", "exec"), scope)

    subject = scope["subject"]
    assert relay.get_grant(subject.commitment).grantee == hospital
    assert relay.effective_status(subject.commitment) is Status.REVOKED_BY_SUBJECT
