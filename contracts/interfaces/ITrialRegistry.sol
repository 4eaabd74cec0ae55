// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title ITrialRegistry
/// @notice Clinical-trial integrity: what a sponsor promised before the trial (protocol versions and
/// pre-registered endpoints), who consented (enrolment gated on ConsentRegistry at call time), which
/// data existed when (Merkle roots of case-report-form batches, committed by sites), and that nothing
/// changed after the database lock (results committed against the pre-registered endpoints).
/// @dev Only hashes, addresses, counts, bitmasks and times are stored. Subjects enrol under an address
/// of their own per trial, so their trials cannot be linked to each other; a batch root reveals
/// nothing about the rows in it (each leaf is salted).
interface ITrialRegistry {
    /* ------------------------------------------------------------------ */
    /*                               STRUCTS                              */
    /* ------------------------------------------------------------------ */

    /// @notice Where a trial stands. `Approved`: an IRB approved one of its protocol versions at least once.
    enum Status {
        None,
        Registered,
        Approved,
        Locked,
        Reported
    }

    /// @notice A trial's current state.
    /// @param sponsor Who registered the trial, or the account it was transferred to; amends, adds
    /// sites, locks and reports.
    /// @param status See `Status`.
    /// @param protocolVersion The latest protocol version (1 at registration).
    /// @param consentVersion The protocol version consents must name: the latest one that required re-consent.
    /// @param currentApproved Whether an IRB approved the latest protocol version (enrolment needs it).
    /// @param irb The IRB of record: the one account that approves the trial's protocol versions
    /// (finding A.4). Named at registration; the sponsor may change it before the lock (`changeIrb`),
    /// while a version awaits approval only away from an IRB of record that can no longer act.
    /// @param requiredScopes The data scopes a subject's consent must cover.
    /// @param enrolled How many enrolments were made (a subject enrolled again after withdrawing counts again).
    /// @param lockedAt When the database was locked (0: not yet).
    /// @param reportedAt When results were reported (0: not yet).
    /// @param primaryEndpoints Hash of the pre-registered primary endpoints (0 while a blinded plan is unrevealed).
    /// @param secondaryEndpoints Hash of the pre-registered secondary endpoints (0: none).
    /// @param endpointsCommitment For a blinded analysis plan: keccak256(abi.encode(sponsor, primary,
    /// secondary, salt)); 0 for a plain pre-registration.
    /// @param resultsHash Hash of the results document (0: not reported).
    // Packed into 7 slots, the minimum (30 + 32 + 16 bytes, then four hashes): solhint's check misjudges
    // it. The IRB of record shares a slot with the scopes, which `register` writes anyway, and the
    // enrolment count, which `enroll` writes with the scopes it reads: registration and enrolment touch
    // no more slots than before it; the two times moved to a slot of their own, first written at the lock
    // (whether a trial is open is read from `status`, in the first slot).
    // solhint-disable-next-line gas-struct-packing
    struct Trial {
        address sponsor;
        Status status;
        uint32 protocolVersion;
        uint32 consentVersion;
        bool currentApproved;
        address irb;
        uint64 requiredScopes;
        uint32 enrolled;
        uint64 lockedAt;
        uint64 reportedAt;
        bytes32 primaryEndpoints;
        bytes32 secondaryEndpoints;
        bytes32 endpointsCommitment;
        bytes32 resultsHash;
    }

    /// @notice One protocol version; amendments append, nothing is overwritten. `irb` is the IRB that
    /// approved it (0 until then): the IRB of record at the time.
    struct ProtocolVersion {
        bytes32 protocolHash;
        uint64 registeredAt;
        bool requiresReconsent;
        address irb;
        uint64 approvedAt;
    }

    /// @notice A site of a trial. `batches` is the next batch sequence number of this site.
    struct Site {
        bool active;
        uint32 batches;
        uint64 addedAt;
    }

    /// @notice A subject's latest enrolment: one slot while they are in (site, time, version), a
    /// second once they withdraw. A site's address and two uint64 times do not share a slot, and
    /// `enroll` is the frequent write: the withdrawal time, written once, takes the second slot.
    /// @param site The site that enrolled the subject; it, the sponsor or the subject may withdraw them.
    /// @param enrolledAt When the site enrolled the subject (0: never).
    /// @param consentVersion The consent version the subject's live consent names.
    /// @param withdrawnAt When the subject withdrew or their consent lapsed (0: still in).
    struct Enrolment {
        address site;
        uint64 enrolledAt;
        uint32 consentVersion;
        uint64 withdrawnAt;
    }

