"""carechain.index.grants.grant_rows: each ConsentGrants event as its typed row, sub-grants under their root,
and the revocation epoch counted from the acts that move it."""

from __future__ import annotations

from typing import Any

import pytest

from carechain.core.keys import KeyRoot
from carechain.errors import InputError
from carechain.index.audit.grants import purpose_filter
from carechain.index.audit.patient_grants import MAX_ROOTS, root_ids
from carechain.index.grants import GrantFields, grant_rows

ROOT, SUB, OTHER = "0x" + "aa" * 32, "0x" + "bb" * 32, "0x" + "cc" * 32
HOSPITAL, LAB = "0x" + "11" * 20, "0x" + "22" * 20
REASON = "0x" + "0e" * 32
LAB_WORD = "0x" + "00" * 12 + "22" * 20  # ConsentRevoked's `by` when an address acted


def _event(block: int, name: str, **args: Any) -> dict[str, Any]:
    return {
        "block_number": block,
        "block_hash": f"0x{block:064x}",
        "tx_hash": f"0x{block:064x}",
        "log_index": 0,
    } | {
        "event": name,
        "args": args,
    }


def _rows(
    events: list[dict[str, Any]], epoch: int | None = 7
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    read = GrantFields(ROOT, LAB, 6, 2_000, 0)
    return grant_rows(
        1, events, lambda block: 1_000 + block, epoch, {OTHER: ROOT}.get, {SUB: read}.__getitem__
    )


def test_every_act_is_a_row_and_the_epoch_moves_with_each_revocation():
    grants, rows = _rows([
        _event(1, "ConsentGranted", grantId=ROOT, assetTokenId=2**200, grantee=HOSPITAL, purposeCode=6,
               expiresAt=9),
        _event(2, "ConsentSubGranted", grantId=SUB, parentGrantId=ROOT, depth=1),
        _event(3, "UsageCommitted", grantId=SUB, epoch=2**64 - 1, headHash=REASON, count=3),
        _event(4, "ScopeLeafRevoked", grantId=ROOT, leaf=REASON),
        _event(5, "AgentRevoked", grantId=ROOT, agent=LAB, reasonCode=REASON),
        _event(6, "ConsentRevoked", grantId=SUB, by=LAB_WORD, status=5, reasonCode=REASON),
        _event(7, "ConsentResumed", grantId=SUB, by=LAB),
        _event(8, "ConsentRevoked", grantId=ROOT, by=ROOT, status=2, reasonCode=REASON),
        _event(9, "NonceBurned", subjectCommit=OTHER, nonce=2**256 - 1),
        _event(10, "GrantFailed", index=1, subjectCommit=OTHER, reason="0x12345678"),
        _event(11, "AgentOperatorSet", agent=LAB, operator=HOSPITAL),
        _event(12, "RefsInterned", index=5, purposeProfileRef=REASON, termsRef=REASON),
        _event(13, "RoleGranted", role=REASON, account=LAB, sender=HOSPITAL),  # not a grant's: no row
    ])  # fmt: skip
    assert [(g["grant_id"], g["root_id"], g["parent_id"], g["depth"], g["grantee"]) for g in grants] == [
        (ROOT, ROOT, None, 0, HOSPITAL),
        (SUB, ROOT, ROOT, 1, LAB),
    ]
    assert grants[0]["asset_token_id"] == str(2**200) and grants[1]["block_time"] == 1_002
    assert [(r["event"], r["grant_id"], r["status"], r["revocation_epoch"]) for r in rows] == [
        ("ConsentGranted", ROOT, 1, 7),
        ("ConsentSubGranted", SUB, 1, 7),
        ("UsageCommitted", SUB, None, 7),
        ("ScopeLeafRevoked", ROOT, None, 8),
        ("AgentRevoked", ROOT, None, 9),
        ("ConsentRevoked", SUB, 5, 10),
        ("ConsentResumed", SUB, 1, 10),
        ("ConsentRevoked", ROOT, 2, 11),
        ("NonceBurned", OTHER, None, 11),
        ("GrantFailed", OTHER, None, 11),
        ("AgentOperatorSet", None, None, 11),
        ("RefsInterned", None, None, 11),
    ]
    assert rows[5]["actor"] == "0x2222222222222222222222222222222222222222"  # the grantee's address
    assert rows[7]["actor"] == ROOT  # the subject: its commitment
    # A caller-chosen uint64 epoch and a uint256 nonce do not fit a BigInteger column: kept in decimal.
    assert (rows[2]["usage_epoch"], rows[2]["use_count"], rows[3]["leaf"], rows[4]["agent"]) == (
        str(2**64 - 1),
        3,
        REASON,
        LAB,
    )
    assert (rows[11]["refs_index"], rows[11]["batch_index"], grants[1]["log_index"]) == (5, None, 0)
    assert (rows[8]["nonce"], rows[9]["batch_index"], rows[9]["reason"]) == (str(2**256 - 1), 1, "0x12345678")
    assert all(set(row) == set(rows[0]) for row in rows)  # one executemany takes them all


def test_a_sub_grant_of_an_indexed_grant_gets_its_root_and_an_unknown_epoch_stays_unknown():
    read = GrantFields(None, None, None, None, None)  # gone from the chain (a reorg) by the time it was read
    grants, rows = grant_rows(
        1,
        [_event(1, "ConsentSubGranted", grantId=SUB, parentGrantId=OTHER, depth=2),
         _event(2, "ConsentRevoked", grantId=SUB, by=ROOT, status=2, reasonCode=REASON)],
        lambda block: block,
        None,
        {OTHER: ROOT}.get,
        {SUB: read}.__getitem__,
    )  # fmt: skip
    assert (grants[0]["root_id"], grants[0]["parent_id"], grants[0]["grantee"]) == (ROOT, OTHER, None)
    assert [row["revocation_epoch"] for row in rows] == [None, None]


def test_a_purpose_filter_is_a_code_a_curie_or_a_uint32_in_ascii_digits():
    assert [purpose_filter(v) for v in ("HMB", "DUO:0000006", " 10039 ", "4294967295", None)] == [
        6,
        6,
        10039,
        2**32 - 1,
        None,
    ]
    for bad, message in (
        ("²", "unknown purpose '²'"),  # str.isdigit() accepts it, int() does not
        ("١٢", "unknown purpose"),
        ("99999999999", "purpose number 99999999999 is out of range"),  # matched nothing before
        (-1, "purpose number -1 is out of range"),
    ):
        with pytest.raises(InputError, match=message):
            purpose_filter(bad)


def test_root_ids_are_derived_at_most_ten_thousand_at_a_time():
    key_root = KeyRoot.from_secret(bytes(range(32)))
    assert len(root_ids(key_root, 2, first=2**32 - 2)) == 2
    with pytest.raises(InputError, match="count 10001 is more than 10,000 grant keys at once"):
        root_ids(key_root, MAX_ROOTS + 1)  # up to 2^32 before: hours of derivations, all held in memory
