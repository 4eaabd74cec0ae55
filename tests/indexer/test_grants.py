"""ConsentGrants in the index, on a real chain: relayed grants on per-grant keys, a sub-grant, a revocation,
a suspension and a renunciation, indexed into SQLite and PostgreSQL; the public aggregates and the patient's
own view from their key material, checked against the chain; resumed and reorged indexes end up the same."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from eth_account import Account
from web3 import HTTPProvider, Web3

from carechain.cli import cli
from carechain.clients.grants import ConsentGrantsClient
from carechain.core import keys, profiles
from carechain.core.grants import FLAG_DELEGABLE, GrantInput, Op, Policy, category_scope, resource_hash
from carechain.core.keys import KeyRoot
from carechain.core.sender import Sender
from carechain.errors import InputError
from carechain.index import audit
from carechain.index.indexer import Indexer, grant_events_table, grants_table
from indexer.conftest import create_database, deploy_on, make_project

WALLET = Account.from_key("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")
HMB, TREAT = profiles.purpose_code("HMB"), profiles.purpose_code("TREAT")
PROFILE = profiles.profile_ref([{"term": "DUO:0000006"}])
TERMS = profiles.terms_ref("research-broad-v1")
ZERO = "0x" + "00" * 20
YEAR = 365 * 86_400


@dataclass
class Story:
    w3: Web3
    root: Path
    key_root: KeyRoot
    roots: list[str]  # grant numbers 0..3 of the patient; 0 delegable, 1 revoked, 2 suspended, 3 renounced
    sub: str  # the lab's sub-grant of grant 0
    hospital: str
    lab: str
    sqlite: Indexer
    postgres: Indexer


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _grant(w3: Web3, subject: keys.GrantKeys, grantee: str, purpose: int, flags: int = 0) -> GrantInput:
    now = int(w3.eth.get_block("latest")["timestamp"])
    return GrantInput(
        resource_hash(subject.scope_salt, category_scope("labs")), PROFILE, TERMS, 0, subject.commitment,
        grantee, ZERO, Policy(now - 60, now + YEAR, Op.READ | Op.QUERY, purpose, flags=flags),
    )  # fmt: skip


@pytest.fixture(scope="module")
def story(tmp_path_factory, postgres) -> Story:
    from brownie import web3

    w3 = Web3(Web3.HTTPProvider(web3.provider.endpoint_uri))
    root = make_project(tmp_path_factory.mktemp("grants-index"))
    deploy_on(w3, root)
    hospital, lab, relayer = w3.eth.accounts[2], w3.eth.accounts[3], w3.eth.accounts[4]
    relay = ConsentGrantsClient.from_manifest(w3, root, Sender(w3, relayer))
    as_hospital = relay.with_sender(Sender(w3, hospital))
    key_root = KeyRoot.from_signature(keys.sign_derivation(WALLET, w3.eth.chain_id, relay.address))
    subjects = [key_root.grant_keys("subject", index) for index in range(4)]

    relay.sign_and_grant(subjects[0], _grant(w3, subjects[0], hospital, HMB, FLAG_DELEGABLE))
    relay.sign_and_grant(subjects[1], _grant(w3, subjects[1], hospital, HMB))
    relay.sign_and_grant(subjects[2], _grant(w3, subjects[2], hospital, TREAT))
    relay.sign_and_grant(subjects[3], _grant(w3, subjects[3], lab, HMB))
    parent = _grant(w3, subjects[0], hospital, HMB, FLAG_DELEGABLE)
    window = relay.get_grant(subjects[0].commitment).policy
    narrower = replace(
        parent,
        grantee=lab,
        policy=replace(window, expires_at=window.expires_at - 86_400, ops=Op.READ, flags=0),
    )
    _, sub = as_hospital.sub_grant(subjects[0].commitment, narrower)
    # The grantee picks the usage epoch: the largest uint64 must not stop the index (a BigInteger overflows).
    as_hospital.commit_usage(subjects[0].commitment, 2**64 - 1, b"\x01" * 32, 1)
    relay.sign_and_revoke(subjects[1], subjects[1].commitment)
    as_hospital.suspend(subjects[2].commitment)
    relay.with_sender(Sender(w3, lab)).renounce(subjects[3].commitment)

    folder = tmp_path_factory.mktemp("grants-db")
    sqlite = Indexer(w3, root, str(folder / "index.db"))
    sqlite.sync()
    pg = Indexer(w3, root, create_database(postgres, "grants_index"))
    pg.sync()
    return Story(
        w3, root, key_root, [_hex(s.commitment) for s in subjects], _hex(sub), hospital, lab, sqlite, pg
    )


def _rows(indexer: Indexer, table: sa.Table) -> list[dict[str, Any]]:
    columns = [c for c in table.c if c.name != "id"]
    with indexer.engine.connect() as db:
        query = sa.select(*columns).where(table.c.chain_id == indexer.chain_id).order_by(table.c.block_number)
        if "log_index" in table.c:
            query = query.order_by(table.c.log_index)
        return [dict(row._mapping) for row in db.execute(query)]


def test_grants_and_their_acts_are_rows_of_commitments_never_of_the_patient(story):
    grants = {row["grant_id"]: row for row in _rows(story.sqlite, grants_table)}
    assert set(grants) == {*story.roots, story.sub}
    for grant_id in story.roots:
        assert grants[grant_id]["root_id"] == grant_id and grants[grant_id]["depth"] == 0
    sub = grants[story.sub]
    assert (sub["root_id"], sub["parent_id"], sub["depth"]) == (story.roots[0], story.roots[0], 1)
    assert (sub["grantee"], sub["purpose_code"]) == (story.lab, HMB)
    assert grants[story.roots[2]]["purpose_code"] == TREAT

    acts = [
        (r["event"], r["grant_id"], r["status"], r["revocation_epoch"])
        for r in _rows(story.sqlite, grant_events_table)
    ]
    acts = [act for act in acts if act[0] != "RefsInterned"]
    assert acts == [
        *[("ConsentGranted", grant_id, 1, 1) for grant_id in story.roots],
        ("ConsentSubGranted", story.sub, 1, 1),
        ("UsageCommitted", story.roots[0], None, 1),
        ("ConsentRevoked", story.roots[1], 2, 2),  # by the subject: the epoch moves with each revocation
        ("ConsentRevoked", story.roots[2], 5, 3),  # suspended by the grantee
        ("ConsentRevoked", story.roots[3], 3, 4),  # renounced by the grantee
    ]
    assert story.sqlite.revocation_epoch() == story.sqlite.grants.revocation_epoch() == 4
    revoked = next(r for r in _rows(story.sqlite, grant_events_table) if r["status"] == 2)
    assert revoked["actor"] == story.roots[1]  # the subject's commitment, not an address

    # Nothing in either table is the wallet's address, in any case, or a column that could hold one.
    text = repr(_rows(story.sqlite, grants_table) + _rows(story.sqlite, grant_events_table)).lower()
    assert WALLET.address.lower()[2:] not in text
    assert not any("patient" in c.name for table in (grants_table, grant_events_table) for c in table.c)


def test_postgresql_holds_the_same_rows(story):
    for table in (grants_table, grant_events_table):
        assert _rows(story.postgres, table) == _rows(story.sqlite, table)


class _Node(HTTPProvider):
    """The test chain's node, recording what it is asked (alone, or in batches); `pruned`, it keeps only the
    latest state: an eth_call at a given block fails as on a pruned node."""

    def __init__(self, uri: str, *, pruned: bool = False) -> None:
        super().__init__(uri)
        self.pruned = pruned
        self.single: list[tuple[str, Any]] = []
        self.batches: list[list[tuple[str, Any]]] = []

    def make_request(self, method: Any, params: Any) -> Any:
        self.single.append((str(method), params))
        if self.pruned and method == "eth_call" and params[1] != "latest":
            return {"jsonrpc": "2.0", "id": 1, "error": {"code": -32000, "message": "missing trie node"}}
        return super().make_request(method, params)

    def make_batch_request(self, requests: Any) -> Any:
        self.batches.append([(str(method), params) for method, params in requests])
        return super().make_batch_request(requests)

    def clear(self) -> None:
        self.single.clear()
        self.batches.clear()

    def calls(self) -> list[str]:
        """The eth_calls asked alone."""
        return [repr(params) for method, params in self.single if method == "eth_call"]


def test_on_a_pruned_node_the_epoch_counts_from_the_deploy_or_is_unknown_never_a_mismatch(story, tmp_path):
    node = _Node(story.w3.provider.endpoint_uri, pruned=True)
    pruned = Web3(node)
    # Ranges of one block: the first range with grant events starts after ConsentGrants' deploy block.
    index = Indexer(pruned, story.root, str(tmp_path / "pruned.db"), initial_range=1, max_range=1)
    node.clear()
    assert index.sync(to_block=story.sqlite.last_block() - 1).to_block < story.sqlite.last_block()
    # No eth_call alone: the epoch needs none, the sub-grant's getGrant went in a batch.
    assert node.calls() == [] and [m for batch in node.batches for m, _ in batch].count("eth_call") == 1
    assert index.revocation_epoch() == 3 and index.covers_grants_deploy() is True  # counted, no node call
    lagging = audit.grants_by_purpose(index)  # the chain's epoch at the index's last block: not kept
    assert (lagging.epoch.chain_epoch, lagging.epoch.agrees, lagging.agrees) == (None, None, True)
    assert lagging.epoch.shown == "revocation epoch 3 in the index, unknown on chain"
    index.sync()
    assert index.revocation_epoch() == story.sqlite.grants.revocation_epoch()

    late = Indexer(pruned, story.root, str(tmp_path / "late.db"))
    late.sync(from_block=story.sqlite.last_block())  # after the deploy: the epoch before it is not kept
    report = audit.grants_by_purpose(late)
    assert late.covers_grants_deploy() is False and late.revocation_epoch() is None
    assert (report.epoch.index_epoch, report.epoch.agrees, report.agrees) == (None, None, True)


def test_the_public_audit_counts_grants_by_purpose_and_status(story):
    for indexer in (story.sqlite, story.postgres):
        report = audit.grants_by_purpose(indexer)
        counts = {(row.purpose, row.kind, row.status): row.count for row in report.counts}
        assert counts == {
            ("HMB", "grant", "ACTIVE"): 1,
            ("HMB", "grant", "REVOKED_BY_SUBJECT"): 1,
            ("HMB", "grant", "RENOUNCED_BY_GRANTEE"): 1,
            ("HMB", "sub-grant", "ACTIVE"): 1,
            ("TREAT", "grant", "SUSPENDED"): 1,
        }
        assert report.depths == {"0": 4, "1": 1} and report.total == 5
        assert report.agrees and report.to_dict()["epoch"] == {
            "index_epoch": 4,
            "chain_epoch": 4,
            "agrees": True,
        }
    treat = audit.grants_by_purpose(story.sqlite, "TREAT")
    assert [(row.status, row.count) for row in treat.counts] == [("SUSPENDED", 1)]


def test_revocations_per_day(story):
    report = audit.revocations_per_day(story.postgres)
    acts = [row for row in _rows(story.sqlite, grant_events_table) if row["event"] != "RefsInterned"]
    assert [day.day for day in report.days] == sorted(
        {audit.grants.day_of(row["block_time"]) for row in acts}
    )
    suspended = audit.grants.day_of(next(row["block_time"] for row in acts if row["status"] == 5))
    totals = report.totals
    assert (totals.granted, totals.sub_granted, totals.revoked_by_subject, totals.renounced_by_grantee) == (
        4,
        1,
        1,
        1,
    )
    assert (totals.suspended, totals.ended, totals.terminated_by_issuer) == (1, 2, 0)
    assert report.agrees and sum(day["ended"] for day in report.to_dict()["days"]) == 2
    assert audit.revocations_per_day(story.sqlite, since="2000-01-01", until="2000-01-02").days == []
    assert audit.revocations_per_day(story.sqlite, suspended, suspended, "TREAT").totals.suspended == 1
    for bad, message in (
        ({"since": "2026-13-01"}, "since is a day as YYYY-MM-DD"),
        ({"since": "2026-12-02", "until": "2026-12-01"}, "since 2026-12-02 is after until 2026-12-01"),
        ({"purpose": "NOPE"}, "unknown purpose 'NOPE'"),
    ):
        with pytest.raises(InputError, match=message):
            audit.revocations_per_day(story.sqlite, **bad)


def test_a_patients_own_grants_from_their_key_material_checked_on_chain(story):
    node = _Node(story.w3.provider.endpoint_uri)
    client = ConsentGrantsClient.from_manifest(Web3(node), story.root)
    index = Indexer(Web3(node), story.root, story.sqlite.url)
    roots = audit.root_ids(story.key_root, 6)  # two numbers past the last grant: no grant, no answer
    assert roots[:4] == story.roots
    ids = [*story.roots, story.sub]

    node.clear()
    unchecked = audit.patient_grants(index, roots)  # by default the node is asked nothing that names a grant
    asked = repr((node.single, node.batches)).lower()
    assert not any(grant_id[2:] in asked for grant_id in ids)
    assert (unchecked.checked, unchecked.canonical, unchecked.epoch.agrees, unchecked.agrees) == (
        False,
        True,
        True,
        True,
    )
    assert [grant.grant_id for grant in unchecked.may_use] == [story.roots[0], story.sub]
    assert "notBefore: not checked (in no event)" in unchecked.to_dict()["not_checked"]

    node.clear()
    mine = audit.patient_grants(story.sqlite, roots, trusted_node=client)
    assert node.calls() == [] and [len(batch) for batch in node.batches] == [3 * len(ids)]  # one batch
    assert (mine.roots_asked, mine.roots_found, mine.agrees) == (6, 4, True)
    shown = {
        grant.grant_id: (grant.index_status, grant.chain_status, grant.chain_active) for grant in mine.grants
    }
    assert shown == {
        story.roots[0]: ("ACTIVE", "ACTIVE", True),
        story.roots[1]: ("REVOKED_BY_SUBJECT", "REVOKED_BY_SUBJECT", False),
        story.roots[2]: ("SUSPENDED", "SUSPENDED", False),
        story.roots[3]: ("RENOUNCED_BY_GRANTEE", "RENOUNCED_BY_GRANTEE", False),
        story.sub: ("ACTIVE", "ACTIVE", True),
    }
    # Who may use my data for what: the hospital and, through its sub-grant, the lab (reading only).
    labs = (
        "0x" + resource_hash(story.key_root.grant_keys("subject", 0).scope_salt, category_scope("labs")).hex()
    )
    assert [(g.grantee, g.purpose, g.ops, g.scope_ref) for g in mine.may_use] == [
        (story.hospital, "HMB", ["read", "query"], labs),
        (story.lab, "HMB", ["read"], labs),
    ]

    history = audit.patient_history(story.postgres, story.roots[:2])
    assert [(e.event, e.grant_id, e.status) for e in history.entries] == [
        ("ConsentGranted", story.roots[0], "ACTIVE"),
        ("ConsentGranted", story.roots[1], "ACTIVE"),
        ("ConsentSubGranted", story.sub, "ACTIVE"),
        ("UsageCommitted", story.roots[0], None),
        ("ConsentRevoked", story.roots[1], "REVOKED_BY_SUBJECT"),
    ]
    assert history.entries[2].root_id == story.roots[0]
    assert history.entries[3].detail["usage_epoch"] == 2**64 - 1
    stranger = KeyRoot.from_secret(bytes(range(32)))
    assert audit.patient_grants(story.sqlite, audit.root_ids(stranger, 4)).grants == []
    with pytest.raises(InputError, match="root grant id"):
        audit.patient_grants(story.sqlite, ["0x1234"])
    with pytest.raises(InputError, match="count -1 is out of range"):
        audit.root_ids(story.key_root, -1)


def test_an_ended_grant_shows_on_its_sub_grant_and_a_live_one_past_its_end_is_expired(story, tmp_path):
    relay = ConsentGrantsClient.from_manifest(
        story.w3, story.root, Sender(story.w3, story.w3.eth.accounts[4])
    )
    client = ConsentGrantsClient.from_manifest(story.w3, story.root)
    index = Indexer(story.w3, story.root, str(tmp_path / "later.db"))
    # The hospital suspends grant 0: the lab's sub-grant stays ACTIVE in status but may not be used.
    client.with_sender(Sender(story.w3, story.hospital)).suspend(story.roots[0])
    index.sync()
    for checked in (
        audit.patient_grants(index, story.roots),
        audit.patient_grants(index, story.roots, trusted_node=client),
    ):
        assert {grant.grant_id: grant.index_status for grant in checked.grants}[story.sub] == "ACTIVE"
        assert checked.agrees and checked.may_use == []

    relay.sign_and_revoke(story.key_root.grant_keys("subject", 0), story.roots[0])
    index.sync()
    mine = audit.patient_grants(index, story.roots, trusted_node=client)
    assert {grant.grant_id: grant.index_status for grant in mine.grants}[story.sub] == "REVOKED_BY_SUBJECT"
    assert mine.agrees and mine.may_use == []

    later = int(story.w3.eth.get_block("latest")["timestamp"]) + YEAR + 1
    _rpc(story.w3, "evm_setNextBlockTimestamp", later)
    _rpc(story.w3, "evm_mine")
    report = audit.grants_by_purpose(index)
    assert {(row.purpose, row.kind, row.status): row.count for row in report.counts} == {
        ("HMB", "grant", "REVOKED_BY_SUBJECT"): 2,
        ("HMB", "grant", "RENOUNCED_BY_GRANTEE"): 1,
        ("HMB", "sub-grant", "REVOKED_BY_SUBJECT"): 1,
        ("TREAT", "grant", "EXPIRED"): 1,  # suspended, and past its end
    }
    assert report.agrees and audit.patient_grants(index, story.roots, trusted_node=client).agrees


def test_the_cli_prints_the_aggregates_and_refuses_bad_days_in_one_line(story, tmp_path):
    def run(*args: str):
        env = {"PRIVATE_KEY": "", "KEYSTORE": "", "RPC_URL": "", "COLUMNS": "300"}
        command = ["--rpc-url", story.w3.provider.endpoint_uri, "--root", str(story.root), *args]
        return CliRunner().invoke(cli, [*command, "--db", str(tmp_path / "audit.db")], env=env)

    result = run("--json", "audit", "grants")
    assert result.exit_code == 0, result.output
    assert '"total": 5' in result.stdout and '"agrees": true' in result.stdout
    table = run("audit", "revocations", "--purpose", "HMB")
    assert table.exit_code == 0, table.output
    assert "revocation epoch 4 in the index, 4 on chain" in table.stdout
    bad = run("audit", "revocations", "--since", "yesterday")
    assert bad.exit_code == 1 and bad.output.strip().count("\n") == 0
    assert "since is a day as YYYY-MM-DD, got 'yesterday'" in bad.output
    for purpose in ("²", "99999999999"):
        bad = run("audit", "grants", "--purpose", purpose)
        assert bad.exit_code == 1 and bad.output.strip().count("\n") == 0, bad.output


def test_an_index_made_before_the_grant_tables_fills_them_on_its_next_sync(story, tmp_path):
    old = tmp_path / "old.db"
    shutil.copy(story.sqlite.url.removeprefix("sqlite:///"), old)
    engine = sa.create_engine(f"sqlite:///{old}")
    with engine.begin() as db:
        for table in ("grants", "grant_events"):
            db.execute(sa.text(f"DROP TABLE {table}"))
        db.execute(sa.text("ALTER TABLE cursor DROP COLUMN first_block"))  # made before the cursor kept it
    engine.dispose()
    upgraded = Indexer(story.w3, story.root, str(old))
    upgraded.sync()
    for table in (grants_table, grant_events_table):
        assert _rows(upgraded, table) == _rows(story.sqlite, table)
    assert upgraded.covers_grants_deploy() is None  # unknown: the epochs came from the node

    with story.postgres.engine.begin() as db:  # PostgreSQL gets the column back too ("cursor" is a keyword)
        db.execute(sa.text('ALTER TABLE "cursor" DROP COLUMN first_block'))
    reopened = Indexer(story.w3, story.root, story.postgres.url)
    assert (
        reopened.covers_grants_deploy() is None and reopened.revocation_epoch() == upgraded.revocation_epoch()
    )


def _rpc(w3: Web3, method: str, *params: Any) -> Any:
    response = w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    assert "error" not in response, response
    return response["result"]


def test_a_resumed_and_a_reorged_index_hold_what_a_fresh_one_does(story, tmp_path):
    resumed = Indexer(story.w3, story.root, str(tmp_path / "resumed.db"))
    resumed.sync(to_block=story.sqlite.last_block() - 3)  # stops among the revocations
    snapshot = _rpc(story.w3, "evm_snapshot")
    hospital = ConsentGrantsClient.from_manifest(story.w3, story.root, Sender(story.w3, story.hospital))
    hospital.suspend(story.roots[0])
    resumed.sync()
    assert resumed.revocation_epoch() == 5

    _rpc(story.w3, "evm_revert", snapshot)
    hospital.renounce(story.roots[0])  # another history at the same height
    _rpc(story.w3, "anvil_mine", hex(2))
    assert resumed.sync().rolled_back > 0
    fresh = Indexer(story.w3, story.root, str(tmp_path / "fresh.db"))
    fresh.sync()
    for table in (grants_table, grant_events_table):
        assert _rows(resumed, table) == _rows(fresh, table)
    assert [row["status"] for row in _rows(resumed, grant_events_table)][-1] == 3
