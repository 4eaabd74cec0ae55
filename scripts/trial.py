"""brownie run scripts/trial.py <step> <args...> [--network NAME]: the trial flows, one role at a time.

Thin over `carechain trial` (same checks, same output, same files), on brownie's network. The key
is PRIVATE_KEY or KEYSTORE (.env or environment) of whoever acts; on a local chain without one, the
node's first account.

    sponsor   register PROTOCOL ENDPOINTS.json SCOPES IRB | add_site ID SITE
              amend ID PROTOCOL [reconsent] | lock ID | report ID RESULTS.json
              transfer_sponsor ID NEW_SPONSOR | change_irb ID NEW_IRB
    new key   accept_sponsor ID
    IRB       approve ID                             (the IRB of record only)
    subject   consent ID OUT.json                    (signed with the per-trial key; nothing sent)
    site      submit CONSENT.json | enroll ID SUBJECT | commit ID ROWS.csv BATCH.json
              prove BATCH.json ROW OUT.json
    auditor   verify ID FILE...                      (results, row proofs, batch files: told by content)
              show ID
"""

import json
from pathlib import Path

from brownie import web3

from carechain.cli import run_step


def _carechain(*args: str) -> None:
    run_step(web3.provider.endpoint_uri, *args)


def register(protocol: str, endpoints: str, scopes: str, irb: str) -> None:
    options = ["--protocol", protocol, "--endpoints", endpoints, "--scopes", scopes, "--irb", irb]
    _carechain("trial", "register", *options)


def change_irb(trial_id: str, new_irb: str) -> None:
    _carechain("trial", "change-irb", trial_id, new_irb)


def transfer_sponsor(trial_id: str, new_sponsor: str) -> None:
    _carechain("trial", "transfer-sponsor", trial_id, new_sponsor)


def accept_sponsor(trial_id: str) -> None:
    _carechain("trial", "accept-sponsor", trial_id)


def amend(trial_id: str, protocol: str, reconsent: str = "") -> None:
    _carechain("trial", "amend", trial_id, "--protocol", protocol, *(["--reconsent"] if reconsent else []))


def add_site(trial_id: str, site: str) -> None:
    _carechain("trial", "add-site", trial_id, site)


def approve(trial_id: str) -> None:
    _carechain("trial", "approve", trial_id)


def consent(trial_id: str, output: str) -> None:
    _carechain("trial", "consent", trial_id, "--output", output)


def submit(signed: str) -> None:
    _carechain("consent", "submit", signed)


def enroll(trial_id: str, subject: str) -> None:
    _carechain("trial", "enroll", trial_id, subject)


def commit(trial_id: str, rows: str, batch: str) -> None:
    _carechain("trial", "commit", trial_id, "--rows", rows, "--output", batch)


def prove(batch: str, row: str, output: str) -> None:
    _carechain("trial", "prove", batch, "--row", row, "--output", output)


def lock(trial_id: str) -> None:
    _carechain("trial", "lock", trial_id)


def report(trial_id: str, results: str) -> None:
    _carechain("trial", "report", trial_id, "--results", results)


def verify(trial_id: str, *files: str) -> None:
    """Each file by what it holds: a results document, a row proof (`trial prove`) or a batch file."""
    options: list[str] = []
    for file in files:
        try:
            data = json.loads(Path(file).read_text())
        except (OSError, ValueError):
            data = {}
        kind = "--batch" if "tree" in data else "--proof" if "leaf" in data else "--results"
        options += [kind, file]
    _carechain("trial", "verify", trial_id, *options)


def show(trial_id: str) -> None:
    _carechain("trial", "show", trial_id)
