// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

import {IAccessGrants} from "../../contracts/interfaces/IAccessGrants.sol";
import {ISignedByPatient} from "../../contracts/interfaces/ISignedByPatient.sol";
import {IRecordRegistry} from "../../contracts/interfaces/IRecordRegistry.sol";
import {EmptyBatch, InvalidExpiry, NotPatientOrDelegate} from "../../contracts/utils/Common.sol";

import {CareChainTest} from "./utils/CareChainTest.sol";
import {VM_ADDRESS} from "./utils/Vm.sol";

/// @dev Fuzz tests of canAccess over category and record grants, credentials re-checked at read
/// time, EIP-712 signed grants, break-glass episodes and their review, and the access log.
contract AccessGrantsTest is CareChainTest {
    uint256 internal constant PATIENT_KEY = 0xA11CE;
    address internal constant CLINICIAN = address(0xD0C7);
    address internal constant ER_DOCTOR = address(0xE3D0C);
    address internal constant AUDITOR = address(0xA0D17);
    address internal constant OTHER_PATIENT = address(0xCA7E02);
    bytes32 internal constant PURPOSE = keccak256("treatment");
    bytes32 internal constant REASON = keccak256("unconscious on arrival");
    uint256 internal constant DEADLINE_WINDOW = 30 days;

    address internal patient;
    uint256 private _recordSalt;

    function setUp() public override {
        super.setUp();
        patient = vm.addr(PATIENT_KEY);
        _attest(CLINICIAN, PROVIDER);
        _attest(ER_DOCTOR, EMERGENCY);
        _attest(AUDITOR, REVIEWER);
    }

    /* ------------------------------------------------------------------ */
    /*                            CATEGORY GRANTS                         */
    /* ------------------------------------------------------------------ */

    function testFuzz_grantAccess_coversExactlyItsCategories(
        uint64 categories,
        uint8 categorySeed,
        uint8 bitSeed,
        uint256 ttl
    ) public {
        categories = _nonEmpty(categories);
        uint8 category = _category(categorySeed);
        uint64 expiresAt = _futureExpiry(ttl);
        bytes32 recordId = _record(patient, category);

        vm.expectEmit(address(access));
        emit IAccessGrants.AccessGranted(patient, CLINICIAN, bytes32(0), categories, expiresAt, patient);
        _grantAccess(patient, CLINICIAN, categories, expiresAt);

        IAccessGrants.Grant memory g = access.getGrant(patient, CLINICIAN);
        vm.assertEq(g.categories, categories, "categories");
        vm.assertEq(g.grantedAt, START, "grantedAt");
        vm.assertEq(g.expiresAt, expiresAt, "expiresAt");
        vm.assertEq(g.revokedAt, 0, "revokedAt");

        bool covered = categories & (uint64(1) << category) != 0;
        _assertBasis(CLINICIAN, recordId, covered ? IAccessGrants.Basis.CategoryGrant : IAccessGrants.Basis.None, 0);
        _assertBasis(
            CLINICIAN, _record(patient, _bitIndex(_someBit(categories, bitSeed))), IAccessGrants.Basis.CategoryGrant, 0
        );
        if (categories != type(uint64).max) {
            _assertDenied(CLINICIAN, _record(patient, _bitIndex(_someBit(~categories, bitSeed))));
        }
    }

    function testFuzz_grantAccess_coversOnlyThatPatientAndProvider(
        uint64 categories,
        uint8 bitSeed,
        address otherProvider
    ) public {
        _assumeFresh(otherProvider);
        vm.assume(otherProvider != CLINICIAN && otherProvider != patient);
        _attest(otherProvider, PROVIDER);
        categories = _nonEmpty(categories);
        uint8 category = _bitIndex(_someBit(categories, bitSeed));
        _grantAccess(patient, CLINICIAN, categories, START + 1 days);

        vm.assertTrue(access.canAccess(CLINICIAN, _record(patient, category)), "own patient");
        _assertDenied(CLINICIAN, _record(OTHER_PATIENT, category));
        _assertDenied(otherProvider, _record(patient, category));
    }

    function testFuzz_grantAccess_lapsesAtExpiry(uint64 categories, uint8 bitSeed, uint256 ttl, uint256 lateBy) public {
        categories = _nonEmpty(categories);
        uint64 expiresAt = _futureExpiry(ttl);
        bytes32 recordId = _record(patient, _bitIndex(_someBit(categories, bitSeed)));
        _grantAccess(patient, CLINICIAN, categories, expiresAt);

        vm.warp(expiresAt - 1);
        vm.assertTrue(access.canAccess(CLINICIAN, recordId), "last live second");
        vm.warp(expiresAt);
        _assertDenied(CLINICIAN, recordId);
        vm.warp(expiresAt + _bound(lateBy, 0, MAX_TTL));
        _assertDenied(CLINICIAN, recordId);

        vm.prank(patient);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.GrantNotActive.selector, patient, CLINICIAN, bytes32(0)));
        access.revokeAccess(patient, CLINICIAN);
    }

    /// @dev A new grant replaces the old one whole, live, lapsed or revoked.
    function testFuzz_grantAccess_renewalReplacesTheGrant(
        uint64 first,
        uint64 second,
        uint8 bitSeed,
        uint256 elapsed,
        bool revokeFirst
    ) public {
        first = _nonEmpty(first);
        second = _nonEmpty(second);
        _grantAccess(patient, CLINICIAN, first, START + 1 days);
        if (revokeFirst) {
            vm.prank(patient);
            access.revokeAccess(patient, CLINICIAN);
        }
        vm.warp(START + _bound(elapsed, 0, 2 days));
        uint64 expiresAt = _now() + 1 days;
        _grantAccess(patient, CLINICIAN, second, expiresAt);

        IAccessGrants.Grant memory g = access.getGrant(patient, CLINICIAN);
        vm.assertEq(g.categories, second, "categories replaced");
        vm.assertEq(g.grantedAt, _now(), "grantedAt renewed");
        vm.assertEq(g.expiresAt, expiresAt, "expiresAt replaced");
        vm.assertEq(g.revokedAt, 0, "revocation cleared");
        vm.assertTrue(access.canAccess(CLINICIAN, _record(patient, _bitIndex(_someBit(second, bitSeed)))), "new");
        uint64 dropped = first & ~second;
        if (dropped != 0) _assertDenied(CLINICIAN, _record(patient, _bitIndex(_someBit(dropped, bitSeed))));
    }

    function testFuzz_revokeAccess_endsAccess(uint64 categories, uint8 bitSeed, uint256 elapsed) public {
        categories = _nonEmpty(categories);
        bytes32 recordId = _record(patient, _bitIndex(_someBit(categories, bitSeed)));
        _grantAccess(patient, CLINICIAN, categories, START + 1 days);
        vm.warp(START + _bound(elapsed, 0, 1 days - 1));

        vm.expectEmit(address(access));
        emit IAccessGrants.AccessRevoked(patient, CLINICIAN, bytes32(0), patient);
        vm.prank(patient);
        access.revokeAccess(patient, CLINICIAN);

        vm.assertEq(access.getGrant(patient, CLINICIAN).revokedAt, _now(), "revokedAt");
        _assertDenied(CLINICIAN, recordId);
        vm.prank(patient);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.GrantNotActive.selector, patient, CLINICIAN, bytes32(0)));
        access.revokeAccess(patient, CLINICIAN);
    }

    function testFuzz_grants_byALiveDelegate(address delegate, uint64 categories, uint8 bitSeed, uint256 ttl) public {
        _assumeFresh(delegate);
        vm.assume(delegate != patient && delegate != CLINICIAN);
        categories = _nonEmpty(categories);
        uint64 delegateUntil = _futureExpiry(ttl);
        vm.prank(patient);
        registry.setDelegate(delegate, delegateUntil);
        bytes32 recordId = _record(patient, _bitIndex(_someBit(categories, bitSeed)));

        vm.expectEmit(address(access));
        emit IAccessGrants.AccessGranted(patient, CLINICIAN, bytes32(0), categories, delegateUntil, delegate);
        vm.prank(delegate);
        access.grantAccess(patient, CLINICIAN, categories, delegateUntil);
        vm.assertTrue(access.canAccess(CLINICIAN, recordId), "granted by the delegate");

        vm.startPrank(delegate);
        access.grantRecordAccess(CLINICIAN, recordId, delegateUntil);
        vm.expectEmit(address(access));
        emit IAccessGrants.AccessRevoked(patient, CLINICIAN, recordId, delegate);
        access.revokeRecordAccess(CLINICIAN, recordId);
        vm.stopPrank();

        vm.warp(delegateUntil);
        vm.prank(delegate);
        vm.expectRevert(abi.encodeWithSelector(NotPatientOrDelegate.selector, delegate, patient));
        access.grantAccess(patient, CLINICIAN, categories, delegateUntil + 1);
    }

    function testFuzz_grantsAndRevocations_byAStranger_revert(address stranger, uint8 categorySeed) public {
        _assumeFresh(stranger);
        vm.assume(stranger != patient);
        bytes32 recordId = _record(patient, _category(categorySeed));
        _grantAccess(patient, CLINICIAN, type(uint64).max, START + 1 days);
        _grantRecordAccess(CLINICIAN, recordId, START + 1 days);
        bytes memory err = abi.encodeWithSelector(NotPatientOrDelegate.selector, stranger, patient);

        vm.startPrank(stranger);
        vm.expectRevert(err);
        access.grantAccess(patient, CLINICIAN, 1, START + 2 days);
        vm.expectRevert(err);
        access.revokeAccess(patient, CLINICIAN);
        vm.expectRevert(err);
        access.grantRecordAccess(CLINICIAN, recordId, START + 2 days);
        vm.expectRevert(err);
        access.revokeRecordAccess(CLINICIAN, recordId);
        vm.stopPrank();

        vm.assertEq(access.getGrant(patient, CLINICIAN).categories, type(uint64).max, "grant untouched");
        vm.assertEq(access.getRecordGrant(CLINICIAN, recordId).expiresAt, START + 1 days, "record grant untouched");
    }

    function testFuzz_grantAccess_rejectsMalformedInput(uint64 categories, uint64 pastExpiry, address uncredentialed)
        public
    {
        _assumeFresh(uncredentialed);
        vm.assume(uncredentialed != CLINICIAN && uncredentialed != ER_DOCTOR && uncredentialed != AUDITOR);
        categories = _nonEmpty(categories);
        pastExpiry = uint64(_bound(pastExpiry, 0, START));

        vm.expectRevert(abi.encodeWithSelector(ISignedByPatient.InvalidPatient.selector, address(0)));
        access.grantAccess(address(0), CLINICIAN, categories, START + 1);

        vm.startPrank(patient);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.EmptyCategories.selector));
        access.grantAccess(patient, CLINICIAN, 0, START + 1);
        vm.expectRevert(abi.encodeWithSelector(InvalidExpiry.selector, pastExpiry, START));
        access.grantAccess(patient, CLINICIAN, categories, pastExpiry);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.UncredentialedProvider.selector, uncredentialed));
        access.grantAccess(patient, uncredentialed, categories, START + 1);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.UncredentialedProvider.selector, ER_DOCTOR));
        access.grantAccess(patient, ER_DOCTOR, categories, START + 1);
        vm.stopPrank();

        _suspend(CLINICIAN, PROVIDER);
        vm.prank(patient);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.UncredentialedProvider.selector, CLINICIAN));
        access.grantAccess(patient, CLINICIAN, categories, START + 1);
        vm.assertEq(access.getGrant(patient, CLINICIAN).grantedAt, 0, "nothing stored");
    }

    /* ------------------------------------------------------------------ */
    /*                             RECORD GRANTS                          */
    /* ------------------------------------------------------------------ */

    function testFuzz_grantRecordAccess_coversOnlyThatRecord(uint8 categorySeed, uint256 ttl) public {
        uint8 category = _category(categorySeed);
        bytes32 recordId = _record(patient, category);
        bytes32 sibling = _record(patient, category);
        uint64 expiresAt = _futureExpiry(ttl);

        vm.expectEmit(address(access));
        emit IAccessGrants.AccessGranted(patient, CLINICIAN, recordId, 0, expiresAt, patient);
        _grantRecordAccess(CLINICIAN, recordId, expiresAt);

        IAccessGrants.Grant memory g = access.getRecordGrant(CLINICIAN, recordId);
        vm.assertEq(g.categories, 0, "no categories");
        vm.assertEq(g.grantedAt, START, "grantedAt");
        vm.assertEq(g.expiresAt, expiresAt, "expiresAt");
        _assertBasis(CLINICIAN, recordId, IAccessGrants.Basis.RecordGrant, 0);
        _assertDenied(CLINICIAN, sibling);
        vm.assertEq(access.getGrant(patient, CLINICIAN).grantedAt, 0, "no category grant");
    }

    function testFuzz_grantRecordAccess_lapsesAtExpiry(uint8 categorySeed, uint256 ttl, uint256 lateBy) public {
        bytes32 recordId = _record(patient, _category(categorySeed));
        uint64 expiresAt = _futureExpiry(ttl);
        _grantRecordAccess(CLINICIAN, recordId, expiresAt);

        vm.warp(expiresAt - 1);
        vm.assertTrue(access.canAccess(CLINICIAN, recordId), "last live second");
        vm.warp(expiresAt + _bound(lateBy, 0, MAX_TTL));
        _assertDenied(CLINICIAN, recordId);
        vm.prank(patient);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.GrantNotActive.selector, patient, CLINICIAN, recordId));
        access.revokeRecordAccess(CLINICIAN, recordId);
    }

    function testFuzz_revokeRecordAccess_endsAccess(uint8 categorySeed, uint256 elapsed) public {
        bytes32 recordId = _record(patient, _category(categorySeed));
        _grantRecordAccess(CLINICIAN, recordId, START + 1 days);
        vm.warp(START + _bound(elapsed, 0, 1 days - 1));

        vm.expectEmit(address(access));
        emit IAccessGrants.AccessRevoked(patient, CLINICIAN, recordId, patient);
        vm.prank(patient);
        access.revokeRecordAccess(CLINICIAN, recordId);

        vm.assertEq(access.getRecordGrant(CLINICIAN, recordId).revokedAt, _now(), "revokedAt");
        _assertDenied(CLINICIAN, recordId);
        vm.prank(patient);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.GrantNotActive.selector, patient, CLINICIAN, recordId));
        access.revokeRecordAccess(CLINICIAN, recordId);
    }

    /// @dev With both, the record grant is the basis; revoking it falls back to the category grant.
    function testFuzz_recordGrant_takesPrecedenceOverTheCategoryGrant(uint8 categorySeed) public {
        uint8 category = _category(categorySeed);
        bytes32 recordId = _record(patient, category);
        _grantAccess(patient, CLINICIAN, uint64(1) << category, START + 1 days);
        _grantRecordAccess(CLINICIAN, recordId, START + 1 days);
        _assertBasis(CLINICIAN, recordId, IAccessGrants.Basis.RecordGrant, 0);

        vm.prank(patient);
        access.revokeRecordAccess(CLINICIAN, recordId);
        _assertBasis(CLINICIAN, recordId, IAccessGrants.Basis.CategoryGrant, 0);
    }

    function testFuzz_grantRecordAccess_rejectsMalformedInput(
        bytes32 unknownRecord,
        uint8 categorySeed,
        uint64 pastExpiry,
        address uncredentialed
    ) public {
        _assumeFresh(uncredentialed);
        vm.assume(uncredentialed != CLINICIAN && uncredentialed != ER_DOCTOR && uncredentialed != AUDITOR);
        bytes32 recordId = _record(patient, _category(categorySeed));
        vm.assume(unknownRecord != recordId);
        pastExpiry = uint64(_bound(pastExpiry, 0, START));
        bytes memory unknown = abi.encodeWithSelector(IRecordRegistry.UnknownRecord.selector, unknownRecord);

        vm.startPrank(patient);
        vm.expectRevert(unknown);
        access.grantRecordAccess(CLINICIAN, unknownRecord, START + 1);
        vm.expectRevert(unknown);
        access.revokeRecordAccess(CLINICIAN, unknownRecord);
        vm.expectRevert(abi.encodeWithSelector(InvalidExpiry.selector, pastExpiry, START));
        access.grantRecordAccess(CLINICIAN, recordId, pastExpiry);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.UncredentialedProvider.selector, uncredentialed));
        access.grantRecordAccess(uncredentialed, recordId, START + 1);
        vm.stopPrank();

        vm.assertEq(access.getRecordGrant(CLINICIAN, recordId).grantedAt, 0, "nothing stored");
        vm.assertFalse(access.canAccess(CLINICIAN, unknownRecord), "no access to an unknown record");
    }

    /* ------------------------------------------------------------------ */
    /*                      CREDENTIALS AT READ TIME                      */
    /* ------------------------------------------------------------------ */

    function testFuzz_canAccess_falseWhileTheProviderIsSuspended(uint8 categorySeed, bool recordGrant, uint256 elapsed)
        public
    {
        uint8 category = _category(categorySeed);
        bytes32 recordId = _record(patient, category);
        _grantEither(recordGrant, recordId, category);
        vm.warp(START + _bound(elapsed, 0, 1 days - 1));

        _suspend(CLINICIAN, PROVIDER);
        _assertDenied(CLINICIAN, recordId);

        vm.prank(REGISTRAR);
        credentials.reinstate(CLINICIAN, PROVIDER);
        vm.assertTrue(access.canAccess(CLINICIAN, recordId), "the grant outlived the suspension");
    }

    /// @dev Revoked, or past its validUntil: the grant is still live, the provider reads nothing.
    function testFuzz_canAccess_falseOnceTheProviderCredentialEnds(
        uint8 categorySeed,
        bool recordGrant,
        bool revoke,
        uint256 lengthSeed
    ) public {
        uint64 validUntil = START + uint64(_bound(lengthSeed, 1, 1 days - 1));
        vm.prank(REGISTRAR);
        credentials.attest(CLINICIAN, PROVIDER, LICENSE, START, validUntil);
        uint8 category = _category(categorySeed);
        bytes32 recordId = _record(patient, category);
        _grantEither(recordGrant, recordId, category);

        if (revoke) {
            vm.prank(REGISTRAR);
            credentials.revoke(CLINICIAN, PROVIDER);
        } else {
            vm.warp(validUntil);
        }
        _assertDenied(CLINICIAN, recordId);
    }

    /* ------------------------------------------------------------------ */
    /*                             SIGNED GRANTS                          */
    /* ------------------------------------------------------------------ */

    function test_eip712_domainAndTypehashesMatchTheSpec() public view {
        vm.assertEq(
            access.DOMAIN_SEPARATOR(),
            _domainSeparator("CareChain AccessGrants", block.chainid, address(access)),
            "domain"
        );
        vm.assertEq(access.ACCESS_GRANT_TYPEHASH(), ACCESS_GRANT_TYPEHASH, "AccessGrant typehash");
        vm.assertEq(access.ACCESS_REVOKE_TYPEHASH(), ACCESS_REVOKE_TYPEHASH, "AccessRevoke typehash");
    }

    function testFuzz_grantAccessBySig_acceptedOnceThenReplayReverts(
        uint256 keySeed,
        address relayer,
        uint64 categories,
        uint8 bitSeed,
        uint256 ttl,
        uint256 deadlineSeed
    ) public {
        uint256 key = _privateKey(keySeed);
        address signer = vm.addr(key);
        vm.assume(relayer != VM_ADDRESS);
        categories = _nonEmpty(categories);
        uint64 expiresAt = _futureExpiry(ttl);
        uint256 deadline = _bound(deadlineSeed, START, START + DEADLINE_WINDOW); // at the deadline still counts
        bytes32 recordId = _record(signer, _bitIndex(_someBit(categories, bitSeed)));
        bytes memory signature =
            _signAccessGrant(key, CLINICIAN, categories, expiresAt, 0, deadline, block.chainid, address(access));

        vm.expectEmit(address(access));
        emit IAccessGrants.AccessGranted(signer, CLINICIAN, bytes32(0), categories, expiresAt, signer);
        vm.prank(relayer);
        access.grantAccessBySig(signer, CLINICIAN, categories, expiresAt, 0, deadline, signature);
        vm.assertTrue(access.canAccess(CLINICIAN, recordId), "granted");
        vm.assertEq(access.nonces(signer), 1, "nonce consumed");

        // Revoked first, so only the spent nonce can stop the replay.
        vm.prank(signer);
        access.revokeAccess(signer, CLINICIAN);
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, signer, 1));
        access.grantAccessBySig(signer, CLINICIAN, categories, expiresAt, 0, deadline, signature);
        vm.assertFalse(access.canAccess(CLINICIAN, recordId), "replay granted nothing");
    }

    function testFuzz_revokeAccessBySig_acceptedOnceThenReplayReverts(
        uint256 keySeed,
        address relayer,
        uint8 categorySeed
    ) public {
        uint256 key = _privateKey(keySeed);
        address signer = vm.addr(key);
        vm.assume(relayer != VM_ADDRESS);
        bytes32 recordId = _record(signer, _category(categorySeed));
        _grantAccess(signer, CLINICIAN, type(uint64).max, START + 1 days);
        bytes memory signature = _signAccessRevoke(key, CLINICIAN, 0, START, block.chainid, address(access));

        vm.expectEmit(address(access));
        emit IAccessGrants.AccessRevoked(signer, CLINICIAN, bytes32(0), signer);
        vm.prank(relayer);
        access.revokeAccessBySig(signer, CLINICIAN, 0, START, signature);
        vm.assertFalse(access.canAccess(CLINICIAN, recordId), "revoked");

        _grantAccess(signer, CLINICIAN, type(uint64).max, START + 1 days); // a replay would revoke this one
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, signer, 1));
        access.revokeAccessBySig(signer, CLINICIAN, 0, START, signature);
        vm.assertTrue(access.canAccess(CLINICIAN, recordId), "re-grant survives the replay");
    }

    function testFuzz_bySig_forAnotherChainId_reverts(uint256 keySeed, uint64 categories, uint256 otherChainId) public {
        uint256 key = _privateKey(keySeed);
        address signer = vm.addr(key);
        vm.assume(otherChainId != block.chainid);
        categories = _nonEmpty(categories);
        _grantAccess(signer, CLINICIAN, categories, START + 1 days);
        bytes memory grantSig =
            _signAccessGrant(key, CLINICIAN, categories, START + 2 days, 0, START, otherChainId, address(access));
        bytes memory revokeSig = _signAccessRevoke(key, CLINICIAN, 0, START, otherChainId, address(access));
        bytes memory err = abi.encodeWithSelector(ISignedByPatient.InvalidSignature.selector, signer);

        vm.expectRevert(err);
        access.grantAccessBySig(signer, CLINICIAN, categories, START + 2 days, 0, START, grantSig);
        vm.expectRevert(err);
        access.revokeAccessBySig(signer, CLINICIAN, 0, START, revokeSig);
        vm.assertEq(access.getGrant(signer, CLINICIAN).expiresAt, START + 1 days, "grant untouched");
    }

    /// @dev A signature made before a chain split is void on the fork with the new chain id.
    function testFuzz_bySig_afterChainIdChange_reverts(uint256 keySeed, uint64 categories, uint64 newChainId) public {
        uint256 key = _privateKey(keySeed);
        address signer = vm.addr(key);
        vm.assume(newChainId != block.chainid);
        categories = _nonEmpty(categories);
        bytes memory signature =
            _signAccessGrant(key, CLINICIAN, categories, START + 1 days, 0, START, block.chainid, address(access));

        vm.chainId(newChainId);
        vm.expectRevert(abi.encodeWithSelector(ISignedByPatient.InvalidSignature.selector, signer));
        access.grantAccessBySig(signer, CLINICIAN, categories, START + 1 days, 0, START, signature);
    }

    function testFuzz_grantAccessBySig_forAnotherContract_reverts(
        uint256 keySeed,
        uint64 categories,
        address otherContract
    ) public {
        uint256 key = _privateKey(keySeed);
        address signer = vm.addr(key);
        vm.assume(otherContract != address(access));
        categories = _nonEmpty(categories);
        bytes memory signature =
            _signAccessGrant(key, CLINICIAN, categories, START + 1 days, 0, START, block.chainid, otherContract);

        vm.expectRevert(abi.encodeWithSelector(ISignedByPatient.InvalidSignature.selector, signer));
        access.grantAccessBySig(signer, CLINICIAN, categories, START + 1 days, 0, START, signature);
    }

    /// @dev Another key's signature, or the patient's over other terms, does not grant.
    function testFuzz_grantAccessBySig_notThePatientsTerms_reverts(
        uint256 keySeed,
        uint256 otherKeySeed,
        uint64 categories,
        uint64 otherCategories
    ) public {
        uint256 key = _privateKey(keySeed);
        uint256 otherKey = _privateKey(otherKeySeed);
        address signer = vm.addr(key);
        vm.assume(key != otherKey);
        categories = _nonEmpty(categories);
        otherCategories = _nonEmpty(otherCategories);
        vm.assume(otherCategories != categories);
        bytes memory err = abi.encodeWithSelector(ISignedByPatient.InvalidSignature.selector, signer);

        bytes memory byOther =
            _signAccessGrant(otherKey, CLINICIAN, categories, START + 1 days, 0, START, block.chainid, address(access));
        vm.expectRevert(err);
        access.grantAccessBySig(signer, CLINICIAN, categories, START + 1 days, 0, START, byOther);

        bytes memory signed =
            _signAccessGrant(key, CLINICIAN, categories, START + 1 days, 0, START, block.chainid, address(access));
        vm.expectRevert(err);
        access.grantAccessBySig(signer, CLINICIAN, otherCategories, START + 1 days, 0, START, signed);
        vm.expectRevert(err);
        access.grantAccessBySig(signer, CLINICIAN, categories, START + 2 days, 0, START, signed);
        vm.assertEq(access.nonces(signer), 0, "nonce not consumed");
    }

    function testFuzz_grantAccessBySig_expiredDeadline_reverts(
        uint256 keySeed,
        uint64 categories,
        uint256 deadlineSeed,
        uint256 lateBy
    ) public {
        uint256 key = _privateKey(keySeed);
        address signer = vm.addr(key);
        categories = _nonEmpty(categories);
        uint256 deadline = _bound(deadlineSeed, START, START + DEADLINE_WINDOW);
        // casting to 'uint64' is safe because deadline and delay are both bounded far below 2**64
        // forge-lint: disable-next-line(unsafe-typecast)
        uint64 submittedAt = uint64(deadline + _bound(lateBy, 1, MAX_TTL));
        bytes memory signature = _signAccessGrant(
            key, CLINICIAN, categories, submittedAt + 1 days, 0, deadline, block.chainid, address(access)
        );
        vm.warp(submittedAt);

        vm.expectRevert(abi.encodeWithSelector(ISignedByPatient.SignatureExpired.selector, deadline, submittedAt));
        access.grantAccessBySig(signer, CLINICIAN, categories, submittedAt + 1 days, 0, deadline, signature);
        vm.assertEq(access.nonces(signer), 0, "nonce not consumed");
    }

    function testFuzz_useNonce_voidsAPendingSignature(uint256 keySeed, uint64 categories) public {
        uint256 key = _privateKey(keySeed);
        address signer = vm.addr(key);
        categories = _nonEmpty(categories);
        bytes memory signature =
            _signAccessGrant(key, CLINICIAN, categories, START + 1 days, 0, START, block.chainid, address(access));

        vm.expectEmit(address(access));
        emit ISignedByPatient.NonceUsed(signer, 0);
        vm.prank(signer);
        access.useNonce();
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, signer, 1));
        access.grantAccessBySig(signer, CLINICIAN, categories, START + 1 days, 0, START, signature);
    }

    /// @dev ecrecover yields address(0) for many malformed signatures: the zero patient is refused first.
    function testFuzz_bySig_forTheZeroPatient_reverts(uint64 categories, bytes calldata signature) public {
        bytes memory err = abi.encodeWithSelector(ISignedByPatient.InvalidPatient.selector, address(0));
        vm.expectRevert(err);
        access.grantAccessBySig(address(0), CLINICIAN, _nonEmpty(categories), START + 1, 0, START, signature);
        vm.expectRevert(err);
        access.revokeAccessBySig(address(0), CLINICIAN, 0, START, signature);
    }

    /* ------------------------------------------------------------------ */
    /*                              BREAK-GLASS                           */
    /* ------------------------------------------------------------------ */

    function testFuzz_breakGlass_opensEveryRecordOfThePatientForItsDuration(
        uint64 duration,
        uint8 categorySeed,
        bytes32 reasonCode,
        uint256 probeSeed
    ) public {
        duration = uint64(_bound(duration, 1, MAX_BREAK_GLASS));
        bytes32 recordId = _record(patient, _category(categorySeed));
        uint64 expiresAt = START + duration;

        vm.expectEmit(address(access));
        emit IAccessGrants.BreakGlassOpened(1, patient, ER_DOCTOR, reasonCode, expiresAt, 1);
        vm.prank(ER_DOCTOR);
        vm.assertEq(access.breakGlass(patient, reasonCode, duration), 1, "first episode");

        IAccessGrants.Episode memory e = access.getEpisode(1);
        vm.assertEq(e.provider, ER_DOCTOR, "provider");
        vm.assertEq(e.patient, patient, "patient");
        vm.assertEq(e.openedAt, START, "openedAt");
        vm.assertEq(e.expiresAt, expiresAt, "expiresAt");
        vm.assertEq(uint256(e.review), uint256(IAccessGrants.Review.Open), "open");
        vm.assertEq(e.reasonCode, reasonCode, "reasonCode");
        vm.assertEq(access.breakGlassCount(ER_DOCTOR), 1, "count");
        vm.assertEq(access.episodeCount(), 1, "episodes");

        _assertBasis(ER_DOCTOR, recordId, IAccessGrants.Basis.BreakGlass, 1);
        _assertDenied(ER_DOCTOR, _record(OTHER_PATIENT, _category(categorySeed)));
        vm.warp(_bound(probeSeed, START, expiresAt - 1));
        _assertBasis(ER_DOCTOR, recordId, IAccessGrants.Basis.BreakGlass, 1);
        vm.warp(expiresAt);
        _assertDenied(ER_DOCTOR, recordId);
    }

    function testFuzz_breakGlass_durationOutOfBounds_reverts(uint64 tooLong) public {
        tooLong = uint64(_bound(tooLong, MAX_BREAK_GLASS + 1, type(uint64).max));
        vm.startPrank(ER_DOCTOR);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.InvalidBreakGlassDuration.selector, 0, MAX_BREAK_GLASS));
        access.breakGlass(patient, REASON, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessGrants.InvalidBreakGlassDuration.selector, tooLong, MAX_BREAK_GLASS)
        );
        access.breakGlass(patient, REASON, tooLong);
        vm.stopPrank();
        vm.assertEq(access.episodeCount(), 0, "no episode");
    }

    /// @dev No credential, a PROVIDER credential only, a suspended or an expired EMERGENCY one.
    function testFuzz_breakGlass_requiresALiveEmergencyCredential(address caller, uint8 caseSeed) public {
        _assumeFresh(caller);
        vm.assume(caller != ER_DOCTOR && caller != patient);
        uint8 case_ = caseSeed % 4;
        vm.startPrank(REGISTRAR);
        if (case_ == 1) credentials.attest(caller, PROVIDER, LICENSE, START, 0);
        if (case_ == 2) credentials.attest(caller, EMERGENCY, LICENSE, START, 0);
        if (case_ == 2) credentials.suspend(caller, EMERGENCY);
        if (case_ == 3) credentials.attest(caller, EMERGENCY, LICENSE, START, START + 1 hours);
        vm.stopPrank();
        if (case_ == 3) vm.warp(START + 1 hours);

        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.NotEmergencyProvider.selector, caller));
        access.breakGlass(patient, REASON, 1 hours);
        vm.assertEq(access.breakGlassCount(caller), 0, "no episode");
    }

    function test_breakGlass_forNoOneOrOneself_reverts() public {
        vm.startPrank(ER_DOCTOR);
        vm.expectRevert(abi.encodeWithSelector(ISignedByPatient.InvalidPatient.selector, address(0)));
        access.breakGlass(address(0), REASON, 1 hours);
        vm.expectRevert(abi.encodeWithSelector(ISignedByPatient.InvalidPatient.selector, ER_DOCTOR));
        access.breakGlass(ER_DOCTOR, REASON, 1 hours);
        vm.stopPrank();
    }

    function testFuzz_breakGlass_endsWithTheEmergencyCredential(uint8 categorySeed, uint256 elapsed) public {
        bytes32 recordId = _record(patient, _category(categorySeed));
        _breakGlass(patient, MAX_BREAK_GLASS);
        vm.warp(START + _bound(elapsed, 0, MAX_BREAK_GLASS - 1));

        _suspend(ER_DOCTOR, EMERGENCY);
        _assertDenied(ER_DOCTOR, recordId);
    }

    function testFuzz_breakGlass_countsEveryEpisode(uint8 countSeed, uint256 durationSeed) public {
        uint256 episodes = 1 + countSeed % 5;
        for (uint256 i = 1; i <= episodes; ++i) {
            uint64 duration = uint64(_bound(uint256(keccak256(abi.encode(durationSeed, i))), 1, MAX_BREAK_GLASS));
            address p = i % 2 == 0 ? OTHER_PATIENT : patient;
            vm.expectEmit(address(access));
            emit IAccessGrants.BreakGlassOpened(i, p, ER_DOCTOR, REASON, START + duration, i);
            vm.assertEq(_breakGlass(p, duration), i, "sequential ids");
        }
        vm.assertEq(access.breakGlassCount(ER_DOCTOR), episodes, "per provider");
        vm.assertEq(access.episodeCount(), episodes, "in all");
    }

    /* ------------------------------------------------------------------ */
    /*                                REVIEW                              */
    /* ------------------------------------------------------------------ */

    function testFuzz_review_approved_keepsAccessUntilExpiry(uint64 duration, uint256 elapsed, bytes32 noteHash)
        public
    {
        duration = uint64(_bound(duration, 2, MAX_BREAK_GLASS));
        bytes32 recordId = _record(patient, 0);
        _breakGlass(patient, duration);
        vm.warp(START + _bound(elapsed, 0, duration - 2));

        vm.expectEmit(address(access));
        emit IAccessGrants.BreakGlassReviewed(1, AUDITOR, true, noteHash);
        vm.prank(AUDITOR);
        access.reviewBreakGlass(1, true, noteHash);

        IAccessGrants.Episode memory e = access.getEpisode(1);
        vm.assertEq(uint256(e.review), uint256(IAccessGrants.Review.Approved), "approved");
        vm.assertEq(e.reviewer, AUDITOR, "reviewer");
        vm.assertEq(e.expiresAt, START + duration, "expiry kept");
        vm.warp(START + duration - 1);
        _assertBasis(ER_DOCTOR, recordId, IAccessGrants.Basis.BreakGlass, 1);
        vm.warp(START + duration);
        _assertDenied(ER_DOCTOR, recordId);
    }

    function testFuzz_review_flagged_endsAccessNow(uint64 duration, uint256 elapsed, bytes32 noteHash) public {
        duration = uint64(_bound(duration, 1, MAX_BREAK_GLASS));
        bytes32 recordId = _record(patient, 0);
        _breakGlass(patient, duration);
        vm.warp(START + _bound(elapsed, 0, 2 * MAX_BREAK_GLASS));
        uint64 reviewedAt = _now();

        vm.expectEmit(address(access));
        emit IAccessGrants.BreakGlassReviewed(1, AUDITOR, false, noteHash);
        vm.prank(AUDITOR);
        access.reviewBreakGlass(1, false, noteHash);

        IAccessGrants.Episode memory e = access.getEpisode(1);
        vm.assertEq(uint256(e.review), uint256(IAccessGrants.Review.Flagged), "flagged");
        vm.assertEq(e.reviewer, AUDITOR, "reviewer");
        uint64 originalExpiry = START + duration;
        vm.assertEq(e.expiresAt, reviewedAt < originalExpiry ? reviewedAt : originalExpiry, "access ends now");
        _assertDenied(ER_DOCTOR, recordId);
    }

    function testFuzz_review_byANonReviewer_reverts(address caller, bool approved) public {
        _assumeFresh(caller);
        vm.assume(caller != AUDITOR);
        _breakGlass(patient, 1 hours);

        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.NotReviewer.selector, caller));
        access.reviewBreakGlass(1, approved, bytes32(0));

        _suspend(AUDITOR, REVIEWER);
        vm.prank(AUDITOR);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.NotReviewer.selector, AUDITOR));
        access.reviewBreakGlass(1, approved, bytes32(0));
        vm.assertEq(uint256(access.getEpisode(1).review), uint256(IAccessGrants.Review.Open), "still open");
    }

    /// @dev Unknown ids (0 and past the last) and reviewed episodes are not open; reviews are final.
    function testFuzz_review_onlyOpenEpisodes(uint256 unknownId, bool firstApproved, bool secondApproved) public {
        _breakGlass(patient, 1 hours);
        unknownId = unknownId == 0 ? 0 : _bound(unknownId, 2, type(uint256).max);

        vm.startPrank(AUDITOR);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.EpisodeNotOpen.selector, unknownId));
        access.reviewBreakGlass(unknownId, true, bytes32(0));
        access.reviewBreakGlass(1, firstApproved, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.EpisodeNotOpen.selector, 1));
        access.reviewBreakGlass(1, secondApproved, bytes32(0));
        vm.stopPrank();

        IAccessGrants.Review review = firstApproved ? IAccessGrants.Review.Approved : IAccessGrants.Review.Flagged;
        vm.assertEq(uint256(access.getEpisode(1).review), uint256(review), "first review stands");
    }

    function test_review_ofOnesOwnEpisode_reverts() public {
        _attest(ER_DOCTOR, REVIEWER);
        _breakGlass(patient, 1 hours);

        vm.prank(ER_DOCTOR);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.SelfReview.selector, 1, ER_DOCTOR));
        access.reviewBreakGlass(1, true, bytes32(0));
    }

    /* ------------------------------------------------------------------ */
    /*                               ACCESS LOG                           */
    /* ------------------------------------------------------------------ */

    function testFuzz_logAccess_recordsTheBasis(uint8 basisSeed, uint8 categorySeed, bytes32 purpose) public {
        uint8 category = _category(categorySeed);
        bytes32 recordId = _record(patient, category);
        IAccessGrants.Basis basis = IAccessGrants.Basis(1 + basisSeed % 3);
        address provider = basis == IAccessGrants.Basis.BreakGlass ? ER_DOCTOR : CLINICIAN;
        uint256 episodeId;
        if (basis == IAccessGrants.Basis.RecordGrant) _grantRecordAccess(CLINICIAN, recordId, START + 1 days);
        if (basis == IAccessGrants.Basis.CategoryGrant) {
            _grantAccess(patient, CLINICIAN, uint64(1) << category, START + 1);
        }
        if (basis == IAccessGrants.Basis.BreakGlass) episodeId = _breakGlass(patient, 1 hours);

        vm.expectEmit(address(access));
        emit IAccessGrants.RecordAccessed(recordId, patient, provider, purpose, basis, episodeId);
        vm.prank(CUSTODIAN);
        access.logAccess(provider, recordId, purpose);
    }

    /// @dev Not another custodian, the provider or the patient: only the record's own custodian.
    function testFuzz_logAccess_byAnyoneButTheRecordsCustodian_reverts(address caller, uint8 categorySeed) public {
        vm.assume(caller != CUSTODIAN && caller != address(0) && caller != VM_ADDRESS);
        bytes32 recordId = _record(patient, _category(categorySeed));
        _grantRecordAccess(CLINICIAN, recordId, START + 1 days);
        _attest(caller, CUSTODIAN_ROLE);

        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.NotRecordCustodian.selector, recordId, caller));
        access.logAccess(CLINICIAN, recordId, PURPOSE);
        vm.assertTrue(access.canAccess(CLINICIAN, recordId), "the read itself was allowed");
    }

    function testFuzz_logAccess_withoutAccess_reverts(address provider, uint8 categorySeed) public {
        _assumeFresh(provider);
        bytes32 recordId = _record(patient, _category(categorySeed));
        _attest(provider, PROVIDER);
        _attest(provider, EMERGENCY);
        _assertDenied(provider, recordId);
    }

    function testFuzz_unknownRecord_isNeverAccessible(bytes32 recordId) public {
        _grantAccess(patient, CLINICIAN, type(uint64).max, START + 1 days);
        _breakGlass(patient, 1 hours);

        _assertBasis(CLINICIAN, recordId, IAccessGrants.Basis.None, 0);
        _assertBasis(ER_DOCTOR, recordId, IAccessGrants.Basis.None, 0);
        vm.prank(CUSTODIAN);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.UnknownRecord.selector, recordId));
        access.logAccess(CLINICIAN, recordId, PURPOSE);
    }

    function testFuzz_logAccessBatch_byACustodian_emitsTheRoot(bytes32 root, uint32 count) public {
        vm.assume(root != bytes32(0) && count != 0);
        vm.expectEmit(address(access));
        emit IAccessGrants.AccessBatchLogged(CUSTODIAN, root, count);
        vm.prank(CUSTODIAN);
        access.logAccessBatch(root, count);
    }

    /// @dev A provider, the patient, a suspended custodian: no live CUSTODIAN credential, no commit.
    function testFuzz_logAccessBatch_withoutALiveCustodianCredential_reverts(address caller, bytes32 root) public {
        vm.assume(caller != CUSTODIAN && caller != VM_ADDRESS && root != bytes32(0));
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.NotCustodian.selector, caller));
        access.logAccessBatch(root, 1);

        _suspend(CUSTODIAN, CUSTODIAN_ROLE);
        vm.prank(CUSTODIAN);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.NotCustodian.selector, CUSTODIAN));
        access.logAccessBatch(root, 1);
    }

    function testFuzz_logAccessBatch_emptyBatch_reverts(bytes32 root, uint32 count) public {
        vm.prank(CUSTODIAN);
        vm.expectRevert(abi.encodeWithSelector(EmptyBatch.selector));
        access.logAccessBatch(bytes32(0), count);
        vm.prank(CUSTODIAN);
        vm.expectRevert(abi.encodeWithSelector(EmptyBatch.selector));
        access.logAccessBatch(root, 0);
    }

    /* ------------------------------------------------------------------ */
    /*                               HELPERS                              */
    /* ------------------------------------------------------------------ */

    function _category(uint8 seed) private pure returns (uint8) {
        return uint8(_bound(seed, 0, 63));
    }

    /// @dev The index of a single-bit mask.
    function _bitIndex(uint64 bit) private pure returns (uint8 index) {
        while (bit > 1) {
            bit >>= 1;
            ++index;
        }
    }

    /// @dev A fresh record of `owner` in `category`, anchored by CUSTODIAN.
    function _record(address owner, uint8 category) private returns (bytes32 recordId) {
        recordId = keccak256(abi.encode("record", owner, ++_recordSalt));
        _anchor(recordId, owner, category);
    }

    function _grantAccess(address owner, address provider, uint64 categories, uint64 expiresAt) private {
        vm.prank(owner);
        access.grantAccess(owner, provider, categories, expiresAt);
    }

    function _grantRecordAccess(address provider, bytes32 recordId, uint64 expiresAt) private {
        vm.prank(patient);
        access.grantRecordAccess(provider, recordId, expiresAt);
    }

    /// @dev CLINICIAN gets `recordId` by a one-record grant, or by a grant of its category, for a day.
    function _grantEither(bool recordGrant, bytes32 recordId, uint8 category) private {
        if (recordGrant) _grantRecordAccess(CLINICIAN, recordId, START + 1 days);
        else _grantAccess(patient, CLINICIAN, uint64(1) << category, START + 1 days);
        vm.assertTrue(access.canAccess(CLINICIAN, recordId), "granted");
    }

    function _breakGlass(address owner, uint64 duration) private returns (uint256 episodeId) {
        vm.prank(ER_DOCTOR);
        episodeId = access.breakGlass(owner, REASON, duration);
    }

    function _assertBasis(address provider, bytes32 recordId, IAccessGrants.Basis expected, uint256 episodeId)
        private
        view
    {
        (IAccessGrants.Basis basis, uint256 id) = access.accessBasis(provider, recordId);
        vm.assertEq(uint256(basis), uint256(expected), "basis");
        vm.assertEq(id, episodeId, "episode");
        vm.assertEq(access.canAccess(provider, recordId), expected != IAccessGrants.Basis.None, "canAccess");
    }

    /// @dev No access, and the custodian cannot log a read.
    function _assertDenied(address provider, bytes32 recordId) private {
        _assertBasis(provider, recordId, IAccessGrants.Basis.None, 0);
        vm.prank(CUSTODIAN);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessDenied.selector, provider, recordId));
        access.logAccess(provider, recordId, PURPOSE);
    }
}
