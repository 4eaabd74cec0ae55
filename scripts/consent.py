"""brownie run scripts/consent.py <step> <args...> [--network NAME]: a patient's consents, a clinic's relay.

Thin over `carechain consent` (same checks and output). The key is PRIVATE_KEY or KEYSTORE (.env or
environment) of whoever acts; on a local chain without one, the node's first account. Times are
`never`, a duration (365d), a date or a unix time; scopes are comma-separated (labs,genomics).

    patient   grant GRANTEE PURPOSE SCOPES [EXPIRES] | update GRANTEE PURPOSE SCOPES [EXPIRES]
              revoke GRANTEE PURPOSE | delegate DELEGATE EXPIRES | sign GRANTEE PURPOSE SCOPES OUT.json
    clinic    submit SIGNED.json...
    anyone    check PATIENT GRANTEE PURPOSE SCOPES        (exit 0 permitted, 3 not)
"""

from brownie import web3

from carechain.cli import run_step


def _consent(*args: str) -> None:
    run_step(web3.provider.endpoint_uri, "consent", *args)


def grant(grantee: str, purpose: str, scopes: str, expires: str = "never") -> None:
    _consent("grant", grantee, "--purpose", purpose, "--scopes", scopes, "--expires", expires)


def update(grantee: str, purpose: str, scopes: str, expires: str = "never") -> None:
    _consent("update", grantee, "--purpose", purpose, "--scopes", scopes, "--expires", expires)


def revoke(grantee: str, purpose: str) -> None:
    _consent("revoke", grantee, "--purpose", purpose)


def delegate(delegate: str, expires: str) -> None:
    _consent("delegate", "add", delegate, "--expires", expires)


def sign(grantee: str, purpose: str, scopes: str, output: str) -> None:
    _consent("sign", grantee, "--purpose", purpose, "--scopes", scopes, "--output", output)


def submit(*signed: str) -> None:
    _consent("submit", *signed)


def check(patient: str, grantee: str, purpose: str, scopes: str) -> None:
    _consent("check", patient, grantee, "--purpose", purpose, "--scopes", scopes)