    /// @notice A committed batch of case-report-form rows, in one slot, found by its site and Merkle root.
    struct Batch {
        uint64 committedAt;
        uint32 sequence;
    }

    /// @notice A case-report-form row as the site's batch file holds it: the leaf of an OpenZeppelin
    /// StandardMerkleTree with encoding ["bytes32","address","uint32","string","string"]. The proofs
    /// take the row, never its hash: the contract hashes it, so only a row of the batch verifies.
    /// @param salt The row's random salt (a guessable value cannot be found by hashing candidates).
    /// @param subject The subject's address for this trial.
    /// @param visit The visit the value was recorded at.
    /// @param field The case-report-form field.
    /// @param value The recorded value, as text.
    struct Row {
        bytes32 salt;
        address subject;
        uint32 visit;
        string field;
        string value;
    }

    /* ------------------------------------------------------------------ */
    /*                               EVENTS                               */
    /* ------------------------------------------------------------------ */

    /// @notice A sponsor registered a trial (protocol version 1) under an IRB of record.
    /// @param trialId The new trial.
    /// @param sponsor Who registered it.
    /// @param irb The IRB of record (an institution's account: it reveals no subject).
    /// @param protocolHash Hash of the protocol document, version 1.
    /// @param requiredScopes The data scopes a subject's consent must cover.
    /// @param primaryEndpoints Hash of the primary endpoints (0 for a blinded plan).
    /// @param secondaryEndpoints Hash of the secondary endpoints (0: none, or a blinded plan).
    /// @param endpointsCommitment A blinded plan's commitment (0 for plain endpoints).
    event TrialRegistered(
        uint256 indexed trialId,
        address indexed sponsor,
        address indexed irb,
        bytes32 protocolHash,
        uint64 requiredScopes,
        bytes32 primaryEndpoints,
        bytes32 secondaryEndpoints,
        bytes32 endpointsCommitment
    );
    /// @notice The sponsor proposed `newSponsor` as the trial's next sponsor (zero: a cancelled proposal);
    /// nothing changes until they accept.
    /// @param trialId The trial.
    /// @param sponsor The current sponsor.
    /// @param newSponsor The proposed sponsor (0: none).
    event SponsorTransferStarted(uint256 indexed trialId, address indexed sponsor, address indexed newSponsor);
    /// @notice The proposed sponsor accepted: the trial is theirs.
    /// @param trialId The trial.
    /// @param previousSponsor The sponsor before.
    /// @param newSponsor The sponsor now.
    event SponsorTransferred(uint256 indexed trialId, address indexed previousSponsor, address indexed newSponsor);
    /// @notice The sponsor named another IRB of record: from now on only `next` approves the trial's
    /// protocol versions, the one awaiting approval included.
    /// @param trialId The trial.
    /// @param previous The IRB of record before.
    /// @param next The IRB of record now.
    event IrbOfRecordChanged(uint256 indexed trialId, address indexed previous, address indexed next);
    /// @notice A sponsor amended the protocol: a new version (re-consent moves the consent version).
    /// @param trialId The trial.
    /// @param version The new protocol version.
    /// @param protocolHash Hash of the amended protocol document.
    /// @param requiresReconsent Whether subjects must consent again to this version.
    event ProtocolAmended(uint256 indexed trialId, uint32 version, bytes32 protocolHash, bool requiresReconsent);
    /// @notice The trial's IRB of record approved a protocol version.
    /// @param trialId The trial.
    /// @param version The protocol version approved.
    /// @param irb Who approved it (the IRB of record).
    event ProtocolApproved(uint256 indexed trialId, uint32 version, address indexed irb);
    /// @notice A sponsor added a site.
    /// @param trialId The trial.
    /// @param site The site's account.
    event SiteAdded(uint256 indexed trialId, address indexed site);
    /// @notice A sponsor removed a site; its committed batches stay.
    /// @param trialId The trial.
    /// @param site The site's account.
    event SiteRemoved(uint256 indexed trialId, address indexed site);
    /// @notice A site enrolled a subject whose consent names `consentVersion`.
    /// @param trialId The trial.
    /// @param subject The subject's address for this trial.
    /// @param site The site that enrolled them.
    /// @param consentVersion The consent version their consent names.
    event SubjectEnrolled(
        uint256 indexed trialId, address indexed subject, address indexed site, uint32 consentVersion
    );
    /// @notice A site confirmed that an enrolled subject consented again to a newer consent version.
    /// @param trialId The trial.
    /// @param subject The subject.
    /// @param consentVersion The consent version their consent now names.
    event SubjectReconsented(uint256 indexed trialId, address indexed subject, uint32 consentVersion);
    /// @notice A subject left the trial at `withdrawnAt` (their consent's revocation or expiry, or
    /// the time of the call); `actor` recorded it.
    /// @param trialId The trial.
    /// @param subject The subject.
    /// @param withdrawnAt When they left.
    /// @param actor Who recorded it: the subject, the site that enrolled them, or the sponsor.
    event SubjectWithdrawn(uint256 indexed trialId, address indexed subject, uint64 withdrawnAt, address actor);
    /// @notice A site enrolled a subject known only by their trial grant (ConsentGrants) for `consentVersion`.
    /// @param trialId The trial.
    /// @param grantId The subject's trial grant: its id is a per-grant commitment, never an address.
    /// @param site The site that enrolled them.
    /// @param consentVersion The consent version the grant covers.
    event GrantEnrolled(uint256 indexed trialId, bytes32 indexed grantId, address indexed site, uint32 consentVersion);
    /// @notice The enrolling site moved an enrolment onto the subject's grant for a newer consent version.
    /// @param trialId The trial.
    /// @param grantId The grant the enrolment was on (terminated by the trial).
    /// @param newGrantId The grant it is on now.
    /// @param consentVersion The consent version the new grant covers.
    event GrantReconsented(
        uint256 indexed trialId, bytes32 indexed grantId, bytes32 indexed newGrantId, uint32 consentVersion
    );
    /// @notice An enrolment on a grant ended at `withdrawnAt`; `actor` recorded it.
    /// @param trialId The trial.
    /// @param grantId The grant.
    /// @param withdrawnAt When it ended (the grant's expiry if it lapsed earlier, else the time of the call).
    /// @param actor Who recorded it: the enrolling site, the sponsor, or anyone once the grant had ended.
    event GrantWithdrawn(uint256 indexed trialId, bytes32 indexed grantId, uint64 withdrawnAt, address actor);
    /// @notice A site committed the Merkle root of a batch of `rows` case-report-form rows.
    /// @param trialId The trial.
    /// @param site The site that committed it.
    /// @param sequence The batch's number among this site's batches (from 0).
    /// @param root The Merkle root of the rows.
    /// @param rows How many rows the batch holds.
    event BatchCommitted(
        uint256 indexed trialId, address indexed site, uint32 sequence, bytes32 root, uint32 rows
    );
    /// @notice The sponsor revealed a blinded analysis plan's endpoints; they matched the commitment.
    /// @param trialId The trial.
    /// @param primaryEndpoints Hash of the primary endpoints.
    /// @param secondaryEndpoints Hash of the secondary endpoints (0: none).
    event EndpointsRevealed(uint256 indexed trialId, bytes32 primaryEndpoints, bytes32 secondaryEndpoints);
    /// @notice The sponsor locked the database: no more commitments, enrolments or amendments.
    /// @param trialId The trial.
    /// @param lockedAt When.
    event DatabaseLocked(uint256 indexed trialId, uint64 lockedAt);
    /// @notice The sponsor reported results against the pre-registered endpoints.
    /// @param trialId The trial.
    /// @param resultsHash Hash of the results document.
    /// @param primaryEndpoints The primary endpoints the results name (the pre-registered ones).
    /// @param secondaryEndpoints The secondary endpoints the results name (the pre-registered ones).
    event ResultsReported(uint256 indexed trialId, bytes32 resultsHash, bytes32 primaryEndpoints, bytes32 secondaryEndpoints);

