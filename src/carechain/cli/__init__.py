"""`carechain`: the command line over the library. Parse, call the library, print.

Keys come only from PRIVATE_KEY, `.env` or an encrypted keystore (hidden prompt); bad input gets
one line on stderr and a non-zero exit, never a traceback. One module per command group.
"""

import importlib

import click

from carechain.cli import access, admin, consent, grants, trial  # noqa: F401 - importing registers the command groups
from carechain.cli.core import cli, main, run_step
from carechain.cli.options import parse_time
from carechain.core.times import show_time
from carechain.errors import ConfigError

__all__ = ["cli", "main", "parse_time", "run_step", "show_time"]

# Command groups whose modules import an extra, and the extra: without it the group is a stand-in that says
# what to install, so `carechain --help` and the core commands work on the base install.
EXTRA_GROUPS = {
    "audit": "index",
    "fhir": "fhir",
    "gateway": "services",
    "index": "index",
    "relay": "services",
}


def _needs_extra(name: str, extra: str, missing: ModuleNotFoundError) -> click.Command:
    """Stands in for command group `name`: any use of it is one line on stderr naming the extra, exit 1."""
    hint = f"needs `pip install carechain[{extra}]`"

    @click.command(
        name,
        help=f"(not installed: {hint})",
        add_help_option=False,
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def stand_in(args: tuple[str, ...]) -> None:
        raise ConfigError(f"carechain {name} {hint} ({missing})")

    return stand_in


for _name, _extra in EXTRA_GROUPS.items():
    try:
        importlib.import_module(f"carechain.cli.{_name}")  # importing registers the command group
    except ModuleNotFoundError as _missing:
        if (_missing.name or "carechain").partition(".")[0] == "carechain":
            raise
        cli.add_command(_needs_extra(_name, _extra, _missing))
