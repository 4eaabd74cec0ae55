"""The patient library without a chain: the scan's gap limit and holes, categories found again from a scope,
coarse times, template pairs, subject acts' JSON and the relayer's signature check (`acts.opens`)."""

from __future__ import annotations

import pytest
from eth_abi.abi import encode

from carechain.core import grants, keys
from carechain.core.acts import SubjectAct, opens, split_subject_sig
from carechain.core.grants import FLAG_SCOPE_IS_ROOT, GrantInput, Op, Policy
from carechain.core.keys import KeyRoot
from carechain.errors import InputError
from carechain.offchain import patient
from carechain.offchain.patient import (
    Patient,
    category_names,
    day_ceil,
    day_floor,
    find_categories,
    grant_window,
    scan,
    scope_of,
)
from carechain.offchain.scopes import ScopeTree

ROOT = KeyRoot.from_secret(bytes(range(32)))
CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
DOMAIN = grants.grant_domain(31337, CONTRACT)
GRANTEE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
UNSIGNED = encode(["bytes32", "bytes"], [bytes(32), b""])  # a well-formed subjectSig, before signing


class Chain:
    """A lookup over the grant numbers the chain knows, counting what it is asked."""

    def __init__(self, used: set[int]) -> None:
        self.known = {ROOT.grant_keys("subject", i).commitment for i in used}
        self.asked: list[int] = []

    def __call__(self, commitments):
        self.asked.append(len(commitments))
        return [c in self.known for c in commitments]


def test_a_patient_with_no_grant_is_scanned_once_across_the_gap_and_starts_at_zero():
    chain = Chain(set())
    found = scan(ROOT, chain, gap_limit=20)
    assert found.used == () and found.next_index == 0
    assert chain.asked == [20] and found.looked_up == 20


def test_holes_shorter_than_the_gap_are_stepped_over_and_never_handed_out_again():
    # 2 and 3 never landed (signed and not sent); 4 is known; a hole of 5 after 4 ends the scan at gap 5.
    chain = Chain({0, 1, 4, 7})
    found = scan(ROOT, chain, gap_limit=5)
    assert [k.index for k in found.used] == [0, 1, 4, 7]
    assert found.next_index == 8  # after the last known number, so hole 2, 3, 5, 6 stay unused
    assert found.looked_up == 8 + 5  # never more than the gap past the last one known


def test_a_grant_beyond_the_gap_is_not_found():
    found = scan(ROOT, Chain({0, 6}), gap_limit=5)
    assert [k.index for k in found.used] == [0] and found.next_index == 1


def test_a_scan_refuses_a_zero_gap_and_a_lookup_that_answers_short():
    with pytest.raises(InputError, match="gap limit"):
        scan(ROOT, Chain(set()), gap_limit=0)
    with pytest.raises(InputError, match="answers each commitment"):
        scan(ROOT, lambda commits: [False], gap_limit=3)


def test_categories_are_found_again_from_the_scope_salt_alone():
    salt = ROOT.grant_keys("subject", 0).scope_salt
    one_ref, one_flags = scope_of(salt, ["labs"])
    assert one_flags == 0 and one_ref == grants.resource_hash(salt, "carechain:category:labs")
    assert find_categories(salt, one_ref, one_flags) == ("labs",)
    three_ref, flags = scope_of(salt, ["genomics", "labs", "imaging"])
    assert flags == FLAG_SCOPE_IS_ROOT
    assert find_categories(salt, three_ref, flags) == ("labs", "imaging", "genomics")  # the table's order
    four_ref, _ = scope_of(salt, ["labs", "imaging", "genomics", "medications"])
    assert find_categories(salt, four_ref, flags) is None  # past the searched size: unknown, not wrong
    other_salt = ROOT.grant_keys("subject", 1).scope_salt
    assert find_categories(other_salt, three_ref, flags) is None  # another grant's salt opens nothing


def test_a_one_category_tree_is_found_again():
    salt = ROOT.grant_keys("subject", 0).scope_salt
    tree = ScopeTree(salt, [grants.category_scope("labs")])
    assert find_categories(salt, tree.root, FLAG_SCOPE_IS_ROOT) == ("labs",)


def test_a_grant_over_more_categories_than_are_searched_is_refused_at_signing():
    """Its categories could never be found again from the wallet: it could not be listed or checked."""
    four = ["labs", "imaging", "genomics", "medications"]
    with pytest.raises(InputError, match="at most 3 data categories"):
        Patient(ROOT, None, None).sign_grant(GRANTEE, "HMB", four, 0, 2 * 86_400)  # type: ignore[arg-type]