    /* ------------------------------------------------------------------ */
    /*                               ERRORS                               */
    /* ------------------------------------------------------------------ */

    /// @notice No trial with this id.
    error UnknownTrial(uint256 trialId);
    /// @notice The caller is not the trial's sponsor.
    error NotSponsor(uint256 trialId, address account);
    /// @notice The caller is not the trial's proposed sponsor (or no transfer is pending).
    error NotPendingSponsor(uint256 trialId, address account);
    /// @notice The account (an IRB of record being named, or the IRB of record approving) holds no live
    /// IRB credential.
    error NotIrb(address account);
    /// @notice The sponsor cannot be the IRB of their own trial: neither named as its IRB of record nor
    /// approving it (the IRB of record may have become the sponsor by a transfer).
    error IrbIsSponsor(uint256 trialId, address irb);
    /// @notice The caller is not the trial's IRB of record (finding A.4: another IRB's credential does
    /// not approve it).
    error NotIrbOfRecord(uint256 trialId, address account);
    /// @notice A protocol version awaits the approval of the trial's IRB of record, which can still give
    /// it (a live IRB credential, not the sponsor): the sponsor cannot name another IRB until it decides
    /// (issue 15, A.4 review: no shopping for a friendlier IRB).
    error IrbReviewPending(uint256 trialId, address irb);
    /// @notice The account holds no live RESEARCHER credential (a site must).
    error NotResearcher(address account);
    /// @notice The caller is not an active site of the trial.
    error NotSite(uint256 trialId, address account);
    /// @notice The site is already active.
    error SiteExists(uint256 trialId, address site);
    /// @notice Zero protocol hash or scopes, or endpoints neither plain (primary set, no commitment)
    /// nor blinded (a commitment, no plain hashes).
    error InvalidRegistration(bytes32 protocolHash, uint64 requiredScopes);
    /// @notice The zero protocol hash, or a zero batch root or an empty batch.
    error InvalidHash(bytes32 value);
    /// @notice The database is locked: nothing more is enrolled, committed or amended.
    error TrialLocked(uint256 trialId, uint64 lockedAt);
    /// @notice The action needs another status (e.g. commit before approval, report before lock).
    error InvalidTrialStatus(uint256 trialId, Status status);
    /// @notice Only the latest protocol version, not yet approved, can be approved.
    error InvalidVersion(uint256 trialId, uint32 version);
    /// @notice The latest protocol version awaits IRB approval: no enrolment until then.
    error ProtocolNotApproved(uint256 trialId, uint32 version);
    /// @notice The subject has no live consent for this trial's consent version and scopes.
    error NoConsent(uint256 trialId, address subject, uint32 consentVersion);
    /// @notice The grant does not let this registry enrol its subject in this trial version: it must be active,
    /// made to this registry for purpose CLINTRCH with READ, and scoped to `trialResource(trialId, version)` salted.
    /// @param trialId The trial.
    /// @param grantId The grant.
    /// @param consentVersion The consent version enrolment needs.
    error NoTrialGrant(uint256 trialId, bytes32 grantId, uint32 consentVersion);
    /// @notice An enrolment on this grant exists (a new enrolment needs a new grant).
    /// @param trialId The trial.
    /// @param grantId The grant.
    error GrantAlreadyEnrolled(uint256 trialId, bytes32 grantId);
    /// @notice The enrolment on this grant already covers the current consent version.
    /// @param trialId The trial.
    /// @param grantId The grant.
    /// @param consentVersion The current consent version.
    error GrantAlreadyReconsented(uint256 trialId, bytes32 grantId, uint32 consentVersion);
    /// @notice No live enrolment on this grant.
    /// @param trialId The trial.
    /// @param grantId The grant.
    error GrantNotEnrolled(uint256 trialId, bytes32 grantId);
    /// @notice While the grant is live or on hold, only the enrolling site (still a site) or the sponsor ends the
    /// enrolment.
    /// @param trialId The trial.
    /// @param grantId The grant.
    /// @param account Who tried.
    error UnauthorizedGrantWithdrawal(uint256 trialId, bytes32 grantId, address account);
    /// @notice The subject is the zero address, or the site or sponsor itself.
    error InvalidSubject(address subject);
    /// @notice The subject is enrolled and has not withdrawn (a withdrawn subject may be enrolled afresh).
    error AlreadyEnrolled(uint256 trialId, address subject);
    /// @notice The subject is not enrolled, or has withdrawn.
    error NotEnrolled(uint256 trialId, address subject);
    /// @notice Only the subject, the site that enrolled them (while an active site) or the sponsor
    /// withdraws a subject, whether or not their consent still stands.
    error UnauthorizedWithdrawal(uint256 trialId, address subject, address account);
    /// @notice The subject's consent already names the trial's consent version.
    error AlreadyReconsented(uint256 trialId, address subject, uint32 consentVersion);
    /// @notice This site committed a batch with this root already.
    error BatchExists(uint256 trialId, address site, bytes32 root);
    /// @notice The trial's endpoints were pre-registered in the clear: there is nothing to reveal.
    error NotBlinded(uint256 trialId);
    /// @notice The blinded plan was revealed already.
    error AlreadyRevealed(uint256 trialId);
    /// @notice The revealed endpoints and salt do not hash to the commitment.
    error RevealMismatch(uint256 trialId);
    /// @notice A blinded plan must be revealed before results are reported.
    error EndpointsNotRevealed(uint256 trialId);
    /// @notice The results name endpoints other than the pre-registered ones (outcome switching).
    error EndpointsMismatch(uint256 trialId, bytes32 primaryEndpoints, bytes32 secondaryEndpoints);

