// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

import {ConsentRegistry} from "../../contracts/ConsentRegistry.sol";
import {ERC1271WalletMock} from "../../contracts/test/ERC1271WalletMock.sol";
import {IConsentRegistry} from "../../contracts/interfaces/IConsentRegistry.sol";
import {ISignedByPatient} from "../../contracts/interfaces/ISignedByPatient.sol";

import {ConsentTest} from "./utils/ConsentTest.sol";

/// @dev Fuzz tests of EIP-712 signed grants and revocations; digests are built in ConsentTest.
contract ConsentRegistryBySigTest is ConsentTest {
    uint256 internal constant DEADLINE_WINDOW = 30 days;

    function test_eip712_domainAndTypehashesMatchTheSpec() public view {
        vm.assertEq(registry.DOMAIN_SEPARATOR(), _domainSeparator(block.chainid, address(registry)), "domain");
        vm.assertEq(registry.GRANT_TYPEHASH(), GRANT_TYPEHASH, "Grant typehash");
        vm.assertEq(registry.REVOKE_TYPEHASH(), REVOKE_TYPEHASH, "Revoke typehash");
    }

    /* ------------------------------------------------------------------ */
    /*                             GRANT BY SIG                           */
    /* ------------------------------------------------------------------ */

    function testFuzz_grantBySig_acceptedOnceThenReplayReverts(
        uint256 keySeed,
        address relayer,
        address grantee,
        bytes32 purpose,
        uint64 scopes,
        uint256 ttl,
        uint256 deadlineSeed
    ) public {
        uint256 key = _privateKey(keySeed);
        address patient = vm.addr(key);
        _assumeAccount(grantee);
        scopes = _nonEmpty(scopes);
        uint64 expiresAt = _futureExpiry(ttl);
        uint256 deadline = _bound(deadlineSeed, START, START + DEADLINE_WINDOW); // at the deadline still counts
        IConsentRegistry.SignedGrant memory signed =
            _signedGrant(key, grantee, purpose, scopes, expiresAt, deadline, block.chainid, address(registry));

        vm.expectEmit(address(registry));
        emit IConsentRegistry.ConsentGranted(patient, grantee, purpose, scopes, expiresAt, patient);
        vm.prank(relayer);
        registry.grantBySig(signed);

        vm.assertTrue(registry.isPermitted(patient, grantee, purpose, scopes), "granted");
        vm.assertEq(registry.nonces(patient), 1, "nonce consumed");

        // Revoked first, so only the spent nonce can stop the replay.
        vm.prank(patient);
        registry.revoke(grantee, purpose);
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, patient, 1));
        registry.grantBySig(signed);
        vm.assertFalse(registry.isPermitted(patient, grantee, purpose, scopes), "replay granted nothing");
    }

    function testFuzz_grantBySig_expiredDeadline_reverts(
        uint256 keySeed,
        address grantee,
        bytes32 purpose,
        uint64 scopes,
        uint256 deadlineSeed,
        uint256 lateBy
    ) public {
        uint256 key = _privateKey(keySeed);
        _assumeAccount(grantee);
        uint256 deadline = _bound(deadlineSeed, START, START + DEADLINE_WINDOW);
        IConsentRegistry.SignedGrant memory signed =
            _signedGrant(key, grantee, purpose, _nonEmpty(scopes), 0, deadline, block.chainid, address(registry));
        // casting to 'uint64' is safe because deadline and delay are both bounded far below 2**64
        // forge-lint: disable-next-line(unsafe-typecast)
        uint64 submittedAt = uint64(deadline + _bound(lateBy, 1, MAX_TTL));
        vm.warp(submittedAt);

        vm.expectRevert(abi.encodeWithSelector(ISignedByPatient.SignatureExpired.selector, deadline, submittedAt));
        registry.grantBySig(signed);
        vm.assertEq(registry.nonces(signed.patient), 0, "nonce not consumed");
    }

    function testFuzz_grantBySig_forAnotherChainId_reverts(
        uint256 keySeed,
        address grantee,
        bytes32 purpose,
        uint64 scopes,
        uint256 otherChainId
    ) public {
        uint256 key = _privateKey(keySeed);
        _assumeAccount(grantee);
        vm.assume(otherChainId != block.chainid);
        IConsentRegistry.SignedGrant memory signed =
            _signedGrant(key, grantee, purpose, _nonEmpty(scopes), 0, START, otherChainId, address(registry));

        vm.expectRevert(abi.encodeWithSelector(ISignedByPatient.InvalidSignature.selector, signed.patient));
        registry.grantBySig(signed);
    }

    /// @dev A signature made before a chain split is void on the fork with the new chain id.
    function testFuzz_grantBySig_afterChainIdChange_reverts(
        uint256 keySeed,
        address grantee,
        bytes32 purpose,
        uint64 scopes,
        uint64 newChainId
    ) public {
        uint256 key = _privateKey(keySeed);
        _assumeAccount(grantee);
        vm.assume(newChainId != block.chainid);
        IConsentRegistry.SignedGrant memory signed =
            _signedGrant(key, grantee, purpose, _nonEmpty(scopes), 0, START, block.chainid, address(registry));

        vm.chainId(newChainId);
        vm.expectRevert(abi.encodeWithSelector(ISignedByPatient.InvalidSignature.selector, signed.patient));
        registry.grantBySig(signed);
    }

    function testFuzz_grantBySig_forAnotherContract_reverts(
        uint256 keySeed,
        address grantee,
        bytes32 purpose,
        uint64 scopes,
        address otherContract
    ) public {
        uint256 key = _privateKey(keySeed);
        _assumeAccount(grantee);
        vm.assume(otherContract != address(registry));
        IConsentRegistry.SignedGrant memory signed =
            _signedGrant(key, grantee, purpose, _nonEmpty(scopes), 0, START, block.chainid, otherContract);

        vm.expectRevert(abi.encodeWithSelector(ISignedByPatient.InvalidSignature.selector, signed.patient));
        registry.grantBySig(signed);
    }

    /// @dev The same signature, valid for one deployment, fails on a second one with the same nonce.
    function testFuzz_grantBySig_onASecondDeployment_reverts(
        uint256 keySeed,
        address grantee,
        bytes32 purpose,
        uint64 scopes
    ) public {
        uint256 key = _privateKey(keySeed);
        _assumeAccount(grantee);
        IConsentRegistry.SignedGrant memory signed =
            _signedGrant(key, grantee, purpose, _nonEmpty(scopes), 0, START, block.chainid, address(registry));
        ConsentRegistry second = new ConsentRegistry();

        vm.expectRevert(abi.encodeWithSelector(ISignedByPatient.InvalidSignature.selector, signed.patient));
        second.grantBySig(signed);
        registry.grantBySig(signed);
        vm.assertTrue(registry.isPermitted(signed.patient, grantee, purpose, signed.scopes), "first deployment");
    }

    function testFuzz_grantBySig_byAnotherKey_reverts(
        uint256 keySeed,
        uint256 otherKeySeed,
        address grantee,
        bytes32 purpose,
        uint64 scopes
    ) public {
        uint256 key = _privateKey(keySeed);
        uint256 otherKey = _privateKey(otherKeySeed);
        vm.assume(otherKey != key);
        _assumeAccount(grantee);
        IConsentRegistry.SignedGrant memory signed =
            _signedGrant(key, grantee, purpose, _nonEmpty(scopes), 0, START, block.chainid, address(registry));
        signed.signature = _sign(otherKey, _digest(_grantStructHash(signed), block.chainid, address(registry)));

        vm.expectRevert(abi.encodeWithSelector(ISignedByPatient.InvalidSignature.selector, signed.patient));
        registry.grantBySig(signed);
    }

    function testFuzz_grantBySig_tamperedRequest_reverts(
        uint256 keySeed,
        address grantee,
        bytes32 purpose,
        uint64 scopes,
        uint64 widenedScopes
    ) public {
        uint256 key = _privateKey(keySeed);
        _assumeAccount(grantee);
        scopes = _nonEmpty(scopes);
        IConsentRegistry.SignedGrant memory signed =
            _signedGrant(key, grantee, purpose, scopes, 0, START, block.chainid, address(registry));
        signed.scopes = scopes | _nonEmpty(widenedScopes);
        vm.assume(signed.scopes != scopes);

        vm.expectRevert(abi.encodeWithSelector(ISignedByPatient.InvalidSignature.selector, signed.patient));
        registry.grantBySig(signed);
    }

    function testFuzz_grantBySig_malformedSignature_reverts(
        uint256 keySeed,
        address grantee,
        bytes32 purpose,
        uint64 scopes,
        bytes calldata garbage
    ) public {
        uint256 key = _privateKey(keySeed);
        _assumeAccount(grantee);
        IConsentRegistry.SignedGrant memory signed =
            _signedGrant(key, grantee, purpose, _nonEmpty(scopes), 0, START, block.chainid, address(registry));
        signed.signature = garbage;

        vm.expectRevert(abi.encodeWithSelector(ISignedByPatient.InvalidSignature.selector, signed.patient));
        registry.grantBySig(signed);
    }

    /// @dev (r, n - s) with the other v recovers the same signer; OpenZeppelin's ECDSA refuses the
    /// high-s twin, so a third party cannot mint a second valid encoding of a signature.
    function testFuzz_grantBySig_highSTwin_reverts(uint256 keySeed, address grantee, bytes32 purpose, uint64 scopes)
        public
    {
        uint256 key = _privateKey(keySeed);
        _assumeAccount(grantee);
        IConsentRegistry.SignedGrant memory signed =
            _signedGrant(key, grantee, purpose, _nonEmpty(scopes), 0, START, block.chainid, address(registry));
        bytes memory lowS = signed.signature;
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(key, _digest(_grantStructHash(signed), block.chainid, address(registry)));
        signed.signature = abi.encodePacked(r, bytes32(SECP256K1_ORDER - uint256(s)), v == 27 ? uint8(28) : uint8(27));

        vm.expectRevert(abi.encodeWithSelector(ISignedByPatient.InvalidSignature.selector, signed.patient));
        registry.grantBySig(signed);
        signed.signature = lowS;
        registry.grantBySig(signed);
        vm.assertTrue(registry.isPermitted(signed.patient, grantee, purpose, signed.scopes), "low-s accepted");
    }

    /// @dev ecrecover yields address(0) for many malformed signatures: the zero patient is refused
    /// before any signature is looked at.
    function testFuzz_bySig_forTheZeroPatient_reverts(
        address grantee,
        bytes32 purpose,
        uint64 scopes,
        bytes calldata signature
    ) public {
        _assumeAccount(grantee);
        IConsentRegistry.SignedGrant memory signed = IConsentRegistry.SignedGrant({
            patient: address(0),
            grantee: grantee,
            purpose: purpose,
            scopes: _nonEmpty(scopes),
            expiresAt: 0,
            nonce: 0,
            deadline: START,
            signature: signature
        });
        bytes memory err = abi.encodeWithSelector(ISignedByPatient.InvalidPatient.selector, address(0));

        vm.expectRevert(err);
        registry.grantBySig(signed);
        vm.expectRevert(err);
        registry.revokeBySig(address(0), grantee, purpose, 0, START, signature);
    }

    function testFuzz_grantBySig_wrongOrBurnedNonce_reverts(
        uint256 keySeed,
        address grantee,
        bytes32 purpose,
        uint64 scopes,
        uint256 futureNonce
    ) public {
        uint256 key = _privateKey(keySeed);
        address patient = vm.addr(key);
        _assumeAccount(grantee);
        scopes = _nonEmpty(scopes);
        IConsentRegistry.SignedGrant memory ahead =
            _signedGrant(key, grantee, purpose, scopes, 0, START, block.chainid, address(registry));
        ahead.nonce = _bound(futureNonce, 1, type(uint256).max);
        ahead.signature = _sign(key, _digest(_grantStructHash(ahead), block.chainid, address(registry)));
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, patient, 0));
        registry.grantBySig(ahead);

        IConsentRegistry.SignedGrant memory signed =
            _signedGrant(key, grantee, purpose, scopes, 0, START, block.chainid, address(registry));
        vm.expectEmit(address(registry));
        emit ISignedByPatient.NonceUsed(patient, 0);
        vm.prank(patient);
        registry.useNonce();
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, patient, 1));
        registry.grantBySig(signed);
    }

    function testFuzz_grantBySigBatch_grantsForEachPatient(
        uint256 keySeedA,
        uint256 keySeedB,
        address relayer,
        address grantee,
        bytes32 purpose,
        uint64 scopes
    ) public {
        uint256 keyA = _privateKey(keySeedA);
        uint256 keyB = _privateKey(keySeedB);
        vm.assume(keyA != keyB);
        _assumeAccount(grantee);
        scopes = _nonEmpty(scopes);
        IConsentRegistry.SignedGrant[] memory batch = new IConsentRegistry.SignedGrant[](2);
        batch[0] = _signedGrant(keyA, grantee, purpose, scopes, 0, START, block.chainid, address(registry));
        batch[1] = _signedGrant(keyB, grantee, purpose, scopes, 0, START, block.chainid, address(registry));

        vm.prank(relayer);
        registry.grantBySigBatch(batch);

        vm.assertTrue(registry.isPermitted(batch[0].patient, grantee, purpose, scopes), "patient A");
        vm.assertTrue(registry.isPermitted(batch[1].patient, grantee, purpose, scopes), "patient B");
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, batch[0].patient, 1));
        registry.grantBySigBatch(batch);
    }

    /// @dev One bad item (here a tampered scope) reverts the whole batch with its named error: the
    /// items before it keep neither their consent nor their spent nonce.
    function testFuzz_grantBySigBatch_badItemRevertsTheBatch(uint256 keySeed, address grantee, bytes32 purpose) public {
        _assumeAccount(grantee);
        IConsentRegistry.SignedGrant[] memory batch = new IConsentRegistry.SignedGrant[](3);
        for (uint256 i; i < 3; ++i) {
            uint256 key = _privateKey(uint256(keccak256(abi.encode(keySeed, i))));
            batch[i] = _signedGrant(key, grantee, purpose, 0x0F, 0, START, block.chainid, address(registry));
        }
        vm.assume(batch[0].patient != batch[1].patient && batch[1].patient != batch[2].patient);
        batch[1].scopes = 0xFF;

        vm.expectRevert(abi.encodeWithSelector(ISignedByPatient.InvalidSignature.selector, batch[1].patient));
        registry.grantBySigBatch(batch);
        vm.assertFalse(registry.isPermitted(batch[0].patient, grantee, purpose, 0x0F), "first item rolled back");
        vm.assertEq(registry.nonces(batch[0].patient), 0, "first nonce not spent");
    }

    /// @dev The 64-byte EIP-2098 form (r, yParity ‖ s) of a valid signature is refused, as OZ 5.0's
    /// ECDSA refuses it: only the 65-byte r ‖ s ‖ v form recovers.
    function testFuzz_grantBySig_compactEip2098Signature_reverts(uint256 keySeed, address grantee, bytes32 purpose)
        public
    {
        uint256 key = _privateKey(keySeed);
        _assumeAccount(grantee);
        IConsentRegistry.SignedGrant memory signed =
            _signedGrant(key, grantee, purpose, 0x0F, 0, START, block.chainid, address(registry));
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(key, _digest(_grantStructHash(signed), block.chainid, address(registry)));
        signed.signature = abi.encodePacked(r, bytes32(uint256(v - 27) << 255 | uint256(s)));

        vm.expectRevert(abi.encodeWithSelector(ISignedByPatient.InvalidSignature.selector, signed.patient));
        registry.grantBySig(signed);
    }

    /// @dev A batch mixes EOA patients and ERC-1271 wallet patients: the wallet's owner signs, the
    /// registry asks the wallet once the EOA check has failed.
    function testFuzz_grantBySigBatch_eoaAndContractWalletPatients(
        uint256 ownerSeed,
        uint256 eoaSeed,
        address grantee,
        bytes32 purpose
    ) public {
        uint256 ownerKey = _privateKey(ownerSeed);
        uint256 eoaKey = _privateKey(eoaSeed);
        vm.assume(ownerKey != eoaKey);
        _assumeAccount(grantee);
        ERC1271WalletMock wallet = new ERC1271WalletMock(vm.addr(ownerKey));
        vm.assume(grantee != address(wallet));
        IConsentRegistry.SignedGrant[] memory batch = new IConsentRegistry.SignedGrant[](2);
        batch[0] = _signedGrant(eoaKey, grantee, purpose, 0x0F, 0, START, block.chainid, address(registry));
        batch[1] = IConsentRegistry.SignedGrant({
            patient: address(wallet),
            grantee: grantee,
            purpose: purpose,
            scopes: 0x0F,
            expiresAt: 0,
            nonce: 0,
            deadline: START,
            signature: ""
        });
        batch[1].signature = _sign(ownerKey, _digest(_grantStructHash(batch[1]), block.chainid, address(registry)));

        registry.grantBySigBatch(batch);
        vm.assertTrue(registry.isPermitted(batch[0].patient, grantee, purpose, 0x0F), "EOA patient");
        vm.assertTrue(registry.isPermitted(address(wallet), grantee, purpose, 0x0F), "wallet patient");
        vm.assertEq(registry.nonces(address(wallet)), 1, "wallet nonce consumed");
    }

    /// @dev The batch reads its items' fields in assembly; a non-canonical encoding still reverts
    /// without data, as the ABI decoder makes it: a dirty address word, a signature offset or an item
    /// offset pointing outside the calldata, a signature length beyond 64 bits.
    function testFuzz_grantBySigBatch_malformedEncoding_revertsWithoutData(uint256 keySeed, address grantee) public {
        uint256 key = _privateKey(keySeed);
        _assumeAccount(grantee);
        IConsentRegistry.SignedGrant[] memory batch = new IConsentRegistry.SignedGrant[](1);
        batch[0] = _signedGrant(key, grantee, GRU, 0x0F, 0, START, block.chainid, address(registry));
        bytes memory good = abi.encodeCall(registry.grantBySigBatch, (batch));
        // selector, array offset, length, item offset: the item's head starts at byte 4 + 3 * 32.
        uint256 item = 4 + 3 * 32;

        bytes memory dirtyGrantee = bytes.concat(good);
        dirtyGrantee[item + 32] = 0x01; // top byte of the grantee word
        bytes memory farSignature = bytes.concat(good);
        farSignature[item + 7 * 32 + 28] = 0x01; // signature offset + 2**24
        bytes memory farItem = bytes.concat(good);
        farItem[item - 32 + 28] = 0x01; // item offset + 2**24
        bytes memory hugeSignature = bytes.concat(good);
        hugeSignature[item + 8 * 32 + 23] = 0x01; // signature length (after the 8 head words) + 2**64

        bytes[4] memory malformed = [dirtyGrantee, farSignature, farItem, hugeSignature];
        for (uint256 i; i < 4; ++i) {
            (bool ok, bytes memory returned) = address(registry).call(malformed[i]);
            vm.assertFalse(ok, "malformed call reverted");
            vm.assertEq(returned.length, 0, "without data");
        }
        (bool accepted,) = address(registry).call(good);
        vm.assertTrue(accepted, "the well-formed call is accepted");
        vm.assertTrue(registry.isPermitted(batch[0].patient, grantee, GRU, 0x0F), "granted");
    }

    /* ------------------------------------------------------------------ */
    /*                            REVOKE BY SIG                           */
    /* ------------------------------------------------------------------ */

    function testFuzz_revokeBySig_acceptedOnceThenReplayReverts(
        uint256 keySeed,
        address relayer,
        address grantee,
        bytes32 purpose,
        uint64 scopes
    ) public {
        uint256 key = _privateKey(keySeed);
        address patient = vm.addr(key);
        _assumeAccount(grantee);
        scopes = _nonEmpty(scopes);
        _grant(patient, grantee, purpose, scopes, 0);
        uint256 nonce = registry.nonces(patient);
        bytes32 structHash = keccak256(abi.encode(REVOKE_TYPEHASH, patient, grantee, purpose, nonce, START));
        bytes memory signature = _sign(key, _digest(structHash, block.chainid, address(registry)));

        vm.expectEmit(address(registry));
        emit IConsentRegistry.ConsentRevoked(patient, grantee, purpose, patient);
        vm.prank(relayer);
        registry.revokeBySig(patient, grantee, purpose, nonce, START, signature);
        vm.assertFalse(registry.isPermitted(patient, grantee, purpose, scopes), "revoked");

        _grant(patient, grantee, purpose, scopes, 0); // a replay would now revoke this one
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, patient, nonce + 1));
        registry.revokeBySig(patient, grantee, purpose, nonce, START, signature);
        vm.assertTrue(registry.isPermitted(patient, grantee, purpose, scopes), "re-grant survives the replay");
    }
}
