"""`carechain trial ...`: sponsors register and lock, IRBs approve, sites enrol and commit, all verify."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from eth_account.signers.local import LocalAccount
from rich.table import Table

from carechain.cli.core import Context, cli, pass_ctx
from carechain.cli.options import (
    FILE,
    PROTOCOL_VERSION,
    TRIAL_ID,
    deadline_option,
    expires_option,
    output_option,
    scopes_option,
)
from carechain.clients.base import bytes32, checksum
from carechain.clients.consent import ConsentClient
from carechain.clients.trials import TrialClient
from carechain.core import purposes
from carechain.core.config import require_account
from carechain.core.times import show_time
from carechain.errors import InputError
from carechain.offchain.trialdata import (
    DataBatch,
    Endpoints,
    Results,
    RowProof,
    Verdict,
    file_hash,
    read_json,
    read_rows,
    subject_account,
    verify_batch,
    verify_results,
    verify_row,
)

trial_id_argument = click.argument("trial_id", type=TRIAL_ID)


@cli.group()
def trial() -> None:
    """Clinical trials: pre-registration, consent-gated enrolment, data commitments, lock, verification.

    \b
    Examples:
      carechain trial register --protocol protocol.pdf --endpoints endpoints.json --scopes labs,vitals \\
          --irb 0xIrb                                 # the trial's IRB of record
      carechain trial approve 1                       # the IRB of record
      carechain trial add-site 1 0xSite               # sponsor
      carechain trial consent 1 -o consent.json       # subject: signs with their per-trial key
      carechain consent submit consent.json           # site relays it
      carechain trial enroll 1 0xSubject              # site
      carechain trial commit 1 --rows visit1.csv -o batch-1.json
      carechain trial lock 1 && carechain trial report 1 --results results.json
      carechain trial verify 1 --results results.json --batch batch-1.json
    """


def _hex_or_file(value: str) -> bytes:
    """A document's hash: 0x bytes32 as given, or the keccak256 of a file."""
    return bytes32(value, "hash") if value.startswith("0x") else file_hash(Path(value))


# ---- sponsor -------------------------------------------------------------------------------------


@trial.command("register")
@click.option("--protocol", required=True, help="The protocol document (hashed here) or its 0x hash.")
@click.option("--endpoints", type=FILE, required=True, help="JSON: {primary: [...], secondary: [...]}.")
@scopes_option("Data scopes a subject's consent must cover (labs,vitals).")
@click.option(
    "--irb",
    required=True,
    metavar="ADDRESS",
    help="The trial's IRB of record: the only account that approves it (a live IRB credential, not you).",
)
@click.option("--blinded", is_flag=True, help="Commit to the endpoints now and reveal them later.")
@click.option("--salt-out", type=FILE, help="With --blinded: where to keep the secret salt.")
@pass_ctx
def trial_register(
    ctx: Context, protocol: str, endpoints: Path, scopes: int, irb: str, blinded: bool, salt_out: Path | None
) -> None:
    """(Sponsor) register a trial: protocol version 1, its IRB of record and its pre-registered endpoints."""
    irb = checksum(irb, "IRB")
    plan = Endpoints.load(endpoints)
    client = ctx.client(TrialClient)
    protocol_hash = _hex_or_file(protocol)
    if blinded:
        if salt_out is None:
            raise InputError("--blinded needs --salt-out FILE: the salt you will reveal the plan with")
        if salt_out.exists():
            raise InputError(f"{salt_out} exists: it may hold the salt of another trial; choose a new file")
        assert client.sender is not None
        salt = os.urandom(32)
        # Written before the transaction: a lost salt would make the plan impossible to reveal.
        salt_out.write_text(json.dumps({"sponsor": client.sender.address, "salt": "0x" + salt.hex()}) + "\n")
        salt_out.chmod(0o600)
        result, trial_id = client.register(
            protocol_hash, scopes, irb, endpoints_commitment=plan.commitment(client.sender.address, salt)
        )
    else:
        result, trial_id = client.register(protocol_hash, scopes, irb, plan.primary_hash, plan.secondary_hash)
    ctx.tx(f"trial {trial_id} registered, IRB of record {irb}", result, trialId=trial_id, irb=irb)


