"""The `carechain` command group, its shared context and error handling; command groups live beside it.

Keys come only from PRIVATE_KEY, `.env` or an encrypted keystore (hidden prompt); bad input gets
one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click
import requests
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from carechain.cli.options import address_of, json_option, uint_of
from carechain.clients.base import ClientT
from carechain.core import purposes
from carechain.core.config import Settings, load_governance, load_sender, load_settings, project_root
from carechain.core.deployments import deploy as deploy_contracts
from carechain.core.files import keccak_file
from carechain.core.sender import TxResult
from carechain.core.transport import connect
from carechain.errors import CareChainError, InputError


def show_purpose(purpose: bytes) -> str:
    """A purpose's code (HMB, TREAT ...), or its hex when the table does not know it (a trial's)."""
    known = purposes.purpose_by_id(purpose)
    return known.code if known else "0x" + purpose.hex()


@dataclass
class Context:
    """What every command needs: settings, output mode, and lazily a node connection."""

    settings: Settings
    as_json: bool
    console: Console

    def client(self, kind: type[ClientT], with_key: bool = True) -> ClientT:
        """A client of the deployment in this chain's manifest; with the configured key unless read-only."""
        w3 = connect(self.settings.rpc_url)
        sender = load_sender(w3, self.settings) if with_key else None
        return kind.from_manifest(w3, self.settings.root, sender)

    def emit(self, data: dict[str, Any], text: str) -> None:
        if self.as_json:
            click.echo(json.dumps(data, indent=2, default=str))
        else:
            self.console.print(text)

    def verdict(self, ok: bool, data: dict[str, Any], text: str) -> None:
        """Print a yes/no answer; exit 0 for yes, 3 for no."""
        self.emit(data, text)
        if not ok:
            sys.exit(3)

    def progress(self, *columns: str | ProgressColumn) -> Progress:
        """A progress display on stderr (`progress_console`), transient; one that shows nothing when
        stderr is no terminal or the output is --json."""
        console = progress_console(self.as_json)
        return Progress(
            *columns,
            console=console or Console(stderr=True, quiet=True),
            disable=console is None,
            transient=True,
        )

    def hash_file(self, path: Path) -> bytes:
        """keccak256 of a file read in chunks (flat memory), with a progress bar over its bytes when it is
        BIG_FILE or more (a 2 GB record takes some 15 seconds)."""
        try:
            size = path.stat().st_size
        except OSError as err:
            raise InputError(f"cannot read {path}: {err.strerror or err}") from None
        if size < BIG_FILE:
            return keccak_file(path)
        columns = (TextColumn(f"hashing {path.name}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
        with self.progress(*columns) as bar:
            task = bar.add_task("hashing", total=size)
            return keccak_file(path, lambda done: bar.update(task, completed=done))

    def tx(self, action: str, result: TxResult, **extra: Any) -> None:
        self.emit(
            {
                "action": action,
                "txHash": result.tx_hash,
                "block": result.block_number,
                "gasUsed": result.gas_used,
                **extra,
            },
            f"{action}: tx {result.tx_hash} in block {result.block_number}, {result.gas_used:,} gas",
        )


pass_ctx = click.make_pass_decorator(Context)

PROGRESS_ENV = "CARECHAIN_PROGRESS"
BIG_FILE = 64 << 20  # bytes: a file hashed in more than a blink gets a progress bar


def progress_console(as_json: bool) -> Console | None:
    """stderr for progress bars when it is a terminal and the output is not --json; CARECHAIN_PROGRESS=1
    shows them on any stderr (a log, a test), 0 on none. None: show no progress."""
    setting = os.environ.get(PROGRESS_ENV, "").strip()
    if as_json or setting == "0":
        return None
    console = Console(stderr=True, force_terminal=True if setting == "1" else None)
    return console if console.is_terminal else None


_UNCUT = 2**16  # columns: wider than any table a command prints, so rich never cuts a cell


def output_console() -> Console:
    """stdout as rich sees it: as wide as the terminal, or $COLUMNS; piped or redirected without
    $COLUMNS, wide enough that no table is cut (rich would take 80 columns: an expiry "2027-01…")."""
    console = Console(soft_wrap=True)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = _UNCUT
    return console


class _Group(click.Group):
    """Turns every CareChainError into one line on stderr and exit status 1, bad usage into one line and 2."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as err:  # a malformed option of `carechain` itself
            _usage(err, ctx.command_path)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as err:  # a missing or malformed argument of a subcommand
            where = err.ctx.command_path if err.ctx else ctx.command_path
            _usage(err, where)
        except CareChainError as err:
            _fail(str(err))
        except requests.exceptions.RequestException as err:  # the node went away mid-command
            _fail(f"the Ethereum node stopped answering ({type(err).__name__}); re-run once it is back")
        except OSError as err:  # a file a command reads or writes: a missing folder, no permission
            if err.filename is None:
                _fail(f"{type(err).__name__}: {err}")
            _fail(f"cannot use {err.filename}: {err.strerror or err}")


def _usage(err: click.UsageError, where: str) -> NoReturn:
    if isinstance(err, click.exceptions.NoArgsIsHelpError):  # a bare group: its help, as click shows it
        raise err
    _fail(f"{err.format_message().rstrip('.')} (see {where} --help)", err.exit_code)


def _fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--rpc-url", envvar="RPC_URL", help="Node to talk to (default: $RPC_URL, .env, http://127.0.0.1:8545)."
)
@click.option(
    "--keystore",
    envvar="KEYSTORE",
    type=click.Path(dir_okay=False),
    help="Encrypted JSON keystore; the password is asked for, hidden (or $KEYSTORE_PASSWORD).",
)
@json_option("Machine-readable output.")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Project folder with deployments/ and abi/ (default: found from the working folder).",
)
@click.pass_context
def cli(
    ctx: click.Context, rpc_url: str | None, keystore: str | None, as_json: bool, root: Path | None
) -> None:
    """CareChain: patient consents on an Ethereum chain.

    \b
    Examples:
      carechain deploy
      carechain consent grant 0xResearcher --purpose HMB --scopes labs,genomics --expires 365d
      carechain consent check 0xPatient 0xResearcher --purpose HMB --scopes labs
      carechain consent sign 0xResearcher --purpose HMB --scopes labs -o consent.json
      carechain consent submit consent.json
    Keys: PRIVATE_KEY in the environment or .env, or --keystore (never on the command line).
    """
    try:
        folder = root.resolve() if root else project_root()
    except CareChainError:
        folder = Path.cwd()
    ctx.obj = Context(load_settings(folder, rpc_url, keystore), as_json, output_console())


@cli.command()
@click.option(
    "--admin",
    "multisig",
    type=address_of("admin multisig"),
    help="Multisig that appoints registrars through a timelock (default: $CARECHAIN_ADMIN).",
)
@click.option(
    "--timelock-delay",
    type=uint_of("timelock delay", 64),
    help="Seconds an appointment waits in the timelock (default: $CARECHAIN_TIMELOCK_DELAY, else 2 days).",
)
@click.option(
    "--deployer-admin",
    is_flag=True,
    help="On a public chain, keep the deployer as the admin who appoints registrars at once (not advised).",
)
@click.option(
    "--replace-registry",
    is_flag=True,
    help="Redeploy a live CredentialRegistry (and what depends on it) to change who administers it.",
)
@click.option(
    "--replace-factory",
    is_flag=True,
    help="Redeploy a live GuardianshipFactory whose code changed (the relayer then refuses its accounts).",
)
@pass_ctx
def deploy(
    ctx: Context,
    multisig: str | None,
    timelock_delay: int | None,
    deployer_admin: bool,
    replace_registry: bool,
    replace_factory: bool,
) -> None:
    """Deploy the contracts (only what is missing) and write deployments/<chainId>.json and abi/.

    On a public chain give --admin (a multisig): registrars are then appointed through a timelock
    (docs/governance.md); a local chain keeps the deployer as admin unless --admin is given.
    """
    governance = load_governance(ctx.settings.root, multisig, timelock_delay, deployer_admin)
    w3 = connect(ctx.settings.rpc_url)

    def log(line: str) -> None:  # progress goes to stderr with --json, so stdout stays one JSON document
        if ctx.as_json:
            click.echo(line, err=True)
        else:
            ctx.console.print(line)

    manifest = deploy_contracts(
        w3,
        load_sender(w3, ctx.settings),
        ctx.settings.root,
        log=log,
        governance=governance,
        replace_registry=replace_registry,
        replace_factory=replace_factory,
    )
    ctx.emit(manifest.data, f"manifest: {manifest.path}")


@cli.command("purposes")
@pass_ctx
def list_purposes(ctx: Context) -> None:
    """List the purpose codes (GA4GH DUO, HL7 purpose of use) and data scopes."""
    table_data = purposes.export_table()
    if ctx.as_json:
        click.echo(json.dumps(table_data, indent=2))
        return
    table = Table("code", "CURIE", "label", title="Purposes")
    for p in table_data["purposes"]:
        table.add_row(p["code"], p["curie"], p["label"])
    ctx.console.print(table)
    scopes = Table("scope", "bit", "label", title="Data scopes")
    for s in table_data["scopes"]:
        scopes.add_row(s["name"], str(s["bit"]), s["label"])
    ctx.console.print(scopes)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="carechain")


def run_step(rpc_url: str, *args: str) -> None:
    """One `carechain` command as a step of a script (brownie's): returns when it succeeded; an error
    (exit 1), bad usage (2) or a FAIL verdict (3) ends the script with that exit code."""
    try:
        cli.main(["--rpc-url", rpc_url, *args], prog_name="carechain")
    except SystemExit as done:
        if done.code:
            raise


if __name__ == "__main__":
    main()
