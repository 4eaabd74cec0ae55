"""Audit answers from the event index, each checked against the chain: one module per report.

ConsentGrants (the private model): `grants` is the public aggregate audit, `patient_grants` a patient's
own view from their key material, run on their side. These are checked less than the rest: the aggregates
by the revocation epoch alone, a patient's grants grant by grant only against a node they name as trusted,
and `patient_history` not at all (see each module).

Every answer is derived by replaying the indexed events (the latest state per consent, grant,
credential, episode or trial, with expiry honoured against the chain's latest block time) and then
compared with what the contracts say now (`getConsent` and `isPermitted`, `getGrant`,
`getRecordGrant`, `hasCredential` and `canAccess`, `getEpisode`, the access log, `getTrial` ...).
A row the chain disagrees with is reported with `agrees: false`, never dropped: an index that is
behind the chain shows up as disagreement. Nothing here writes.
"""

from carechain.index.audit.access import AccessReport, Permission, who_can_see
from carechain.index.audit.break_glass import EpisodesReport, OpenEpisode, open_break_glass
from carechain.index.audit.common import Snapshot, purpose_label, snapshot
from carechain.index.audit.grants import (
    DayCount,
    DaysReport,
    GrantCount,
    GrantsReport,
    grants_by_purpose,
    revocations_per_day,
)
from carechain.index.audit.history import History, HistoryEntry, history
from carechain.index.audit.patient_grants import (
    OwnEvent,
    OwnGrant,
    OwnGrants,
    OwnHistory,
    patient_grants,
    patient_history,
    root_ids,
)
from carechain.index.audit.reads import ReadsReport, RecordRead, record_reads
from carechain.index.audit.trials import Comparison, TrialReport, trial_report

__all__ = [
    "AccessReport",
    "Comparison",
    "DayCount",
    "DaysReport",
    "EpisodesReport",
    "GrantCount",
    "GrantsReport",
    "History",
    "HistoryEntry",
    "OpenEpisode",
    "OwnEvent",
    "OwnGrant",
    "OwnGrants",
    "OwnHistory",
    "Permission",
    "ReadsReport",
    "RecordRead",
    "Snapshot",
    "TrialReport",
    "grants_by_purpose",
    "history",
    "open_break_glass",
    "patient_grants",
    "patient_history",
    "purpose_label",
    "record_reads",
    "revocations_per_day",
    "root_ids",
    "snapshot",
    "trial_report",
    "who_can_see",
]