@trial.command("amend")
@trial_id_argument
@click.option("--protocol", required=True, help="The amended protocol document or its 0x hash.")
@click.option("--reconsent", is_flag=True, help="Subjects must consent again to this version.")
@pass_ctx
def trial_amend(ctx: Context, trial_id: int, protocol: str, reconsent: bool) -> None:
    """(Sponsor) amend the protocol: a new version, pending IRB approval."""
    result, version = ctx.client(TrialClient).amend(trial_id, _hex_or_file(protocol), reconsent)
    ctx.tx(f"trial {trial_id} amended to version {version}", result, version=version)


def _account_action(name: str, who: str, verb: str, doc: str) -> None:
    """`trial <name> TRIAL_ID ACCOUNT`: one TrialClient call on an account (a site or a subject)."""

    @trial.command(name.replace("_", "-"), help=doc)
    @trial_id_argument
    @click.argument("account", metavar=who.upper())
    @pass_ctx
    def command(ctx: Context, trial_id: int, account: str) -> None:
        result = getattr(ctx.client(TrialClient), name)(trial_id, checksum(account, who))
        ctx.tx(f"{who} {verb}", result, **{who: account})


_account_action(
    "add_site", "site", "added", "(Sponsor) add SITE, an account with a live RESEARCHER credential."
)
_account_action("remove_site", "site", "removed", "(Sponsor) remove SITE; its committed batches stay.")


@trial.command("change-irb")
@trial_id_argument
@click.argument("new_irb", metavar="NEW_IRB")
@pass_ctx
def trial_change_irb(ctx: Context, trial_id: int, new_irb: str) -> None:
    """(Sponsor) name NEW_IRB the trial's IRB of record, e.g. when its IRB closes (before the lock).

    From now on only NEW_IRB approves, the version awaiting approval included; past approvals stay.
    While a version awaits approval, only if the current IRB of record can no longer act on it (its
    IRB credential suspended, revoked or expired): else IrbReviewPending.
    """
    new_irb = checksum(new_irb, "IRB")
    result = ctx.client(TrialClient).change_irb(trial_id, new_irb)
    ctx.tx(f"trial {trial_id}: IRB of record is now {new_irb}", result, irb=new_irb)


@trial.command("transfer-sponsor")
@trial_id_argument
@click.argument("new_sponsor", metavar="NEW_SPONSOR")
@pass_ctx
def trial_transfer_sponsor(ctx: Context, trial_id: int, new_sponsor: str) -> None:
    """(Sponsor) propose NEW_SPONSOR (a new key, or another organisation) as the trial's sponsor.

    Nothing changes until NEW_SPONSOR runs `trial accept-sponsor`; the zero address cancels the proposal.
    """
    result = ctx.client(TrialClient).transfer_sponsor(trial_id, checksum(new_sponsor, "new sponsor"))
    ctx.tx(f"trial {trial_id}: {new_sponsor} proposed as sponsor", result, newSponsor=new_sponsor)


@trial.command("accept-sponsor")
@trial_id_argument
@pass_ctx
def trial_accept_sponsor(ctx: Context, trial_id: int) -> None:
    """(Proposed sponsor) accept the trial: from now on the sponsor's actions are yours."""
    ctx.tx(f"trial {trial_id}: sponsor transfer accepted", ctx.client(TrialClient).accept_sponsor(trial_id))


@trial.command("reveal")
@trial_id_argument
@click.option("--endpoints", type=FILE, required=True, help="The endpoints file committed to.")
@click.option("--salt-file", type=FILE, required=True, help="The file `register --salt-out` wrote.")
@pass_ctx
def trial_reveal(ctx: Context, trial_id: int, endpoints: Path, salt_file: Path) -> None:
    """(Sponsor) reveal a blinded analysis plan's endpoints."""
    plan, secret = Endpoints.load(endpoints), read_json(salt_file, "salt file")
    salt = bytes32(secret.get("salt", "") if isinstance(secret, dict) else "", "salt")
    result = ctx.client(TrialClient).reveal_endpoints(trial_id, plan.primary_hash, plan.secondary_hash, salt)
    ctx.tx(f"trial {trial_id} endpoints revealed", result)


