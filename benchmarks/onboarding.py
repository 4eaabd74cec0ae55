"""Cohort onboarding: a clinic imports 10,000 patients' signed consents (`carechain consent import`).

`make bench` (`python -m benchmarks.onboarding`) starts its own Anvil with a 30M block gas limit,
deploys CareChain, lets 10,000 fresh patients each sign one consent with their own key (EIP-712,
offline), writes the clinic's CSV, then times one import of it: reading and checking every row
(signatures recovered, chain state read), then `grantBySigBatch` in as few transactions as fit the
network's gas cap a transaction (2^24, EIP-7825: `carechain.core.batching`). A second import of the
same file is timed too: it must submit nothing. Writes benchmarks/results/onboarding.json.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import Web3

from benchmarks import ROOT, run, write_json
from carechain import CareChainError, Sender, connect, purpose_id, scopes_mask
from carechain.clients import ConsentClient
from carechain.core.deployments import deploy
from carechain.dev.localnode import find_anvil, local_node
from carechain.offchain.consent_import import import_consents, sign_grant, write_csv

RESULTS = ROOT / "benchmarks" / "results" / "onboarding.json"
PATIENTS = 10_000
BLOCK_GAS_LIMIT = 30_000_000
DEADLINE = 4_102_444_800  # 2100-01-01: fixed, so the signatures (and calldata gas) repeat run to run
GRANTEE = to_checksum_address(keccak(text="onboarding-bench:researcher")[12:])


def patient_key(index: int) -> bytes:
    """Patient `index`'s key: fresh for the bench, the same every run."""
    return keccak(text=f"onboarding-bench:patient:{index}")


def measure(
    w3: Web3, folder: Path, patients: int = PATIENTS, batch_size: int | None = None
) -> dict[str, Any]:
    """Deploy on `w3` (its first unlocked account is the clinic), sign, write the CSV, import it twice."""
    clinic = Sender(w3, w3.eth.accounts[0])
    deploy(w3, clinic, folder)
    client = ConsentClient.from_manifest(w3, folder, clinic)
    domain = client.domain()
    purpose, scopes = purpose_id("HMB"), scopes_mask(["labs", "genomics"])
    started = time.perf_counter()
    grants = [
        sign_grant(patient_key(i), domain, GRANTEE, purpose, scopes, 0, 0, DEADLINE) for i in range(patients)
    ]
    signed_s = time.perf_counter() - started
    cohort = folder / "cohort.csv"
    cohort.unlink(missing_ok=True)
    write_csv(cohort, grants)
    started = time.perf_counter()
    result = import_consents(client, cohort, batch_size)
    import_s = time.perf_counter() - started
    started = time.perf_counter()
    rerun = import_consents(client, cohort, batch_size)
    rerun_s = time.perf_counter() - started
    if len(result.submitted) != patients or result.rejected:
        raise CareChainError(
            f"the import submitted {len(result.submitted)} of {patients} consents "
            f"({len(result.rejected)} rejected)"
        )
    if rerun.submitted or len(rerun.skipped) != patients:
        raise CareChainError(f"the re-run submitted {len(rerun.submitted)} consents again")
    if not client.is_permitted(grants[-1].patient, GRANTEE, purpose, scopes):
        raise CareChainError("the last patient's consent does not permit after the import")
    return {
        "patients": patients,
        "consents_per_s": round(patients / import_s),
        "gas_per_consent": round(result.gas_used / patients),
        "gas_total": result.gas_used,
        "batch_size": result.batch_size,
        "transactions": len(result.transactions),
        "block_gas_limit": int(w3.eth.get_block("latest")["gasLimit"]),
        "import_s": round(import_s, 2),
        "rerun_s": round(rerun_s, 2),
        "sign_s": round(signed_s, 2),
    }


def write_results(results: dict[str, Any], path: Path = RESULTS) -> Path:
    return write_json(results, path)


def _measure_on_own_anvil() -> dict[str, Any]:
    with (
        local_node(find_anvil(ROOT), gas_limit=BLOCK_GAS_LIMIT) as node,
        tempfile.TemporaryDirectory() as tmp,
    ):
        folder = Path(tmp)
        (folder / "build").symlink_to(ROOT / "build")
        return measure(connect(node.url), folder)


def report(results: dict[str, Any]) -> str:
    return (
        f"onboarded {results['patients']:,} patients' signed consents in {results['transactions']} "
        f"transactions of up to {results['batch_size']} in {results['import_s']:.2f} s: "
        f"{results['consents_per_s']:,} consents/s, {results['gas_per_consent']:,} gas a consent; "
        f"a re-run submitted nothing in {results['rerun_s']:.2f} s (signing took {results['sign_s']:.2f} s)"
    )


def main() -> int:
    return run(_measure_on_own_anvil, report, write_results)


if __name__ == "__main__":
    sys.exit(main())