    /* ------------------------------------------------------------------ */
    /*                               SPONSOR                              */
    /* ------------------------------------------------------------------ */

    /// @notice Register a trial: protocol version 1, the data scopes consents must cover, its IRB of
    /// record, and either plain endpoint hashes (`endpointsCommitment` 0) or a blinded plan's commitment
    /// (both endpoint hashes 0). The caller becomes the sponsor.
    /// @dev The IRB of record is the only account that approves the trial's protocol versions (finding
    /// A.4): no other holder of an IRB credential can approve it in its place.
    /// @param protocolHash Hash of the protocol document (not zero).
    /// @param requiredScopes The data scopes a subject's consent must cover (at least one).
    /// @param irb The IRB of record: an account with a live IRB credential, not the caller (`NotIrb`,
    /// `IrbIsSponsor`).
    /// @param primaryEndpoints Hash of the primary endpoints (not zero for a plain plan; 0 for a blinded one).
    /// @param secondaryEndpoints Hash of the secondary endpoints (0: none; 0 for a blinded plan).
    /// @param endpointsCommitment keccak256(abi.encode(sponsor, primary, secondary, salt)) for a blinded
    /// plan; 0 for a plain one.
    /// @return trialId The new trial's id (ids run from 1).
    function register(
        bytes32 protocolHash,
        uint64 requiredScopes,
        address irb,
        bytes32 primaryEndpoints,
        bytes32 secondaryEndpoints,
        bytes32 endpointsCommitment
    ) external returns (uint256 trialId);

