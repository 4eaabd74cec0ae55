"""Bad input everywhere: a table of malformed inputs to the CLI, the brownie scripts and the library.

Every case must give exactly one line of error (no traceback), a non-zero exit (the library: one
`CareChainError`, which the CLI turns into exit 1), and write nothing: no file in the project or
beside the inputs is new or changed, the manifest is the same, and no transaction was sent.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from brownie import accounts, project, web3
from click.testing import CliRunner
from eth_account import Account
from web3 import Web3

from carechain.cli import cli
from carechain.cli.options import parse_duration, parse_time
from carechain.clients.base import bytes32, checksum, uint
from carechain.clients.consent import load_signed
from carechain.core import purposes
from carechain.core.config import load_account, load_settings
from carechain.core.deployments import Manifest, deploy, load_artifact
from carechain.core.sender import Sender
from carechain.core.signed import SignedAction
from carechain.core.transport import RetryPolicy
from carechain.errors import CareChainError
from carechain.offchain import consent_import, fhir, trialdata
from reliability.support import make_project

GOOD = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # EIP-55's own example
TYPO = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"  # the same with one letter's case flipped
RECORD = "0x" + "33" * 32
HASH = "0x" + "44" * 32
KEYSTORE_PASSWORD = "correct horse"


@dataclass(frozen=True)
class Case:
    id: str
    area: str  # what kind of input is malformed
    message: str  # a part of the one line of error
    cli: tuple[str, ...] = ()  # `carechain ...` arguments ({files}, {out} are filled in)
    env: dict[str, str] = field(default_factory=dict)  # environment of the CLI / script (PRIVATE_KEY...)
    script: tuple[str, str, tuple[str, ...]] | None = None  # (scripts/x.py, step, arguments)
    library: Callable[[Path, Path], Any] | None = None  # called with (files, out)

    @property
    def kind(self) -> str:
        return "library" if self.library else "script" if self.script else "cli"


def _keystore(files: Path, name: str) -> dict[str, str]:
    return {"PRIVATE_KEY": "", "KEYSTORE": str(files / name), "KEYSTORE_PASSWORD": KEYSTORE_PASSWORD}


def _grant(*tail: str, to: str = GOOD) -> tuple[str, ...]:
    return ("consent", "grant", to, *tail)


def _register_trial(*options: str) -> tuple[str, ...]:
    return ("trial", "register", "--protocol", HASH, "-s", "labs", *options)


def _library_keystore(name: str, password: str = KEYSTORE_PASSWORD) -> Callable[[Path, Path], Any]:
    def load(files: Path, _: Path) -> Any:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("KEYSTORE_PASSWORD", password)
            env.delenv("PRIVATE_KEY", raising=False)
            return load_account(load_settings(files, keystore=str(files / name)))

    return load


CASES = [
    # ---- addresses and checksums
    Case(
        "short-address", "address", "is not an Ethereum address", _grant("-p", "HMB", "-s", "labs", to="0x12")
    ),
    Case(
        "non-hex-address",
        "address",
        "is not an Ethereum address",
        _grant("-p", "HMB", "-s", "labs", to="0x" + "2" * 39 + "g"),
    ),
    Case("grantee-checksum", "checksum", "has a bad checksum", _grant("-p", "HMB", "-s", "labs", to=TYPO)),
    Case(
        "patient-checksum",
        "checksum",
        "has a bad checksum",
        ("consent", "check", TYPO, GOOD, "-p", "HMB", "-s", "labs"),
    ),
    Case(
        "provider-checksum",
        "checksum",
        "has a bad checksum",
        ("access", "grant", TYPO, "-c", "labs", "-e", "1d"),
    ),
    Case(
        "credential-address",
        "address",
        "account '0x12' is not an Ethereum address",
        ("credential", "check", "0x12", "--role", "PROVIDER"),
    ),
    Case(
        "delegate-address",
        "address",
        "delegate '0x12' is not",
        ("consent", "delegate", "add", "0x12", "-e", "30d"),
    ),
    Case("fhir-export-address", "address", "patient '0x1234' is not", ("fhir", "export", "0x1234")),
    Case(
        "trial-irb-address",
        "address",
        "IRB '0x12' is not an Ethereum address",
        _register_trial("--endpoints", "{files}/missing.json", "--irb", "0x12"),
    ),
    Case("trial-new-irb-checksum", "checksum", "has a bad checksum", ("trial", "change-irb", "1", TYPO)),
    # ---- purpose codes and scope names
    Case("unknown-purpose", "purpose", "unknown purpose 'NOPE'", _grant("-p", "NOPE", "-s", "labs")),
    Case(
        "unknown-duo-curie",
        "purpose",
        "unknown purpose 'DUO:9999999'",
        _grant("-p", "DUO:9999999", "-s", "labs"),
    ),
    Case("revealing-purpose", "purpose", "reveals a condition", _grant("-p", "DS", "-s", "labs")),
    Case("zero-purpose", "purpose", "the all-zero purpose", _grant("-p", "0x" + "00" * 32, "-s", "labs")),
    Case("log-purpose", "purpose", "unknown purpose", ("access", "log", GOOD, RECORD, "-p", "NOPE")),
    Case("unknown-scope", "scope", "unknown scope 'x-rays'", _grant("-p", "HMB", "-s", "x-rays")),
    Case("no-scope", "scope", "no scope given", _grant("-p", "HMB", "-s", "")),
    Case(
        "unknown-category",
        "scope",
        "unknown scope 'bones'",
        ("access", "grant", GOOD, "-c", "bones", "-e", "1d"),
    ),
    Case(
        "record-category",
        "scope",
        "unknown record category",
        ("record", "anchor", RECORD, GOOD, "-c", "x-rays", "--content-hash", HASH),
    ),
    # ---- times, expiries, deadlines, durations
    Case(
        "unreadable-expiry",
        "time",
        "cannot read time 'soon'",
        _grant("-p", "HMB", "-s", "labs", "-e", "soon"),
    ),
    Case(
        "negative-duration", "time", "cannot read time '-5d'", _grant("-p", "HMB", "-s", "labs", "-e", "-5d")
    ),
    Case(
        "impossible-date",
        "time",
        "cannot read time '2027-13-45'",
        _grant("-p", "HMB", "-s", "labs", "-e", "2027-13-45"),
    ),
    Case("time-past-uint64", "time", "is out of range", _grant("-p", "HMB", "-s", "labs", "-e", "9" * 23)),
    Case(
        "expiry-in-the-past",
        "time",
        "InvalidExpiry(expiresAt=978307200",
        _grant("-p", "HMB", "-s", "labs", "-e", "2001-01-01"),
    ),
    Case(
        "unreadable-deadline",
        "time",
        "cannot read time 'yesterday'",
        ("consent", "sign", GOOD, "-p", "HMB", "-s", "labs", "-o", "{out}/c.json", "--deadline", "yesterday"),
    ),
    Case(
        "never-deadline",
        "time",
        "a deadline cannot be 'never'",
        ("consent", "sign", GOOD, "-p", "HMB", "-s", "labs", "-o", "{out}/c.json", "--deadline", "never"),
    ),
    Case(
        "passed-deadline",
        "time",
        "'2001-01-01' has passed already",
        (
            "consent",
            "sign",
            GOOD,
            "-p",
            "HMB",
            "-s",
            "labs",
            "-o",
            "{out}/c.json",
            "--deadline",
            "2001-01-01",
        ),
    ),
    Case(
        "never-access-expiry",
        "time",
        "cannot be 'never'",
        ("access", "grant", GOOD, "-c", "labs", "-e", "never"),
    ),
    Case(
        "unreadable-duration",
        "time",
        "cannot read duration 'soon'",
        ("access", "break-glass", GOOD, "-d", "soon"),
    ),
    Case(
        "delegate-expiry",
        "time",
        "cannot read time 'later'",
        ("consent", "delegate", "add", GOOD, "-e", "later"),
    ),
    # ---- ids, hashes, numbers
    Case("short-record-id", "amount", "a record id is 32 bytes, got 1", ("access", "check", GOOD, "0x12")),
    Case("non-hex-record-id", "amount", "record id '0xzz' is not hex", ("access", "check", GOOD, "0xzz")),
    Case(
        "short-content-hash",
        "amount",
        "a content hash is 32 bytes, got 1",
        ("record", "anchor", RECORD, GOOD, "-c", "labs", "--content-hash", "0x22"),
    ),
    Case("unknown-trial", "amount", "UnknownTrial(trialId=99)", ("trial", "show", "99")),
    # ---- files: missing, unreadable, not JSON, not the right document
    Case(
        "missing-signed-file",
        "file",
        "cannot read {files}/missing.json: No such file",
        ("consent", "submit", "{files}/missing.json"),
    ),
    Case(
        "signed-file-not-json",
        "file",
        "not.json is not valid JSON",
        ("consent", "submit", "{files}/not.json"),
    ),
    Case("signed-file-empty", "file", "is not valid JSON", ("consent", "submit", "{files}/empty.json")),
    Case("signed-file-binary", "file", "not UTF-8 text", ("consent", "submit", "{files}/binary.bin")),
    Case(
        "signed-file-unreadable", "file", "Not a directory", ("consent", "submit", "{files}/not.json/inside")
    ),
    Case(
        "signed-file-wrong-kind",
        "file",
        "list.json is not a signed Grant or signed Revoke (not a JSON object)",
        ("consent", "submit", "{files}/list.json"),
    ),
    Case(
        "access-file-not-json",
        "file",
        "not.json is not valid JSON",
        ("access", "submit", "{files}/not.json"),
    ),
    Case(
        "record-file-missing",
        "file",
        "cannot read {files}/missing.bin",
        ("record", "anchor", RECORD, GOOD, "-c", "labs", "--file", "{files}/missing.bin"),
    ),
    Case(
        "output-folder-missing",
        "file",
        "cannot use {out}/no/c.json: No such file or directory",
        ("consent", "sign", GOOD, "-p", "HMB", "-s", "labs", "-o", "{out}/no/c.json"),
    ),
    Case(
        "endpoints-missing",
        "file",
        "cannot read {files}/missing.json",
        _register_trial("--endpoints", "{files}/missing.json", "--irb", GOOD),
    ),
    Case(
        "batch-file-missing",
        "file",
        "cannot read {files}/missing.json",
        ("trial", "prove", "{files}/missing.json", "--row", "0", "-o", "{out}/p.json"),
    ),
    Case(
        "rows-without-columns",
        "CSV",
        "needs the columns subject, visit, field, value",
        ("trial", "commit", "1", "--rows", "{files}/rows.csv", "-o", "{out}/batch.json"),
    ),
    # ---- keys and keystores
    Case(
        "private-key-short",
        "keystore",
        "PRIVATE_KEY is not a valid private key",
        _grant("-p", "HMB", "-s", "labs"),
        env={"PRIVATE_KEY": "0x12"},
    ),
    Case(
        "keystore-not-json",
        "keystore",
        "keystore: {files}/not.json is not valid JSON",
        _grant("-p", "HMB", "-s", "labs"),
        env={"KEYSTORE": "{files}/not.json"},
    ),
    Case(
        "keystore-binary",
        "keystore",
        "is not a JSON keystore file",
        _grant("-p", "HMB", "-s", "labs"),
        env={"KEYSTORE": "{files}/binary.bin"},
    ),
    Case(
        "keystore-no-crypto",
        "keystore",
        "no crypto section",
        _grant("-p", "HMB", "-s", "labs"),
        env={"KEYSTORE": "{files}/list.json"},
    ),
    Case(
        "keystore-missing",
        "keystore",
        "keystore: cannot read {files}/missing.json",
        _grant("-p", "HMB", "-s", "labs"),
        env={"KEYSTORE": "{files}/missing.json"},
    ),
    Case(
        "keystore-wrong-password",
        "keystore",
        "wrong password for keystore",
        _grant("-p", "HMB", "-s", "labs"),
        env={"KEYSTORE": "{files}/key.json", "KEYSTORE_PASSWORD": "wrong"},
    ),
    Case(
        "keystore-bad-kdf",
        "keystore",
        "not a keystore this tool reads (Unsupported key derivation",
        _grant("-p", "HMB", "-s", "labs"),
        env={"KEYSTORE": "{files}/bad-kdf.json"},
    ),
    Case(
        "keystore-corrupt-ciphertext",
        "keystore",
        "is corrupt",
        _grant("-p", "HMB", "-s", "labs"),
        env={"KEYSTORE": "{files}/bad-ciphertext.json"},
    ),
    # ---- FHIR
    Case(
        "fhir-invalid-consent",
        "FHIR",
        "is not valid FHIR Consent",
        ("fhir", "import", "{files}/fhir-consent.json"),
    ),
    Case(
        "fhir-patient-resource",
        "FHIR",
        "not a FHIR Consent or Bundle (resourceType is 'Patient')",
        ("fhir", "import", "{files}/fhir-patient.json"),
    ),
    Case("fhir-not-json", "FHIR", "is not valid JSON", ("fhir", "import", "{files}/not.json")),
    Case("fhir-missing", "FHIR", "cannot read", ("fhir", "import", "{files}/missing.json")),
    # ---- untrusted JSON (C.12): wrong types, out-of-range numbers, missing fields, pathological nesting
    Case(
        "signed-file-deep",
        "JSON",
        "deep.json nests 100,000 levels deep",
        ("consent", "submit", "{files}/deep.json"),
    ),
    Case(
        "signed-file-scopes-text",
        "JSON",
        "scopes.json: scopes 'labs' is not a whole number",
        ("consent", "submit", "{files}/scopes.json"),
    ),
    Case(
        "signed-file-negative-nonce",
        "JSON",
        "nonce.json: nonce -1 is out of range",
        ("consent", "submit", "{files}/nonce.json"),
    ),
    Case(
        "signed-file-no-patient",
        "JSON",
        "no-patient.json: patient is missing",
        ("consent", "submit", "{files}/no-patient.json"),
    ),
    Case("access-file-deep", "JSON", "nests 100,000 levels deep", ("access", "submit", "{files}/deep.json")),
    Case("fhir-deep", "JSON", "deep.json nests 100,000 levels deep", ("fhir", "import", "{files}/deep.json")),
    Case(
        "results-trial-id-range",
        "JSON",
        f"results.json: trialId {2**256} is out of range",
        ("trial", "verify", "1", "--results", "{files}/results.json"),
    ),
    Case(
        "lib-signed-deep",
        "JSON",
        "nests 100,000 levels deep",
        library=lambda f, o: load_signed(f / "deep.json"),
    ),
    Case(
        "lib-manifest-bad-address",
        "JSON",
        "contracts.ConsentRegistry: address '0x12' is not an Ethereum address",
        library=lambda f, o: Manifest.load(f / "edited", 31337),
    ),
    # ---- CSV (carechain consent import)
    Case(
        "csv-missing", "CSV", "cannot read {files}/missing.csv", ("consent", "import", "{files}/missing.csv")
    ),
    Case("csv-empty", "CSV", "is empty: expected a header row", ("consent", "import", "{files}/empty.json")),
    Case(
        "csv-wrong-columns",
        "CSV",
        "is not a signed-consent CSV",
        ("consent", "import", "{files}/rows.csv"),
    ),
    Case(
        "csv-unclosed-quote",
        "CSV",
        "is not a valid CSV file (line 2",
        ("consent", "import", "{files}/quote.csv"),
    ),
    Case(
        "csv-binary", "CSV", "is not a CSV file (not UTF-8 text)", ("consent", "import", "{files}/binary.bin")
    ),
    # ---- bad usage: click's own checks, also one line (exit 2)
    Case(
        "missing-option",
        "usage",
        "Missing option '--license-hash' (see carechain credential attest --help)",
        ("credential", "attest", GOOD, "--role", "PROVIDER"),
    ),
    Case("missing-argument", "usage", "Missing argument 'GRANTEE'", ("consent", "grant")),
    Case("unknown-command", "usage", "No such command 'grnat'", ("consent", "grnat")),
    Case(
        "unknown-option", "usage", "No such option '--bogus' (see carechain --help)", ("--bogus", "purposes")
    ),
    Case("trial-id-not-a-number", "amount", "'abc' is not a valid integer", ("trial", "show", "abc")),
    Case("episode-not-a-number", "amount", "'one' is not a valid integer", ("access", "review", "one")),
    Case(
        "trial-id-out-of-range",
        "amount",
        f"trial id {2**256} is out of range",
        ("trial", "show", str(2**256)),
    ),
    Case(
        "episode-out-of-range",
        "amount",
        f"episode id {2**256} is out of range",
        ("access", "review", str(2**256), "--approve"),
    ),
    Case(
        "batch-size-zero",
        "amount",
        "0 is not in the range x>=1",
        ("consent", "import", "{files}/rows.csv", "--batch-size", "0"),
    ),
    # ---- settings
    Case(
        "rpc-attempts-not-a-number",
        "config",
        "CARECHAIN_RPC_ATTEMPTS='three' is not a number",
        ("consent", "check", GOOD, GOOD, "-p", "HMB", "-s", "labs"),
        env={"CARECHAIN_RPC_ATTEMPTS": "three"},
    ),
    Case(
        "rpc-attempts-zero",
        "config",
        "RPC retries need attempts >= 1",
        ("consent", "check", GOOD, GOOD, "-p", "HMB", "-s", "labs"),
        env={"CARECHAIN_RPC_ATTEMPTS": "0"},
    ),
    # ---- the brownie scripts (thin over the CLI through run_step)
    Case(
        "script-grantee",
        "address",
        "grantee '0x12' is not",
        script=("scripts/consent.py", "grant", ("0x12", "HMB", "labs")),
    ),
    Case(
        "script-checksum",
        "checksum",
        "has a bad checksum",
        script=("scripts/consent.py", "check", (TYPO, GOOD, "HMB", "labs")),
    ),
    Case(
        "script-purpose",
        "purpose",
        "unknown purpose",
        script=("scripts/consent.py", "grant", (GOOD, "NOPE", "labs")),
    ),
    Case(
        "script-scope", "scope", "unknown scope", script=("scripts/access.py", "grant", (GOOD, "bones", "1d"))
    ),
    Case(
        "script-expiry",
        "time",
        "cannot read time",
        script=("scripts/consent.py", "grant", (GOOD, "HMB", "labs", "soon")),
    ),
    Case(
        "script-signed-file",
        "file",
        "cannot read",
        script=("scripts/consent.py", "submit", ("{files}/missing.json",)),
    ),
    Case(
        "script-output-folder",
        "file",
        "No such file or directory",
        script=("scripts/consent.py", "sign", (GOOD, "HMB", "labs", "{out}/no/c.json")),
    ),
    Case(
        "script-record-id",
        "amount",
        "a record id is 32 bytes",
        script=("scripts/access.py", "check", (GOOD, "0x12")),
    ),
    Case(
        "script-trial-rows",
        "CSV",
        "needs the columns",
        script=("scripts/trial.py", "commit", ("1", "{files}/rows.csv", "{out}/b.json")),
    ),
    Case(
        "script-usage",
        "usage",
        "No such option '--maybe' (see carechain access review --help)",
        script=("scripts/access.py", "review", ("1", "maybe")),
    ),
    Case(
        "script-keystore",
        "keystore",
        "wrong password",
        script=("scripts/consent.py", "grant", (GOOD, "HMB", "labs")),
        env={"KEYSTORE": "{files}/key.json", "KEYSTORE_PASSWORD": "wrong"},
    ),
    # ---- the library
    Case("lib-time", "time", "cannot read time", library=lambda f, o: parse_time("next tuesday")),
    Case("lib-duration", "time", "cannot read duration", library=lambda f, o: parse_duration("4 hours")),
    Case("lib-purpose", "purpose", "unknown purpose", library=lambda f, o: purposes.purpose_id("NOPE")),
    Case("lib-scope", "scope", "unknown scope", library=lambda f, o: purposes.scopes_mask(["x-rays"])),
    Case("lib-purpose-none", "purpose", "got None", library=lambda f, o: purposes.purpose_id(None)),
    Case(
        "lib-zero-purpose",
        "purpose",
        "the all-zero purpose",
        library=lambda f, o: purposes.check_grantable(bytes(32)),
    ),
    Case("lib-scopes-none", "scope", "got None", library=lambda f, o: purposes.scopes_mask(None)),
    Case("lib-trial-id-range", "amount", "is out of range", library=lambda f, o: uint(2**256, "trial id")),
    Case("lib-checksum", "checksum", "has a bad checksum", library=lambda f, o: checksum(TYPO, "grantee")),
    Case("lib-bytes32", "amount", "is 32 bytes, got 1", library=lambda f, o: bytes32("0x12", "record id")),
    Case(
        "lib-corrupt-manifest",
        "file",
        "is not valid JSON",
        library=lambda f, o: Manifest.load(f / "corrupt", 31337),
    ),
    Case(
        "lib-no-build",
        "file",
        "run `make compile` first",
        library=lambda f, o: load_artifact(f, "ConsentRegistry"),
    ),
    Case(
        "lib-keystore-password", "keystore", "wrong password", library=_library_keystore("key.json", "nope")
    ),
    Case(
        "lib-keystore-version",
        "keystore",
        "not a keystore this tool reads",
        library=_library_keystore("version-2.json"),
    ),
    Case("lib-fhir", "FHIR", "is not valid JSON", library=lambda f, o: fhir.load_document(f / "not.json")),
    Case(
        "lib-trial-rows", "CSV", "needs the columns", library=lambda f, o: trialdata.read_rows(f / "rows.csv")
    ),
    Case(
        "lib-consent-csv",
        "CSV",
        "is not a valid CSV file",
        library=lambda f, o: consent_import.read_csv(f / "quote.csv"),
    ),
    Case(
        "lib-signed-binary",
        "file",
        "not UTF-8 text",
        library=lambda f, o: SignedAction.load(f / "binary.bin"),
    ),
    Case("lib-retry-policy", "config", "attempts >= 1", library=lambda f, o: RetryPolicy(attempts=0)),
]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """A project deployed on brownie's chain, as the CLI and the scripts find it."""
    folder = make_project(tmp_path_factory.mktemp("project"))
    w3 = Web3(Web3.HTTPProvider(web3.provider.endpoint_uri))
    deploy(w3, Sender(w3, accounts[0].address), folder)
    return folder


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Malformed inputs, one file each."""
    folder = tmp_path_factory.mktemp("inputs")
    (folder / "not.json").write_text("{not json")
    (folder / "empty.json").write_text("")
    (folder / "list.json").write_text("[1, 2]")
    (folder / "binary.bin").write_bytes(b"\xff\xfe\x00\x81")
    keystore = Account.encrypt(Account.create().key, KEYSTORE_PASSWORD)
    (folder / "key.json").write_text(json.dumps(keystore))
    (folder / "bad-kdf.json").write_text(
        json.dumps({**keystore, "crypto": {**keystore["crypto"], "kdf": "md5"}})
    )
    (folder / "bad-ciphertext.json").write_text(
        json.dumps({**keystore, "crypto": {**keystore["crypto"], "ciphertext": "zz"}})
    )
    (folder / "version-2.json").write_text(json.dumps({**keystore, "version": 2}))
    (folder / "fhir-consent.json").write_text('{"resourceType": "Consent", "status": "active"}')
    (folder / "fhir-patient.json").write_text('{"resourceType": "Patient", "id": "p1"}')
    (folder / "rows.csv").write_text("subject,visit\n0x12,1\n")
    header = ",".join(consent_import.COLUMNS)
    (folder / "quote.csv").write_text(f'{header}\n"{GOOD},{GOOD}\n')
    (folder / "deep.json").write_text("[" * 100_000)
    signed = {
        "kind": "Grant",
        "patient": GOOD,
        "grantee": GOOD,
        "purpose": "0x" + purposes.purpose_id("HMB").hex(),
        "scopes": 1,
        "expires_at": 0,
        "nonce": 0,
        "deadline": 2**40,
        "signature": "0x" + "11" * 65,
    }
    (folder / "scopes.json").write_text(json.dumps({**signed, "scopes": "labs"}))
    (folder / "nonce.json").write_text(json.dumps({**signed, "nonce": -1}))
    (folder / "no-patient.json").write_text(json.dumps({k: v for k, v in signed.items() if k != "patient"}))
    (folder / "results.json").write_text(json.dumps({"trialId": 2**256, "endpoints": {"primary": ["x"]}}))
    (folder / "edited" / "deployments").mkdir(parents=True)
    (folder / "edited" / "deployments" / "31337.json").write_text(
        json.dumps({"chainId": 31337, "contracts": {"ConsentRegistry": {"address": "0x12"}}})
    )
    (folder / "corrupt").mkdir()
    (folder / "corrupt" / "deployments").mkdir()
    (folder / "corrupt" / "deployments" / "31337.json").write_text('{"chainId": 31337, "contr')
    return folder


@pytest.fixture(scope="module")
def key():
    account = Account.create()
    accounts[0].transfer(account.address, "1 ether", silent=True)
    return account


def _snapshot(*folders: Path) -> dict[Path, bytes]:
    return {
        path: path.read_bytes()
        for folder in folders
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "build" not in path.relative_to(folder).parts
    }


def _fill(text: str, files: Path, out: Path) -> str:
    return text.replace("{files}", str(files)).replace("{out}", str(out))


def _one_line(output: str, message: str) -> None:
    assert "Traceback" not in output, output
    lines = output.strip().splitlines()
    assert len(lines) == 1 and output.endswith("\n"), output
    assert lines[0].startswith("error: ") and message in lines[0], output


def test_the_table_has_at_least_40_malformed_inputs():
    tally = Counter(case.kind for case in CASES)
    areas = Counter(case.area for case in CASES)
    print(f"{len(CASES)} malformed inputs: {dict(tally)}; by area {dict(areas)}")
    assert len(CASES) >= 40 and len({case.id for case in CASES}) == len(CASES)
    assert set(tally) == {"cli", "script", "library"}
    assert {
        "address",
        "checksum",
        "purpose",
        "scope",
        "time",
        "amount",
        "file",
        "keystore",
        "FHIR",
        "CSV",
        "JSON",
    } <= set(areas)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_malformed_input_is_one_line_non_zero_and_writes_nothing(
    case, root, files, key, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "out"
    out.mkdir()
    message = _fill(case.message, files, out)
    env = {"PRIVATE_KEY": key.key.hex(), "KEYSTORE": "", "RPC_URL": ""}
    if "KEYSTORE" in case.env:  # the keystore instead of PRIVATE_KEY, which would win
        env |= {"PRIVATE_KEY": "", "KEYSTORE_PASSWORD": KEYSTORE_PASSWORD}
    env |= {name: _fill(value, files, out) for name, value in case.env.items()}
    before, block, nonce = (
        _snapshot(root, files),
        web3.eth.block_number,
        web3.eth.get_transaction_count(key.address),
    )

    if case.library is not None:
        with pytest.raises(CareChainError) as caught:
            case.library(files, out)
        _one_line(f"error: {caught.value}\n", message)
    elif case.script is not None:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("CARECHAIN_ROOT", str(root))
        script, step, args = case.script
        with pytest.raises(SystemExit) as exited:
            project.scripts.run(script, step, [_fill(a, files, out) for a in args])
        assert exited.value.code not in (0, None)
        captured = capsys.readouterr()  # stdout has brownie's "Running 'scripts/x.py::step'..."
        assert "Traceback" not in captured.out
        _one_line(captured.err, message)
    else:
        args = [_fill(a, files, out) for a in case.cli]
        result = CliRunner().invoke(
            cli,
            ["--rpc-url", web3.provider.endpoint_uri, "--root", str(root), *args],
            env=env,
            prog_name="carechain",  # as the user types it
        )
        assert result.exit_code != 0, result.output
        assert isinstance(result.exception, SystemExit), repr(result.exception)
        _one_line(result.output, message)

    assert _snapshot(root, files) == before  # no new or changed file; the manifest is the same
    assert list(out.iterdir()) == []  # no (partial) output file
    assert (
        web3.eth.block_number == block and web3.eth.get_transaction_count(key.address) == nonce
    )  # nothing sent
