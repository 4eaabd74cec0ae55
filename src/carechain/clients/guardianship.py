"""GuardianshipFactory on web3.py: one GuardianshipAccount per grant of a minor or an incapacitated patient,
at an address known before it is deployed (its subject commitment is made with it)."""

from __future__ import annotations

from carechain.clients.base import ContractClient, bytes32, checksum, uint
from carechain.core.sender import TxResult

NO_SUCCESSOR = "0x" + "00" * 20  # a minor has no wallet yet: the guardian names the successor later
DAY = 86_400


def term_end(term_ends_at: int) -> int:
    """`term_ends_at` floored to the start of its day (UTC): the term is public (the account's calldata and
    storage), and one exact second shared by a minor's accounts would link them."""
    return term_ends_at - term_ends_at % DAY


class GuardianshipFactoryClient(ContractClient):
    """A GuardianshipFactory deployment; any funded account deploys accounts through it (the clinic's key, or
    the relayer operator's through this client: the relayer's HTTP API deploys none). `carechain deploy`
    deploys one and records it in the manifest: `GuardianshipFactoryClient.from_manifest` (`at` for a
    factory no manifest records)."""

    name = "GuardianshipFactory"
    callees = ("GuardianshipAccount",)  # a clone's set-up reverts with the account's errors

    def predict(
        self, salt: bytes, guardian_signer: str, term_ends_at: int, successor_signer: str = NO_SUCCESSOR
    ) -> str:
        """The account's address for these four values, before (or after) it is deployed."""
        return str(self._call("predict", *_setup(salt, guardian_signer, term_ends_at, successor_signer)))

    def deploy(
        self, salt: bytes, guardian_signer: str, term_ends_at: int, successor_signer: str = NO_SUCCESSOR
    ) -> tuple[TxResult, str]:
        """Deploy and set up the account (an existing one is returned as it is); returns it with the
        transaction. `term_ends_at` is public and bounds the grant's expiry: it is floored to a whole day
        (UTC, `term_end`) here, for `predict` too; choose one that is no birthday (a school year's end)."""
        setup = _setup(salt, guardian_signer, term_ends_at, successor_signer)
        account = str(self._call("predict", *setup))
        return self._send("deploy", *setup), account

    def implementation(self) -> str:
        """The GuardianshipAccount every account is a minimal proxy of."""
        return str(self._call("implementation"))


def _setup(salt: bytes, guardian: str, term_ends_at: int, successor: str) -> tuple[bytes, str, int, str]:
    return (
        bytes32(salt, "salt"),
        checksum(guardian, "guardian signer"),
        term_end(uint(term_ends_at, "termEndsAt", 48)),
        checksum(successor, "successor signer"),
    )