@pytest.mark.parametrize("categories", [[], ["labs", "labs"], ["x-rays"], "labs"])
def test_a_grant_names_known_categories_each_once(categories):
    if categories == "labs":
        assert category_names(categories) == ("labs",)
        return
    with pytest.raises(InputError):
        category_names(categories)


def test_times_are_whole_days_so_they_single_no_one_out():
    assert day_floor(86_400 * 3 + 5) == 86_400 * 3
    assert day_ceil(86_400 * 3 + 5) == 86_400 * 4
    assert day_ceil(86_400 * 3) == 86_400 * 3
    with pytest.raises(InputError, match="past the largest time"):
        day_ceil(2**48 - 1)


DAY = 86_400


def test_a_grant_window_is_rounded_inward_never_wider_than_asked():
    now = 10 * DAY + 3600
    assert grant_window(12 * DAY + 5, 20 * DAY + 5, now) == (13 * DAY, 20 * DAY)  # later start, earlier end
    assert grant_window(now, 20 * DAY, now) == (10 * DAY, 20 * DAY)  # from today: the past hours are gone
    assert grant_window(3 * DAY, 20 * DAY - 1, now) == (10 * DAY, 19 * DAY)  # a past start: from today


@pytest.mark.parametrize(
    "start, end", [(12 * DAY + 5, 13 * DAY + 5), (12 * DAY, 12 * DAY), (5 * DAY, 9 * DAY)]
)
def test_a_window_empty_in_whole_days_is_refused(start, end):
    with pytest.raises(InputError, match="window is empty"):
        grant_window(start, end, 10 * DAY + 3600)


def test_a_purpose_takes_its_shipped_template_pair_or_is_refused():
    from carechain.core import profiles

    profile, terms = patient.template_pair("HMB")
    assert (profile, terms) == (
        profiles.profile_ref([{"term": "DUO:0000006"}]),
        profiles.terms_ref("research-broad-v1"),
    )
    assert patient.template_pair("TREAT")[1] == profiles.terms_ref("treatment-v1")
    with pytest.raises(InputError, match="no consent template ships"):
        patient.template_pair("HPAYMT")


def _grant(subject: keys.GrantKeys) -> GrantInput:
    return GrantInput(
        scope_ref=scope_of(subject.scope_salt, ["labs"])[0],
        purpose_profile_ref=bytes(32),
        terms_ref=bytes(32),
        asset_token_id=0,
        subject_commit=subject.commitment,
        grantee=GRANTEE,
        agent="0x" + "00" * 20,
        policy=Policy(86_400, 86_400 * 400, Op.READ, 6),
    )


def _acts() -> list[SubjectAct]:
    subject = ROOT.grant_keys("subject", 0)
    grant = _grant(subject)
    unsigned = [
        SubjectAct("Grant", subject.commitment, 0, UNSIGNED, grant),
        SubjectAct("RevokeBySubject", subject.commitment, 1, UNSIGNED, reason_code=b"\x01" * 32),
        SubjectAct("RevokeScopeLeaf", subject.commitment, 2, UNSIGNED, leaf=b"\x02" * 32),
        SubjectAct("BurnNonce", subject.commitment, 3, UNSIGNED),
    ]
    return [
        SubjectAct(
            act.kind,
            act.target,
            act.nonce,
            grants.signed_by_subject(subject, act.payload(DOMAIN)),
            act.grant,
            act.reason_code,
            act.leaf,
        )
        for act in unsigned
    ]


@pytest.mark.parametrize("act", _acts(), ids=lambda act: act.kind)
def test_an_act_travels_as_json_and_its_signature_opens_its_commitment(act):
    again = SubjectAct.from_json(act.to_json())
    assert again == act and again.digest(DOMAIN) == act.digest(DOMAIN)
    assert opens(act.target, act.digest(DOMAIN), act.subject_sig) is True
    other = ROOT.grant_keys("subject", 1)
    assert opens(other.commitment, act.digest(DOMAIN), act.subject_sig) is False  # another grant's
    resigned = grants.signed_by_subject(other, act.payload(DOMAIN))
    assert opens(act.target, act.digest(DOMAIN), resigned) is False  # another grant's key and salt