    /// @notice Amend the protocol (a new version; its IRB approval is pending). With `requiresReconsent`
    /// the consent version moves to it, so consents to earlier versions no longer admit new subjects.
    /// @dev While the amendment awaits the IRB, no subject is enrolled (`ProtocolNotApproved`), but
    /// sites keep committing the data of enrolled subjects and the sponsor may lock: see `commitBatch`
    /// and `lock` (finding A.9).
    /// @param trialId The trial (its sponsor only, before the lock).
    /// @param protocolHash Hash of the amended protocol document (not zero).
    /// @param requiresReconsent Whether subjects must consent again to this version.
    /// @return version The new protocol version.
    function amend(uint256 trialId, bytes32 protocolHash, bool requiresReconsent) external returns (uint32 version);

    /// @notice Add a site: an account holding a live RESEARCHER credential (the sponsor, before the lock).
    /// @param trialId The trial.
    /// @param site The site's account (not already active).
    function addSite(uint256 trialId, address site) external;

    /// @notice Remove a site (it can neither enrol nor commit afterwards; the sponsor only).
    /// @param trialId The trial.
    /// @param site An active site of the trial.
    function removeSite(uint256 trialId, address site) external;

    /// @notice Name another IRB of record (the sponsor, before the lock), e.g. when the IRB closes or the
    /// trial moves to another institution's board. Freely while no protocol version awaits approval
    /// (`currentApproved`); while one does, only if the IRB of record can no longer act on it: its IRB
    /// credential is not live (suspended, revoked or expired: the check `approve` makes) or it became the
    /// sponsor by a transfer (`approve` refuses it, `IrbIsSponsor`). An IRB that closes or loses its
    /// accreditation does not strand the trial, but the sponsor cannot swap away from one that is
    /// deliberating or refusing: `IrbReviewPending` (issue 15, A.4 review). The new IRB approves the
    /// version awaiting approval, if any, and every later amendment; approvals already given stay recorded
    /// under the IRB that gave them (`getProtocolVersion`). After the lock there is nothing left to
    /// approve: `TrialLocked`.
    /// @dev The order of the checks: `NotSponsor`, `TrialLocked`, `IrbReviewPending`, then the new IRB's
    /// (`NotIrb`, `IrbIsSponsor`).
    /// @param trialId The trial.
    /// @param newIrb An account with a live IRB credential, not the sponsor (`NotIrb`, `IrbIsSponsor`).
    function changeIrb(uint256 trialId, address newIrb) external;

