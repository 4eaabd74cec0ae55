// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IConsentRegistry} from "../../contracts/interfaces/IConsentRegistry.sol";
import {EmptyBatch, InvalidExpiry, NotPatientOrDelegate} from "../../contracts/utils/Common.sol";

import {ConsentTest} from "./utils/ConsentTest.sol";

/// @dev Fuzz tests of grant, update, revoke, delegates and the wildcard grantee, through isPermitted.
contract ConsentRegistryTest is ConsentTest {
    /* ------------------------------------------------------------------ */
    /*                                GRANT                               */
    /* ------------------------------------------------------------------ */

    function testFuzz_grant_storesConsentAndPermitsEverySubset(
        address patient,
        address grantee,
        bytes32 purpose,
        uint64 scopes,
        uint64 subsetSeed,
        uint256 ttl
    ) public {
        _assumeAccount(patient);
        _assumeAccount(grantee);
        scopes = _nonEmpty(scopes);
        uint64 expiresAt = _futureExpiry(ttl);

        vm.expectEmit(address(registry));
        emit IConsentRegistry.ConsentGranted(patient, grantee, purpose, scopes, expiresAt, patient);
        _grant(patient, grantee, purpose, scopes, expiresAt);

        IConsentRegistry.Consent memory c = registry.getConsent(patient, grantee, purpose);
        vm.assertEq(c.scopes, scopes, "scopes");
        vm.assertEq(c.grantedAt, START, "grantedAt");
        vm.assertEq(c.expiresAt, expiresAt, "expiresAt");
        vm.assertEq(c.revokedAt, 0, "revokedAt");

        uint64 subset = scopes & subsetSeed;
        if (subset == 0) subset = _lowestBit(scopes);
        vm.assertTrue(registry.isPermitted(patient, grantee, purpose, subset), "subset");
        vm.assertTrue(registry.isPermitted(patient, grantee, purpose, scopes), "all granted scopes");
    }

    function testFuzz_grant_deniesAnyScopeBitOutsideTheGrant(
        address patient,
        address grantee,
        bytes32 purpose,
        uint64 scopes,
        uint64 requiredSeed,
        uint8 bitSeed
    ) public {
        _assumeAccount(patient);
        _assumeAccount(grantee);
        scopes = _nonEmpty(scopes);
        vm.assume(scopes != type(uint64).max);
        _grant(patient, grantee, purpose, scopes, 0);

        uint64 outsideBit = _someBit(~scopes, bitSeed);
        vm.assertFalse(registry.isPermitted(patient, grantee, purpose, outsideBit), "one bit outside");
        vm.assertFalse(registry.isPermitted(patient, grantee, purpose, scopes | outsideBit), "granted plus one");
        vm.assertFalse(registry.isPermitted(patient, grantee, purpose, requiredSeed | outsideBit), "random superset");
    }

    function testFuzz_grant_permitsOnlyItsOwnTriple(
        address patient,
        address grantee,
        address other,
        bytes32 purpose,
        bytes32 otherPurpose,
        uint64 scopes
    ) public {
        _assumeAccount(patient);
        _assumeAccount(grantee);
        vm.assume(other != patient && other != grantee && other != ANY_GRANTEE && otherPurpose != purpose);
        scopes = _nonEmpty(scopes);
        _grant(patient, grantee, purpose, scopes, 0);

        uint64 bit = _lowestBit(scopes);
        vm.assertFalse(registry.isPermitted(patient, other, purpose, bit), "other grantee");
        vm.assertFalse(registry.isPermitted(other, grantee, purpose, bit), "other patient");
        vm.assertFalse(registry.isPermitted(patient, grantee, otherPurpose, bit), "other purpose");
    }

    function testFuzz_grant_withoutExpiry_neverLapses(
        address patient,
        address grantee,
        bytes32 purpose,
        uint64 scopes,
        uint256 later
    ) public {
        _assumeAccount(patient);
        _assumeAccount(grantee);
        scopes = _nonEmpty(scopes);
        _grant(patient, grantee, purpose, scopes, 0);

        vm.warp(_bound(later, START, type(uint64).max));
        vm.assertTrue(registry.isPermitted(patient, grantee, purpose, scopes), "no expiry");
    }

    function testFuzz_isPermitted_falseAtAndAfterExpiry(
        address patient,
        address grantee,
        bytes32 purpose,
        uint64 scopes,
        uint256 ttl,
        uint256 lateBy
    ) public {
        _assumeAccount(patient);
        _assumeAccount(grantee);
        scopes = _nonEmpty(scopes);
        uint64 expiresAt = _futureExpiry(ttl);
        _grant(patient, grantee, purpose, scopes, expiresAt);

        vm.warp(expiresAt - 1);
        vm.assertTrue(registry.isPermitted(patient, grantee, purpose, scopes), "last live second");
        vm.warp(expiresAt);
        vm.assertFalse(registry.isPermitted(patient, grantee, purpose, _lowestBit(scopes)), "at expiry");
        vm.warp(expiresAt + _bound(lateBy, 0, MAX_TTL));
        vm.assertFalse(registry.isPermitted(patient, grantee, purpose, _lowestBit(scopes)), "after expiry");

        vm.prank(patient);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentNotActive.selector, patient, grantee, purpose));
        registry.update(grantee, purpose, scopes, 0);
    }

    function testFuzz_grant_whileLive_reverts(
        address patient,
        address grantee,
        bytes32 purpose,
        uint64 scopes,
        uint64 newScopes,
        uint256 elapsed
    ) public {
        _assumeAccount(patient);
        _assumeAccount(grantee);
        _grant(patient, grantee, purpose, _nonEmpty(scopes), 0);
        vm.warp(START + _bound(elapsed, 0, MAX_TTL));

        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.ConsentAlreadyActive.selector, patient, grantee, purpose)
        );
        registry.grant(grantee, purpose, _nonEmpty(newScopes), 0);
    }

    function testFuzz_grant_rejectsMalformedInput(
        address patient,
        address grantee,
        bytes32 purpose,
        uint64 scopes,
        uint64 pastExpiry
    ) public {
        _assumeAccount(patient);
        _assumeAccount(grantee);
        scopes = _nonEmpty(scopes);
        pastExpiry = uint64(_bound(pastExpiry, 1, START)); // 0 means "never"; now is already too late

        vm.startPrank(patient);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.InvalidGrantee.selector, address(0)));
        registry.grant(address(0), purpose, scopes, 0);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.EmptyScopes.selector));
        registry.grant(grantee, purpose, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(InvalidExpiry.selector, pastExpiry, START));
        registry.grant(grantee, purpose, scopes, pastExpiry);
        vm.stopPrank();

        vm.assertEq(registry.getConsent(patient, grantee, purpose).grantedAt, 0, "nothing stored");
    }

    function testFuzz_grantBatch_grantsEveryRequest(
        address patient,
        address grantee,
        bytes32 purpose,
        uint64 scopes,
        uint8 countSeed
    ) public {
        _assumeAccount(patient);
        _assumeAccount(grantee);
        IConsentRegistry.GrantRequest[] memory requests =
            _requests(grantee, purpose, _nonEmpty(scopes), 1 + countSeed % 5);

        vm.prank(patient);
        registry.grantBatch(requests);

        for (uint256 i; i < requests.length; ++i) {
            vm.assertTrue(registry.isPermitted(patient, grantee, requests[i].purpose, requests[i].scopes), "request");
        }
    }

    function testFuzz_grantBatch_isAllOrNothing(address patient, address grantee, bytes32 purpose, uint64 scopes)
        public
    {
        _assumeAccount(patient);
        _assumeAccount(grantee);
        IConsentRegistry.GrantRequest[] memory requests = _requests(grantee, purpose, _nonEmpty(scopes), 3);
        requests[2] = requests[0];

        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsentRegistry.ConsentAlreadyActive.selector, patient, grantee, requests[0].purpose
            )
        );
        registry.grantBatch(requests);
        vm.assertEq(registry.getConsent(patient, grantee, requests[0].purpose).grantedAt, 0, "rolled back");
    }

    function test_batches_rejectAnEmptyBatch() public {
        vm.expectRevert(abi.encodeWithSelector(EmptyBatch.selector));
        registry.grantBatch(new IConsentRegistry.GrantRequest[](0));
        vm.expectRevert(abi.encodeWithSelector(EmptyBatch.selector));
        registry.grantBySigBatch(new IConsentRegistry.SignedGrant[](0));
    }

    /* ------------------------------------------------------------------ */
    /*                                UPDATE                              */
    /* ------------------------------------------------------------------ */

    function testFuzz_update_replacesScopesAndExpiry(
        address patient,
        address grantee,
        bytes32 purpose,
        uint64 oldScopes,
        uint64 newScopes,
        uint256 oldTtl,
        uint256 newTtl,
        uint256 elapsed
    ) public {
        _assumeAccount(patient);
        _assumeAccount(grantee);
        oldScopes = _nonEmpty(oldScopes);
        newScopes = _nonEmpty(newScopes);
        uint64 oldExpiry = _futureExpiry(oldTtl);
        _grant(patient, grantee, purpose, oldScopes, oldExpiry);
        vm.warp(START + _bound(elapsed, 0, oldExpiry - START - 1)); // still live
        uint64 newExpiry = _futureExpiry(newTtl);

        vm.expectEmit(address(registry));
        emit IConsentRegistry.ConsentUpdated(patient, grantee, purpose, newScopes, newExpiry, patient);
        vm.prank(patient);
        registry.update(grantee, purpose, newScopes, newExpiry);

        IConsentRegistry.Consent memory c = registry.getConsent(patient, grantee, purpose);
        vm.assertEq(c.scopes, newScopes, "scopes");
        vm.assertEq(c.expiresAt, newExpiry, "expiresAt");
        vm.assertEq(c.grantedAt, START, "grantedAt kept");
        vm.assertEq(c.revokedAt, 0, "revokedAt");

        vm.assertTrue(registry.isPermitted(patient, grantee, purpose, newScopes), "new scopes");
        if (oldScopes & ~newScopes != 0) {
            vm.assertFalse(registry.isPermitted(patient, grantee, purpose, oldScopes), "dropped scopes");
        }
        if (newExpiry > oldExpiry) {
            vm.warp(oldExpiry);
            vm.assertTrue(registry.isPermitted(patient, grantee, purpose, newScopes), "extended past old expiry");
        }
        vm.warp(newExpiry - 1);
        vm.assertTrue(registry.isPermitted(patient, grantee, purpose, newScopes), "before new expiry");
        vm.warp(newExpiry);
        vm.assertFalse(registry.isPermitted(patient, grantee, purpose, _lowestBit(newScopes)), "at new expiry");
    }

    function testFuzz_update_canLiftTheExpiry(
        address patient,
        address grantee,
        bytes32 purpose,
        uint64 scopes,
        uint256 ttl,
        uint256 later
    ) public {
        _assumeAccount(patient);
        _assumeAccount(grantee);
        scopes = _nonEmpty(scopes);
        uint64 expiresAt = _futureExpiry(ttl);
        _grant(patient, grantee, purpose, scopes, expiresAt);

        vm.prank(patient);
        registry.update(grantee, purpose, scopes, 0);

        vm.warp(_bound(later, expiresAt, type(uint64).max));
        vm.assertTrue(registry.isPermitted(patient, grantee, purpose, scopes), "expiry lifted");
    }

    function testFuzz_update_rejectsMalformedInputAndDeadConsents(
        address patient,
        address grantee,
        bytes32 purpose,
        uint64 scopes,
        uint64 pastExpiry
    ) public {
        _assumeAccount(patient);
        _assumeAccount(grantee);
        scopes = _nonEmpty(scopes);
        pastExpiry = uint64(_bound(pastExpiry, 1, START));
        bytes memory notActive =
            abi.encodeWithSelector(IConsentRegistry.ConsentNotActive.selector, patient, grantee, purpose);

        vm.startPrank(patient);
        vm.expectRevert(notActive); // never granted
        registry.update(grantee, purpose, scopes, 0);

        registry.grant(grantee, purpose, scopes, 0);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.EmptyScopes.selector));
        registry.update(grantee, purpose, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(InvalidExpiry.selector, pastExpiry, START));
        registry.update(grantee, purpose, scopes, pastExpiry);

        registry.revoke(grantee, purpose);
        vm.expectRevert(notActive); // revoked
        registry.update(grantee, purpose, scopes, 0);
        vm.stopPrank();
    }

    /* ------------------------------------------------------------------ */
    /*                                REVOKE                              */
    /* ------------------------------------------------------------------ */

    function testFuzz_revoke_endsThePermission(
        address patient,
        address grantee,
        bytes32 purpose,
        uint64 scopes,
        uint256 elapsed,
        uint256 later
    ) public {
        _assumeAccount(patient);
        _assumeAccount(grantee);
        scopes = _nonEmpty(scopes);
        _grant(patient, grantee, purpose, scopes, 0);
        uint64 revokedAt = START + uint64(_bound(elapsed, 0, MAX_TTL));
        vm.warp(revokedAt);

        vm.expectEmit(address(registry));
        emit IConsentRegistry.ConsentRevoked(patient, grantee, purpose, patient);
        vm.prank(patient);
        registry.revoke(grantee, purpose);

        IConsentRegistry.Consent memory c = registry.getConsent(patient, grantee, purpose);
        vm.assertEq(c.revokedAt, revokedAt, "revokedAt");
        vm.assertEq(c.grantedAt, START, "grantedAt kept");
        vm.assertEq(c.scopes, scopes, "scopes kept on record");
        vm.assertFalse(registry.isPermitted(patient, grantee, purpose, _lowestBit(scopes)), "revoked");
        vm.warp(revokedAt + _bound(later, 0, MAX_TTL));
        vm.assertFalse(registry.isPermitted(patient, grantee, purpose, _lowestBit(scopes)), "stays revoked");

        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.ConsentNotRevocable.selector, patient, grantee, purpose)
        );
        registry.revoke(grantee, purpose);
    }

    function testFuzz_revoke_ofAnExpiredConsent_isRecorded(
        address patient,
        address grantee,
        bytes32 purpose,
        uint64 scopes,
        uint256 ttl,
        uint256 lateBy
    ) public {
        _assumeAccount(patient);
        _assumeAccount(grantee);
        uint64 expiresAt = _futureExpiry(ttl);
        _grant(patient, grantee, purpose, _nonEmpty(scopes), expiresAt);
        vm.warp(expiresAt + _bound(lateBy, 0, MAX_TTL));

        vm.prank(patient);
        registry.revoke(grantee, purpose);
        vm.assertEq(registry.getConsent(patient, grantee, purpose).revokedAt, _now(), "revokedAt");
    }

    function testFuzz_revoke_ofANeverGrantedConsent_reverts(address patient, address grantee, bytes32 purpose) public {
        _assumeAccount(patient);
        vm.prank(patient);
        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.ConsentNotRevocable.selector, patient, grantee, purpose)
        );
        registry.revoke(grantee, purpose);
    }

    function testFuzz_regrant_afterRevoke_startsAfresh(
        address patient,
        address grantee,
        bytes32 purpose,
        uint64 firstScopes,
        uint64 secondScopes,
        uint256 gap,
        uint256 ttl
    ) public {
        _assumeAccount(patient);
        _assumeAccount(grantee);
        firstScopes = _nonEmpty(firstScopes);
        secondScopes = _nonEmpty(secondScopes);
        _grant(patient, grantee, purpose, firstScopes, _futureExpiry(ttl));
        vm.prank(patient);
        registry.revoke(grantee, purpose);
        vm.warp(START + _bound(gap, 0, MAX_TTL)); // 0: re-granted in the block it was revoked
        uint64 regrantedAt = _now();
        uint64 secondExpiry = _futureExpiry(ttl);

        vm.expectEmit(address(registry));
        emit IConsentRegistry.ConsentGranted(patient, grantee, purpose, secondScopes, secondExpiry, patient);
        _grant(patient, grantee, purpose, secondScopes, secondExpiry);

        IConsentRegistry.Consent memory c = registry.getConsent(patient, grantee, purpose);
        vm.assertEq(c.scopes, secondScopes, "scopes");
        vm.assertEq(c.grantedAt, regrantedAt, "grantedAt");
        vm.assertEq(c.expiresAt, secondExpiry, "expiresAt");
        vm.assertEq(c.revokedAt, 0, "revocation cleared");
        vm.assertTrue(registry.isPermitted(patient, grantee, purpose, secondScopes), "second grant");
        if (firstScopes & ~secondScopes != 0) {
            vm.assertFalse(registry.isPermitted(patient, grantee, purpose, firstScopes), "first grant's extra scopes");
        }
    }

    function testFuzz_regrant_afterExpiry_startsAfresh(
        address patient,
        address grantee,
        bytes32 purpose,
        uint64 scopes,
        uint256 ttl,
        uint256 lateBy
    ) public {
        _assumeAccount(patient);
        _assumeAccount(grantee);
        scopes = _nonEmpty(scopes);
        uint64 expiresAt = _futureExpiry(ttl);
        _grant(patient, grantee, purpose, scopes, expiresAt);
        vm.warp(expiresAt + _bound(lateBy, 0, MAX_TTL));

        _grant(patient, grantee, purpose, scopes, 0);

        IConsentRegistry.Consent memory c = registry.getConsent(patient, grantee, purpose);
        vm.assertEq(c.grantedAt, _now(), "grantedAt");
        vm.assertEq(c.expiresAt, 0, "expiresAt");
        vm.assertTrue(registry.isPermitted(patient, grantee, purpose, scopes), "re-granted");
    }

    /* ------------------------------------------------------------------ */
    /*                         CALLERS AND DELEGATES                      */
    /* ------------------------------------------------------------------ */

    function testFuzz_forCalls_byNonDelegate_revert(
        address patient,
        address stranger,
        address grantee,
        bytes32 purpose,
        uint64 scopes
    ) public {
        _assumeAccount(patient);
        _assumeAccount(stranger);
        _assumeAccount(grantee);
        vm.assume(stranger != patient);
        scopes = _nonEmpty(scopes);
        _grant(patient, grantee, purpose, scopes, 0);
        // A delegate of someone else is still a stranger to this patient.
        address otherPatient = address(uint160(patient) ^ 1);
        vm.assume(otherPatient != stranger);
        vm.prank(otherPatient);
        registry.setDelegate(stranger, 0);

        bytes memory err = abi.encodeWithSelector(NotPatientOrDelegate.selector, stranger, patient);
        vm.startPrank(stranger);
        vm.expectRevert(err);
        registry.grantFor(patient, grantee, keccak256(abi.encode(purpose)), scopes, 0);
        vm.expectRevert(err);
        registry.updateFor(patient, grantee, purpose, scopes, 0);
        vm.expectRevert(err);
        registry.revokeFor(patient, grantee, purpose);
        vm.stopPrank();

        vm.assertTrue(registry.isPermitted(patient, grantee, purpose, scopes), "consent untouched");
    }

    function testFuzz_forCalls_byThePatient_succeed(address patient, address grantee, bytes32 purpose, uint64 scopes)
        public
    {
        _assumeAccount(patient);
        _assumeAccount(grantee);
        scopes = _nonEmpty(scopes);

        vm.startPrank(patient);
        registry.grantFor(patient, grantee, purpose, scopes, 0);
        vm.assertTrue(registry.isPermitted(patient, grantee, purpose, scopes), "granted");
        registry.updateFor(patient, grantee, purpose, _lowestBit(scopes), 0);
        vm.assertEq(registry.getConsent(patient, grantee, purpose).scopes, _lowestBit(scopes), "updated");
        registry.revokeFor(patient, grantee, purpose);
        vm.stopPrank();
        vm.assertFalse(registry.isPermitted(patient, grantee, purpose, _lowestBit(scopes)), "revoked");
    }

    function testFuzz_delegate_actsUntilExpiryThenReverts(
        address patient,
        address delegate,
        address grantee,
        bytes32 purpose,
        uint64 scopes,
        uint256 ttl,
        uint256 lateBy
    ) public {
        _assumeAccount(patient);
        _assumeAccount(delegate);
        _assumeAccount(grantee);
        vm.assume(delegate != patient);
        scopes = _nonEmpty(scopes);
        uint64 until = _futureExpiry(ttl);

        vm.expectEmit(address(registry));
        emit IConsentRegistry.DelegateSet(patient, delegate, until);
        vm.prank(patient);
        registry.setDelegate(delegate, until);
        vm.assertTrue(registry.isDelegate(patient, delegate), "appointed");
        vm.assertEq(registry.delegateExpiry(patient, delegate), until, "delegateExpiry");

        vm.startPrank(delegate);
        vm.expectEmit(address(registry));
        emit IConsentRegistry.ConsentGranted(patient, grantee, purpose, scopes, 0, delegate);
        registry.grantFor(patient, grantee, purpose, scopes, 0);
        vm.expectEmit(address(registry));
        emit IConsentRegistry.ConsentUpdated(patient, grantee, purpose, _lowestBit(scopes), 0, delegate);
        registry.updateFor(patient, grantee, purpose, _lowestBit(scopes), 0);
        vm.expectEmit(address(registry));
        emit IConsentRegistry.ConsentRevoked(patient, grantee, purpose, delegate);
        registry.revokeFor(patient, grantee, purpose);

        vm.warp(until - 1); // the appointment's last second
        registry.grantFor(patient, grantee, purpose, scopes, 0);
        vm.assertTrue(registry.isPermitted(patient, grantee, purpose, scopes), "granted by delegate");

        vm.warp(until + _bound(lateBy, 0, MAX_TTL));
        vm.assertFalse(registry.isDelegate(patient, delegate), "appointment over");
        bytes memory err = abi.encodeWithSelector(NotPatientOrDelegate.selector, delegate, patient);
        vm.expectRevert(err);
        registry.grantFor(patient, grantee, keccak256(abi.encode(purpose)), scopes, 0);
        vm.expectRevert(err);
        registry.updateFor(patient, grantee, purpose, scopes, 0);
        vm.expectRevert(err);
        registry.revokeFor(patient, grantee, purpose);
        vm.stopPrank();

        vm.assertTrue(registry.isPermitted(patient, grantee, purpose, scopes), "consent outlives the appointment");
    }

    function testFuzz_delegate_removed_revertsAtOnce(
        address patient,
        address delegate,
        address grantee,
        bytes32 purpose,
        uint64 scopes
    ) public {
        _assumeAccount(patient);
        _assumeAccount(delegate);
        _assumeAccount(grantee);
        vm.assume(delegate != patient);
        scopes = _nonEmpty(scopes);

        vm.startPrank(patient);
        registry.setDelegate(delegate, 0);
        vm.assertEq(registry.delegateExpiry(patient, delegate), type(uint64).max, "no expiry");
        vm.expectEmit(address(registry));
        emit IConsentRegistry.DelegateRemoved(patient, delegate);
        registry.removeDelegate(delegate);
        vm.stopPrank();

        vm.assertFalse(registry.isDelegate(patient, delegate), "removed");
        vm.prank(delegate);
        vm.expectRevert(abi.encodeWithSelector(NotPatientOrDelegate.selector, delegate, patient));
        registry.grantFor(patient, grantee, purpose, scopes, 0);
    }

    /* ------------------------------------------------------------------ */
    /*                              ANY_GRANTEE                           */
    /* ------------------------------------------------------------------ */

    function test_anyGrantee_isTheAllOnesAddress() public view {
        vm.assertEq(registry.ANY_GRANTEE(), ANY_GRANTEE, "ANY_GRANTEE");
    }

    function testFuzz_anyGrantee_permitsEveryGranteeWithinScopes(
        address patient,
        address grantee,
        bytes32 purpose,
        bytes32 otherPurpose,
        uint64 scopes,
        uint64 subsetSeed,
        uint8 bitSeed
    ) public {
        _assumeAccount(patient);
        vm.assume(otherPurpose != purpose);
        scopes = _nonEmpty(scopes);
        vm.assume(scopes != type(uint64).max);
        _grant(patient, ANY_GRANTEE, purpose, scopes, 0);

        uint64 subset = scopes & subsetSeed;
        if (subset == 0) subset = _lowestBit(scopes);
        vm.assertTrue(registry.isPermitted(patient, grantee, purpose, subset), "any grantee");
        vm.assertFalse(registry.isPermitted(patient, grantee, purpose, _someBit(~scopes, bitSeed)), "outside bit");
        vm.assertFalse(registry.isPermitted(patient, grantee, otherPurpose, subset), "other purpose");

        vm.prank(patient);
        registry.revoke(ANY_GRANTEE, purpose);
        vm.assertFalse(registry.isPermitted(patient, grantee, purpose, subset), "wildcard revoked");
    }

    function testFuzz_anyGrantee_outlivesARevokedDirectConsent(
        address patient,
        address grantee,
        bytes32 purpose,
        uint64 broadScopes,
        uint64 directScopes
    ) public {
        _assumeAccount(patient);
        _assumeAccount(grantee);
        broadScopes = _nonEmpty(broadScopes);
        directScopes = _nonEmpty(directScopes);
        _grant(patient, ANY_GRANTEE, purpose, broadScopes, 0);
        _grant(patient, grantee, purpose, directScopes, 0);
        vm.prank(patient);
        registry.revoke(grantee, purpose);

        vm.assertTrue(registry.isPermitted(patient, grantee, purpose, broadScopes), "wildcard still live");
        if (directScopes & ~broadScopes != 0) {
            vm.assertFalse(registry.isPermitted(patient, grantee, purpose, directScopes), "revoked direct scopes");
        }
    }

    /// @dev Documented semantics: one consent must cover all required bits; the direct and the
    /// wildcard consents are not unioned.
    function testFuzz_anyGrantee_andDirectConsent_doNotCombineScopes(
        address patient,
        address grantee,
        bytes32 purpose,
        uint8 directBit,
        uint8 broadBit
    ) public {
        _assumeAccount(patient);
        _assumeAccount(grantee);
        uint64 direct = uint64(1) << (directBit % 64);
        uint64 broad = uint64(1) << (broadBit % 64);
        vm.assume(direct != broad);
        _grant(patient, grantee, purpose, direct, 0);
        _grant(patient, ANY_GRANTEE, purpose, broad, 0);

        vm.assertTrue(registry.isPermitted(patient, grantee, purpose, direct), "direct");
        vm.assertTrue(registry.isPermitted(patient, grantee, purpose, broad), "broad");
        vm.assertFalse(registry.isPermitted(patient, grantee, purpose, direct | broad), "no union");
    }

    /* ------------------------------------------------------------------ */
    /*                                HELPERS                             */
    /* ------------------------------------------------------------------ */

    /// @dev `count` requests to one grantee, each for its own purpose derived from `purpose`.
    function _requests(address grantee, bytes32 purpose, uint64 scopes, uint256 count)
        private
        pure
        returns (IConsentRegistry.GrantRequest[] memory requests)
    {
        requests = new IConsentRegistry.GrantRequest[](count);
        for (uint256 i; i < count; ++i) {
            requests[i] = IConsentRegistry.GrantRequest({
                grantee: grantee, purpose: keccak256(abi.encode(purpose, i)), scopes: scopes, expiresAt: 0
            });
        }
    }

    /// @dev A patient cannot appoint the zero address or themself, nor remove a delegate they never
    /// appointed (or already removed); each with its named error, and nothing is stored.
    function testFuzz_delegate_invalidOrUnknown_reverts(address patient, address delegate, uint64 expiresAt) public {
        _assumeAccount(patient);
        _assumeAccount(delegate);
        vm.assume(delegate != patient);
        vm.prank(patient);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.InvalidDelegate.selector, address(0)));
        registry.setDelegate(address(0), expiresAt);
        vm.prank(patient);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.InvalidDelegate.selector, patient));
        registry.setDelegate(patient, expiresAt);

        vm.prank(patient);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.DelegateNotFound.selector, patient, delegate));
        registry.removeDelegate(delegate);
        vm.prank(patient);
        registry.setDelegate(delegate, 0);
        vm.prank(patient);
        registry.removeDelegate(delegate);
        vm.prank(patient);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.DelegateNotFound.selector, patient, delegate));
        registry.removeDelegate(delegate);
        vm.assertEq(registry.delegateExpiry(patient, delegate), 0, "no delegate stored");
    }
}