@trial.command("lock")
@trial_id_argument
@pass_ctx
def trial_lock(ctx: Context, trial_id: int) -> None:
    """(Sponsor) lock the database: no more enrolments, commitments or amendments."""
    ctx.tx(f"trial {trial_id} locked", ctx.client(TrialClient).lock(trial_id))


@trial.command("report")
@trial_id_argument
@click.option("--results", type=FILE, required=True, help="JSON: {trialId, endpoints, ...results}.")
@pass_ctx
def trial_report(ctx: Context, trial_id: int, results: Path) -> None:
    """(Sponsor) after the lock, report results against the pre-registered endpoints."""
    document = Results.load(results)
    if document.trial_id != trial_id:
        raise InputError(f"{results} is about trial {document.trial_id}, not {trial_id}")
    result = ctx.client(TrialClient).report_results(
        trial_id, document.results_hash, document.endpoints.primary_hash, document.endpoints.secondary_hash
    )
    ctx.tx(f"trial {trial_id} results reported", result, resultsHash="0x" + document.results_hash.hex())


# ---- IRB -----------------------------------------------------------------------------------------


@trial.command("approve")
@trial_id_argument
@click.option("--version", type=PROTOCOL_VERSION, help="The protocol version (default: the latest).")
@pass_ctx
def trial_approve(ctx: Context, trial_id: int, version: int | None) -> None:
    """(The trial's IRB of record) approve the latest protocol version."""
    ctx.tx(f"trial {trial_id} approved", ctx.client(TrialClient).approve(trial_id, version))


# ---- subjects ------------------------------------------------------------------------------------


def _subject(ctx: Context, trial_id: int, client: TrialClient) -> LocalAccount:
    """The caller's per-trial subject key, derived from their own key (PRIVATE_KEY or keystore)."""
    return subject_account(
        bytes(require_account(ctx.settings).key), client.w3.eth.chain_id, client.address, trial_id
    )


@trial.command("subject")
@trial_id_argument
@pass_ctx
def trial_subject(ctx: Context, trial_id: int) -> None:
    """(Subject) your own address for this trial, derived from your key; it links to nothing else."""
    subject = _subject(ctx, trial_id, ctx.client(TrialClient, with_key=False))
    ctx.emit(
        {"trialId": trial_id, "subject": subject.address},
        f"your address in trial {trial_id}: {subject.address}",
    )


@trial.command("consent")
@trial_id_argument
@expires_option("Until when (never, 365d, a date).", default="never", show_default=True)
@deadline_option("1d", "Until when the site may submit it.")
@output_option()
@pass_ctx
def trial_consent(ctx: Context, trial_id: int, expires: int, deadline: int, output: Path) -> None:
    """(Subject) sign consent to the trial's current version with your per-trial key, for a site to submit."""
    trials = ctx.client(TrialClient, with_key=False)
    subject, facts = _subject(ctx, trial_id, trials), trials.get_trial(trial_id)
    consents = ctx.client(ConsentClient, with_key=False)
    signed = consents.sign_grant(
        subject,
        trials.address,
        trials.trial_purpose(trial_id, facts.consent_version),
        facts.required_scopes,
        expires,
        deadline,
    )
    output.write_text(signed.to_json() + "\n")
    ctx.emit(
        {"file": str(output), "subject": subject.address, "consentVersion": facts.consent_version},
        f"consent to trial {trial_id} v{facts.consent_version} signed by {subject.address}: {output}",
    )


# ---- sites ---------------------------------------------------------------------------------------