    /// @notice Propose the trial's next sponsor (the sponsor only, at any stage): a new key, or another
    /// organisation. Two steps, so a mistyped address cannot take the trial: nothing changes until the
    /// proposed account calls `acceptSponsor`. Proposing again replaces the proposal; proposing zero
    /// cancels it. Approvals already given stay as recorded; `approve` refuses the new sponsor as an IRB,
    /// also if it is the trial's IRB of record (the sponsor then names another with `changeIrb`).
    /// @param trialId The trial.
    /// @param newSponsor The proposed sponsor (0: cancel the pending proposal).
    function transferSponsor(uint256 trialId, address newSponsor) external;

    /// @notice Accept a pending `transferSponsor`: the caller becomes the trial's sponsor. A blinded
    /// plan stays revealable by them: its commitment keeps naming the registering sponsor.
    /// @param trialId The trial (the caller its proposed sponsor).
    function acceptSponsor(uint256 trialId) external;

    /// @notice Reveal a blinded analysis plan's endpoints with the salt of its commitment (the sponsor,
    /// once; the commitment names the registering sponsor, also after a transfer).
    /// @param trialId The trial.
    /// @param primaryEndpoints Hash of the primary endpoints (not zero).
    /// @param secondaryEndpoints Hash of the secondary endpoints (0: none).
    /// @param salt The salt hashed into the commitment.
    function revealEndpoints(uint256 trialId, bytes32 primaryEndpoints, bytes32 secondaryEndpoints, bytes32 salt)
        external;

    /// @notice Lock the database: from now on nothing is enrolled, committed or amended (the sponsor, once
    /// an IRB approved the trial).
    /// @dev Also while an amendment awaits the IRB (finding A.9): ending data collection is the sponsor's
    /// act and does not wait on an amendment, and the IRB's silence cannot hold the database open. The
    /// pending version then never takes effect (`approve` refuses it, `TrialLocked`; its `approvedAt`
    /// stays 0), and the results still answer to the endpoints fixed at registration.
    /// @param trialId The trial.
    function lock(uint256 trialId) external;

    /// @notice After the lock, report results; the endpoints they name must be the pre-registered ones.
    /// @param trialId The trial (its sponsor only).
    /// @param resultsHash Hash of the results document (not zero).
    /// @param primaryEndpoints The primary endpoints the results name.
    /// @param secondaryEndpoints The secondary endpoints the results name.
    function reportResults(uint256 trialId, bytes32 resultsHash, bytes32 primaryEndpoints, bytes32 secondaryEndpoints)
        external;

    /* ------------------------------------------------------------------ */
    /*                                 IRB                                */
    /* ------------------------------------------------------------------ */

    /// @notice Approve the latest protocol version: the trial's IRB of record only (`NotIrbOfRecord`),
    /// while its IRB credential is live (a suspended, expired or revoked IRB cannot: `NotIrb`), and not
    /// while it is the trial's sponsor (`IrbIsSponsor`).
    /// @param trialId The trial (before the lock).
    /// @param version The latest protocol version, not yet approved.
    function approve(uint256 trialId, uint32 version) external;

    /* ------------------------------------------------------------------ */
    /*                                SITES                               */
    /* ------------------------------------------------------------------ */

    /// @notice Enrol a subject whose live consent (to this contract, for `trialPurpose(trialId,
    /// consentVersion)`, covering the required scopes) ConsentRegistry confirms now. The enrolment
    /// records the calling site. A withdrawn subject who consents again may be enrolled again, by any
    /// site, as a fresh enrolment (the site keeps any link to the old one off chain).
    /// @param trialId The trial (approved, not locked; the caller an active site).
    /// @param subject The subject's address for this trial (not the site or the sponsor; not enrolled now).
    function enroll(uint256 trialId, address subject) external;

