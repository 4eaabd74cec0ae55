"""What the state machines share: the chain's clock, expected outcomes, and run sizes sized for CI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from brownie import chain, web3
from conftest import reverts
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

HOUR = 3600
# Expiries fall on the half hour and the clock moves in whole hours, so no check lands within
# half an hour of a boundary: the few seconds a transaction or a call adds never change a verdict.
HALF_HOUR = HOUR // 2
MAX_UINT64 = 2**64 - 1

# Examples x steps per machine, each example from the same chain snapshot: a few hundred steps each (the
# step count is a maximum; hypothesis runs about half of it on average), the five machines in ~2 minutes.
SETTINGS = {"max_examples": 20, "stateful_step_count": 20, "deadline": None, "database": None}


def block_time() -> int:
    """The latest block's time: what the model takes as now (calls run at it, give or take seconds)."""
    return int(web3.eth.get_block("latest")["timestamp"])


def expiry(hours: int) -> int:
    """An expiry `hours` from now on the half hour; 0 is "never", a negative count lies in the past."""
    return 0 if hours == 0 else block_time() + hours * HOUR + HALF_HOUR


def sleep_hours(hours: int) -> None:
    """Move the chain's clock on by whole hours and mine a block at the new time."""
    chain.sleep(hours * HOUR)
    chain.mine()


def _address(value: Any) -> Any:
    return str(value) if hasattr(value, "address") else value


@contextmanager
def outcome(error: str | None, *args: Any) -> Iterator[None]:
    """Expect success (`error` None) or a revert with this custom error and arguments."""
    if error is None:
        yield
        return
    with reverts(error, *map(_address, args)):
        yield


def attempt(function: Any, *args: Any, sender: Any, error: tuple[Any, ...] = (None,)) -> Any:
    """Send `function(*args)` as `sender` and return the transaction, or, when the model expects the
    revert `error` (name, arguments), check that a call of it reverts so; a call is as strict and
    saves a mined block per refused step."""
    with outcome(*error):
        if error[0] is not None:
            function.call(*args, {"from": sender})
            return None
        return function(*args, {"from": sender})


_bound: dict[str, Any] = {}


def views(*calls: tuple[Any, ...]) -> list[Any]:
    """Several view calls, each (contract, function name, *arguments), in one JSON-RPC batch."""
    if not calls:
        return []  # (an empty batch is an invalid request)
    with web3.batch_requests() as batch:
        for contract, name, *args in calls:
            key = (
                f"{contract._name}@{contract.address}"  # (test modules deploy other contracts at one address)
            )
            bound = _bound.get(key)
            if bound is None:
                bound = _bound[key] = web3.eth.contract(address=contract.address, abi=contract.abi)
            batch.add(bound.functions[name](*map(_address, args)))
        return list(batch.execute())


class ChainMachine(RuleBasedStateMachine):
    """A state machine whose every example starts from the chain snapshot taken when the run began.

    (brownie's own `state_machine` fixture fails under brownie 1.22's compiled build, so this does
    what it does: snapshot once, revert before each example.)
    """

    def __init__(self) -> None:
        chain.revert()
        super().__init__()


def run_machine(machine: type[ChainMachine], examples: int | None = None, **fixtures: Any) -> None:
    """Run `machine` with `fixtures` as class attributes, from a snapshot of the chain as it is now."""
    bound = type(machine.__name__, (machine,), fixtures)
    chain.snapshot()
    chosen = {**SETTINGS, **({"max_examples": examples} if examples else {})}
    run_state_machine_as_test(bound, settings=settings(**chosen))
