"""`carechain consent import FILE.csv`: a clinic onboards a cohort; bad rows reported by line number."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from brownie import accounts
from cli_fixtures import ok
from eth_account import Account

from carechain import connect
from carechain.clients import ConsentClient
from carechain.clients.consent import SignedGrant
from carechain.core import eip712
from carechain.core.purposes import purpose_id, scopes_mask
from carechain.offchain.consent_import import COLUMNS, domain_separator, grant_digest, sign_grant, write_csv

pytest_plugins = ["cli_fixtures"]

HMB = purpose_id("HMB")
LABS = scopes_mask(["labs"])
DEADLINE = 4_102_444_800  # 2100-01-01


@pytest.fixture(autouse=True)
def deployed(run):
    ok(run("deploy"))


@pytest.fixture
def registry(root, rpc):
    """The CLI's deployment, read through the library (read-only)."""
    return ConsentClient.from_manifest(connect(rpc), root)


@pytest.fixture
def domain(registry) -> eip712.Domain:
    return registry.domain()


def signed(domain: eip712.Domain, count: int, grantee: str | None = None) -> list[SignedGrant]:
    """`count` fresh patients each sign one consent (HMB over labs) with their own key."""
    grantee = grantee or accounts[2].address
    return [
        sign_grant(Account.create().key, domain, grantee, HMB, LABS, 0, 0, DEADLINE) for _ in range(count)
    ]


def one_line_error(result, *words):
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_a_cohort_lands_in_batches_and_every_consent_permits(run, registry, domain, tmp_path):
    cohort = tmp_path / "cohort.csv"
    grants = signed(domain, 5)
    write_csv(cohort, grants)
    patient = Account.create()  # one more patient signs through the CLI itself, as a row of the same file
    ok(
        run(
            "consent",
            "sign",
            accounts[2].address,
            "-p",
            "HMB",
            "-s",
            "labs",
            "--deadline",
            "1d",
            "--csv",
            str(cohort),
            key=patient,
        )
    )
    assert cohort.read_text().splitlines()[0] == ",".join(COLUMNS)

    result = ok(run("consent", "import", str(cohort), "--batch-size", "2", "--json"))
    data = json.loads(result.stdout)
    assert data["rows"] == 6 and data["submitted"] == 6 and data["rejected"] == [] and data["skipped"] == 0
    assert len(data["transactions"]) == 3 and data["batchSize"] == 2 and data["gasUsed"] > 6 * 40_000
    for address in [g.patient for g in grants] + [patient.address]:
        assert registry.is_permitted(address, accounts[2].address, HMB, LABS)
        assert registry.nonce(address) == 1


def test_under_a_low_gas_cap_the_import_splits_and_no_transaction_asks_for_more(
    run, registry, domain, tmp_path, monkeypatch
):
    """CARECHAIN_TX_GAS_CAP (EIP-7825's 2^24 on Ethereum) bounds every transaction's gas limit: 24 signed
    consents a transaction under 2,000,000 (65,000 each in the model, 50,000 a transaction, a 1.2 margin)."""
    monkeypatch.setenv("CARECHAIN_TX_GAS_CAP", "2_000_000")
    cohort = tmp_path / "cohort.csv"
    grants = signed(domain, 60)
    write_csv(cohort, grants)
    one_line_error(
        run("consent", "import", str(cohort), "--batch-size", "25"), "2,000,000 gas a transaction", "1 to 24"
    )
    data = json.loads(ok(run("consent", "import", str(cohort), "--json")).stdout)
    assert data["submitted"] == 60 and data["batchSize"] == 24 and len(data["transactions"]) == 3
    for tx_hash in data["transactions"]:
        asked = registry.w3.eth.get_transaction(tx_hash)["gas"]
        used = registry.w3.eth.get_transaction_receipt(tx_hash)["gasUsed"]
        assert used < asked <= 2_000_000
    for grant in grants:
        assert registry.is_permitted(grant.patient, accounts[2].address, HMB, LABS)


def test_a_re_run_submits_nothing_and_says_all_were_on_chain(run, domain, tmp_path):
    cohort = tmp_path / "cohort.csv"
    write_csv(cohort, signed(domain, 4))
    first = ok(run("consent", "import", str(cohort)))
    assert "4 rows; 4 submitted in 1 transactions" in first.stdout and "0 rejected" in first.stdout

    again = ok(run("consent", "import", str(cohort)))
    assert "0 submitted in 0 transactions (0 gas), 4 skipped as already on chain, 0 rejected" in again.stdout


