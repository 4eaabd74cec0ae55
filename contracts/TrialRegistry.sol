// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {IConsentGrants} from "./interfaces/IConsentGrants.sol";
import {IConsentRegistry} from "./interfaces/IConsentRegistry.sol";
import {ICredentialRegistry} from "./interfaces/ICredentialRegistry.sol";
import {ITrialRegistry} from "./interfaces/ITrialRegistry.sol";
import {Clock, IRB_CREDENTIAL, RESEARCHER_CREDENTIAL} from "./utils/Common.sol";

/// @title TrialRegistry
/// @notice Trials register their protocol and endpoints before they start; the trial's IRB of record
/// approves each protocol version; sites enrol only subjects whose consent ConsentRegistry confirms at that moment,
/// and commit Merkle roots of their data; after the lock, results must name the pre-registered endpoints.
contract TrialRegistry is ITrialRegistry, Clock {
    /// @notice Where subjects' consents are asked, at enrolment and at withdrawal.
    IConsentRegistry public immutable consents;
    /// @notice Where IRBs' and sites' credentials are asked.
    ICredentialRegistry public immutable credentials;
    /// @notice Where subjects' trial grants are checked (ERC-8356; this registry is their grantee and issuer).
    IConsentGrants public immutable consentGrants;
    /// @notice The purpose a trial grant names: HL7 v3-ActReason CLINTRCH (clinical trial research) in CareChain's
    /// purpose codes (carechain.core.profiles).
    uint32 public constant TRIAL_PURPOSE_CODE = 10_039;
    uint32 private constant READ = 0x01;
    bytes32 private constant WITHDRAWN = "carechain.trial.withdrawn";
    bytes32 private constant RECONSENTED = "carechain.trial.reconsented";

    mapping(uint256 trialId => Trial) private _trials;
    mapping(uint256 trialId => mapping(uint32 version => ProtocolVersion)) private _versions;
    mapping(uint256 trialId => mapping(address site => Site)) private _sites;
    mapping(uint256 trialId => mapping(address subject => Enrolment)) private _enrolments;
    mapping(uint256 trialId => mapping(bytes32 grantId => Enrolment)) private _grantEnrolments;
    /// @dev Keyed by site too: a root belongs to the site that committed it, so another site's copy of it
    /// (seen in the mempool) is that site's own entry, and neither blocks nor takes the honest commit.
    mapping(uint256 trialId => mapping(address site => mapping(bytes32 root => Batch))) private _batches;
    mapping(uint256 trialId => address newSponsor) private _pendingSponsors;
    /// @dev Set only when a trial changes sponsor before its blinded plan is revealed: the account whose
    /// address the commitment holds (the registering sponsor), so the new sponsor can still reveal it.
    mapping(uint256 trialId => address sponsor) private _planSponsors;
    uint256 private _trialCount;

    constructor(IConsentRegistry consents_, ICredentialRegistry credentials_, IConsentGrants consentGrants_) {
        consents = consents_;
        credentials = credentials_;
        consentGrants = consentGrants_;
    }

    /* ------------------------------------------------------------------ */
    /*                               SPONSOR                              */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc ITrialRegistry
    function register(
        bytes32 protocolHash,
        uint64 requiredScopes,
        address irb,
        bytes32 primaryEndpoints,
        bytes32 secondaryEndpoints,
        bytes32 endpointsCommitment
    ) external returns (uint256 trialId) {
        bool plain = endpointsCommitment == bytes32(0) && primaryEndpoints != bytes32(0);
        bool blinded = endpointsCommitment != bytes32(0) && primaryEndpoints == bytes32(0)
            && secondaryEndpoints == bytes32(0);
        if (protocolHash == bytes32(0) || requiredScopes == 0 || !(plain || blinded)) {
            revert InvalidRegistration(protocolHash, requiredScopes);
        }
        trialId = ++_trialCount;
        _requireIrb(trialId, irb, msg.sender);
        Trial storage trial = _trials[trialId];
        trial.sponsor = msg.sender;
        trial.status = Status.Registered;
        trial.protocolVersion = 1;
        trial.consentVersion = 1;
        trial.irb = irb;
        trial.requiredScopes = requiredScopes;
        trial.primaryEndpoints = primaryEndpoints;
        trial.secondaryEndpoints = secondaryEndpoints;
        trial.endpointsCommitment = endpointsCommitment;
        _versions[trialId][1].protocolHash = protocolHash;
        _versions[trialId][1].registeredAt = _time();
        emit TrialRegistered(
            trialId,
            msg.sender,
            irb,
            protocolHash,
            requiredScopes,
            primaryEndpoints,
            secondaryEndpoints,
            endpointsCommitment
        );
    }

    /// @inheritdoc ITrialRegistry
    function amend(uint256 trialId, bytes32 protocolHash, bool requiresReconsent) external returns (uint32 version) {
        Trial storage trial = _sponsored(trialId);
        _requireOpen(trialId, trial);
        if (protocolHash == bytes32(0)) revert InvalidHash(protocolHash);
        version = ++trial.protocolVersion;
        if (requiresReconsent) trial.consentVersion = version;
        trial.currentApproved = false;
        _versions[trialId][version] = ProtocolVersion({
            protocolHash: protocolHash,
            registeredAt: _time(),
            requiresReconsent: requiresReconsent,
            irb: address(0),
            approvedAt: 0
        });
        emit ProtocolAmended(trialId, version, protocolHash, requiresReconsent);
    }

    /// @inheritdoc ITrialRegistry
    function addSite(uint256 trialId, address site) external {
        _requireOpen(trialId, _sponsored(trialId));
        if (!credentials.hasCredential(site, RESEARCHER_CREDENTIAL)) revert NotResearcher(site);
        Site storage entry = _sites[trialId][site];
        if (entry.active) revert SiteExists(trialId, site);
        entry.active = true;
        entry.addedAt = _time();
        emit SiteAdded(trialId, site);
    }

    /// @inheritdoc ITrialRegistry
    function removeSite(uint256 trialId, address site) external {
        _sponsored(trialId);
        Site storage entry = _sites[trialId][site];
        if (!entry.active) revert NotSite(trialId, site);
        entry.active = false;
        emit SiteRemoved(trialId, site);
    }

    /// @inheritdoc ITrialRegistry
    function changeIrb(uint256 trialId, address newIrb) external {
        Trial storage trial = _sponsored(trialId);
        _requireOpen(trialId, trial);
        address previous = trial.irb;
        // Issue 15 A.4 review: no shopping for an IRB. While a version awaits approval, the sponsor moves
        // the trial only away from an IRB of record that can no longer approve it, as `approve` sees it:
        // its IRB credential is not live (suspended, revoked, expired), or it became the sponsor.
        if (
            !trial.currentApproved && previous != msg.sender && credentials.hasCredential(previous, IRB_CREDENTIAL)
        ) revert IrbReviewPending(trialId, previous);
        _requireIrb(trialId, newIrb, msg.sender);
        trial.irb = newIrb;
        emit IrbOfRecordChanged(trialId, previous, newIrb);
    }

    /// @inheritdoc ITrialRegistry
    function transferSponsor(uint256 trialId, address newSponsor) external {
        _sponsored(trialId);
        _pendingSponsors[trialId] = newSponsor;
        emit SponsorTransferStarted(trialId, msg.sender, newSponsor);
    }

    /// @inheritdoc ITrialRegistry
    function acceptSponsor(uint256 trialId) external {
        Trial storage trial = _trial(trialId);
        if (msg.sender != _pendingSponsors[trialId]) revert NotPendingSponsor(trialId, msg.sender);
        address previous = trial.sponsor;
        if (
            trial.endpointsCommitment != bytes32(0) && trial.primaryEndpoints == bytes32(0)
                && _planSponsors[trialId] == address(0)
        ) _planSponsors[trialId] = previous;
        delete _pendingSponsors[trialId];
        trial.sponsor = msg.sender;
        emit SponsorTransferred(trialId, previous, msg.sender);
    }

    /// @inheritdoc ITrialRegistry
    function revealEndpoints(uint256 trialId, bytes32 primaryEndpoints, bytes32 secondaryEndpoints, bytes32 salt)
        external
    {
        Trial storage trial = _sponsored(trialId);
        if (trial.endpointsCommitment == bytes32(0)) revert NotBlinded(trialId);
        if (trial.primaryEndpoints != bytes32(0)) revert AlreadyRevealed(trialId);
        // The sponsor is inside the commitment: a copy of it registered by anyone else cannot be revealed.
        // After a transfer it is still the registering sponsor's address.
        address author = _planSponsors[trialId];
        if (author == address(0)) author = msg.sender;
        bytes32 expected = keccak256(abi.encode(author, primaryEndpoints, secondaryEndpoints, salt));
        if (primaryEndpoints == bytes32(0) || expected != trial.endpointsCommitment) revert RevealMismatch(trialId);
        trial.primaryEndpoints = primaryEndpoints;
        trial.secondaryEndpoints = secondaryEndpoints;
        emit EndpointsRevealed(trialId, primaryEndpoints, secondaryEndpoints);
    }

    /// @inheritdoc ITrialRegistry
    function lock(uint256 trialId) external {
        Trial storage trial = _sponsored(trialId);
        if (trial.status != Status.Approved) revert InvalidTrialStatus(trialId, trial.status);
        trial.status = Status.Locked;
        trial.lockedAt = _time();
        emit DatabaseLocked(trialId, _time());
    }

    /// @inheritdoc ITrialRegistry
    function reportResults(uint256 trialId, bytes32 resultsHash, bytes32 primaryEndpoints, bytes32 secondaryEndpoints)
        external
    {
        Trial storage trial = _sponsored(trialId);
        if (trial.status != Status.Locked) revert InvalidTrialStatus(trialId, trial.status);
        if (resultsHash == bytes32(0)) revert InvalidHash(resultsHash);
        if (trial.primaryEndpoints == bytes32(0)) revert EndpointsNotRevealed(trialId);
        if (primaryEndpoints != trial.primaryEndpoints || secondaryEndpoints != trial.secondaryEndpoints) {
            revert EndpointsMismatch(trialId, primaryEndpoints, secondaryEndpoints);
        }
        trial.status = Status.Reported;
        trial.reportedAt = _time();
        trial.resultsHash = resultsHash;
        emit ResultsReported(trialId, resultsHash, primaryEndpoints, secondaryEndpoints);
    }

    /* ------------------------------------------------------------------ */
    /*                                 IRB                                */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc ITrialRegistry
    function approve(uint256 trialId, uint32 version) external {
        Trial storage trial = _trial(trialId);
        _requireOpen(trialId, trial);
        // Finding A.4: the trial's own IRB, not any holder of an IRB credential, and only while it holds one.
        if (msg.sender != trial.irb) revert NotIrbOfRecord(trialId, msg.sender);
        if (!credentials.hasCredential(msg.sender, IRB_CREDENTIAL)) revert NotIrb(msg.sender);
        // The IRB of record may have become the sponsor by a transfer.
        if (msg.sender == trial.sponsor) revert IrbIsSponsor(trialId, msg.sender);
        if (version != trial.protocolVersion || trial.currentApproved) revert InvalidVersion(trialId, version);
        trial.currentApproved = true;
        trial.status = Status.Approved;
        ProtocolVersion storage approved = _versions[trialId][version];
        approved.irb = msg.sender;
        approved.approvedAt = _time();
        emit ProtocolApproved(trialId, version, msg.sender);
    }

    /* ------------------------------------------------------------------ */
    /*                                SITES                               */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc ITrialRegistry
    function enroll(uint256 trialId, address subject) external {
        Trial storage trial = _trial(trialId);
        _requireOpen(trialId, trial);
        _requireSite(trialId);
        if (!trial.currentApproved) revert ProtocolNotApproved(trialId, trial.protocolVersion);
        if (subject == address(0) || subject == msg.sender || subject == trial.sponsor) revert InvalidSubject(subject);
        Enrolment storage enrolment = _enrolments[trialId][subject];
        if (enrolment.enrolledAt != 0) {
            if (enrolment.withdrawnAt == 0) revert AlreadyEnrolled(trialId, subject);
            // A fresh enrolment replaces the withdrawn one (its events keep the history).
            enrolment.withdrawnAt = 0;
        }
        uint32 version = trial.consentVersion;
        if (!_consented(trialId, trial, subject, version)) revert NoConsent(trialId, subject, version);
        // Field by field: the first slot only; the second (withdrawnAt) is written at withdrawal.
        enrolment.site = msg.sender;
        enrolment.enrolledAt = _time();
        enrolment.consentVersion = version;
        ++trial.enrolled;
        emit SubjectEnrolled(trialId, subject, msg.sender, version);
    }

    /// @inheritdoc ITrialRegistry
    function reconsent(uint256 trialId, address subject) external {
        Trial storage trial = _trial(trialId);
        _requireOpen(trialId, trial);
        _requireSite(trialId);
        Enrolment storage enrolment = _enrolled(trialId, subject);
        uint32 version = trial.consentVersion;
        if (enrolment.consentVersion == version) revert AlreadyReconsented(trialId, subject, version);
        if (!_consented(trialId, trial, subject, version)) revert NoConsent(trialId, subject, version);
        enrolment.consentVersion = version;
        emit SubjectReconsented(trialId, subject, version);
    }

    /// @inheritdoc ITrialRegistry
    function withdraw(uint256 trialId, address subject) external {
        Trial storage trial = _trial(trialId);
        Enrolment storage enrolment = _enrolled(trialId, subject);
        // Whatever the consent's state: a lapse is for these three to record, not for anyone to seize.
        if (
            msg.sender != subject && msg.sender != trial.sponsor
                && (msg.sender != enrolment.site || !_isSite(trialId, msg.sender))
        ) revert UnauthorizedWithdrawal(trialId, subject, msg.sender);
        (bool live, uint64 withdrawnAt) = _consentEnd(trialId, subject, enrolment.consentVersion);
        if (!live && trial.consentVersion != enrolment.consentVersion) {
            // A consent to the newer version that no site has recorded yet (`reconsent`) counts too.
            (bool newerLive, uint64 newerEnd) = _consentEnd(trialId, subject, trial.consentVersion);
            live = newerLive;
            if (newerEnd > withdrawnAt) withdrawnAt = newerEnd;
        }
        if (live) withdrawnAt = _time();
        enrolment.withdrawnAt = withdrawnAt;
        emit SubjectWithdrawn(trialId, subject, withdrawnAt, msg.sender);
    }

    /// @inheritdoc ITrialRegistry
    function enrollGrant(uint256 trialId, bytes32 grantId, bytes32 scopeSalt) external {
        Trial storage trial = _trial(trialId);
        _requireOpen(trialId, trial);
        _requireSite(trialId);
        if (!trial.currentApproved) revert ProtocolNotApproved(trialId, trial.protocolVersion);
        Enrolment storage enrolment = _grantEnrolments[trialId][grantId];
        if (enrolment.enrolledAt != 0) revert GrantAlreadyEnrolled(trialId, grantId);
        uint32 version = trial.consentVersion;
        if (!_trialGranted(trialId, version, grantId, scopeSalt)) revert NoTrialGrant(trialId, grantId, version);
        enrolment.site = msg.sender;
        enrolment.enrolledAt = _time();
        enrolment.consentVersion = version;
        ++trial.enrolled;
        emit GrantEnrolled(trialId, grantId, msg.sender, version);
    }

    /// @inheritdoc ITrialRegistry
    function reconsentGrant(uint256 trialId, bytes32 grantId, bytes32 newGrantId, bytes32 scopeSalt) external {
        Trial storage trial = _trial(trialId);
        _requireOpen(trialId, trial);
        _requireSite(trialId);
        Enrolment storage enrolment = _grantEnrolled(trialId, grantId);
        if (msg.sender != enrolment.site) revert NotSite(trialId, msg.sender);
        uint32 version = trial.consentVersion;
        if (enrolment.consentVersion == version) revert GrantAlreadyReconsented(trialId, grantId, version);
        Enrolment storage next = _grantEnrolments[trialId][newGrantId];
        if (next.enrolledAt != 0) revert GrantAlreadyEnrolled(trialId, newGrantId);
        if (!_trialGranted(trialId, version, newGrantId, scopeSalt)) revert NoTrialGrant(trialId, newGrantId, version);
        next.site = enrolment.site;
        next.enrolledAt = enrolment.enrolledAt;
        next.consentVersion = version;
        enrolment.withdrawnAt = _time();
        emit GrantReconsented(trialId, grantId, newGrantId, version);
        _endGrant(grantId, RECONSENTED);
    }

    /// @inheritdoc ITrialRegistry
    function withdrawGrant(uint256 trialId, bytes32 grantId) external {
        Trial storage trial = _trial(trialId);
        Enrolment storage enrolment = _grantEnrolled(trialId, grantId);
        (bool live, bool held, uint64 withdrawnAt) = _grantStanding(grantId);
        // A grant that ended for good is anyone's to record; a live one, or one on hold, is not.
        if (
            (live || held) && msg.sender != trial.sponsor
                && (msg.sender != enrolment.site || !_isSite(trialId, msg.sender))
        ) revert UnauthorizedGrantWithdrawal(trialId, grantId, msg.sender);
        enrolment.withdrawnAt = withdrawnAt;
        emit GrantWithdrawn(trialId, grantId, withdrawnAt, msg.sender);
        if (live) _endGrant(grantId, WITHDRAWN);
    }

    /// @inheritdoc ITrialRegistry
    function commitBatch(uint256 trialId, bytes32 root, uint32 rows) external returns (uint32 sequence) {
        Trial storage trial = _trial(trialId);
        if (trial.status != Status.Approved) {
            if (trial.status == Status.Locked || trial.status == Status.Reported) {
                revert TrialLocked(trialId, trial.lockedAt);
            }
            revert InvalidTrialStatus(trialId, trial.status);
        }
        Site storage site = _requireSite(trialId);
        if (root == bytes32(0) || rows == 0) revert InvalidHash(root);
        Batch storage batch = _batches[trialId][msg.sender][root];
        if (batch.committedAt != 0) revert BatchExists(trialId, msg.sender, root);
        // The value before the increment is the sequence (post-increment on purpose).
        // solhint-disable-next-line gas-increment-by-one
        sequence = site.batches++;
        // One slot per batch, whatever its size: the rows stay with the site.
        batch.committedAt = _time();
        batch.sequence = sequence;
        emit BatchCommitted(trialId, msg.sender, sequence, root, rows);
    }

    /* ------------------------------------------------------------------ */
    /*                                VIEWS                               */
    /* ------------------------------------------------------------------ */

    /// @inheritdoc ITrialRegistry
    function trialPurpose(uint256 trialId, uint32 version) public pure returns (bytes32) {
        return keccak256(abi.encode("carechain.trial", trialId, uint256(version)));
    }

    /// @inheritdoc ITrialRegistry
    function trialResource(uint256 trialId, uint32 version) public view returns (bytes32) {
        return keccak256(abi.encode("carechain.trial", block.chainid, address(this), trialId, uint256(version)));
    }

    /// @inheritdoc ITrialRegistry
    function getGrantEnrolment(uint256 trialId, bytes32 grantId) external view returns (Enrolment memory) {
        _trial(trialId);
        return _grantEnrolments[trialId][grantId];
    }

    /// @inheritdoc ITrialRegistry
    function pendingSponsor(uint256 trialId) external view returns (address) {
        _trial(trialId);
        return _pendingSponsors[trialId];
    }

    /// @inheritdoc ITrialRegistry
    function trialCount() external view returns (uint256) {
        return _trialCount;
    }

    /// @inheritdoc ITrialRegistry
    function getTrial(uint256 trialId) external view returns (Trial memory) {
        return _trial(trialId);
    }

    /// @inheritdoc ITrialRegistry
    function getProtocolVersion(uint256 trialId, uint32 version) external view returns (ProtocolVersion memory) {
        if (version == 0 || version > _trial(trialId).protocolVersion) revert InvalidVersion(trialId, version);
        return _versions[trialId][version];
    }

    /// @inheritdoc ITrialRegistry
    function getSite(uint256 trialId, address site) external view returns (Site memory) {
        return _sites[trialId][site];
    }

    /// @inheritdoc ITrialRegistry
    function getEnrolment(uint256 trialId, address subject) external view returns (Enrolment memory) {
        return _enrolments[trialId][subject];
    }

    /// @inheritdoc ITrialRegistry
    function isEnrolled(uint256 trialId, address subject) external view returns (bool) {
        Enrolment storage enrolment = _enrolments[trialId][subject];
        return enrolment.enrolledAt != 0 && enrolment.withdrawnAt == 0;
    }

    /// @inheritdoc ITrialRegistry
    function getBatch(uint256 trialId, address site, bytes32 root) external view returns (Batch memory) {
        return _batches[trialId][site][root];
    }

    /// @inheritdoc ITrialRegistry
    function verifyRow(uint256 trialId, address site, bytes32 root, Row calldata row, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        return _batches[trialId][site][root].committedAt != 0 && MerkleProof.verifyCalldata(proof, root, _leaf(row));
    }

    /// @inheritdoc ITrialRegistry
    function verifyRows(
        uint256 trialId,
        address site,
        bytes32 root,
        Row[] calldata rows,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external view returns (bool) {
        // As verifyRow: a batch this site committed, and rows to check, before any hashing.
        return _batches[trialId][site][root].committedAt != 0 && rows.length != 0
            && MerkleProof.multiProofVerifyCalldata(proof, proofFlags, root, _leaves(rows));
    }

    /* ------------------------------------------------------------------ */
    /*                              INTERNALS                             */
    /* ------------------------------------------------------------------ */

    /// @dev A row's StandardMerkleTree leaf: hashed twice, so its last preimage (32 bytes) is never an
    /// inner node's (64 bytes).
    /// @dev The leaves of `rows`, in order (a helper of its own keeps verifyRows' stack shallow enough for
    /// the unoptimised coverage build).
    function _leaves(Row[] calldata rows) private pure returns (bytes32[] memory leaves) {
        leaves = new bytes32[](rows.length);
        for (uint256 i; i < rows.length; ++i) {
            leaves[i] = _leaf(rows[i]);
        }
    }

    function _leaf(Row calldata row) private pure returns (bytes32) {
        bytes32 once = keccak256(abi.encode(row.salt, row.subject, row.visit, row.field, row.value));
        return keccak256(bytes.concat(once));
    }

    function _trial(uint256 trialId) private view returns (Trial storage trial) {
        trial = _trials[trialId];
        if (trial.status == Status.None) revert UnknownTrial(trialId);
    }

    function _sponsored(uint256 trialId) private view returns (Trial storage trial) {
        trial = _trial(trialId);
        if (trial.sponsor != msg.sender) revert NotSponsor(trialId, msg.sender);
    }

    /// @dev Not locked (nor reported, which comes after the lock). Read from `status` (Locked and Reported
    /// are the only statuses with a lock time), in the slot every caller reads anyway; `lockedAt`'s slot
    /// only for the revert.
    function _requireOpen(uint256 trialId, Trial storage trial) private view {
        if (trial.status >= Status.Locked) revert TrialLocked(trialId, trial.lockedAt);
    }

    /// @dev `irb` may be the IRB of record of a trial that `sponsor` sponsors: a live IRB credential, not the sponsor.
    function _requireIrb(uint256 trialId, address irb, address sponsor) private view {
        if (!credentials.hasCredential(irb, IRB_CREDENTIAL)) revert NotIrb(irb);
        if (irb == sponsor) revert IrbIsSponsor(trialId, irb);
    }

    /// @dev The caller is an active site whose RESEARCHER credential is live now.
    function _requireSite(uint256 trialId) private view returns (Site storage site) {
        site = _sites[trialId][msg.sender];
        if (!site.active || !credentials.hasCredential(msg.sender, RESEARCHER_CREDENTIAL)) {
            revert NotSite(trialId, msg.sender);
        }
    }

    function _isSite(uint256 trialId, address account) private view returns (bool) {
        return _sites[trialId][account].active && credentials.hasCredential(account, RESEARCHER_CREDENTIAL);
    }

    function _grantEnrolled(uint256 trialId, bytes32 grantId) private view returns (Enrolment storage enrolment) {
        enrolment = _grantEnrolments[trialId][grantId];
        if (enrolment.enrolledAt == 0 || enrolment.withdrawnAt != 0) revert GrantNotEnrolled(trialId, grantId);
    }

    /// @dev The grant lets this registry (its grantee: checkAccess authenticates msg.sender) read for clinical trial
    /// research the trial version's resource, salted by the grant's scope salt.
    function _trialGranted(uint256 trialId, uint32 version, bytes32 grantId, bytes32 scopeSalt)
        private
        view
        returns (bool)
    {
        bytes32 resourceHash = keccak256(abi.encode(scopeSalt, trialResource(trialId, version)));
        return consentGrants.checkAccess(grantId, TRIAL_PURPOSE_CODE, READ, resourceHash, new bytes32[](0));
    }

    /// @dev Where a grant stands: live (active now); held (on hold: suspended, itself or an ancestor, which a resume
    /// lifts; not expired); or else ended for good (a terminal status, its own or an ancestor's, or its expiry). `end`
    /// is now, or its expiry if that came first (a revocation's own time is in ConsentGrants' event).
    function _grantStanding(bytes32 grantId) private view returns (bool live, bool held, uint64 end) {
        end = _time();
        live = consentGrants.isGrantActive(grantId);
        if (live) return (live, held, end);
        uint64 expiresAt = consentGrants.getGrant(grantId).expiresAt;
        held = expiresAt > end && !_isTerminal(consentGrants.effectiveStatus(grantId));
        if (expiresAt < end) end = expiresAt;
    }

    /// @dev ERC-8356's terminal statuses: all but ACTIVE and SUSPENDED (and NONE, which an enrolled grant never has).
    function _isTerminal(uint8 status) private pure returns (bool) {
        return status != uint8(IConsentGrants.Status.ACTIVE) && status != uint8(IConsentGrants.Status.SUSPENDED);
    }

    /// @dev The trial closes the grant it no longer uses (this registry is its grantee and holds ISSUER_ROLE).
    function _endGrant(bytes32 grantId, bytes32 reason) private {
        if (consentGrants.isGrantActive(grantId)) consentGrants.terminateByIssuer(grantId, reason);
    }

    function _enrolled(uint256 trialId, address subject) private view returns (Enrolment storage enrolment) {
        enrolment = _enrolments[trialId][subject];
        if (enrolment.enrolledAt == 0 || enrolment.withdrawnAt != 0) revert NotEnrolled(trialId, subject);
    }

    function _consented(uint256 trialId, Trial storage trial, address subject, uint32 version)
        private
        view
        returns (bool)
    {
        return consents.isPermitted(subject, address(this), trialPurpose(trialId, version), trial.requiredScopes);
    }

    /// @dev Whether the subject's consent to `version` covers the trial now; if not, the latest time it may
    /// have held, as far as the chain knows (0: never given): the later end of the subject's consents to
    /// this contract and to any grantee, so a withdrawal is never dated while one of them still covered it.
    function _consentEnd(uint256 trialId, address subject, uint32 version)
        private
        view
        returns (bool live, uint64 end)
    {
        if (_consented(trialId, _trials[trialId], subject, version)) return (true, 0);
        bytes32 purpose = trialPurpose(trialId, version);
        uint64 direct = _endOf(consents.getConsent(subject, address(this), purpose));
        uint64 broad = _endOf(consents.getConsent(subject, consents.ANY_GRANTEE(), purpose));
        end = direct > broad ? direct : broad;
    }

    /// @dev When a consent stopped: the earlier of its revocation and its expiry (an expired consent may
    /// still be revoked, for the record); now if it is live but narrowed (the chain keeps no time for
    /// that); 0 if it was never granted.
    function _endOf(IConsentRegistry.Consent memory consent) private view returns (uint64 end) {
        if (consent.grantedAt == 0) return 0;
        end = _time();
        if (consent.revokedAt != 0 && consent.revokedAt < end) end = consent.revokedAt;
        if (consent.expiresAt != 0 && consent.expiresAt < end) end = consent.expiresAt;
    }}
