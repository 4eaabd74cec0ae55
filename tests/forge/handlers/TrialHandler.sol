// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ConsentRegistry} from "../../../contracts/ConsentRegistry.sol";
import {CredentialRegistry} from "../../../contracts/CredentialRegistry.sol";
import {TrialRegistry} from "../../../contracts/TrialRegistry.sol";
import {IConsentRegistry} from "../../../contracts/interfaces/IConsentRegistry.sol";
import {ITrialRegistry} from "../../../contracts/interfaces/ITrialRegistry.sol";

import {covers, isLive} from "../utils/ConsentModel.sol";
import {Vm, VM_ADDRESS} from "../utils/Vm.sol";

/// @dev Drives TrialRegistry for the invariant test: two sponsors register up to three trials
/// (plain or blinded endpoints) under an IRB of record (the IRB member, the sponsor who is also an
/// IRB, or an outsider), sponsors change it, an IRB (and a sponsor who is also an IRB, and an
/// outsider) approves, sponsors amend with and without re-consent, add and remove sites (three
/// researchers, one of them suspended and reinstated by the registrar, and an uncredentialed
/// account), four subjects grant, update and revoke consents to the registry or the wildcard for
/// a trial's purposes, sites enrol, record re-consents, commit batches, subjects and others
/// withdraw, sponsors lock, reveal and report, while time moves forward.
/// It keeps its own model of every trial, site, enrolment, batch and consent and predicts each
/// call's outcome, including the exact error of a revert; a call that does not do what the model
/// predicts is counted, not thrown, so the invariant (which asserts the count is zero) reports it.
/// Withdrawal times are counted apart (`withdrawalMismatches`), so that a wrong time shows as its
/// own invariant and the model of everything else stays comparable.
contract TrialHandler {
    Vm internal constant vm = Vm(VM_ADDRESS);

    uint256 public constant MAX_TRIALS = 3;
    uint256 public constant SITES = 4; // site 2's credential comes and goes; site 3 never has one
    uint256 public constant SUBJECTS = 4;

    bytes32 public constant RESEARCHER = keccak256("carechain.credential.RESEARCHER");
    bytes32 public constant IRB = keccak256("carechain.credential.IRB");
    bytes32 internal constant LICENSE = keccak256("licence");
    address public constant ANY_GRANTEE = address(type(uint160).max);
    address public constant IRB_MEMBER = address(0x1A801);
    address public constant OUTSIDER = address(0x0B5E);

    ConsentRegistry public immutable consents;
    CredentialRegistry public immutable credentials;
    TrialRegistry public immutable trials;
    address public immutable registrar;

    /// @dev The handler's clock: it re-applies it on every call, whether or not the fuzzer keeps
    /// block.timestamp between calls.
    uint64 public currentTime;

    struct TrialModel {
        ITrialRegistry.Trial state;
        bytes32 plannedPrimary; // the endpoints registered in the clear, or hidden in the commitment
        bytes32 plannedSecondary;
        bytes32 salt;
    }

    /// @dev A consent as the chain holds it, plus when it stopped covering its trial's scopes in a
    /// way the chain keeps no time for (narrowed by an update, or a covering consent overwritten
    /// by a narrower grant): 0 if it did not.
    struct ConsentRecord {
        IConsentRegistry.Consent consent;
        uint64 uncoveredAt;
    }

    struct Pair {
        uint256 trialId;
        address subject;
    }

    /// @dev See `_lapse`.
    struct Lapse {
        bool live;
        uint64 lapsedAt;
        bool exact;
    }

    struct BatchModel {
        bytes32 root;
        address site;
        uint64 committedAt;
        uint32 sequence;
    }

    uint256 public trialCount;
    mapping(uint256 trialId => TrialModel) private _trials;
    mapping(uint256 trialId => mapping(uint32 version => ITrialRegistry.ProtocolVersion)) private _versions;
    mapping(uint256 trialId => mapping(address site => ITrialRegistry.Site)) private _sites;
    mapping(uint256 trialId => mapping(address subject => ITrialRegistry.Enrolment)) private _enrolments;
    mapping(uint256 trialId => BatchModel[]) private _batches;
    mapping(bytes32 key => ConsentRecord) private _consents;
    mapping(address account => bool) private _researcherLive;

    /// @dev Ghosts: successful enrolments per trial, and whether the model saw a live consent
    /// covering the trial's scopes for its consent version when the subject was enrolled.
    mapping(uint256 trialId => uint32) public ghostEnrolled;
    mapping(uint256 trialId => mapping(address subject => bool)) public ghostConsentAtEnrolment;
    /// @dev Ghost: each trial's status after the last call; a lower one after the next is a regression.
    mapping(uint256 trialId => ITrialRegistry.Status) public lastStatus;
    uint256 public statusRegressions;

    /// @dev Re-aims: the latest consent granted (revocations, enrolments) and the enrolled pairs
    /// (re-consents, withdrawals), or short sequences would mostly miss.
    Pair private _focus;
    address private _focusGrantee;
    uint32 private _focusVersion;
    Pair[] private _enrolled;
    uint256 private _rootNonce;

    uint256 public unexpectedOutcomes;
    string public lastUnexpected;
    uint256 public withdrawalMismatches;
    string public lastWithdrawalMismatch;

    constructor(ConsentRegistry consents_, CredentialRegistry credentials_, TrialRegistry trials_, address registrar_) {
        consents = consents_;
        credentials = credentials_;
        trials = trials_;
        registrar = registrar_;
        currentTime = uint64(block.timestamp);

        vm.startPrank(registrar_);
        credentials_.attest(IRB_MEMBER, IRB, LICENSE, currentTime, 0);
        credentials_.attest(sponsor(1), IRB, LICENSE, currentTime, 0); // an IRB member who also sponsors
        for (uint256 i; i < SITES - 1; ++i) {
            credentials_.attest(site(i), RESEARCHER, LICENSE, currentTime, 0);
            _researcherLive[site(i)] = true;
        }
        vm.stopPrank();

        // One trial open from the start (plain, scopes 0x0C, approved, one site), so short sequences
        // reach enrolment.
        register(0, 11, 3);
        approve(1, 0, 0);
        addSite(1, 0, 0);
    }

    /* ---- ACTORS ---- */

    function sponsor(uint256 i) public pure returns (address) {
        return [address(0x590501), address(0x590502)][i];
    }

    function site(uint256 i) public pure returns (address) {
        return [address(0x517E01), address(0x517E02), address(0x517E03), address(0x517E04)][i];
    }

    function subject(uint256 i) public pure returns (address) {
        return [address(0x5B01), address(0x5B02), address(0x5B03), address(0x5B04)][i];
    }

    function trialPurpose(uint256 trialId, uint32 version) public pure returns (bytes32) {
        return keccak256(abi.encode("carechain.trial", trialId, version));
    }

    /* ---- SPONSOR ---- */

    /// @dev Plain endpoints five times in eight (a zero secondary half of those), blinded two in
    /// eight, zero scopes (invalid) one in eight; the IRB of record is the IRB member six times in
    /// eight, an outsider (no credential) one, the sponsor who is also an IRB one.
    function register(uint256 sponsorSeed, uint256 scopesSeed, uint256 modeSeed) public observe {
        if (trialCount == MAX_TRIALS) return;
        uint256 trialId = trialCount + 1;
        address sponsorAccount = sponsor(sponsorSeed % 2);
        uint256 mode = modeSeed % 8;
        // casting to 'uint64' is safe because the value is below 16
        // forge-lint: disable-next-line(unsafe-typecast)
        uint64 scopes = mode == 0 ? 0 : uint64(1 + scopesSeed % 15);
        // The plan goes into the model first (a failed registration's is overwritten by the next): fewer
        // locals, for the unoptimised coverage build's stack.
        TrialModel storage m = _trials[trialId];
        m.plannedPrimary = keccak256(abi.encode("primary endpoints", trialId));
        m.plannedSecondary =
            (modeSeed >> 3) % 2 == 0 ? keccak256(abi.encode("secondary endpoints", trialId)) : bytes32(0);
        m.salt = keccak256(abi.encode("salt", trialId, modeSeed));
        bool blinded = mode == 1 || mode == 2;
        bytes32 commitment = blinded
            ? keccak256(abi.encode(sponsorAccount, m.plannedPrimary, m.plannedSecondary, m.salt))
            : bytes32(0);
        address irb = [IRB_MEMBER, IRB_MEMBER, IRB_MEMBER, IRB_MEMBER, IRB_MEMBER, IRB_MEMBER, OUTSIDER, sponsor(1)][
            (modeSeed >> 4) % 8
        ];

        bytes memory expected;
        if (scopes == 0) {
            expected = abi.encodeWithSelector(ITrialRegistry.InvalidRegistration.selector, _protocol(trialId, 1), 0);
        } else {
            expected = _irbError(trialId, irb, sponsorAccount);
        }
        vm.prank(sponsorAccount);
        try trials.register(
            _protocol(trialId, 1),
            scopes,
            irb,
            blinded ? bytes32(0) : m.plannedPrimary,
            blinded ? bytes32(0) : m.plannedSecondary,
            commitment
        ) returns (
            uint256 id
        ) {
            if (expected.length != 0) return _unexpected("register succeeded against the model");
            if (id != trialId) _unexpected("register: trial id");
            trialCount = trialId;
            m.state.sponsor = sponsorAccount;
            m.state.status = ITrialRegistry.Status.Registered;
            m.state.protocolVersion = 1;
            m.state.consentVersion = 1;
            m.state.irb = irb;
            m.state.requiredScopes = scopes;
            m.state.primaryEndpoints = blinded ? bytes32(0) : m.plannedPrimary;
            m.state.secondaryEndpoints = blinded ? bytes32(0) : m.plannedSecondary;
            m.state.endpointsCommitment = commitment;
            _versions[trialId][1].protocolHash = _protocol(trialId, 1);
            _versions[trialId][1].registeredAt = currentTime;
        } catch (bytes memory reason) {
            _checkRevert(reason, expected, "register");
        }
    }

    /// @dev The sponsor three times in four, the other sponsor otherwise, names the IRB member half the
    /// time, the sponsor who is also an IRB a quarter, an outsider a quarter.
    function changeIrb(uint256 trialSeed, uint256 irbSeed, uint256 callerSeed) external observe {
        if (trialCount == 0) return;
        uint256 trialId = _anyTrial(trialSeed);
        ITrialRegistry.Trial storage t = _trials[trialId].state;
        address caller = _sponsorOrOther(t.sponsor, callerSeed);
        address irb = irbSeed % 4 < 2 ? IRB_MEMBER : irbSeed % 4 == 2 ? sponsor(1) : OUTSIDER;

        bytes memory expected = _sponsorError(trialId, caller);
        if (expected.length == 0) expected = _lockedError(trialId);
        // Issue 15, A.4 review: not while a version awaits an IRB of record that can act on it, as here
        // every IRB of record can (the handler neither suspends IRBs nor transfers trials).
        if (expected.length == 0 && !t.currentApproved) {
            expected = abi.encodeWithSelector(ITrialRegistry.IrbReviewPending.selector, trialId, t.irb);
        }
        if (expected.length == 0) expected = _irbError(trialId, irb, t.sponsor);
        vm.prank(caller);
        try trials.changeIrb(trialId, irb) {
            if (expected.length != 0) return _unexpected("changeIrb succeeded against the model");
            t.irb = irb;
        } catch (bytes memory reason) {
            _checkRevert(reason, expected, "changeIrb");
        }
    }

    /// @dev The sponsor three times in four, the other sponsor otherwise; a zero hash one time in eight.
    function amend(uint256 trialSeed, uint256 callerSeed, uint256 flagsSeed) external observe {
        if (trialCount == 0) return;
        uint256 trialId = _anyTrial(trialSeed);
        ITrialRegistry.Trial storage t = _trials[trialId].state;
        address caller = _sponsorOrOther(t.sponsor, callerSeed);
        bool withReconsent = flagsSeed % 2 == 1;
        uint32 version = t.protocolVersion + 1;
        bytes32 protocolHash = (flagsSeed >> 1) % 8 == 0 ? bytes32(0) : _protocol(trialId, version);

        bytes memory expected = _sponsorError(trialId, caller);
        if (expected.length == 0) expected = _lockedError(trialId);
        if (expected.length == 0 && protocolHash == 0) {
            expected = abi.encodeWithSelector(ITrialRegistry.InvalidHash.selector, bytes32(0));
        }
        vm.prank(caller);
        try trials.amend(trialId, protocolHash, withReconsent) returns (uint32 v) {
            if (expected.length != 0) return _unexpected("amend succeeded against the model");
            if (v != version) _unexpected("amend: version");
            t.protocolVersion = version;
            if (withReconsent) t.consentVersion = version;
            t.currentApproved = false;
            _versions[trialId][version] =
                ITrialRegistry.ProtocolVersion(protocolHash, currentTime, withReconsent, address(0), 0);
        } catch (bytes memory reason) {
            _checkRevert(reason, expected, "amend");
        }
    }

    function addSite(uint256 trialSeed, uint256 siteSeed, uint256 callerSeed) public observe {
        if (trialCount == 0) return;
        uint256 trialId = _trialId(trialSeed);
        address caller = _sponsorOrOther(_trials[trialId].state.sponsor, callerSeed);
        address s = site(siteSeed % SITES);
        ITrialRegistry.Site storage m = _sites[trialId][s];

        bytes memory expected = _sponsorError(trialId, caller);
        if (expected.length == 0) expected = _lockedError(trialId);
        if (expected.length == 0 && !_researcherLive[s]) {
            expected = abi.encodeWithSelector(ITrialRegistry.NotResearcher.selector, s);
        }
        if (expected.length == 0 && m.active) {
            expected = abi.encodeWithSelector(ITrialRegistry.SiteExists.selector, trialId, s);
        }
        vm.prank(caller);
        try trials.addSite(trialId, s) {
            if (expected.length != 0) return _unexpected("addSite succeeded against the model");
            m.active = true;
            m.addedAt = currentTime;
        } catch (bytes memory reason) {
            _checkRevert(reason, expected, "addSite");
        }
    }

    function removeSite(uint256 trialSeed, uint256 siteSeed, uint256 callerSeed) external observe {
        if (trialCount == 0) return;
        uint256 trialId = _trialId(trialSeed);
        address caller = _sponsorOrOther(_trials[trialId].state.sponsor, callerSeed);
        address s = site(siteSeed % SITES);
        ITrialRegistry.Site storage m = _sites[trialId][s];

        bytes memory expected = _sponsorError(trialId, caller);
        if (expected.length == 0 && !m.active) {
            expected = abi.encodeWithSelector(ITrialRegistry.NotSite.selector, trialId, s);
        }
        vm.prank(caller);
        try trials.removeSite(trialId, s) {
            if (expected.length != 0) return _unexpected("removeSite succeeded against the model");
            m.active = false;
        } catch (bytes memory reason) {
            _checkRevert(reason, expected, "removeSite");
        }
    }

    /// @dev The sponsor reveals the plan's preimage; one time in four with a wrong salt, one in
    /// eight the other sponsor does.
    function reveal(uint256 trialSeed, uint256 tamperSeed) external observe {
        if (trialCount == 0) return;
        uint256 trialId = _anyTrial(trialSeed);
        TrialModel storage m = _trials[trialId];
        address caller = tamperSeed % 8 == 7 ? _other(m.state.sponsor) : m.state.sponsor;
        bytes32 salt = tamperSeed % 4 == 3 ? ~m.salt : m.salt;

        bytes memory expected = _sponsorError(trialId, caller);
        if (expected.length == 0 && m.state.endpointsCommitment == 0) {
            expected = abi.encodeWithSelector(ITrialRegistry.NotBlinded.selector, trialId);
        } else if (expected.length == 0 && m.state.primaryEndpoints != 0) {
            expected = abi.encodeWithSelector(ITrialRegistry.AlreadyRevealed.selector, trialId);
        } else if (expected.length == 0 && salt != m.salt) {
            expected = abi.encodeWithSelector(ITrialRegistry.RevealMismatch.selector, trialId);
        }
        vm.prank(caller);
        try trials.revealEndpoints(trialId, m.plannedPrimary, m.plannedSecondary, salt) {
            if (expected.length != 0) return _unexpected("revealEndpoints succeeded against the model");
            m.state.primaryEndpoints = m.plannedPrimary;
            m.state.secondaryEndpoints = m.plannedSecondary;
        } catch (bytes memory reason) {
            _checkRevert(reason, expected, "revealEndpoints");
        }
    }

    /// @dev Three times in four only a trial holding batches, so that locks mostly come after data.
    function lock(uint256 trialSeed, uint256 callerSeed) external observe {
        if (trialCount == 0) return;
        uint256 trialId = _anyTrial(trialSeed);
        if (_batches[trialId].length == 0 && callerSeed % 16 < 12) return;
        ITrialRegistry.Trial storage t = _trials[trialId].state;
        address caller = _sponsorOrOther(t.sponsor, callerSeed >> 4);

        bytes memory expected = _sponsorError(trialId, caller);
        if (expected.length == 0 && t.status != ITrialRegistry.Status.Approved) {
            expected = abi.encodeWithSelector(ITrialRegistry.InvalidTrialStatus.selector, trialId, t.status);
        }
        vm.prank(caller);
        try trials.lock(trialId) {
            if (expected.length != 0) return _unexpected("lock succeeded against the model");
            t.status = ITrialRegistry.Status.Locked;
            t.lockedAt = currentTime;
        } catch (bytes memory reason) {
            _checkRevert(reason, expected, "lock");
        }
    }

    /// @dev One time in eight a zero results hash, one in eight another primary, one in eight
    /// another secondary endpoint.
    function report(uint256 trialSeed, uint256 callerSeed, uint256 tamperSeed) external observe {
        if (trialCount == 0) return;
        uint256 trialId = _anyTrial(trialSeed);
        TrialModel storage m = _trials[trialId];
        address caller = _sponsorOrOther(m.state.sponsor, callerSeed);
        uint256 tamper = tamperSeed % 8;
        bytes32 results = tamper == 0 ? bytes32(0) : keccak256(abi.encode("results", trialId));
        bytes32 primary = tamper == 1 ? keccak256("switched primary") : m.plannedPrimary;
        bytes32 secondary = tamper == 2 ? keccak256("switched secondary") : m.plannedSecondary;

        bytes memory expected = _sponsorError(trialId, caller);
        if (expected.length == 0 && m.state.status != ITrialRegistry.Status.Locked) {
            expected = abi.encodeWithSelector(ITrialRegistry.InvalidTrialStatus.selector, trialId, m.state.status);
        } else if (expected.length == 0 && results == 0) {
            expected = abi.encodeWithSelector(ITrialRegistry.InvalidHash.selector, bytes32(0));
        } else if (expected.length == 0 && m.state.primaryEndpoints == 0) {
            expected = abi.encodeWithSelector(ITrialRegistry.EndpointsNotRevealed.selector, trialId);
        } else if (
            expected.length == 0 && (primary != m.state.primaryEndpoints || secondary != m.state.secondaryEndpoints)
        ) {
            expected = abi.encodeWithSelector(ITrialRegistry.EndpointsMismatch.selector, trialId, primary, secondary);
        }
        vm.prank(caller);
        try trials.reportResults(trialId, results, primary, secondary) {
            if (expected.length != 0) return _unexpected("reportResults succeeded against the model");
            m.state.status = ITrialRegistry.Status.Reported;
            m.state.reportedAt = currentTime;
            m.state.resultsHash = results;
        } catch (bytes memory reason) {
            _checkRevert(reason, expected, "reportResults");
        }
    }

    /* ---- IRB ---- */

    /// @dev The IRB member five times in eight, the sponsor who is also an IRB two, an outsider
    /// one; the latest version seven times in eight, otherwise any up to one past it. Only the
    /// trial's IRB of record approves; here it always holds its credential and is never the sponsor
    /// (the handler neither suspends IRBs nor transfers trials).
    function approve(uint256 trialSeed, uint256 irbSeed, uint256 versionSeed) public observe {
        if (trialCount == 0) return;
        uint256 trialId = _trialAwaitingApproval(trialSeed);
        ITrialRegistry.Trial storage t = _trials[trialId].state;
        address irb = irbSeed % 8 < 5 ? IRB_MEMBER : irbSeed % 8 < 7 ? sponsor(1) : OUTSIDER;
        // casting to 'uint32' is safe because the value is at most protocolVersion + 1
        // forge-lint: disable-next-line(unsafe-typecast)
        uint32 version = versionSeed % 8 == 7 ? uint32((versionSeed >> 3) % (t.protocolVersion + 2)) : t.protocolVersion;

        bytes memory expected = _lockedError(trialId);
        if (expected.length == 0 && irb != t.irb) {
            expected = abi.encodeWithSelector(ITrialRegistry.NotIrbOfRecord.selector, trialId, irb);
        } else if (expected.length == 0 && (version != t.protocolVersion || t.currentApproved)) {
            expected = abi.encodeWithSelector(ITrialRegistry.InvalidVersion.selector, trialId, version);
        }
        vm.prank(irb);
        try trials.approve(trialId, version) {
            if (expected.length != 0) return _unexpected("approve succeeded against the model");
            t.currentApproved = true;
            t.status = ITrialRegistry.Status.Approved;
            _versions[trialId][version].irb = irb;
            _versions[trialId][version].approvedAt = currentTime;
        } catch (bytes memory reason) {
            _checkRevert(reason, expected, "approve");
        }
    }

    /* ---- CONSENTS ---- */

    /// @dev A subject consents (or, over a live consent, changes it) to the registry, or to any
    /// grantee one time in three, for the trial's consent version seven times in eight (else any
    /// version so far); covering the required scopes three times in four; no expiry one time in four.
    function consent(
        uint256 subjectSeed,
        uint256 trialSeed,
        uint256 versionSeed,
        uint256 scopesSeed,
        uint256 expirySeed
    ) external observe {
        if (trialCount == 0) return;
        uint256 trialId = _trialId(trialSeed);
        ITrialRegistry.Trial storage t = _trials[trialId].state;
        // casting to 'uint32' is safe because the value is at most protocolVersion
        // forge-lint: disable-next-line(unsafe-typecast)
        uint32 version = versionSeed % 8 != 7 ? t.consentVersion : uint32(1 + (versionSeed >> 3) % t.protocolVersion);
        // casting to 'uint64' is safe because the values are below 16
        // forge-lint: disable-next-line(unsafe-typecast)
        uint64 scopes = scopesSeed % 4 != 3
            ? t.requiredScopes | uint64((scopesSeed >> 2) % 16)
            : uint64(1 + (scopesSeed >> 2) % 15);
        _consent(subject(subjectSeed % SUBJECTS), trialId, (subjectSeed >> 2) % 3 == 2, version, scopes, expirySeed);
    }

    /// @dev Grants, or over a live consent updates, and keeps the model; no expiry one time in
    /// four, else one hour to three days.
    function _consent(address s, uint256 trialId, bool wildcard, uint32 version, uint64 scopes, uint256 expirySeed)
        private
    {
        uint64 required = _trials[trialId].state.requiredScopes;
        address grantee = wildcard ? ANY_GRANTEE : address(trials);
        // casting to 'uint64' is safe because the value is below three days
        // forge-lint: disable-next-line(unsafe-typecast)
        uint64 expiresAt = expirySeed % 4 == 0 ? 0 : currentTime + 1 hours + uint64((expirySeed >> 2) % 3 days);
        bytes32 purpose = trialPurpose(trialId, version);
        ConsentRecord storage r = _consents[_key(s, grantee, purpose)];
        bool covering = scopes & required == required;

        vm.prank(s);
        if (isLive(r.consent, currentTime)) {
            try consents.update(grantee, purpose, scopes, expiresAt) {
                bool wasCovering = r.consent.scopes & required == required;
                if (wasCovering && !covering) r.uncoveredAt = currentTime;
                if (covering) r.uncoveredAt = 0;
                r.consent.scopes = scopes;
                r.consent.expiresAt = expiresAt;
            } catch {
                return _unexpected("consent update reverted against the model");
            }
        } else {
            try consents.grant(grantee, purpose, scopes, expiresAt) {
                // A narrower grant overwrites the record of when the previous consent stopped covering.
                (uint64 previousEnd,) = _coverageEnd(r, required);
                r.uncoveredAt = covering ? 0 : previousEnd;
                r.consent = IConsentRegistry.Consent(scopes, currentTime, expiresAt, 0);
            } catch {
                return _unexpected("consent grant reverted against the model");
            }
        }
        (_focus, _focusGrantee, _focusVersion) = (Pair(trialId, s), grantee, version);
    }

    /// @dev Three times in four the latest consent granted, otherwise any.
    function revokeConsent(uint256 subjectSeed, uint256 trialSeed, uint256 versionSeed) external observe {
        if (trialCount == 0) return;
        (uint256 trialId, address s, address grantee, uint32 version) = _focus.subject != address(0)
            && subjectSeed % 4 != 3
            ? (_focus.trialId, _focus.subject, _focusGrantee, _focusVersion)
            : (
                _trialId(trialSeed),
                subject((subjectSeed >> 2) % SUBJECTS),
                (subjectSeed >> 4) % 3 == 2 ? ANY_GRANTEE : address(trials),
                // casting to 'uint32' is safe because the value is at most protocolVersion
                // forge-lint: disable-next-line(unsafe-typecast)
                uint32(1 + versionSeed % _trials[_trialId(trialSeed)].state.protocolVersion)
            );
        bytes32 purpose = trialPurpose(trialId, version);
        IConsentRegistry.Consent storage c = _consents[_key(s, grantee, purpose)].consent;

        bytes memory expected;
        if (c.grantedAt == 0 || c.revokedAt != 0) {
            expected = abi.encodeWithSelector(IConsentRegistry.ConsentNotRevocable.selector, s, grantee, purpose);
        }
        vm.prank(s);
        try consents.revoke(grantee, purpose) {
            if (expected.length != 0) return _unexpected("revoke succeeded against the model");
            c.revokedAt = currentTime;
        } catch (bytes memory reason) {
            _checkRevert(reason, expected, "revoke");
        }
    }

    /// @dev The registrar suspends site 2's RESEARCHER credential, or reinstates it.
    function credential() external observe {
        address s = site(2);
        bool live = _researcherLive[s];
        vm.prank(registrar);
        if (live) {
            try credentials.suspend(s, RESEARCHER) {}
            catch {
                return _unexpected("suspend reverted");
            }
        } else {
            try credentials.reinstate(s, RESEARCHER) {}
            catch {
                return _unexpected("reinstate reverted");
            }
        }
        _researcherLive[s] = !live;
    }

    /* ---- SITES ---- */

    /// @dev Three times in four the subject of the latest consent, for its trial; one time in
    /// sixteen the site itself (an invalid subject). Half the time the subject first consents (to
    /// the trial's consent version, covering its scopes), so enrolments are not left to the
    /// chance of a consent coming first.
    function enroll(uint256 trialSeed, uint256 siteSeed, uint256 subjectSeed) external observe {
        if (trialCount == 0) return;
        (uint256 trialId, address s) = _focus.subject != address(0) && subjectSeed % 4 != 3
            ? (_focus.trialId, _focus.subject)
            : (_trialId(trialSeed), subject((subjectSeed >> 2) % SUBJECTS));
        ITrialRegistry.Trial storage t = _trials[trialId].state;
        if ((subjectSeed >> 8) % 2 == 0 && !_covered(trialId, s, t.consentVersion)) {
            _consent(s, trialId, (subjectSeed >> 9) % 3 == 2, t.consentVersion, t.requiredScopes, subjectSeed >> 12);
        }
        address by = _pickSite(trialId, siteSeed);
        if ((subjectSeed >> 4) % 16 == 15) s = by;
        ITrialRegistry.Enrolment storage e = _enrolments[trialId][s];
        bool covered = _covered(trialId, s, t.consentVersion);

        bytes memory expected = _lockedError(trialId);
        if (expected.length == 0) expected = _siteError(trialId, by);
        if (expected.length == 0 && !t.currentApproved) {
            expected = abi.encodeWithSelector(ITrialRegistry.ProtocolNotApproved.selector, trialId, t.protocolVersion);
        } else if (expected.length == 0 && s == by) {
            expected = abi.encodeWithSelector(ITrialRegistry.InvalidSubject.selector, s);
        } else if (expected.length == 0 && e.enrolledAt != 0 && e.withdrawnAt == 0) {
            expected = abi.encodeWithSelector(ITrialRegistry.AlreadyEnrolled.selector, trialId, s);
        } else if (expected.length == 0 && !covered) {
            expected = abi.encodeWithSelector(ITrialRegistry.NoConsent.selector, trialId, s, t.consentVersion);
        }
        vm.prank(by);
        try trials.enroll(trialId, s) {
            // Recorded even against the model, so the ghost shows an enrolment without consent.
            if (expected.length != 0) _unexpected("enroll succeeded against the model");
            _enrolments[trialId][s] = ITrialRegistry.Enrolment(by, currentTime, t.consentVersion, 0);
            ++t.enrolled;
            ++ghostEnrolled[trialId];
            ghostConsentAtEnrolment[trialId][s] = covered;
            _enrolled.push(Pair(trialId, s));
        } catch (bytes memory reason) {
            _checkRevert(reason, expected, "enroll");
        }
    }

    /// @dev Three times in four an enrolled subject.
    function reconsent(uint256 trialSeed, uint256 siteSeed, uint256 subjectSeed) external observe {
        if (trialCount == 0) return;
        (uint256 trialId, address s) = _pickEnrolled(trialSeed, subjectSeed);
        address by = _pickSite(trialId, siteSeed);
        ITrialRegistry.Trial storage t = _trials[trialId].state;
        ITrialRegistry.Enrolment storage e = _enrolments[trialId][s];

        bytes memory expected = _lockedError(trialId);
        if (expected.length == 0) expected = _siteError(trialId, by);
        if (expected.length == 0 && (e.enrolledAt == 0 || e.withdrawnAt != 0)) {
            expected = abi.encodeWithSelector(ITrialRegistry.NotEnrolled.selector, trialId, s);
        } else if (expected.length == 0 && e.consentVersion == t.consentVersion) {
            expected = abi.encodeWithSelector(ITrialRegistry.AlreadyReconsented.selector, trialId, s, t.consentVersion);
        } else if (expected.length == 0 && !_covered(trialId, s, t.consentVersion)) {
            expected = abi.encodeWithSelector(ITrialRegistry.NoConsent.selector, trialId, s, t.consentVersion);
        }
        vm.prank(by);
        try trials.reconsent(trialId, s) {
            if (expected.length != 0) return _unexpected("reconsent succeeded against the model");
            e.consentVersion = t.consentVersion;
        } catch (bytes memory reason) {
            _checkRevert(reason, expected, "reconsent");
        }
    }

    /// @dev Three times in four an enrolled subject; withdrawn by the subject, a site (the enrolling
    /// one or another), the sponsor or an outsider.
    function withdraw(uint256 trialSeed, uint256 subjectSeed, uint256 callerSeed) external observe {
        if (trialCount == 0) return;
        (uint256 trialId, address s) = _pickEnrolled(trialSeed, subjectSeed);
        uint256 who = callerSeed % 5;
        address caller = who == 0
            ? s
            : who == 1
                ? site((callerSeed >> 3) % SITES)
                : who == 2 ? _enrolments[trialId][s].site : who == 3 ? _trials[trialId].state.sponsor : OUTSIDER;
        ITrialRegistry.Enrolment storage e = _enrolments[trialId][s];
        Lapse memory lapse;

        bytes memory expected;
        if (e.enrolledAt == 0 || e.withdrawnAt != 0) {
            expected = abi.encodeWithSelector(ITrialRegistry.NotEnrolled.selector, trialId, s);
        } else {
            if (
                caller != s && caller != _trials[trialId].state.sponsor
                    && (caller != e.site || !_siteLive(trialId, caller))
            ) expected = abi.encodeWithSelector(ITrialRegistry.UnauthorizedWithdrawal.selector, trialId, s, caller);
            lapse = _lapse(trialId, s, e.consentVersion);
        }
        vm.prank(caller);
        try trials.withdraw(trialId, s) {
            if (expected.length != 0) return _unexpected("withdraw succeeded against the model");
            uint64 withdrawnAt = trials.getEnrolment(trialId, s).withdrawnAt;
            _checkWithdrawalTime(withdrawnAt, e.enrolledAt, lapse);
            e.withdrawnAt = withdrawnAt; // the model follows the chain here; a wrong time is counted apart
        } catch (bytes memory reason) {
            _checkRevert(reason, expected, "withdraw");
        }
    }

    /// @dev A fresh root mostly; a zero root or zero rows one time in eight each; a root already
    /// committed (to this or another trial, by this or another site) one time in eight.
    function commitBatch(uint256 trialSeed, uint256 siteSeed, uint256 rootSeed) external observe {
        if (trialCount == 0) return;
        uint256 trialId = _trialId(trialSeed);
        address by = _pickSite(trialId, siteSeed);
        (bytes32 root, bool taken) = _pickRoot(trialId, by, rootSeed);
        // casting to 'uint32' is safe because the value is below 1000
        // forge-lint: disable-next-line(unsafe-typecast)
        uint32 rows = (rootSeed >> 3) % 8 == 0 ? 0 : uint32(1 + (rootSeed >> 6) % 999);
        ITrialRegistry.Trial storage t = _trials[trialId].state;

        bytes memory expected;
        if (t.status == ITrialRegistry.Status.Locked || t.status == ITrialRegistry.Status.Reported) {
            expected = abi.encodeWithSelector(ITrialRegistry.TrialLocked.selector, trialId, t.lockedAt);
        } else if (t.status != ITrialRegistry.Status.Approved) {
            expected = abi.encodeWithSelector(ITrialRegistry.InvalidTrialStatus.selector, trialId, t.status);
        }
        if (expected.length == 0) expected = _siteError(trialId, by);
        if (expected.length == 0 && (root == 0 || rows == 0)) {
            expected = abi.encodeWithSelector(ITrialRegistry.InvalidHash.selector, root);
        } else if (expected.length == 0 && taken) {
            expected = abi.encodeWithSelector(ITrialRegistry.BatchExists.selector, trialId, by, root);
        }
        vm.prank(by);
        try trials.commitBatch(trialId, root, rows) returns (uint32 sequence) {
            if (expected.length != 0) return _unexpected("commitBatch succeeded against the model");
            ITrialRegistry.Site storage m = _sites[trialId][by];
            if (sequence != m.batches) _unexpected("commitBatch: sequence is not the site's batch count");
            _batches[trialId].push(BatchModel(root, by, currentTime, m.batches++));
        } catch (bytes memory reason) {
            _checkRevert(reason, expected, "commitBatch");
        }
    }

    /// @dev Up to twelve hours forward: consents last one hour to three days.
    function warp(uint256 secondsSeed) external observe {
        // casting to 'uint64' is safe because the value is at most twelve hours
        // forge-lint: disable-next-line(unsafe-typecast)
        currentTime += uint64(1 + secondsSeed % 12 hours);
        vm.warp(currentTime);
    }

    /* ---- MODEL ---- */

    function trialModel(uint256 trialId) external view returns (ITrialRegistry.Trial memory) {
        return _trials[trialId].state;
    }

    function plannedEndpoints(uint256 trialId) external view returns (bytes32 primary, bytes32 secondary) {
        return (_trials[trialId].plannedPrimary, _trials[trialId].plannedSecondary);
    }

    function versionModel(uint256 trialId, uint32 version)
        external
        view
        returns (ITrialRegistry.ProtocolVersion memory)
    {
        return _versions[trialId][version];
    }

    function siteModel(uint256 trialId, address s) external view returns (ITrialRegistry.Site memory) {
        return _sites[trialId][s];
    }

    function enrolmentModel(uint256 trialId, address s) external view returns (ITrialRegistry.Enrolment memory) {
        return _enrolments[trialId][s];
    }

    function batchCount(uint256 trialId) external view returns (uint256) {
        return _batches[trialId].length;
    }

    function batchModel(uint256 trialId, uint256 i) external view returns (BatchModel memory) {
        return _batches[trialId][i];
    }

    /* ---- INTERNALS ---- */

    /// @dev After every action: a trial's status never goes back.
    modifier observe() {
        vm.warp(currentTime);
        _;
        for (uint256 id = 1; id <= trialCount; ++id) {
            ITrialRegistry.Status status = trials.getTrial(id).status;
            if (status < lastStatus[id]) ++statusRegressions;
            lastStatus[id] = status;
        }
    }

    /// @dev A live consent covering the trial's scopes, to the registry or to any grantee.
    function _covered(uint256 trialId, address s, uint32 version) private view returns (bool) {
        bytes32 purpose = trialPurpose(trialId, version);
        uint64 scopes = _trials[trialId].state.requiredScopes;
        return covers(_consents[_key(s, address(trials), purpose)].consent, scopes, currentTime)
            || covers(_consents[_key(s, ANY_GRANTEE, purpose)].consent, scopes, currentTime);
    }

    /// @dev When a consent stopped covering `scopes`, and whether the chain holds that time exactly:
    /// a covering consent ended at its revocation or its expiry, whichever came first (exact);
    /// one that no longer covers them stopped when it was narrowed or overwritten by a narrower
    /// grant, a time the chain does not keep (0 if it never covered them). Never granted: 0, exact.
    function _coverageEnd(ConsentRecord storage r, uint64 scopes) private view returns (uint64 end, bool exact) {
        IConsentRegistry.Consent storage c = r.consent;
        if (c.grantedAt == 0) return (0, true);
        if (c.scopes & scopes != scopes) return (r.uncoveredAt, false);
        end = c.revokedAt;
        if (c.expiresAt != 0 && c.expiresAt <= currentTime && (end == 0 || c.expiresAt < end)) end = c.expiresAt;
        return (end, true);
    }

    /// @dev Whether a subject enrolled under `version` still consents: a live covering consent
    /// to that version, or to the trial's current consent version (not yet recorded by a
    /// re-consent), keeps them in. Else when their consent lapsed: the latest end of their
    /// consents to the registry and to any grantee, for both versions (the newer one kept them
    /// in while it held), and whether the chain holds that time exactly.
    function _lapse(uint256 trialId, address s, uint32 version) private view returns (Lapse memory lapse) {
        uint32 current = _trials[trialId].state.consentVersion;
        if (_covered(trialId, s, version) || _covered(trialId, s, current)) {
            lapse.live = true;
            return lapse;
        }
        lapse.exact = true;
        _laterEnd(lapse, trialId, s, version);
        if (current != version) _laterEnd(lapse, trialId, s, current);
    }

    function _laterEnd(Lapse memory lapse, uint256 trialId, address s, uint32 version) private view {
        bytes32 purpose = trialPurpose(trialId, version);
        uint64 scopes = _trials[trialId].state.requiredScopes;
        address[2] memory grantees = [address(trials), ANY_GRANTEE];
        for (uint256 i; i < 2; ++i) {
            (uint64 end, bool exact) = _coverageEnd(_consents[_key(s, grantees[i], purpose)], scopes);
            if (end > lapse.lapsedAt) lapse.lapsedAt = end;
            lapse.exact = lapse.exact && exact;
        }
    }

    /// @dev A withdrawal lies between the enrolment and now; while the consent stands it is now;
    /// after a lapse it is never before the lapse, and exactly the lapse where the chain holds it.
    function _checkWithdrawalTime(uint64 withdrawnAt, uint64 enrolledAt, Lapse memory lapse) private {
        if (withdrawnAt < enrolledAt || withdrawnAt > currentTime) {
            _withdrawalMismatch("withdrawnAt outside [enrolledAt, now]");
        } else if (lapse.live && withdrawnAt != currentTime) {
            _withdrawalMismatch("withdrawal while the consent stands is not dated now");
        } else if (!lapse.live && withdrawnAt < lapse.lapsedAt) {
            _withdrawalMismatch("withdrawal dated while a consent still covered the trial");
        } else if (!lapse.live && lapse.exact && withdrawnAt != lapse.lapsedAt) {
            _withdrawalMismatch("withdrawal is not the revocation or expiry the chain holds");
        }
    }

    function _siteLive(uint256 trialId, address s) private view returns (bool) {
        return _sites[trialId][s].active && _researcherLive[s];
    }

    /// @dev Half the time the first trial open to enrolment (approved, current version too, not
    /// locked, with a live site), if there is one; otherwise any.
    function _trialId(uint256 seed) private view returns (uint256) {
        if (seed % 2 == 0) {
            for (uint256 id = 1; id <= trialCount; ++id) {
                ITrialRegistry.Trial storage t = _trials[id].state;
                if (t.currentApproved && t.lockedAt == 0 && _hasLiveSite(id)) return id;
            }
        }
        return _anyTrial(seed >> 1);
    }

    function _hasLiveSite(uint256 trialId) private view returns (bool) {
        for (uint256 i; i < SITES; ++i) {
            if (_siteLive(trialId, site(i))) return true;
        }
        return false;
    }

    /// @dev Half the time the first trial whose latest version awaits approval, if there is one; otherwise any.
    function _trialAwaitingApproval(uint256 seed) private view returns (uint256) {
        if (seed % 2 == 0) {
            for (uint256 id = 1; id <= trialCount; ++id) {
                ITrialRegistry.Trial storage t = _trials[id].state;
                if (!t.currentApproved && t.lockedAt == 0) return id;
            }
        }
        return _anyTrial(seed >> 1);
    }

    function _anyTrial(uint256 seed) private view returns (uint256) {
        return 1 + seed % trialCount;
    }

    /// @dev Three times in four a live site of the trial (if it has one), otherwise any.
    function _pickSite(uint256 trialId, uint256 seed) private view returns (address) {
        uint256 start = (seed >> 2) % SITES;
        if (seed % 4 != 3) {
            for (uint256 i; i < SITES; ++i) {
                address s = site((start + i) % SITES);
                if (_siteLive(trialId, s)) return s;
            }
        }
        return site(start);
    }

    function _pickEnrolled(uint256 trialSeed, uint256 subjectSeed) private view returns (uint256, address) {
        if (_enrolled.length != 0 && subjectSeed % 4 != 3) {
            Pair storage p = _enrolled[(subjectSeed >> 2) % _enrolled.length];
            return (p.trialId, p.subject);
        }
        return (_trialId(trialSeed), subject((subjectSeed >> 2) % SUBJECTS));
    }

    /// @dev A root and whether `site` already committed it to this trial.
    function _pickRoot(uint256 trialId, address site, uint256 seed) private returns (bytes32 root, bool taken) {
        uint256 mode = seed % 8;
        if (mode == 0) return (bytes32(0), false);
        if (mode == 1) {
            uint256 other = 1 + (seed >> 10) % trialCount;
            uint256 n = _batches[other].length;
            if (n != 0) {
                root = _batches[other][(seed >> 12) % n].root;
                return (root, _isCommitted(trialId, site, root));
            }
        }
        return (keccak256(abi.encode("batch root", ++_rootNonce)), false);
    }

    function _isCommitted(uint256 trialId, address site, bytes32 root) private view returns (bool) {
        BatchModel[] storage list = _batches[trialId];
        for (uint256 i; i < list.length; ++i) {
            if (list[i].root == root && list[i].site == site) return true;
        }
        return false;
    }

    function _other(address sponsorAccount) private pure returns (address) {
        return sponsorAccount == sponsor(0) ? sponsor(1) : sponsor(0);
    }

    function _sponsorOrOther(address sponsorAccount, uint256 seed) private pure returns (address) {
        return seed % 4 == 3 ? _other(sponsorAccount) : sponsorAccount;
    }

    function _sponsorError(uint256 trialId, address caller) private view returns (bytes memory) {
        if (caller == _trials[trialId].state.sponsor) return "";
        return abi.encodeWithSelector(ITrialRegistry.NotSponsor.selector, trialId, caller);
    }

    function _lockedError(uint256 trialId) private view returns (bytes memory) {
        uint64 lockedAt = _trials[trialId].state.lockedAt;
        if (lockedAt == 0) return "";
        return abi.encodeWithSelector(ITrialRegistry.TrialLocked.selector, trialId, lockedAt);
    }

    /// @dev Who may be named IRB of record: the two IRB credential holders (the outsider has none), not the sponsor.
    function _irbError(uint256 trialId, address irb, address sponsorAccount) private pure returns (bytes memory) {
        if (irb == OUTSIDER) return abi.encodeWithSelector(ITrialRegistry.NotIrb.selector, irb);
        if (irb == sponsorAccount) return abi.encodeWithSelector(ITrialRegistry.IrbIsSponsor.selector, trialId, irb);
        return "";
    }

    function _siteError(uint256 trialId, address s) private view returns (bytes memory) {
        if (_siteLive(trialId, s)) return "";
        return abi.encodeWithSelector(ITrialRegistry.NotSite.selector, trialId, s);
    }

    function _protocol(uint256 trialId, uint32 version) private pure returns (bytes32) {
        return keccak256(abi.encode("protocol", trialId, version));
    }

    function _key(address s, address grantee, bytes32 purpose) private pure returns (bytes32) {
        return keccak256(abi.encode(s, grantee, purpose));
    }

    function _checkRevert(bytes memory reason, bytes memory expected, string memory action) private {
        if (expected.length == 0) return _unexpected(string.concat(action, " reverted against the model"));
        if (keccak256(reason) != keccak256(expected)) _unexpected(string.concat(action, ": wrong revert"));
    }

    function _unexpected(string memory what) private {
        ++unexpectedOutcomes;
        lastUnexpected = what;
    }

    function _withdrawalMismatch(string memory what) private {
        ++withdrawalMismatches;
        lastWithdrawalMismatch = what;
    }
}