def test_bad_rows_are_reported_by_line_and_the_good_rows_land(run, registry, domain, tmp_path):
    good = signed(domain, 3)
    stranger = Account.create()
    victim = SignedGrant(Account.create().address, accounts[2].address, HMB, LABS, 0, 0, DEADLINE, b"")
    forged = stranger.unsafe_sign_hash(grant_digest(domain_separator(domain), victim)).signature
    by_another = replace(victim, signature=bytes(forged))  # the stranger signs in the patient's name
    expired = sign_grant(Account.create().key, domain, accounts[2].address, HMB, LABS, 1, 0, DEADLINE)
    late = sign_grant(Account.create().key, domain, accounts[2].address, HMB, LABS, 0, 0, 1)
    cohort = tmp_path / "cohort.csv"
    write_csv(cohort, [good[0], by_another, expired, late, good[1]])
    good_rows = cohort.read_text().splitlines()
    row = good_rows[5].split(",")  # good[1] as cells, to break one at a time
    lower = row[0].lower()
    bad_checksum = row[0][:2] + row[0][2:].swapcase()
    broken = [
        ",".join(["0x1234", *row[1:]]),  # line 7
        ",".join([bad_checksum, *row[1:]]),  # line 8
        ",".join([row[0], row[1], "NOPE", *row[3:]]),  # line 9
        ",".join([row[0], row[1], row[2], "labs;xrays", *row[4:]]),  # line 10
        ",".join([*row[:7], "0x" + "ab" * 64]),  # line 11: 64 bytes
        ",".join([*row[:7], "0x" + "00" * 65]),  # line 12: v = 0
        ",".join([lower, *row[1:]]),  # line 13: good[1] again (in lower case)
    ]
    zero_grantee = ",".join([row[0], "0x" + "00" * 20, *row[2:]])  # line 15
    cohort.write_text("\n".join([*good_rows, *broken, ",".join(_cells(good[2])), zero_grantee]) + "\n")

    result = run("consent", "import", str(cohort))
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    assert "14 rows; 3 submitted" in result.stdout
    reasons = {int(line.split(":")[0].split()[1]): line for line in result.stdout.splitlines()[1:]}
    assert sorted(reasons) == [3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 15]
    assert "not the patient's" in reasons[3] and stranger.address in reasons[3]
    assert "expires_at 1 is in the past" in reasons[4]
    assert "deadline 1 has passed" in reasons[5]
    assert "is not an address" in reasons[7]
    assert "bad checksum" in reasons[8]
    assert "unknown purpose 'NOPE'" in reasons[9]
    assert "unknown scope 'xrays'" in reasons[10]
    assert "malformed signature" in reasons[11] and "malformed signature" in reasons[12]
    assert "duplicate of line 6" in reasons[13]
    assert "grantee is the zero address" in reasons[15]
    for grant in good:
        assert registry.is_permitted(grant.patient, accounts[2].address, HMB, LABS)
    assert not registry.is_permitted(expired.patient, accounts[2].address, HMB, LABS)


def _cells(grant: SignedGrant) -> list[str]:
    return [
        grant.patient,
        grant.grantee,
        "HMB",
        "labs",
        str(grant.expires_at),
        str(grant.nonce),
        str(grant.deadline),
        "0x" + grant.signature.hex(),
    ]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", ("not a CSV file",)),
        (
            b'{"kind": "Grant", "patient": "0x0"}\n',
            ("not a signed-consent CSV", "no header row naming patient"),
        ),
        (b"patient,grantee,purpose,scopes\n0x1,0x2,HMB,labs\n", ("no column expires_at, nonce, deadline",)),
        (b"", ("is empty",)),
        (b'patient,grantee,purpose,scopes,expires_at,nonce,deadline,signature\n"0x1,', ("not a valid CSV",)),
    ],
    ids=["binary", "json", "missing-columns", "empty", "unterminated-quote"],
)
def test_a_file_that_is_not_a_consent_csv_is_one_line_and_submits_nothing(
    run, registry, tmp_path, content, words
):
    path = tmp_path / "cohort.csv"
    path.write_bytes(content)
    one_line_error(run("consent", "import", str(path)), str(path), *words)


def test_a_missing_file_or_an_oversized_batch_is_one_line_and_submits_nothing(
    run, registry, domain, tmp_path
):
    one_line_error(run("consent", "import", str(tmp_path / "none.csv")), "cannot read")
    cohort = tmp_path / "cohort.csv"
    grants = signed(domain, 2)
    write_csv(cohort, grants)
    one_line_error(run("consent", "import", str(cohort), "--batch-size", "100000"), "batch size 100000")
    assert registry.nonce(grants[0].patient) == 0 and registry.nonce(grants[1].patient) == 0


def test_help_names_the_columns_and_the_exit_code_for_rejected_rows(run):
    text = ok(run("consent", "import", "--help")).output
    assert "patient, grantee, purpose, scopes, expires_at, nonce, deadline, signature" in text
    assert "3 when some row was rejected" in text


def test_progress_shows_on_stderr_only_where_it_belongs(run, domain, tmp_path, monkeypatch):
    """C.16: nothing on stderr when it is no terminal (here) or under --json; forced, it counts the rows
    checked and the consents sent, and stdout is the same summary."""
    cohort = tmp_path / "cohort.csv"
    write_csv(cohort, signed(domain, 3))
    monkeypatch.delenv("CARECHAIN_PROGRESS", raising=False)
    plain = ok(run("consent", "import", str(cohort), "--check"))
    assert plain.stderr == "" and "3 to submit" in plain.stdout
    monkeypatch.setenv("CARECHAIN_PROGRESS", "1")
    quiet = ok(run("consent", "import", str(cohort), "--check", "--json"))
    assert quiet.stderr == "" and json.loads(quiet.stdout)["toSubmit"] == 3
    shown = ok(run("consent", "import", str(cohort)))
    assert "checking rows" in shown.stderr and "submitting" in shown.stderr
    assert "3 rows; 3 submitted in 1 transactions" in shown.stdout


def test_check_plans_against_the_chain_and_sends_nothing(run, registry, domain, tmp_path):
    cohort = tmp_path / "cohort.csv"
    grants = signed(domain, 2)
    write_csv(cohort, grants)
    row = cohort.read_text().splitlines()[1].split(",")
    with cohort.open("a") as out:
        out.write(",".join(["0x1234", *row[1:]]) + "\n")  # line 4
    result = run("consent", "import", str(cohort), "--check", "--json")
    assert result.exit_code == 3, result.output
    data = json.loads(result.stdout)
    assert data["checkOnly"] and data["rows"] == 3 and data["toSubmit"] == 2 and data["skipped"] == 0
    assert [issue["line"] for issue in data["rejected"]] == [4]
    assert all(registry.nonce(g.patient) == 0 for g in grants)
