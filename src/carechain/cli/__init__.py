"""`carechain`: the command line over the library. Parse, call the library, print.

Keys come only from PRIVATE_KEY, `.env` or an encrypted keystore (hidden prompt); bad input gets
one line on stderr and a non-zero exit, never a traceback. One module per command group.
"""

from carechain.cli import access, audit, consent, fhir, gateway, index, relay, trial  # noqa: F401 - importing registers the command groups
from carechain.cli.core import cli, main, run_step, show_time
from carechain.cli.options import parse_time

__all__ = ["cli", "main", "parse_time", "run_step", "show_time"]
