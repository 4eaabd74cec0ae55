"""One planner for every batched transaction: items grouped so that no transaction asks for more gas
than the network takes in one.

Ethereum refuses a transaction whose gas limit is over 16,777,216 (2^24, EIP-7825, in force since the
Fusaka upgrade), however large its blocks; other networks may set another cap. The cap a batch is
planned under is the least of that per-transaction cap (CARECHAIN_TX_GAS_CAP, else 2^24) and a share
of the block gas limit (a batch should leave room in its block). A batch's gas limit is its items'
gas plus its own overhead, times a safety margin (state may move before it is mined); the planner
puts as many items in a transaction as keep that limit within the cap. An item that alone does not
fit is one InputError: no split can send it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Final, TypeVar

from web3 import Web3

from carechain.errors import ConfigError, InputError

GAS_MARGIN: Final = 1.2  # estimates are exact for our contracts; the margin covers state moving before mining
BATCH_OVERHEAD: Final = 50_000  # a batch's own gas: the transaction's 21,000 and the call around its items
EIP7825_TX_GAS_CAP: Final = 2**24  # 16,777,216: the most gas one transaction may ask for (EIP-7825)
TX_GAS_CAP_ENV: Final = "CARECHAIN_TX_GAS_CAP"
BLOCK_SHARE: Final = 0.8  # a batch takes at most this share of a block, leaving room for others
MIN_TX_GAS: Final = 21_000  # a cap below a transaction's intrinsic gas holds nothing

T = TypeVar("T")


def tx_gas_cap_from_env() -> int:
    """CARECHAIN_TX_GAS_CAP: the most gas one transaction may ask for on this network (default 2^24)."""
    text = os.environ.get(TX_GAS_CAP_ENV, "").replace("_", "").strip()
    if not text:
        return EIP7825_TX_GAS_CAP
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{TX_GAS_CAP_ENV}={os.environ[TX_GAS_CAP_ENV]!r} is not a whole number") from None
    if value < MIN_TX_GAS:
        raise ConfigError(
            f"{TX_GAS_CAP_ENV}={os.environ[TX_GAS_CAP_ENV]!r} is below a transaction's own {MIN_TX_GAS:,} gas"
        )
    return value


def network_cap(w3: Web3, tx_cap: int | None = None) -> int:
    """The most gas a planned batch may ask for on `w3`'s chain: `tx_cap` (default CARECHAIN_TX_GAS_CAP,
    else 2^24), and BLOCK_SHARE of the latest block's gas limit, whichever is less."""
    block_gas_limit = int(w3.eth.get_block("latest")["gasLimit"])
    return min(tx_gas_cap_from_env() if tx_cap is None else tx_cap, int(block_gas_limit * BLOCK_SHARE))


@dataclass(frozen=True)
class Planner:
    """Batches under `cap` gas: a batch of items needing G gas in all asks for (overhead + G) * margin.

    `most` bounds the items of one batch whatever their gas (calldata size, a node's limits).
    """

    cap: int
    overhead: int
    margin: float
    most: int | None = None

    def __post_init__(self) -> None:
        if self.cap <= 0 or self.overhead < 0 or self.margin < 1 or (self.most is not None and self.most < 1):
            raise InputError(
                f"a batch planner needs a cap above 0, an overhead of 0 or more, a margin of 1 or more and "
                f"a positive item bound, not {self}"
            )

    def gas_limit(self, items_gas: int) -> int:
        """The gas limit a batch whose items need `items_gas` in all is sent with."""
        return int((self.overhead + items_gas) * self.margin)

    def fits(self, items_gas: int) -> bool:
        return self.gas_limit(items_gas) <= self.cap

    def size(self, item_gas: int) -> int:
        """The most items of `item_gas` each that one batch holds (at least 1, else an InputError)."""
        self._check_item(item_gas)
        count = max(1, int((self.cap / self.margin - self.overhead) // item_gas))
        while count > 1 and not self.fits(count * item_gas):  # float rounding: settle on the exact bound
            count -= 1
        while self.fits((count + 1) * item_gas) and (self.most is None or count < self.most):
            count += 1
        return count if self.most is None else min(count, self.most)

    def batches(self, items: Sequence[T], item_gas: Callable[[T], int] | int) -> Iterator[list[T]]:
        """`items` in order, cut into batches that each fit the cap (greedy: each batch as full as fits).
        Every item is checked before the first batch is given: one that fits no batch is an InputError
        while nothing has been sent."""
        gases = [item_gas] * len(items) if isinstance(item_gas, int) else [item_gas(item) for item in items]
        if gases:  # the least for a positive gas, the most for one that fits (fitting is monotone)
            self._check_item(min(gases))
            self._check_item(max(gases))
        return self._cut(items, gases)

    def _cut(self, items: Sequence[T], gases: Sequence[int]) -> Iterator[list[T]]:
        batch: list[T] = []
        total = 0
        for item, gas in zip(items, gases, strict=True):
            full = self.most is not None and len(batch) >= self.most
            if batch and (full or not self.fits(total + gas)):
                yield batch
                batch, total = [], 0
            batch.append(item)
            total += gas
        if batch:
            yield batch

    def _check_item(self, item_gas: int) -> None:
        if item_gas < 1:
            raise InputError(f"an item's gas is a positive number, not {item_gas}")
        if not self.fits(item_gas):
            raise InputError(
                f"one item needs {self.gas_limit(item_gas):,} gas with its transaction's own and the margin, "
                f"over this network's {self.cap:,} gas a transaction: it cannot be sent in any batch"
            )


def planner(w3: Web3, tx_gas_cap: int | None = None, most: int | None = None) -> Planner:
    """The planner of CareChain's batch calls on `w3`'s chain: BATCH_OVERHEAD a transaction, GAS_MARGIN
    on top, under `network_cap(w3, tx_gas_cap)` (a Sender's `tx_gas_cap`), at most `most` items each."""
    return Planner(network_cap(w3, tx_gas_cap), BATCH_OVERHEAD, GAS_MARGIN, most)
