"""brownie run scripts/access.py <step> <args...> [--network NAME]: records, grants, break-glass, reads.

Thin over `carechain record` and `carechain access` (same checks and output). The key is
PRIVATE_KEY or KEYSTORE (.env or environment) of whoever acts; on a local chain without one, the
node's first account.

    custodian anchor RECORD_ID PATIENT CATEGORY FILE | log PROVIDER RECORD_ID PURPOSE
    patient   grant PROVIDER CATEGORIES EXPIRES | revoke PROVIDER
    ER        break_glass PATIENT REASON DURATION
    reviewer  review EPISODE approve|flag
    anyone    check PROVIDER RECORD_ID (exit 0 allowed, 3 denied) | reads PATIENT | episodes PATIENT
"""

from brownie import web3

from carechain.cli import run_step


def _carechain(*args: str) -> None:
    run_step(web3.provider.endpoint_uri, *args)


def anchor(record_id: str, patient: str, category: str, file: str) -> None:
    _carechain("record", "anchor", record_id, patient, "--category", category, "--file", file)


def grant(provider: str, categories: str, expires: str) -> None:
    _carechain("access", "grant", provider, "--categories", categories, "--expires", expires)


def revoke(provider: str) -> None:
    _carechain("access", "revoke", provider)


def check(provider: str, record_id: str) -> None:
    _carechain("access", "check", provider, record_id)


def log(provider: str, record_id: str, purpose: str = "TREAT") -> None:
    _carechain("access", "log", provider, record_id, "--purpose", purpose)


def break_glass(patient: str, reason: str = "ETREAT", duration: str = "4h") -> None:
    _carechain("access", "break-glass", patient, "--reason", reason, "--duration", duration)


def review(episode: str, verdict: str) -> None:
    _carechain("access", "review", episode, f"--{verdict}")


def reads(patient: str) -> None:
    _carechain("access", "reads", "--patient", patient)


def episodes(patient: str) -> None:
    _carechain("access", "episodes", "--patient", patient)