def test_a_compact_signature_opens_too_and_a_contract_key_is_left_to_the_chain():
    act = _acts()[3]
    salt, signature = split_subject_sig(act.subject_sig)
    s = int.from_bytes(signature[32:64], "big") | (signature[64] - 27) << 255
    compact = grants.subject_sig(salt, signature[:32] + s.to_bytes(32, "big"))
    assert opens(act.target, act.digest(DOMAIN), compact) is True
    account = "0x" + "ab" * 20
    commitment = keys.subject_commitment(salt, account)
    wrapped = grants.subject_sig_1271(salt, account, b"\x00" * 70)
    assert opens(commitment, act.digest(DOMAIN), wrapped) is None  # ERC-1271: only the contract can tell
    assert opens(act.target, act.digest(DOMAIN), wrapped) is False  # but the key must commit to it


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda body: body.pop("subjectSig"), "no subjectSig"),
        (lambda body: body.update(kind="Revoke"), "one of Grant"),
        (lambda body: body.update(nonce="-1"), "not a whole number"),
        (lambda body: body.update(target="0x12"), "32 bytes"),
        (lambda body: body.update(subjectSig="0x" + "00" * 95), "subjectSig is abi.encode"),
        (lambda body: body["grant"].update(extra="1"), "exactly the fields"),
        (lambda body: body["grant"].update(policy=str(1 << 200)), "reserved bits"),
        (lambda body: body["grant"].update(grantee="0x1234"), "not an Ethereum address"),
        (lambda body: body.update(target="0x" + "11" * 32), "target is its grant's subjectCommit"),
    ],
)
def test_a_malformed_act_is_refused_with_what_is_wrong(change, message):
    body = _acts()[0].as_json()
    change(body)
    with pytest.raises(InputError, match=message):
        SubjectAct.from_json(body)


def test_an_act_from_text_that_is_not_json_is_an_input_error_and_hostile_input_is_not_echoed():
    with pytest.raises(InputError, match="not JSON"):
        SubjectAct.from_json("{not json")
    hostile = {"kind": "BurnNonce", "target": "0x" + "11" * 32, "nonce": "9" * 79 + "x" * 10_000}
    with pytest.raises(InputError) as refused:
        SubjectAct.from_json({**hostile, "subjectSig": "0x" + UNSIGNED.hex()})
    assert "nonce is not a whole number" in str(refused.value) and len(str(refused.value)) < 200


def test_a_private_file_is_never_left_half_written(tmp_path):
    from carechain.core.files import write_private

    target = tmp_path / "keys.json"
    with pytest.raises(UnicodeEncodeError):
        write_private(target, "{" + "\ud800")  # fails while writing
    assert not target.exists() and list(tmp_path.iterdir()) == []
    write_private(target, "{}")
    assert target.read_text() == "{}" and target.stat().st_mode & 0o777 == 0o600
    with pytest.raises(InputError, match="exists"):
        write_private(target, "other")


def test_a_failed_submission_is_an_error_exit_and_status_needs_a_relayer(monkeypatch):
    from types import SimpleNamespace

    from click.testing import CliRunner

    from carechain.cli import cli
    from carechain.cli import grants as grants_cli
    from carechain.core.acts import Submitted

    failed = Submitted(b"\x01" * 32, "Grant", "failed", "0x" + "ab" * 32, "InvalidSubjectSignature")
    monkeypatch.setattr(grants_cli, "_relay_client", lambda url: SimpleNamespace(status=lambda key: failed))
    act_id = "0x" + "01" * 32
    env = {grants_cli.RELAYER_ENV: ""}
    result = CliRunner().invoke(
        cli, ["consent", "grants", "--relayer", "http://relayer", "status", act_id], env=env
    )
    assert result.exit_code not in (0, 3) and "failed on chain (InvalidSubjectSignature)" in result.output
    assert "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["consent", "grants", "status", act_id], env=env)
    assert result.exit_code not in (0, 3) and "give --relayer URL" in result.output


def test_the_clone_code_a_contract_key_must_have_is_eip_1167s():
    from carechain.services.relay.acts import clone_code

    implementation = "0x" + "be" * 20
    assert clone_code(
        implementation
    ).hex() == (  # EIP-1167's runtime code, as OpenZeppelin's Clones deploys it
        "363d3d373d3d3d363d73" + "be" * 20 + "5af43d82803e903d91602b57fd5bf3"
    )