    /// @notice Record that an enrolled subject consented to the trial's newer consent version.
    /// @param trialId The trial (not locked; the caller an active site).
    /// @param subject An enrolled subject.
    function reconsent(uint256 trialId, address subject) external;

    /// @notice Record a withdrawal, by the subject, the site that enrolled them (while it is an active
    /// site with a live credential) or the sponsor, whatever the state of the consent: dated now while
    /// the consent stands, else at the time it lapsed (revoked, expired or narrowed) where the chain
    /// knows it. A live consent to the trial's current consent version, not yet recorded by
    /// `reconsent`, counts as standing. No other site and no passer-by can end a participation: the
    /// subject may renew a lapsed consent, and a withdrawn subject may be enrolled afresh.
    /// @param trialId The trial.
    /// @param subject An enrolled subject.
    function withdraw(uint256 trialId, address subject) external;

    /// @notice Commit the Merkle root of a batch of `rows` case-report-form rows; O(1) gas whatever the size.
    /// @dev Also while an amendment awaits the IRB (finding A.9): until it is approved the trial runs under
    /// the approved version, and enrolled subjects' visits go on, so their data is committed as it is
    /// collected rather than held back off chain, where it could change; each batch's time, set against
    /// the versions' approval times (`getProtocolVersion`), shows which version it was collected under.
    /// @param trialId The trial (approved, not locked; the caller an active site).
    /// @param root The Merkle root of the rows (not zero, not committed by this site before; another
    /// site's batch with the same root is that site's own and does not stand in the way).
    /// @param rows How many rows the batch holds (at least one).
    /// @return sequence The batch's number among the caller's batches for this trial (from 0).
    function commitBatch(uint256 trialId, bytes32 root, uint32 rows) external returns (uint32 sequence);

    /* ------------------------------------------------------------------ */
    /*                                VIEWS                               */
    /* ------------------------------------------------------------------ */

    /// @notice The opaque purpose consents to a trial name: keccak256(abi.encode("carechain.trial", trialId, version)).
    /// @param trialId The trial.
    /// @param version The consent version.
    /// @return The purpose a subject's consent to this contract must carry.
    function trialPurpose(uint256 trialId, uint32 version) external pure returns (bytes32);

    /// @notice Enrol the subject of a trial grant (sites only, protocol approved): the grant is checked with
    /// ConsentGrants.checkAccess, this registry being its grantee, for CLINTRCH, READ and the salted trial resource.
    /// @param trialId The trial.
    /// @param grantId The subject's trial grant.
    /// @param scopeSalt The grant's scope salt: its scopeRef is keccak256(abi.encode(scopeSalt, trialResource)).
    function enrollGrant(uint256 trialId, bytes32 grantId, bytes32 scopeSalt) external;

    /// @notice Move an enrolment onto the subject's grant for the current consent version (the enrolling site only);
    /// the old grant is terminated by the trial.
    /// @param trialId The trial.
    /// @param grantId The grant the enrolment is on.
    /// @param newGrantId The subject's grant for the current version.
    /// @param scopeSalt The new grant's scope salt.
    function reconsentGrant(uint256 trialId, bytes32 grantId, bytes32 newGrantId, bytes32 scopeSalt) external;

    /// @notice End an enrolment on a grant: while the grant is live, by the enrolling site or the sponsor (the grant
    /// is then terminated by the trial: TERMINATED_BY_ISSUER); while it is on hold (suspended, itself or an ancestor),
    /// by them only as well: a resume lifts a hold, so it is no end (the grant is then left as it is: ConsentGrants
    /// terminates only an ACTIVE grant); once the grant has ended (a terminal status, its own or an ancestor's, e.g. the subject revoked it; or it
    /// expired), by anyone: such a grant never comes back, so recording its end takes nothing from anyone.
    /// @param trialId The trial.
    /// @param grantId The grant.
    function withdrawGrant(uint256 trialId, bytes32 grantId) external;

    /// @notice The unsalted resource a trial grant covers: keccak256(abi.encode("carechain.trial", chainId, this
    /// registry, trialId, version)), binding the grant to the trial, the registry and the chain.
    /// @param trialId The trial.
    /// @param version The consent version.
    /// @return The resource key a grant's scope salts.
    function trialResource(uint256 trialId, uint32 version) external view returns (bytes32);