_account_action("enroll", "subject", "enrolled", "(Site) enrol SUBJECT: the chain checks their consent now.")
_account_action(
    "reconsent", "subject", "re-consented", "(Site) record that SUBJECT consented to the new consent version."
)
_account_action(
    "withdraw",
    "subject",
    "withdrawn",
    "Record SUBJECT's withdrawal (the subject, the site that enrolled them, or the sponsor).",
)


@trial.command("commit")
@trial_id_argument
@click.option("--rows", type=FILE, required=True, help="CSV with columns subject,visit,field,value.")
@output_option("The batch file the site keeps (salts!).")
@pass_ctx
def trial_commit(ctx: Context, trial_id: int, rows: Path, output: Path) -> None:
    """(Site) salt the rows, build their Merkle tree, keep it in OUTPUT, commit its root.

    Re-running with the same OUTPUT carries on: the batch file is written before the transaction and
    reused, and a root already on chain is not committed twice.
    """
    data = read_rows(rows)
    client = ctx.client(TrialClient)
    assert client.sender is not None  # ctx.client loads the key
    site = client.sender.address
    if output.exists():
        batch = DataBatch.load(output)
        if sorted((r.subject, r.visit, r.field, r.value) for r in batch.rows) != sorted(data):
            raise InputError(f"{output} holds another batch: choose a new output file")
        if batch.site != site:
            raise InputError(f"{output} is site {batch.site}'s batch, not {site}'s: choose a new output file")
    else:
        batch = DataBatch.of(trial_id, site, data)
        batch.save(output)
    committed = client.get_batch(trial_id, site, batch.root)
    root = "0x" + batch.root.hex()
    if committed.committed:
        ctx.emit(
            {"root": root, "sequence": committed.sequence, "alreadyCommitted": True},
            f"batch {root} was committed already (sequence {committed.sequence})",
        )
        return
    result, sequence = client.commit_batch(trial_id, batch.root, len(data))
    ctx.tx(
        f"batch {sequence} committed ({len(data)} rows, root {root})", result, root=root, sequence=sequence
    )


@trial.command("prove")
@click.argument("batch_file", type=FILE)
@click.option("--row", "index", type=click.IntRange(min=0), help="The row's index in the batch.")
@click.option("--subject", help="Or find the row by subject, --visit and --field.")
@click.option("--visit", type=click.IntRange(min=0))
@click.option("--field", "field_name")
@output_option()
@pass_ctx
def trial_prove(
    ctx: Context,
    batch_file: Path,
    index: int | None,
    subject: str | None,
    visit: int | None,
    field_name: str | None,
    output: Path,
) -> None:
    """(Site) write the proof that one row of BATCH_FILE is in its committed batch (for an auditor)."""
    batch = DataBatch.load(batch_file)
    if index is None:
        if subject is None or visit is None or field_name is None:
            raise InputError("give --row N, or --subject, --visit and --field")
        index = batch.find(checksum(subject, "subject"), visit, field_name)
    proof = batch.prove(index)
    output.write_text(proof.to_json() + "\n")
    ctx.emit(
        {"file": str(output), "root": "0x" + proof.root.hex()}, f"proof of row {index} written to {output}"
    )


# ---- anyone --------------------------------------------------------------------------------------


