"""`carechain admin`: appoint and remove registrars through the timelock that administers CredentialRegistry.

On a public chain the registry's admin is a timelock whose proposer and executor is a multisig (finding
A.6). These commands print what the multisig submits (`schedule`, then `execute` once the delay is over, or
`cancel`): the timelock's address, value 0 and the calldata, as a Safe's transaction builder takes them, or
the whole operation with --json. With --send, a key that is itself the proposer and executor (a local
rehearsal) sends the next step directly.
"""

from __future__ import annotations

from typing import Any

import click

from carechain.cli.core import Context, cli, pass_ctx
from carechain.cli.options import address_of, bytes32_of
from carechain.clients.credentials import CredentialClient
from carechain.clients.governance import Operation, OperationState, TimelockClient
from carechain.core.times import show_time
from carechain.errors import InputError

OPERATION_ID = bytes32_of("operation id")
NO_SALT = "0x" + "00" * 32
send_option = click.option(
    "--send",
    is_flag=True,
    help="Send the next step with the configured key (it must be the timelock's proposer and executor).",
)


@cli.group()
def admin() -> None:
    """Appoint and remove registrars through the timelock (public chains; see docs/governance.md)."""


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _when(state: OperationState, ready_at: int) -> str:
    return (
        f", ready at {show_time(ready_at)}" if state in (OperationState.WAITING, OperationState.READY) else ""
    )


def _status(timelock: TimelockClient, operation_id: bytes) -> dict[str, Any]:
    state = timelock.state(operation_id)
    ready_at = timelock.ready_at(operation_id)
    return {
        "operation": _hex(operation_id),
        "state": state.name.lower(),
        "readyAt": ready_at if state in (OperationState.WAITING, OperationState.READY) else None,
    }


def _registrar_command(name: str, appoint: bool, summary: str) -> None:
    @admin.command(name, help=summary)
    @click.argument("account", type=address_of("registrar"))
    @click.option(
        "--salt",
        type=bytes32_of("salt"),
        default=NO_SALT,
        help="Tells apart operations with the same call (0x + 64 hex; default zero): give a new one to "
        "repeat a call done before. Give the same salt to schedule and to execute.",
    )
    @send_option
    @pass_ctx
    def command(ctx: Context, account: str, salt: bytes, send: bool) -> None:
        registry = ctx.client(CredentialClient, with_key=False)
        timelock = ctx.client(TimelockClient, with_key=send)
        if registry.is_registrar(account) == appoint:
            raise InputError(f"{account} is {'already' if appoint else 'not'} a registrar")
        operation = TimelockClient.registrar_operation(registry, appoint, account, salt)
        _run(ctx, timelock, operation, {"command": name, "account": account}, send)


_registrar_command("appoint-registrar", True, "Appoint ACCOUNT as a registrar through the timelock.")
_registrar_command("revoke-registrar", False, "Remove ACCOUNT's registrar role through the timelock.")


def _run(
    ctx: Context, timelock: TimelockClient, operation: Operation, what: dict[str, Any], send: bool
) -> None:
    """Print the operation's schedule and execute calls, or (--send) send the step its state calls for."""
    operation_id = timelock.operation_id(operation)
    status = _status(timelock, operation_id)
    state = OperationState[status["state"].upper()]
    if state is OperationState.DONE:
        raise InputError(
            f"operation {status['operation']} was executed already: give another --salt to repeat it"
        )
    delay = timelock.min_delay()
    if send:
        if state is OperationState.UNSET:
            result = timelock.schedule(operation, delay)
            ready_at = timelock.ready_at(operation_id)
            ctx.tx(
                f"scheduled (ready at {show_time(ready_at)})",
                result,
                **what,
                operation=status["operation"],
                readyAt=ready_at,
            )
        elif state is OperationState.WAITING:
            raise InputError(
                f"operation {status['operation']} is scheduled and waits until "
                f"{show_time(status['readyAt'])}: send again then"
            )
        else:
            ctx.tx("executed", timelock.execute(operation), **what, operation=status["operation"])
        return
    target, value, data, predecessor, salt = operation.args()
    schedule = _hex(timelock.schedule_calldata(operation, delay))
    execute = _hex(timelock.execute_calldata(operation))
    ctx.emit(
        {
            **what,
            **status,
            "timelock": timelock.address,
            "call": {
                "target": target,
                "value": value,
                "data": _hex(data),
                "predecessor": _hex(predecessor),
                "salt": _hex(salt),
                "delay": delay,
            },
            "schedule": {"to": timelock.address, "value": 0, "data": schedule},
            "execute": {"to": timelock.address, "value": 0, "data": execute},
        },
        "\n".join(
            [
                f"{what['command']} {what['account']}: operation {status['operation']} ({status['state']}"
                f"{_when(state, status['readyAt'] or 0)})",
                f"  target {target}  value {value}  delay {delay} s",
                f"  data {_hex(data)}",
                f"  predecessor {_hex(predecessor)}  salt {_hex(salt)}",
                f"1. schedule: the multisig sends to {timelock.address}, value 0, data",
                f"   {schedule}",
                f"2. execute, {delay} s after: the multisig sends to {timelock.address}, value 0, data",
                f"   {execute}",
            ]
        ),
    )


@admin.command("status")
@click.argument("operation_id", type=OPERATION_ID, required=False)
@pass_ctx
def admin_status(ctx: Context, operation_id: bytes | None) -> None:
    """OPERATION_ID's state (unset, waiting, ready, done); without one, who administers CredentialRegistry."""
    timelock = ctx.client(TimelockClient, with_key=False)
    if operation_id is not None:
        status = _status(timelock, operation_id)
        state = OperationState[status["state"].upper()]
        ctx.emit(
            status,
            f"operation {status['operation']}: {status['state']}{_when(state, status['readyAt'] or 0)}",
        )
        return
    registry = ctx.client(CredentialClient, with_key=False)
    admin_address = registry.default_admin()
    data = {
        "credentialRegistry": registry.address,
        "credentialAdmin": admin_address,
        "timelock": timelock.address,
        "minDelay": timelock.min_delay(),
    }
    ctx.emit(
        data,
        f"CredentialRegistry {registry.address}: admin {admin_address}"
        f"{' (the timelock)' if admin_address == timelock.address else ' (NOT the timelock)'}\n"
        f"timelock {timelock.address}: min delay {data['minDelay']} s",
    )


@admin.command("cancel")
@click.argument("operation_id", type=OPERATION_ID)
@send_option
@pass_ctx
def admin_cancel(ctx: Context, operation_id: bytes, send: bool) -> None:
    """Cancel a scheduled OPERATION_ID before it runs (the multisig, as the timelock's canceller)."""
    timelock = ctx.client(TimelockClient, with_key=send)
    status = _status(timelock, operation_id)
    if status["state"] not in ("waiting", "ready"):
        raise InputError(
            f"operation {status['operation']} is {status['state']}: only a scheduled one is cancelled"
        )
    if send:
        ctx.tx("cancelled", timelock.cancel(operation_id), operation=status["operation"])
        return
    calldata = _hex(timelock.cancel_calldata(operation_id))
    ctx.emit(
        {**status, "cancel": {"to": timelock.address, "value": 0, "data": calldata}},
        f"cancel {status['operation']}: the multisig sends to {timelock.address}, value 0, data\n"
        f"   {calldata}",
    )