    /// @notice An enrolment on a grant (zero: none).
    /// @param trialId The trial.
    /// @param grantId The grant.
    /// @return The enrolment.
    function getGrantEnrolment(uint256 trialId, bytes32 grantId) external view returns (Enrolment memory);

    /// @notice The sponsor proposed by `transferSponsor` and not yet accepted; reverts UnknownTrial.
    /// @param trialId The trial.
    /// @return The proposed sponsor (0: none pending).
    function pendingSponsor(uint256 trialId) external view returns (address);

    /// @notice How many trials were registered.
    /// @return The number of trials; ids run from 1 to it.
    function trialCount() external view returns (uint256);

    /// @notice A trial; reverts UnknownTrial.
    /// @param trialId The trial.
    /// @return Its sponsor, status, versions, IRB of record, scopes, counts, times and hashes (see `Trial`).
    function getTrial(uint256 trialId) external view returns (Trial memory);

    /// @notice One protocol version (1 to `protocolVersion`); reverts InvalidVersion outside.
    /// @param trialId The trial.
    /// @param version The protocol version.
    /// @return Its hash, when it was registered, whether it required re-consent, and its IRB approval.
    function getProtocolVersion(uint256 trialId, uint32 version) external view returns (ProtocolVersion memory);

    /// @notice A site of a trial.
    /// @param trialId The trial.
    /// @param site The site's account.
    /// @return Whether it is active, its next batch number and when it was added (all zero if never added).
    function getSite(uint256 trialId, address site) external view returns (Site memory);

    /// @notice A subject's enrolment.
    /// @param trialId The trial.
    /// @param subject The subject.
    /// @return The latest enrolment: its site, when it began, its consent version and when it ended
    /// (all zero if never enrolled).
    function getEnrolment(uint256 trialId, address subject) external view returns (Enrolment memory);

    /// @notice Whether a subject is in the trial now.
    /// @param trialId The trial.
    /// @param subject The subject.
    /// @return True if enrolled and not withdrawn.
    function isEnrolled(uint256 trialId, address subject) external view returns (bool);

    /// @notice A committed batch.
    /// @param trialId The trial.
    /// @param site The site that committed it.
    /// @param root The batch's Merkle root.
    /// @return When it was committed and its sequence (both zero if this site never committed it to this trial).
    function getBatch(uint256 trialId, address site, bytes32 root) external view returns (Batch memory);

    /// @notice True if `site` committed `root` to the trial and `proof` shows `row` inside it
    /// (OpenZeppelin MerkleProof: sorted pairs, as OpenZeppelin's merkle-tree library builds them).
    /// @dev The leaf is computed here, keccak256(bytes.concat(keccak256(abi.encode(salt, subject, visit,
    /// field, value)))), as StandardMerkleTree hashes a value: a leaf's last preimage is 32 bytes and an
    /// inner node's 64, so neither the root nor an inner node passes as a row (finding A.8). The row is
    /// clinical data: ask this by eth_call of a node you run (never in a transaction, whose calldata is
    /// public for good); `carechain trial verify` checks a row off chain against getBatch's root instead.
    /// @param trialId The trial.
    /// @param site The site that committed the batch.
    /// @param root A batch root.
    /// @param row The row, with its salt, as the batch file holds it.
    /// @param proof The sibling hashes from the row's leaf up to the root.
    /// @return True if the site committed the root to the trial and the proof holds for the row.
    function verifyRow(uint256 trialId, address site, bytes32 root, Row calldata row, bytes32[] calldata proof)
        external
        view
        returns (bool);

    /// @notice The same for several rows of one batch at once (an OpenZeppelin multiproof); a
    /// malformed multiproof reverts with OpenZeppelin's MerkleProofInvalidMultiproof.
    /// @param trialId The trial.
    /// @param site The site that committed the batch.
    /// @param root A batch root.
    /// @param rows The rows (at least one), in the multiproof's order of their leaves.
    /// @param proof The multiproof's sibling hashes.
    /// @param proofFlags The multiproof's flags (OpenZeppelin's `multiProofVerify`).
    /// @return True if the site committed the root to the trial, `rows` is not empty and the multiproof holds.
    function verifyRows(
        uint256 trialId,
        address site,
        bytes32 root,
        Row[] calldata rows,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external view returns (bool);
}