@trial.command("verify")
@trial_id_argument
@click.option("--results", type=FILE, help="A published results document.")
@click.option("--proof", "proofs", type=FILE, multiple=True, help="A row proof (`trial prove`).")
@click.option("--batch", "batches", type=FILE, multiple=True, help="A site's batch file.")
@click.option(
    "--ask-chain",
    is_flag=True,
    help="Also have TrialRegistry.verifyRow check each --proof row: an eth_call that sends the row, its "
    "salt and value to the node (use it with a node you run; without it rows are checked here).",
)
@pass_ctx
def trial_verify(
    ctx: Context,
    trial_id: int,
    results: Path | None,
    proofs: tuple[Path, ...],
    batches: tuple[Path, ...],
    ask_chain: bool,
) -> None:
    """Check results against the pre-registration and rows against the commitments. Exit 0 PASS, 3 FAIL.

    A row is checked here against the batch root on chain; the node never hears the row's value."""
    if results is None and not proofs and not batches:
        raise InputError("give --results, --proof or --batch: something to verify")
    client = ctx.client(TrialClient, with_key=False)
    verdicts: list[Verdict] = []
    if results is not None:
        verdicts.append(verify_results(client, trial_id, Results.load(results)))
    for path in proofs:
        proof = RowProof.load(path)
        if proof.trial_id != trial_id:
            raise InputError(f"{path} is a proof for trial {proof.trial_id}, not {trial_id}")
        verdicts.append(verify_row(client, proof, ask_chain=ask_chain))
    for path in batches:
        batch = DataBatch.load(path)
        if batch.trial_id != trial_id:
            raise InputError(f"{path} is a batch of trial {batch.trial_id}, not {trial_id}")
        verdicts.append(verify_batch(client, batch))
    ok = all(v.ok for v in verdicts)
    lines = []
    for v in verdicts:
        lines.append(f"{'PASS' if v.ok else 'FAIL'}: {v.subject}")
        lines.extend(f"  {'ok ' if f.ok else 'BAD'} {f.message}" for f in v.findings)
    ctx.verdict(
        ok, {"verdict": "PASS" if ok else "FAIL", "checks": [v.as_dict() for v in verdicts]}, "\n".join(lines)
    )


@trial.command("show")
@trial_id_argument
@pass_ctx
def trial_show(ctx: Context, trial_id: int) -> None:
    """A trial's state, protocol versions and committed batches."""
    client = ctx.client(TrialClient, with_key=False)
    facts, versions, batches, pending = (
        client.get_trial(trial_id),
        client.protocol_versions(trial_id),
        client.batches(trial_id),
        client.pending_sponsor(trial_id),
    )
    scope_names = purposes.scope_names(facts.required_scopes)
    data = {
        "trialId": trial_id,
        "sponsor": facts.sponsor,
        "pendingSponsor": pending,
        "irb": facts.irb,
        "status": facts.status.name,
        "consentVersion": facts.consent_version,
        "requiredScopes": scope_names,
        "enrolled": facts.enrolled,
        "lockedAt": facts.locked_at,
        "blinded": facts.blinded,
        "primaryEndpoints": "0x" + facts.primary_endpoints.hex(),
        "secondaryEndpoints": "0x" + facts.secondary_endpoints.hex(),
        "resultsHash": "0x" + facts.results_hash.hex(),
        "versions": [
            {
                "version": v.version,
                "protocolHash": "0x" + v.protocol_hash.hex(),
                "requiresReconsent": v.requires_reconsent,
                "irb": v.irb,
                "approvedAt": v.approved_at,
            }
            for v in versions
        ],
        "batches": [
            {
                "site": b.site,
                "sequence": b.sequence,
                "root": "0x" + b.root.hex(),
                "rows": b.rows,
                "block": b.block_number,
            }
            for b in batches
        ],
    }
    if ctx.as_json:
        ctx.emit(data, "")
        return
    ctx.console.print(
        f"trial {trial_id}: {facts.status.name.lower()}, sponsor {facts.sponsor}, IRB of record {facts.irb}, "
        f"{facts.enrolled} enrolled, "
        f"consent version {facts.consent_version}, scopes {', '.join(scope_names)}, "
        f"locked {show_time(facts.locked_at) if facts.locked_at else 'no'}"
        + (f"; {pending} proposed as sponsor" if pending else "")
    )
    table = Table("version", "protocol hash", "re-consent", "approved", title="Protocol versions")
    for v in versions:
        approved = show_time(v.approved_at) if v.approved_at else "pending"
        table.add_row(
            str(v.version),
            "0x" + v.protocol_hash.hex()[:16] + "…",
            "yes" if v.requires_reconsent else "no",
            approved,
        )
    ctx.console.print(table)
    commits = Table("site", "seq", "rows", "root", "block", title="Committed batches")
    for b in batches:
        commits.add_row(
            b.site, str(b.sequence), str(b.rows), "0x" + b.root.hex()[:16] + "…", str(b.block_number)
        )
    ctx.console.print(commits)
