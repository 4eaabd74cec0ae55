// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessGrants} from "../../../contracts/AccessGrants.sol";
import {ConsentRegistry} from "../../../contracts/ConsentRegistry.sol";
import {CredentialRegistry} from "../../../contracts/CredentialRegistry.sol";
import {RecordRegistry} from "../../../contracts/RecordRegistry.sol";
import {IAccessGrants} from "../../../contracts/interfaces/IAccessGrants.sol";
import {ICredentialRegistry} from "../../../contracts/interfaces/ICredentialRegistry.sol";
import {InvalidExpiry, NotPatientOrDelegate} from "../../../contracts/utils/Common.sol";

import {Vm, VM_ADDRESS} from "../utils/Vm.sol";

/// @dev Drives AccessGrants for the invariant test: three patients (the first with a delegate) and
/// their four records, four providers (PROVIDER; PROVIDER + EMERGENCY + REVIEWER; EMERGENCY; none),
/// a reviewer, grants, record grants, revocations, break-glass episodes and their review, a
/// registrar suspending, reinstating, revoking and re-attesting credentials, reads logged by the
/// custodian (or another one), while time moves forward. It keeps its own model of credentials,
/// grants and episodes and predicts each call's outcome, including the exact error of a revert; a
/// call that does not do what the model predicts is counted, not thrown, so the invariant (which
/// asserts the count is zero) reports it.
contract AccessHandler {
    Vm internal constant vm = Vm(VM_ADDRESS);

    uint256 public constant PATIENTS = 3;
    uint256 public constant RECORDS = 4; // record k is in category k; the first patient has two
    uint256 public constant PROVIDERS = 4; // the last one is never credentialed
    uint64 public constant MAX_BREAK_GLASS = 24 hours;

    bytes32 public constant PROVIDER = keccak256("carechain.credential.PROVIDER");
    bytes32 public constant EMERGENCY = keccak256("carechain.credential.EMERGENCY");
    bytes32 public constant REVIEWER = keccak256("carechain.credential.REVIEWER");
    bytes32 internal constant LICENSE = keccak256("licence");
    bytes32 internal constant PURPOSE = keccak256("treatment");

    address public constant DELEGATE = address(0xDE1E);
    address public constant OTHER_CUSTODIAN = address(0xC0570);
    address public constant AUDITOR = address(0xA0D1);

    AccessGrants public immutable access;
    CredentialRegistry public immutable credentials;
    address public immutable registrar;
    address public immutable custodian;

    /// @dev The handler's clock: it re-applies it on every call, whether or not the fuzzer keeps
    /// block.timestamp between calls.
    uint64 public currentTime;

    struct CredentialModel {
        ICredentialRegistry.Status status;
        uint64 validFrom;
        uint64 validUntil;
    }

    struct EpisodeModel {
        address patient;
        address provider;
        uint64 expiresAt;
        bool reviewed;
        bool flagged;
    }

    mapping(address account => mapping(bytes32 role => CredentialModel)) private _credentials;
    mapping(address patient => mapping(address provider => IAccessGrants.Grant)) private _grants;
    mapping(address provider => mapping(bytes32 recordId => IAccessGrants.Grant)) private _recordGrants;
    EpisodeModel[] private _episodes; // episode id = index + 1
    mapping(address patient => mapping(address provider => uint256 episodeId)) private _lastEpisode;

    /// @dev The last pair granted: revocations aim at it three times in four, or they would
    /// mostly hit pairs that never had a grant.
    address private _lastGrantPatient;
    address private _lastGrantProvider;
    uint256 private _lastRecordGrant;
    address private _lastRecordGrantProvider;
    /// @dev The provider and a record of the latest grant, record grant or episode: logAccess aims
    /// at them half the time, or it would seldom find a read to log.
    address private _focusProvider;
    uint256 private _focusRecord;

    uint256 public unexpectedOutcomes;
    string public lastUnexpected;
    /// @dev logAccess calls that succeeded while canAccess, asked just before, said false.
    uint256 public logsWithoutAccess;
    uint256 public logsRecorded;

    constructor(
        ConsentRegistry consents,
        CredentialRegistry credentials_,
        RecordRegistry records,
        AccessGrants access_,
        address registrar_,
        address custodian_
    ) {
        access = access_;
        credentials = credentials_;
        registrar = registrar_;
        custodian = custodian_;
        currentTime = uint64(block.timestamp);

        _attest(provider(0), PROVIDER, currentTime, 0);
        _attest(provider(1), PROVIDER, currentTime, 0);
        _attest(provider(1), EMERGENCY, currentTime, 0);
        _attest(provider(1), REVIEWER, currentTime, 0);
        _attest(provider(2), EMERGENCY, currentTime, 0);
        _attest(AUDITOR, REVIEWER, currentTime, 0);
        vm.prank(registrar_);
        credentials_.attest(OTHER_CUSTODIAN, keccak256("carechain.credential.CUSTODIAN"), LICENSE, currentTime, 0);

        for (uint256 k; k < RECORDS; ++k) {
            vm.prank(custodian_);
            records.anchor(recordId(k), recordPatient(k), recordCategory(k), keccak256(abi.encode("ciphertext", k)));
        }
        vm.prank(patient(0));
        consents.setDelegate(DELEGATE, 0);
    }

    /* ---- ACTORS ---- */

    function patient(uint256 i) public pure returns (address) {
        return [address(0xCA7E01), address(0xCA7E02), address(0xCA7E03)][i];
    }

    function provider(uint256 i) public pure returns (address) {
        return [address(0xD0C1), address(0xD0C2), address(0xD0C3), address(0xD0C4)][i];
    }

    function recordId(uint256 k) public pure returns (bytes32) {
        return keccak256(abi.encode("carechain.test.record", k));
    }

    function recordPatient(uint256 k) public pure returns (address) {
        return patient(k == 0 ? 0 : k - 1);
    }

    function recordCategory(uint256 k) public pure returns (uint8) {
        // casting to 'uint8' is safe because the value is below 4
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint8(k);
    }

    /// @dev The first record of patient `i`.
    function firstRecord(uint256 i) public pure returns (uint256) {
        return i == 0 ? 0 : i + 1;
    }

    /// @dev The accounts whose credentials the registrar changes (never the last provider).
    function credentialAccount(uint256 i) public pure returns (address) {
        return [provider(0), provider(1), provider(2), AUDITOR][i];
    }

    function credentialRole(uint256 i) public pure returns (bytes32) {
        return [PROVIDER, EMERGENCY, REVIEWER][i];
    }

    /* ---- ACTIONS ---- */

    function grant(
        uint256 actorSeed,
        uint256 patientSeed,
        uint256 providerSeed,
        uint256 categoriesSeed,
        uint256 expirySeed
    ) external {
        vm.warp(currentTime);
        uint256 pi = patientSeed % PATIENTS;
        address p = patient(pi);
        address prov = provider(providerSeed % PROVIDERS);
        address actor = _actor(actorSeed, p);
        // casting to 'uint64' is safe because the value is below 16
        // forge-lint: disable-next-line(unsafe-typecast)
        uint64 categories = uint64(15 - categoriesSeed % 16); // the records' four categories; 0 one time in 16
        uint64 expiresAt = _expiry(expirySeed);

        bytes memory expected = _actorError(actor, p);
        if (expected.length == 0) {
            if (categories == 0) expected = abi.encodeWithSelector(IAccessGrants.EmptyCategories.selector);
            else expected = _granteeError(prov, expiresAt);
        }

        vm.prank(actor);
        try access.grantAccess(p, prov, categories, expiresAt) {
            if (expected.length != 0) return _unexpected("grantAccess succeeded against the model");
            _grants[p][prov] = IAccessGrants.Grant(categories, currentTime, expiresAt, 0);
            (_lastGrantPatient, _lastGrantProvider) = (p, prov);
            uint256 k = firstRecord(pi); // or the first patient's second record if the first is not covered
            _focus(prov, pi == 0 && categories & 1 == 0 ? 1 : k);
        } catch (bytes memory reason) {
            _checkRevert(reason, expected, "grantAccess");
        }
    }

    function grantRecord(uint256 actorSeed, uint256 recordSeed, uint256 providerSeed, uint256 expirySeed) external {
        vm.warp(currentTime);
        uint256 k = recordSeed % RECORDS;
        address p = recordPatient(k);
        address prov = provider(providerSeed % PROVIDERS);
        address actor = _actor(actorSeed, p);
        uint64 expiresAt = _expiry(expirySeed);

        bytes memory expected = _actorError(actor, p);
        if (expected.length == 0) expected = _granteeError(prov, expiresAt);

        vm.prank(actor);
        try access.grantRecordAccess(prov, recordId(k), expiresAt) {
            if (expected.length != 0) return _unexpected("grantRecordAccess succeeded against the model");
            _recordGrants[prov][recordId(k)] = IAccessGrants.Grant(0, currentTime, expiresAt, 0);
            (_lastRecordGrant, _lastRecordGrantProvider) = (k, prov);
            _focus(prov, k);
        } catch (bytes memory reason) {
            _checkRevert(reason, expected, "grantRecordAccess");
        }
    }

    function revoke(uint256 actorSeed, uint256 patientSeed, uint256 providerSeed) external {
        vm.warp(currentTime);
        (address p, address prov) = _lastGrantProvider != address(0) && patientSeed % 4 != 3
            ? (_lastGrantPatient, _lastGrantProvider)
            : (patient((patientSeed >> 2) % PATIENTS), provider(providerSeed % PROVIDERS));
        address actor = _actor(actorSeed, p);
        IAccessGrants.Grant storage g = _grants[p][prov];

        bytes memory expected = _actorError(actor, p);
        if (expected.length == 0 && !_isLive(g)) {
            expected = abi.encodeWithSelector(IAccessGrants.GrantNotActive.selector, p, prov, bytes32(0));
        }

        vm.prank(actor);
        try access.revokeAccess(p, prov) {
            if (expected.length != 0) return _unexpected("revokeAccess succeeded against the model");
            g.revokedAt = currentTime;
        } catch (bytes memory reason) {
            _checkRevert(reason, expected, "revokeAccess");
        }
    }

    function revokeRecord(uint256 actorSeed, uint256 recordSeed, uint256 providerSeed) external {
        vm.warp(currentTime);
        (uint256 k, address prov) = _lastRecordGrantProvider != address(0) && recordSeed % 4 != 3
            ? (_lastRecordGrant, _lastRecordGrantProvider)
            : ((recordSeed >> 2) % RECORDS, provider(providerSeed % PROVIDERS));
        address p = recordPatient(k);
        address actor = _actor(actorSeed, p);
        IAccessGrants.Grant storage g = _recordGrants[prov][recordId(k)];

        bytes memory expected = _actorError(actor, p);
        if (expected.length == 0 && !_isLive(g)) {
            expected = abi.encodeWithSelector(IAccessGrants.GrantNotActive.selector, p, prov, recordId(k));
        }

        vm.prank(actor);
        try access.revokeRecordAccess(prov, recordId(k)) {
            if (expected.length != 0) return _unexpected("revokeRecordAccess succeeded against the model");
            g.revokedAt = currentTime;
        } catch (bytes memory reason) {
            _checkRevert(reason, expected, "revokeRecordAccess");
        }
    }

    /// @dev A duration of 0 one time in eight, over the maximum one time in eight.
    function breakGlass(uint256 providerSeed, uint256 patientSeed, uint256 durationSeed) external {
        vm.warp(currentTime);
        address prov = provider(providerSeed % PROVIDERS);
        uint256 pi = patientSeed % PATIENTS;
        address p = patient(pi);
        uint256 mode = durationSeed % 8;
        // casting to 'uint64' is safe because the values are below two days
        // forge-lint: disable-next-line(unsafe-typecast)
        uint64 duration = uint64(
            mode == 6
                ? 0
                : mode == 7
                    ? MAX_BREAK_GLASS + 1 + (durationSeed >> 3) % 1 days
                    : 1 + (durationSeed >> 3) % MAX_BREAK_GLASS
        );

        bytes memory expected;
        if (!credentialLive(prov, EMERGENCY)) {
            expected = abi.encodeWithSelector(IAccessGrants.NotEmergencyProvider.selector, prov);
        } else if (duration == 0 || duration > MAX_BREAK_GLASS) {
            expected =
                abi.encodeWithSelector(IAccessGrants.InvalidBreakGlassDuration.selector, duration, MAX_BREAK_GLASS);
        }

        vm.prank(prov);
        try access.breakGlass(p, keccak256("reason"), duration) returns (uint256 episodeId) {
            if (expected.length != 0) return _unexpected("breakGlass succeeded against the model");
            _episodes.push(EpisodeModel(p, prov, currentTime + duration, false, false));
            if (episodeId != _episodes.length) _unexpected("breakGlass: episode id");
            _lastEpisode[p][prov] = _episodes.length;
            _focus(prov, firstRecord(pi));
        } catch (bytes memory reason) {
            _checkRevert(reason, expected, "breakGlass");
        }
    }

    /// @dev Mostly an existing episode; one time in four any id up to one past the last (0 included).
    function review(uint256 episodeSeed, uint256 reviewerSeed, bool approved) external {
        vm.warp(currentTime);
        uint256 count = _episodes.length;
        uint256 episodeId =
            count != 0 && episodeSeed % 4 != 3 ? 1 + (episodeSeed >> 2) % count : (episodeSeed >> 2) % (count + 2);
        address reviewer = [AUDITOR, provider(1), provider(0)][reviewerSeed % 3];

        bytes memory expected;
        if (!credentialLive(reviewer, REVIEWER)) {
            expected = abi.encodeWithSelector(IAccessGrants.NotReviewer.selector, reviewer);
        } else if (episodeId == 0 || episodeId > count || _episodes[episodeId - 1].reviewed) {
            expected = abi.encodeWithSelector(IAccessGrants.EpisodeNotOpen.selector, episodeId);
        } else if (_episodes[episodeId - 1].provider == reviewer) {
            expected = abi.encodeWithSelector(IAccessGrants.SelfReview.selector, episodeId, reviewer);
        }

        vm.prank(reviewer);
        try access.reviewBreakGlass(episodeId, approved, keccak256("note")) {
            if (expected.length != 0) return _unexpected("reviewBreakGlass succeeded against the model");
            EpisodeModel storage e = _episodes[episodeId - 1];
            e.reviewed = true;
            e.flagged = !approved;
            if (!approved && e.expiresAt > currentTime) e.expiresAt = currentTime;
        } catch (bytes memory reason) {
            _checkRevert(reason, expected, "reviewBreakGlass");
        }
    }

    /// @dev The registrar suspends, reinstates, revokes or re-attests (open-ended, ending within
    /// two days, starting within a day, or backdated to 0 and ending within two days).
    function credential(uint256 accountSeed, uint256 roleSeed, uint256 actionSeed, uint256 windowSeed) external {
        vm.warp(currentTime);
        address account = credentialAccount(accountSeed % 4);
        bytes32 role = credentialRole(roleSeed % 3);
        CredentialModel storage m = _credentials[account][role];
        uint256 action = actionSeed % 4;

        if (action == 3) {
            uint256 mode = windowSeed % 4;
            // casting to 'uint64' is safe because the values are below two days
            // forge-lint: disable-next-line(unsafe-typecast)
            uint64 offset = 1 + uint64((windowSeed >> 2) % 2 days);
            uint64 validFrom = mode == 2 ? currentTime + offset / 2 + 1 : mode == 3 ? 0 : currentTime;
            uint64 validUntil = mode == 1 || mode == 3 ? currentTime + offset : 0;
            return _attest(account, role, validFrom, validUntil);
        }

        ICredentialRegistry.Status next = _nextStatus(m.status, action);
        bytes memory expected = next != ICredentialRegistry.Status.None
            ? bytes("")
            : abi.encodeWithSelector(ICredentialRegistry.InvalidCredentialStatus.selector, account, role, m.status);

        (bool ok, bytes memory reason) = _changeCredential(account, role, action);
        if (!ok) return _checkRevert(reason, expected, "credential change");
        if (expected.length != 0) return _unexpected("credential change succeeded against the model");
        m.status = next;
    }

    /// @dev The model's status after suspend (0), reinstate (1) or revoke (2); `None` where refused.
    /// A revocation keeps a suspension (`RevokedWhileSuspended`) until `reinstate` lifts it.
    function _nextStatus(ICredentialRegistry.Status status, uint256 action)
        private
        pure
        returns (ICredentialRegistry.Status)
    {
        bool active = status == ICredentialRegistry.Status.Active;
        bool suspended = status == ICredentialRegistry.Status.Suspended;
        if (action == 0) return active ? ICredentialRegistry.Status.Suspended : ICredentialRegistry.Status.None;
        if (action == 1) {
            if (suspended) return ICredentialRegistry.Status.Active;
            return status == ICredentialRegistry.Status.RevokedWhileSuspended
                ? ICredentialRegistry.Status.Revoked
                : ICredentialRegistry.Status.None;
        }
        if (active) return ICredentialRegistry.Status.Revoked;
        return suspended ? ICredentialRegistry.Status.RevokedWhileSuspended : ICredentialRegistry.Status.None;
    }

    /// @dev The record's custodian three times in four, another custodian otherwise; half the
    /// time for the latest grant's or episode's provider and record.
    function logAccess(uint256 providerSeed, uint256 recordSeed, uint256 callerSeed) external {
        vm.warp(currentTime);
        (address prov, uint256 k) = _focusProvider != address(0) && recordSeed % 2 == 0
            ? (_focusProvider, _focusRecord)
            : (provider(providerSeed % PROVIDERS), (recordSeed >> 1) % RECORDS);
        address caller = callerSeed % 4 == 3 ? OTHER_CUSTODIAN : custodian;
        bool allowed = access.canAccess(prov, recordId(k));
        (IAccessGrants.Basis basis,) = expectedBasis(prov, k);

        bytes memory expected;
        if (caller != custodian) {
            expected = abi.encodeWithSelector(IAccessGrants.NotRecordCustodian.selector, recordId(k), caller);
        } else if (basis == IAccessGrants.Basis.None) {
            expected = abi.encodeWithSelector(IAccessGrants.AccessDenied.selector, prov, recordId(k));
        }

        vm.prank(caller);
        try access.logAccess(prov, recordId(k), PURPOSE) {
            ++logsRecorded;
            if (!allowed) ++logsWithoutAccess;
            if (expected.length != 0) _unexpected("logAccess succeeded against the model");
        } catch (bytes memory reason) {
            _checkRevert(reason, expected, "logAccess");
        }
    }

    /// @dev Up to an hour forward half the time (inside break-glass windows), up to a day otherwise.
    function warp(uint256 secondsSeed) external {
        // casting to 'uint64' is safe because the value is at most one day
        // forge-lint: disable-next-line(unsafe-typecast)
        currentTime += uint64(1 + (secondsSeed >> 1) % (secondsSeed % 2 == 0 ? 1 hours : 1 days));
        vm.warp(currentTime);
    }

    /* ---- MODEL ---- */

    function credentialLive(address account, bytes32 role) public view returns (bool) {
        CredentialModel storage m = _credentials[account][role];
        return m.status == ICredentialRegistry.Status.Active && m.validFrom <= currentTime
            && (m.validUntil == 0 || currentTime < m.validUntil);
    }

    /// @dev A live one-record grant of record `k`, or a live category grant covering its category.
    function liveGrantCovers(address prov, uint256 k) public view returns (bool) {
        if (_isLive(_recordGrants[prov][recordId(k)])) return true;
        IAccessGrants.Grant storage g = _grants[recordPatient(k)][prov];
        return _isLive(g) && g.categories & (uint64(1) << recordCategory(k)) != 0;
    }

    /// @dev Any episode of `prov` for `p` not flagged and not yet over.
    function hasOpenEpisode(address p, address prov) public view returns (bool) {
        for (uint256 i; i < _episodes.length; ++i) {
            EpisodeModel storage e = _episodes[i];
            if (e.patient == p && e.provider == prov && !e.flagged && currentTime < e.expiresAt) return true;
        }
        return false;
    }

    /// @dev What accessBasis should answer: the provider's grants while its PROVIDER credential is
    /// live, else its latest episode for the patient while its EMERGENCY credential is live.
    function expectedBasis(address prov, uint256 k) public view returns (IAccessGrants.Basis, uint256) {
        if (credentialLive(prov, PROVIDER)) {
            if (_isLive(_recordGrants[prov][recordId(k)])) return (IAccessGrants.Basis.RecordGrant, 0);
            IAccessGrants.Grant storage g = _grants[recordPatient(k)][prov];
            if (_isLive(g) && g.categories & (uint64(1) << recordCategory(k)) != 0) {
                return (IAccessGrants.Basis.CategoryGrant, 0);
            }
        }
        uint256 episodeId = _lastEpisode[recordPatient(k)][prov];
        if (episodeId != 0 && currentTime < _episodes[episodeId - 1].expiresAt && credentialLive(prov, EMERGENCY)) {
            return (IAccessGrants.Basis.BreakGlass, episodeId);
        }
        return (IAccessGrants.Basis.None, 0);
    }

    /* ---- INTERNALS ---- */

    /// @dev A suspended credential, revoked or not, is refused a renewal (only `reinstate` lifts a suspension).
    function _attest(address account, bytes32 role, uint64 validFrom, uint64 validUntil) private {
        ICredentialRegistry.Status status = _credentials[account][role].status;
        bool suspended = status == ICredentialRegistry.Status.Suspended
            || status == ICredentialRegistry.Status.RevokedWhileSuspended;
        vm.prank(registrar);
        try credentials.attest(account, role, LICENSE, validFrom, validUntil) {
            if (suspended) _unexpected("attest renewed a suspended credential");
            _credentials[account][role] = CredentialModel(ICredentialRegistry.Status.Active, validFrom, validUntil);
        } catch {
            if (!suspended) _unexpected("attest reverted against the model");
        }
    }

    function _focus(address prov, uint256 k) private {
        (_focusProvider, _focusRecord) = (prov, k);
    }

    /// @dev Suspend (0), reinstate (1) or revoke (2) as the registrar.
    function _changeCredential(address account, bytes32 role, uint256 action)
        private
        returns (bool ok, bytes memory reason)
    {
        vm.prank(registrar);
        if (action == 0) {
            try credentials.suspend(account, role) {
                ok = true;
            } catch (bytes memory r) {
                reason = r;
            }
        } else if (action == 1) {
            try credentials.reinstate(account, role) {
                ok = true;
            } catch (bytes memory r) {
                reason = r;
            }
        } else {
            try credentials.revoke(account, role) {
                ok = true;
            } catch (bytes memory r) {
                reason = r;
            }
        }
    }

    /// @dev The patient three times in four, the first patient's delegate otherwise.
    function _actor(uint256 seed, address p) private pure returns (address) {
        return seed % 4 == 3 ? DELEGATE : p;
    }

    function _actorError(address actor, address p) private pure returns (bytes memory) {
        if (actor == p || p == patient(0)) return "";
        return abi.encodeWithSelector(NotPatientOrDelegate.selector, actor, p);
    }

    function _granteeError(address prov, uint64 expiresAt) private view returns (bytes memory) {
        if (expiresAt <= currentTime) {
            return abi.encodeWithSelector(InvalidExpiry.selector, expiresAt, currentTime);
        }
        if (!credentialLive(prov, PROVIDER)) {
            return abi.encodeWithSelector(IAccessGrants.UncredentialedProvider.selector, prov);
        }
        return "";
    }

    /// @dev An eighth "now" (invalid: the boundary), the rest within two days.
    function _expiry(uint256 seed) private view returns (uint64) {
        if (seed % 8 == 7) return currentTime;
        // casting to 'uint64' is safe because the value is below two days
        // forge-lint: disable-next-line(unsafe-typecast)
        return currentTime + 1 + uint64((seed >> 3) % 2 days);
    }

    function _isLive(IAccessGrants.Grant storage g) private view returns (bool) {
        return g.grantedAt != 0 && g.revokedAt == 0 && currentTime < g.expiresAt;
    }

    function _checkRevert(bytes memory reason, bytes memory expected, string memory action) private {
        if (expected.length == 0) return _unexpected(string.concat(action, " reverted against the model"));
        if (keccak256(reason) != keccak256(expected)) _unexpected(string.concat(action, ": wrong revert"));
    }

    function _unexpected(string memory what) private {
        ++unexpectedOutcomes;
        lastUnexpected = what;
    }
}
