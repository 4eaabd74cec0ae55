// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IConsentGrant} from "../../contracts/interfaces/IConsentGrant.sol";
import {IConsentGrants} from "../../contracts/interfaces/IConsentGrants.sol";
import {ITrialRegistry} from "../../contracts/interfaces/ITrialRegistry.sol";
import {TrialRegistry} from "../../contracts/TrialRegistry.sol";

import {TrialTest} from "./utils/TrialTest.sol";

/// @dev TrialRegistry's enrolment on ERC-8356 trial grants (enrollGrant, reconsentGrant, withdrawGrant): a subject
/// known only by a per-grant commitment grants this registry READ for CLINTRCH over its trial resource, salted; every
/// other grant is refused with the trial, the grant and the consent version it needed. The trial resource, the policy
/// packing and the subject's commitment are written here from ITrialRegistry's and ERC-8356's text; the Grant digest
/// is ConsentGrants' own (`grantDigest`, checked against the standard in ConsentGrants' tests: it is not under test
/// here).
contract TrialRegistryGrantsTest is TrialTest {
    address internal constant RELAYER = address(0x4E1A);
    address internal constant STRANGER = address(0xB1A5);
    address internal constant COMMITTEE = address(0xDAC);
    address internal constant SUBJECT = address(0x5B1EC7); // an address-keyed subject (ConsentRegistry)

    // ERC-8356's ops bits, flags, agent kinds and statuses.
    uint32 internal constant READ = 0x01;
    uint32 internal constant QUERY = 0x02;
    uint32 internal constant DERIVE = 0x04;
    uint8 internal constant DELEGABLE = 0x02;
    uint8 internal constant ACTIVE = 1;
    uint8 internal constant REVOKED_BY_SUBJECT = 2;
    uint8 internal constant TERMINATED_BY_ISSUER = 4;
    uint8 internal constant SUSPENDED = 5;

    uint64 internal constant TERM = 365 days;
    bytes32 internal constant PROFILE = keccak256("carechain/profile/CLINTRCH/v1");
    bytes32 internal constant TERMS = keccak256("carechain/terms/trial/v1");
    bytes32 internal constant PROTOCOL_V2 = keccak256("protocol: phase II, version 2");
    bytes32 internal constant REVOKE_BY_SUBJECT_TYPEHASH =
        keccak256("RevokeBySubject(bytes32 grantId,bytes32 reasonCode,uint256 nonce)");
    bytes32 internal constant SUBJECT_WITHDREW = keccak256("carechain:reason:withdrawn");
    // The reasons ITrialRegistry's implementation gives ConsentGrants when it ends a grant.
    bytes32 internal constant WITHDRAWN = "carechain.trial.withdrawn";
    bytes32 internal constant RECONSENTED = "carechain.trial.reconsented";

    /// @dev One grant's subject: its per-grant key, the salt of its commitment, and the salt of the grant's scope.
    struct Subject {
        uint256 key;
        address addr;
        bytes32 salt;
        bytes32 commit;
        bytes32 scopeSalt;
    }

    /* ------------------------------------------------------------------ */
    /*                               HELPERS                              */
    /* ------------------------------------------------------------------ */

    function _subject(uint256 seed) internal pure returns (Subject memory s) {
        s.key = uint256(keccak256(abi.encode("trial subject key", seed))) % (SECP256K1_ORDER - 1) + 1;
        s.addr = vm.addr(s.key);
        s.salt = keccak256(abi.encode("trial subject salt", seed));
        s.commit = keccak256(abi.encode(s.salt, s.addr));
        s.scopeSalt = keccak256(abi.encode("trial scope salt", seed));
    }

    /// @dev keccak256(abi.encode("carechain.trial", chainId, registry, trialId, version)), as ITrialRegistry states it.
    function _resource(uint256 chainId, address registry_, uint256 trialId, uint32 version)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode("carechain.trial", chainId, registry_, trialId, uint256(version)));
    }

    /// @dev A trial grant's scopeRef: the resource salted by the grant's scope salt.
    function _scope(bytes32 scopeSalt, bytes32 resource) internal pure returns (bytes32) {
        return keccak256(abi.encode(scopeSalt, resource));
    }

    /// @dev ERC-8356's normative policy packing (no use cap).
    function _policy(uint64 notBefore, uint64 expiresAt, uint32 ops, uint32 purposeCode, uint8 agentKind, uint8 flags)
        internal
        pure
        returns (uint256)
    {
        return uint256(notBefore) | (uint256(expiresAt) << 48) | (uint256(ops) << 96) | (uint256(purposeCode) << 128)
            | (uint256(agentKind) << 176) | (uint256(flags) << 184);
    }

    /// @dev The grant a subject makes for `version` of a trial here: to this registry, READ for CLINTRCH, for a year
    /// from now, over the trial resource salted by the subject's scope salt.
    function _trialGrant(Subject memory s, uint256 trialId, uint32 version)
        internal
        view
        returns (IConsentGrants.GrantInput memory g)
    {
        bytes32 scope = _scope(s.scopeSalt, _resource(block.chainid, address(trials), trialId, version));
        uint64 now_ = _now();
        g = IConsentGrants.GrantInput(
            scope,
            PROFILE,
            TERMS,
            0,
            s.commit,
            address(trials),
            address(0),
            _policy(now_, now_ + TERM, READ, CLINTRCH, 0, 0)
        );
    }

    /// @dev The subject signs the grant (its digest as ConsentGrants computes it); a relayer submits it.
    function _mint(Subject memory s, IConsentGrants.GrantInput memory g) internal returns (bytes32 grantId) {
        (uint8 v, bytes32 r, bytes32 sv) = vm.sign(s.key, grants.grantDigest(g, grants.nonces(s.commit)));
        vm.prank(RELAYER);
        grantId = grants.grant(g, abi.encode(s.salt, abi.encodePacked(r, sv, v)));
    }

    /// @dev Subject `seed`'s trial grant for `version`, minted.
    function _granted(uint256 seed, uint256 trialId, uint32 version) internal returns (Subject memory s, bytes32 id) {
        s = _subject(seed);
        id = _mint(s, _trialGrant(s, trialId, version));
    }

    /// @dev The subject withdraws its grant at ConsentGrants (signed, relayed).
    function _revoke(Subject memory s, bytes32 grantId) internal {
        bytes32 structHash =
            keccak256(abi.encode(REVOKE_BY_SUBJECT_TYPEHASH, grantId, SUBJECT_WITHDREW, grants.nonces(s.commit)));
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", grants.DOMAIN_SEPARATOR(), structHash));
        (uint8 v, bytes32 r, bytes32 sv) = vm.sign(s.key, digest);
        vm.prank(RELAYER);
        grants.revokeBySubjectWithSig(grantId, SUBJECT_WITHDREW, abi.encode(s.salt, abi.encodePacked(r, sv, v)));
    }

    function _enrollGrant(uint256 trialId, bytes32 grantId, bytes32 scopeSalt) internal {
        vm.prank(SITE);
        trials.enrollGrant(trialId, grantId, scopeSalt);
    }

    /// @dev SITE enrols subject `seed` on its grant for version 1 of an open trial (OTHER_SITE a site of it too).
    function _enrolledTrial(uint256 seed) internal returns (uint256 trialId, Subject memory s, bytes32 id) {
        trialId = _openTrial(TRIAL_SCOPES);
        _addSite(trialId, OTHER_SITE);
        (s, id) = _granted(seed, trialId, 1);
        _enrollGrant(trialId, id, s.scopeSalt);
    }

    /// @dev SITE's enrolment on `grantId` is refused, NoTrialGrant naming `version`; nothing is recorded.
    function _assertRefused(uint256 trialId, bytes32 grantId, bytes32 scopeSalt, uint32 version) internal {
        uint32 enrolled = trials.getTrial(trialId).enrolled;
        vm.prank(SITE);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NoTrialGrant.selector, trialId, grantId, version));
        trials.enrollGrant(trialId, grantId, scopeSalt);
        vm.assertEq(trials.getGrantEnrolment(trialId, grantId).enrolledAt, 0, "no enrolment recorded");
        vm.assertEq(trials.getTrial(trialId).enrolled, enrolled, "the enrolled count stays");
    }

    function _assertEnrolled(uint256 trialId, bytes32 grantId, address site, uint64 enrolledAt, uint32 version)
        internal
        view
    {
        ITrialRegistry.Enrolment memory e = trials.getGrantEnrolment(trialId, grantId);
        vm.assertEq(e.site, site, "the enrolling site");
        vm.assertEq(e.enrolledAt, enrolledAt, "enrolled at");
        vm.assertEq(e.consentVersion, version, "the consent version");
        vm.assertEq(e.withdrawnAt, 0, "not withdrawn");
    }

    /// @dev The sponsor amends the protocol, requiring re-consent (version 2), and the IRB approves it.
    function _amendRequiringReconsent(uint256 trialId) internal {
        vm.prank(SPONSOR);
        trials.amend(trialId, PROTOCOL_V2, true);
        _approve(trialId, 2);
    }

    function _reinstate(address account) internal {
        vm.prank(REGISTRAR);
        credentials.reinstate(account, RESEARCHER);
    }

    function _by(address account) internal pure returns (bytes32) {
        return bytes32(uint256(uint160(account)));
    }

    /* ------------------------------------------------------------------ */
    /*                               ENROLMENT                            */
    /* ------------------------------------------------------------------ */

    function testFuzz_trialResource_isTheSpecsEncoding(uint256 trialId, uint32 version, uint64 chainId) public {
        vm.assertEq(
            trials.trialResource(trialId, version),
            _resource(block.chainid, address(trials), trialId, version),
            "chain id, registry, trial and version"
        );
        vm.chainId(_bound(chainId, 1, type(uint64).max));
        vm.assertEq(
            trials.trialResource(trialId, version),
            _resource(block.chainid, address(trials), trialId, version),
            "any chain"
        );
    }

    function test_enrollGrant_enrolsTheSubjectOfATrialGrant() public {
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        (Subject memory s, bytes32 id) = _granted(1, trialId, 1);

        vm.expectEmit(address(trials));
        emit ITrialRegistry.GrantEnrolled(trialId, id, SITE, 1);
        _enrollGrant(trialId, id, s.scopeSalt);

        _assertEnrolled(trialId, id, SITE, START, 1);
        vm.assertEq(trials.getTrial(trialId).enrolled, 1, "counted");
        vm.assertEq(grants.getGrant(id).status, ACTIVE, "the grant stays the subject's, active");
        vm.assertEq(trials.getEnrolment(trialId, s.addr).enrolledAt, 0, "no address is enrolled");
    }

    function test_enrollGrant_refusesAGrantToAnotherGrantee() public {
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        TrialRegistry other = new TrialRegistry(registry, credentials, grants);
        address[3] memory grantees = [SITE, SPONSOR, address(other)];
        for (uint256 i; i < grantees.length; ++i) {
            Subject memory s = _subject(10 + i);
            IConsentGrants.GrantInput memory g = _trialGrant(s, trialId, 1);
            g.grantee = grantees[i];
            _assertRefused(trialId, _mint(s, g), s.scopeSalt, 1);
        }
    }

    /// @dev Equality of codes: neither the broader HRESCH nor the narrower CLINTRCHPC stands for CLINTRCH.
    function test_enrollGrant_refusesAnotherPurposeCode() public {
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        uint32[2] memory codes = [HRESCH, CLINTRCHPC];
        for (uint256 i; i < codes.length; ++i) {
            Subject memory s = _subject(20 + i);
            IConsentGrants.GrantInput memory g = _trialGrant(s, trialId, 1);
            g.policy = _policy(START, START + TERM, READ, codes[i], 0, 0);
            _assertRefused(trialId, _mint(s, g), s.scopeSalt, 1);
        }
    }

    function test_enrollGrant_refusesAGrantWithoutRead() public {
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        Subject memory s = _subject(30);
        IConsentGrants.GrantInput memory g = _trialGrant(s, trialId, 1);
        g.policy = _policy(START, START + TERM, QUERY | DERIVE, CLINTRCH, 0, 0);
        _assertRefused(trialId, _mint(s, g), s.scopeSalt, 1);
    }

    /// @dev A grant for trial 2 enrols in trial 2 only.
    function test_enrollGrant_refusesAGrantForAnotherTrial() public {
        uint256 first = _openTrial(TRIAL_SCOPES);
        uint256 second = _openTrial(TRIAL_SCOPES);
        (Subject memory s, bytes32 id) = _granted(40, second, 1);
        _assertRefused(first, id, s.scopeSalt, 1);
        _enrollGrant(second, id, s.scopeSalt);
        _assertEnrolled(second, id, SITE, START, 1);
    }

    /// @dev The consent version is in the scope: a grant for version 2 does not enrol under version 1, nor one for
    /// version 1 once an amendment requiring re-consent moved the consent version to 2.
    function test_enrollGrant_refusesAGrantForAnotherVersion() public {
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        (Subject memory ahead, bytes32 aheadId) = _granted(50, trialId, 2);
        _assertRefused(trialId, aheadId, ahead.scopeSalt, 1);
        (Subject memory behind, bytes32 behindId) = _granted(51, trialId, 1);

        _amendRequiringReconsent(trialId);
        _assertRefused(trialId, behindId, behind.scopeSalt, 2);
        _enrollGrant(trialId, aheadId, ahead.scopeSalt);
        _assertEnrolled(trialId, aheadId, SITE, START, 2);
    }

    /// @dev The registry's address is in the scope: a grant to this registry scoped to another registry's trial of the
    /// same id is refused here; the other registry enrols its own.
    function test_enrollGrant_refusesAGrantForAnotherRegistry() public {
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        TrialRegistry other = new TrialRegistry(registry, credentials, grants);
        vm.prank(SPONSOR);
        uint256 otherId = other.register(PROTOCOL, TRIAL_SCOPES, IRB_MEMBER, PRIMARY, SECONDARY, bytes32(0));
        vm.assertEq(otherId, trialId, "the same trial id in both registries");

        Subject memory s = _subject(60);
        IConsentGrants.GrantInput memory g = _trialGrant(s, trialId, 1);
        g.scopeRef = _scope(s.scopeSalt, _resource(block.chainid, address(other), trialId, 1));
        _assertRefused(trialId, _mint(s, g), s.scopeSalt, 1);

        Subject memory theirs = _subject(61);
        g = _trialGrant(theirs, trialId, 1);
        (g.grantee, g.scopeRef) = (address(other), _scope(theirs.scopeSalt, other.trialResource(trialId, 1)));
        bytes32 theirsId = _mint(theirs, g);
        vm.prank(IRB_MEMBER);
        other.approve(trialId, 1);
        vm.prank(SPONSOR);
        other.addSite(trialId, SITE);
        vm.prank(SITE);
        other.enrollGrant(trialId, theirsId, theirs.scopeSalt);
        vm.assertEq(other.getGrantEnrolment(trialId, theirsId).site, SITE, "enrolled in the other registry");
        _assertRefused(trialId, theirsId, theirs.scopeSalt, 1);
    }

    /// @dev The chain id is in the scope: a grant scoped to another chain is refused here, and a grant made here does
    /// not enrol on another chain that holds the same state (a fork).
    function test_enrollGrant_refusesAGrantForAnotherChain() public {
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        Subject memory s = _subject(70);
        IConsentGrants.GrantInput memory g = _trialGrant(s, trialId, 1);
        g.scopeRef = _scope(s.scopeSalt, _resource(block.chainid + 1, address(trials), trialId, 1));
        _assertRefused(trialId, _mint(s, g), s.scopeSalt, 1);

        (Subject memory here, bytes32 id) = _granted(71, trialId, 1);
        uint256 home = block.chainid;
        vm.chainId(home + 1);
        _assertRefused(trialId, id, here.scopeSalt, 1);
        vm.chainId(home);
        _enrollGrant(trialId, id, here.scopeSalt);
        _assertEnrolled(trialId, id, SITE, START, 1);
    }

    function testFuzz_enrollGrant_refusesAnyOtherScopeSalt(bytes32 scopeSalt) public {
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        (Subject memory s, bytes32 id) = _granted(80, trialId, 1);
        vm.assume(scopeSalt != s.scopeSalt);
        _assertRefused(trialId, id, scopeSalt, 1);
    }

    function test_enrollGrant_refusesARevokedGrant() public {
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        (Subject memory s, bytes32 id) = _granted(90, trialId, 1);
        _revoke(s, id);
        vm.assertEq(grants.getGrant(id).status, REVOKED_BY_SUBJECT, "revoked");
        _assertRefused(trialId, id, s.scopeSalt, 1);
    }

    /// @dev At its expiry (the window is [notBefore, expiresAt)) and after.
    function test_enrollGrant_refusesAnExpiredGrant() public {
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        (Subject memory s, bytes32 id) = _granted(100, trialId, 1);
        vm.warp(START + TERM);
        _assertRefused(trialId, id, s.scopeSalt, 1);
        vm.warp(START + 2 * TERM);
        _assertRefused(trialId, id, s.scopeSalt, 1);
    }

    function test_enrollGrant_refusesAGrantNotYetValid_untilItIs() public {
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        Subject memory s = _subject(110);
        IConsentGrants.GrantInput memory g = _trialGrant(s, trialId, 1);
        g.policy = _policy(START + 1 days, START + TERM, READ, CLINTRCH, 0, 0);
        bytes32 id = _mint(s, g);
        vm.warp(START + 1 days - 1);
        _assertRefused(trialId, id, s.scopeSalt, 1);
        vm.warp(START + 1 days);
        _enrollGrant(trialId, id, s.scopeSalt);
        _assertEnrolled(trialId, id, SITE, START + 1 days, 1);
    }

    /// @dev Refused while on hold, enrolled once resumed.
    function test_enrollGrant_refusesASuspendedGrant_untilResumed() public {
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        // The committee holding the root grant puts it on hold; the sub-grant to the trial is held with it.
        (Subject memory s, bytes32 root, bytes32 id) = _subGranted(120, trialId);
        vm.prank(COMMITTEE);
        grants.suspend(root, keccak256("incident"));
        vm.assertEq(grants.getGrant(root).status, SUSPENDED, "suspended");

        _assertRefused(trialId, id, s.scopeSalt, 1);
        vm.prank(COMMITTEE);
        grants.resume(root);
        _enrollGrant(trialId, id, s.scopeSalt);
        _assertEnrolled(trialId, id, SITE, START, 1);
    }

    /// @dev A data-access committee holds the subject's delegable trial grant and sub-grants it to the registry.
    function _subGranted(uint256 seed, uint256 trialId) internal returns (Subject memory s, bytes32 root, bytes32 id) {
        s = _subject(seed);
        IConsentGrants.GrantInput memory g = _trialGrant(s, trialId, 1);
        g.grantee = COMMITTEE;
        g.policy = _policy(START, START + TERM, READ | QUERY, CLINTRCH, 0, DELEGABLE);
        root = _mint(s, g);
        g.grantee = address(trials);
        g.policy = _policy(START, START + TERM, READ, CLINTRCH, 0, 0);
        vm.prank(COMMITTEE);
        id = grants.subGrant(root, g, new bytes32[](0));
    }

    function test_enrollGrant_acceptsASubGrantToTheTrial() public {
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        (Subject memory s, bytes32 root, bytes32 id) = _subGranted(130, trialId);
        _assertRefused(trialId, root, s.scopeSalt, 1); // the committee's own grant names another grantee
        _enrollGrant(trialId, id, s.scopeSalt);
        _assertEnrolled(trialId, id, SITE, START, 1);
    }

    function test_enrollGrant_refusesASubGrantWhoseRootWasRevoked() public {
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        (Subject memory s, bytes32 root, bytes32 id) = _subGranted(140, trialId);
        _revoke(s, root);
        vm.assertEq(grants.getGrant(id).status, ACTIVE, "the sub-grant's own status is untouched (lazy cascade)");
        vm.assertEq(grants.effectiveStatus(id), REVOKED_BY_SUBJECT, "it inherits the revocation");
        _assertRefused(trialId, id, s.scopeSalt, 1);
    }

    function test_enrollGrant_aSecondTime_reverts_GrantAlreadyEnrolled() public {
        (uint256 trialId, Subject memory s, bytes32 id) = _enrolledTrial(150);
        address[2] memory sites = [SITE, OTHER_SITE];
        for (uint256 i; i < sites.length; ++i) {
            vm.prank(sites[i]);
            vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.GrantAlreadyEnrolled.selector, trialId, id));
            trials.enrollGrant(trialId, id, s.scopeSalt);
        }
        _assertEnrolled(trialId, id, SITE, START, 1);
        vm.assertEq(trials.getTrial(trialId).enrolled, 1, "counted once");
    }

    /// @dev A withdrawn grant stays withdrawn (the trial terminated it): the subject comes back under a fresh grant, a
    /// new commitment, counted as a new enrolment.
    function test_enrollGrant_afterAWithdrawal_needsAFreshGrant() public {
        (uint256 trialId, Subject memory s, bytes32 id) = _enrolledTrial(160);
        vm.prank(SITE);
        trials.withdrawGrant(trialId, id);

        vm.prank(OTHER_SITE);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.GrantAlreadyEnrolled.selector, trialId, id));
        trials.enrollGrant(trialId, id, s.scopeSalt);

        vm.warp(START + 1 days);
        (Subject memory again, bytes32 fresh) = _granted(161, trialId, 1);
        vm.assertTrue(fresh != id, "a new commitment");
        vm.prank(OTHER_SITE);
        trials.enrollGrant(trialId, fresh, again.scopeSalt);
        _assertEnrolled(trialId, fresh, OTHER_SITE, START + 1 days, 1);
        vm.assertEq(trials.getTrial(trialId).enrolled, 2, "two enrolments");
    }

    function test_enrollGrant_needsAnOpenApprovedTrialAndASite() public {
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        (Subject memory s, bytes32 id) = _granted(170, trialId, 1);

        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.UnknownTrial.selector, trialId + 1));
        _enrollGrant(trialId + 1, id, s.scopeSalt);
        address[2] memory outsiders = [STRANGER, OTHER_SITE];
        for (uint256 i; i < outsiders.length; ++i) {
            vm.prank(outsiders[i]);
            vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotSite.selector, trialId, outsiders[i]));
            trials.enrollGrant(trialId, id, s.scopeSalt);
        }
        _suspend(SITE, RESEARCHER);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotSite.selector, trialId, SITE));
        _enrollGrant(trialId, id, s.scopeSalt);
        _reinstate(SITE);

        vm.prank(SPONSOR);
        trials.amend(trialId, PROTOCOL_V2, false);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.ProtocolNotApproved.selector, trialId, 2));
        _enrollGrant(trialId, id, s.scopeSalt);
        _approve(trialId, 2);
        _lock(trialId);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.TrialLocked.selector, trialId, START));
        _enrollGrant(trialId, id, s.scopeSalt);
        vm.assertEq(trials.getGrantEnrolment(trialId, id).enrolledAt, 0, "never enrolled");
    }

    function test_getGrantEnrolment_ofAnUnknownTrial_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.UnknownTrial.selector, 1));
        trials.getGrantEnrolment(1, bytes32(uint256(1)));
    }

    /* ------------------------------------------------------------------ */
    /*                               RECONSENT                            */
    /* ------------------------------------------------------------------ */

    /// @dev After an amendment requiring re-consent, the enrolling site moves the enrolment onto the subject's grant
    /// for version 2: same site, same enrolment time, one enrolment counted; the trial terminates the old grant.
    function test_reconsentGrant_movesTheEnrolmentOntoTheNewVersionsGrant() public {
        (uint256 trialId,, bytes32 id) = _enrolledTrial(200);
        vm.warp(START + 30 days);
        _amendRequiringReconsent(trialId);
        (Subject memory next, bytes32 nextId) = _granted(201, trialId, 2);

        vm.expectEmit(address(trials));
        emit ITrialRegistry.GrantReconsented(trialId, id, nextId, 2);
        vm.expectEmit(address(grants));
        emit IConsentGrant.ConsentRevoked(id, _by(address(trials)), TERMINATED_BY_ISSUER, RECONSENTED);
        vm.prank(SITE);
        trials.reconsentGrant(trialId, id, nextId, next.scopeSalt);

        _assertEnrolled(trialId, nextId, SITE, START, 2);
        vm.assertEq(trials.getGrantEnrolment(trialId, id).withdrawnAt, START + 30 days, "the old enrolment ended now");
        vm.assertEq(trials.getTrial(trialId).enrolled, 1, "one participation");
        vm.assertEq(grants.getGrant(id).status, TERMINATED_BY_ISSUER, "the old grant terminated by the trial");
        vm.assertEq(grants.getGrant(nextId).status, ACTIVE, "the new grant active");

        vm.prank(SITE);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.GrantNotEnrolled.selector, trialId, id));
        trials.withdrawGrant(trialId, id);
    }

    /// @dev Nothing to move while the consent version stands: neither without an amendment nor after one that did not
    /// require re-consent.
    function test_reconsentGrant_whenTheConsentVersionStands_reverts_GrantAlreadyReconsented() public {
        (uint256 trialId,, bytes32 id) = _enrolledTrial(210);
        (Subject memory next, bytes32 nextId) = _granted(211, trialId, 1);
        for (uint256 i; i < 2; ++i) {
            vm.prank(SITE);
            vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.GrantAlreadyReconsented.selector, trialId, id, 1));
            trials.reconsentGrant(trialId, id, nextId, next.scopeSalt);
            vm.prank(SPONSOR);
            trials.amend(trialId, PROTOCOL_V2, false);
        }
        vm.assertEq(grants.getGrant(id).status, ACTIVE, "the grant stays");
        _assertEnrolled(trialId, id, SITE, START, 1);
    }

    function test_reconsentGrant_onlyByTheEnrollingSite() public {
        (uint256 trialId,, bytes32 id) = _enrolledTrial(220);
        _amendRequiringReconsent(trialId);
        (Subject memory next, bytes32 nextId) = _granted(221, trialId, 2);
        address[3] memory others = [OTHER_SITE, SPONSOR, STRANGER];
        for (uint256 i; i < others.length; ++i) {
            vm.prank(others[i]);
            vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NotSite.selector, trialId, others[i]));
            trials.reconsentGrant(trialId, id, nextId, next.scopeSalt);
        }
        vm.assertEq(grants.getGrant(id).status, ACTIVE, "the grant stays");
        _assertEnrolled(trialId, id, SITE, START, 1);
        vm.assertEq(trials.getGrantEnrolment(trialId, nextId).enrolledAt, 0, "nothing moved");
    }

    function test_reconsentGrant_needsAGrantForTheCurrentVersionNotEnrolledYet() public {
        (uint256 trialId, Subject memory s, bytes32 id) = _enrolledTrial(230);
        (Subject memory other, bytes32 otherId) = _granted(231, trialId, 1);
        _enrollGrant(trialId, otherId, other.scopeSalt);
        _amendRequiringReconsent(trialId);
        (Subject memory stale, bytes32 staleId) = _granted(232, trialId, 1);

        vm.startPrank(SITE);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.NoTrialGrant.selector, trialId, staleId, 2));
        trials.reconsentGrant(trialId, id, staleId, stale.scopeSalt);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.GrantAlreadyEnrolled.selector, trialId, otherId));
        trials.reconsentGrant(trialId, id, otherId, other.scopeSalt);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.GrantAlreadyEnrolled.selector, trialId, id));
        trials.reconsentGrant(trialId, id, id, s.scopeSalt);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.GrantNotEnrolled.selector, trialId, staleId));
        trials.reconsentGrant(trialId, staleId, id, s.scopeSalt);
        vm.stopPrank();
        _lock(trialId);
        vm.prank(SITE);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.TrialLocked.selector, trialId, START));
        trials.reconsentGrant(trialId, id, staleId, stale.scopeSalt);
        _assertEnrolled(trialId, id, SITE, START, 1);
    }

    /* ------------------------------------------------------------------ */
    /*                              WITHDRAWAL                            */
    /* ------------------------------------------------------------------ */

    /// @dev While the grant is live, the enrolling site or the sponsor ends the enrolment, dated now, and the trial
    /// terminates the grant.
    function test_withdrawGrant_whileLive_byTheEnrollingSiteOrTheSponsor() public {
        address[2] memory allowed = [SITE, SPONSOR];
        for (uint256 i; i < allowed.length; ++i) {
            (uint256 trialId,, bytes32 id) = _enrolledTrial(300 + i);
            vm.warp(block.timestamp + 1 days);
            uint64 now_ = uint64(block.timestamp);

            vm.expectEmit(address(trials));
            emit ITrialRegistry.GrantWithdrawn(trialId, id, now_, allowed[i]);
            vm.expectEmit(address(grants));
            emit IConsentGrant.ConsentRevoked(id, _by(address(trials)), TERMINATED_BY_ISSUER, WITHDRAWN);
            vm.prank(allowed[i]);
            trials.withdrawGrant(trialId, id);

            vm.assertEq(trials.getGrantEnrolment(trialId, id).withdrawnAt, now_, "withdrawn now");
            vm.assertEq(grants.getGrant(id).status, TERMINATED_BY_ISSUER, "terminated by the trial");
            vm.assertFalse(grants.isGrantActive(id), "no longer active");
        }
    }

    /// @dev Finding A.1 on the grant path: another site of the trial cannot withdraw a subject it did not enrol.
    function test_review_A1_onTheGrantPath_anotherSiteCannotWithdrawTheSubject() public {
        (uint256 trialId,, bytes32 id) = _enrolledTrial(310);
        vm.assertEq(trials.getGrantEnrolment(trialId, id).site, SITE, "the enrolling site is recorded");

        vm.prank(OTHER_SITE);
        vm.expectRevert(
            abi.encodeWithSelector(ITrialRegistry.UnauthorizedGrantWithdrawal.selector, trialId, id, OTHER_SITE)
        );
        trials.withdrawGrant(trialId, id);
        _assertEnrolled(trialId, id, SITE, START, 1);
        vm.assertEq(grants.getGrant(id).status, ACTIVE, "the grant stays");
    }

    /// @dev While the grant is live: not a stranger, nor the enrolling site once removed or without a live credential.
    function test_withdrawGrant_whileLive_refusesAStrangerAndAFormerSite() public {
        (uint256 trialId,, bytes32 id) = _enrolledTrial(320);
        vm.prank(STRANGER);
        vm.expectRevert(
            abi.encodeWithSelector(ITrialRegistry.UnauthorizedGrantWithdrawal.selector, trialId, id, STRANGER)
        );
        trials.withdrawGrant(trialId, id);

        _suspend(SITE, RESEARCHER);
        vm.prank(SITE);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.UnauthorizedGrantWithdrawal.selector, trialId, id, SITE));
        trials.withdrawGrant(trialId, id);
        _reinstate(SITE);
        vm.prank(SPONSOR);
        trials.removeSite(trialId, SITE);
        vm.prank(SITE);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.UnauthorizedGrantWithdrawal.selector, trialId, id, SITE));
        trials.withdrawGrant(trialId, id);

        _assertEnrolled(trialId, id, SITE, START, 1);
        vm.assertEq(grants.getGrant(id).status, ACTIVE, "the grant stays");
    }

    /// @dev Once the subject revoked the grant, anyone records the end (a grant never comes back), dated at the call;
    /// the subject's status stays.
    function test_withdrawGrant_afterTheSubjectsRevocation_byAnyone_datedNow() public {
        (uint256 trialId, Subject memory s, bytes32 id) = _enrolledTrial(330);
        vm.warp(START + 10 days);
        _revoke(s, id);
        vm.warp(START + 12 days);

        vm.expectEmit(address(trials));
        emit ITrialRegistry.GrantWithdrawn(trialId, id, START + 12 days, STRANGER);
        vm.prank(STRANGER);
        trials.withdrawGrant(trialId, id);
        vm.assertEq(trials.getGrantEnrolment(trialId, id).withdrawnAt, START + 12 days, "dated at the call");
        vm.assertEq(grants.getGrant(id).status, REVOKED_BY_SUBJECT, "still the subject's revocation");
    }

    /// @dev Once the grant expired, anyone records the end, dated at the expiry.
    function test_withdrawGrant_afterExpiry_byAnyone_datedAtTheExpiry() public {
        (uint256 trialId,, bytes32 id) = _enrolledTrial(340);
        vm.warp(START + TERM + 5 days);

        vm.expectEmit(address(trials));
        emit ITrialRegistry.GrantWithdrawn(trialId, id, START + TERM, STRANGER);
        vm.prank(STRANGER);
        trials.withdrawGrant(trialId, id);
        vm.assertEq(trials.getGrantEnrolment(trialId, id).withdrawnAt, START + TERM, "dated at the expiry");
        vm.assertEq(grants.getGrant(id).status, ACTIVE, "an expired grant keeps its status");
    }

    /// @dev A sub-grant ends with its root: anyone records it, dated now (its own expiry is later).
    function test_withdrawGrant_ofASubGrantWhoseRootWasRevoked_byAnyone() public {
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        (Subject memory s, bytes32 root, bytes32 id) = _subGranted(350, trialId);
        _enrollGrant(trialId, id, s.scopeSalt);
        vm.warp(START + 3 days);
        _revoke(s, root);

        vm.prank(STRANGER);
        trials.withdrawGrant(trialId, id);
        vm.assertEq(trials.getGrantEnrolment(trialId, id).withdrawnAt, START + 3 days, "dated now");
    }

    /// @dev A grant on hold (its root suspended by the committee holding it) has not
    /// ended: it resumes. Neither a passer-by nor another site ends the participation meanwhile; the enrolling site or
    /// the sponsor still may, dated now.
    function test_withdrawGrant_whileOnHold_onlyByTheEnrollingSiteOrTheSponsor() public {
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        _addSite(trialId, OTHER_SITE);
        (Subject memory s, bytes32 firstRoot, bytes32 id) = _subGranted(380, trialId);
        _enrollGrant(trialId, id, s.scopeSalt);
        (Subject memory delegated, bytes32 root, bytes32 subId) = _subGranted(381, trialId);
        _enrollGrant(trialId, subId, delegated.scopeSalt);
        vm.warp(START + 2 days);
        vm.prank(COMMITTEE);
        grants.suspend(firstRoot, keccak256("incident"));
        vm.prank(COMMITTEE);
        grants.suspend(root, keccak256("incident"));
        bytes32[2] memory held = [id, subId];
        address[2] memory others = [STRANGER, OTHER_SITE];

        for (uint256 i; i < held.length; ++i) {
            vm.assertFalse(grants.isGrantActive(held[i]), "on hold");
            for (uint256 j; j < others.length; ++j) {
                vm.prank(others[j]);
                vm.expectRevert(
                    abi.encodeWithSelector(
                        ITrialRegistry.UnauthorizedGrantWithdrawal.selector, trialId, held[i], others[j]
                    )
                );
                trials.withdrawGrant(trialId, held[i]);
            }
            _assertEnrolled(trialId, held[i], SITE, START, 1);
        }
        vm.prank(COMMITTEE);
        grants.resume(firstRoot);
        vm.assertTrue(grants.isGrantActive(id), "resumed: the participation goes on");

        vm.expectEmit(address(trials));
        emit ITrialRegistry.GrantWithdrawn(trialId, subId, START + 2 days, SPONSOR);
        vm.prank(SPONSOR);
        trials.withdrawGrant(trialId, subId);
        vm.assertEq(trials.getGrantEnrolment(trialId, subId).withdrawnAt, START + 2 days, "withdrawn now");
        vm.assertEq(grants.getGrant(subId).status, ACTIVE, "not terminated while its root is on hold");
    }

    function test_withdrawGrant_ofAGrantNotEnrolled_reverts_GrantNotEnrolled() public {
        (uint256 trialId,, bytes32 id) = _enrolledTrial(360);
        bytes32 unknown = keccak256("no such grant");
        vm.prank(SITE);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.GrantNotEnrolled.selector, trialId, unknown));
        trials.withdrawGrant(trialId, unknown);

        vm.prank(SITE);
        trials.withdrawGrant(trialId, id);
        vm.prank(SPONSOR);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.GrantNotEnrolled.selector, trialId, id));
        trials.withdrawGrant(trialId, id);
        vm.expectRevert(abi.encodeWithSelector(ITrialRegistry.UnknownTrial.selector, trialId + 1));
        trials.withdrawGrant(trialId + 1, id);
    }

    /// @dev The trial ends the grants it stops using with ConsentGrants' ISSUER_ROLE: a deployment must grant it to
    /// the registry, or a site's or sponsor's withdrawal of a live grant reverts (the subject's own withdrawal, a
    /// revocation at ConsentGrants, needs nothing from the registry).
    function test_withdrawGrant_whileLive_needsTheIssuerRole() public {
        (uint256 trialId,, bytes32 id) = _enrolledTrial(370);
        vm.prank(ADMIN);
        grants.revokeRole(ISSUER_ROLE, address(trials));

        vm.prank(SITE);
        vm.expectRevert(
            abi.encodeWithSignature("AccessControlUnauthorizedAccount(address,bytes32)", address(trials), ISSUER_ROLE)
        );
        trials.withdrawGrant(trialId, id);
        _assertEnrolled(trialId, id, SITE, START, 1);
    }

    /* ------------------------------------------------------------------ */
    /*                        BESIDE THE ADDRESS PATH                     */
    /* ------------------------------------------------------------------ */

    /// @dev One trial enrols a subject by address (ConsentRegistry) and another by grant: both counted, each withdrawn
    /// on its own path without touching the other.
    function test_addressAndGrantEnrolments_standSideBySide() public {
        uint256 trialId = _openTrial(TRIAL_SCOPES);
        _consentTo(SUBJECT, trialId, 1, TRIAL_SCOPES, 0);
        _enroll(trialId, SUBJECT);
        (Subject memory s, bytes32 id) = _granted(400, trialId, 1);
        _enrollGrant(trialId, id, s.scopeSalt);
        vm.assertEq(trials.getTrial(trialId).enrolled, 2, "both counted");

        vm.prank(SITE);
        trials.withdrawGrant(trialId, id);
        vm.assertTrue(trials.isEnrolled(trialId, SUBJECT), "the address-keyed subject stays");
        vm.prank(SITE);
        trials.withdraw(trialId, SUBJECT);
        vm.assertFalse(trials.isEnrolled(trialId, SUBJECT), "withdrawn by address");
        vm.assertEq(trials.getGrantEnrolment(trialId, id).withdrawnAt, START, "the grant enrolment ended once");
        vm.assertEq(trials.getTrial(trialId).enrolled, 2, "the count keeps both");
    }
}
