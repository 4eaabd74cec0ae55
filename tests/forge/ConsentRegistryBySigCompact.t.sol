// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

import {ConsentRegistry} from "../../contracts/ConsentRegistry.sol";
import {CompactSignatureHarness} from "../../contracts/test/CompactSignatureHarness.sol";
import {ERC1271WalletMock} from "../../contracts/test/ERC1271WalletMock.sol";
import {IConsentRegistry} from "../../contracts/interfaces/IConsentRegistry.sol";
import {ISignedByPatient} from "../../contracts/interfaces/ISignedByPatient.sol";
import {EmptyBatch, InvalidExpiry} from "../../contracts/utils/Common.sol";

import {Compact} from "./utils/Compact.sol";
import {ConsentTest} from "./utils/ConsentTest.sol";

/// @dev grantBySigBatchCompact: EOA patients' signed grants with EIP-2098 (r, vs) signatures. The
/// same EIP-712 `Grant` as grantBySigBatch, so the same checks, errors and consents are expected.
contract ConsentRegistryBySigCompactTest is ConsentTest, Compact {
    uint256 internal constant COHORT = 3;
    uint256 internal constant DEADLINE_WINDOW = 30 days;

    /// @dev One compact item of a fresh patient, signed for this registry.
    function _item(uint256 key, address grantee, bytes32 purpose, uint64 scopes, uint64 expiresAt, uint256 deadline)
        internal
        view
        returns (IConsentRegistry.CompactSignedGrant memory)
    {
        return
            _compact(_signedGrant(key, grantee, purpose, scopes, expiresAt, deadline, block.chainid, address(registry)));
    }

    function _one(IConsentRegistry.CompactSignedGrant memory item)
        internal
        pure
        returns (IConsentRegistry.CompactSignedGrant[] memory batch)
    {
        batch = new IConsentRegistry.CompactSignedGrant[](1);
        batch[0] = item;
    }

    /// @dev Item `i` of a fuzzed cohort: a fresh patient's grant, fields derived from `seed` (some with
    /// no expiry), signed for `twin` (65-byte) and for this registry (compact).
    function _pair(uint256 seed, uint256 i, uint256 deadline, address twin)
        internal
        view
        returns (IConsentRegistry.SignedGrant memory forTwin, IConsentRegistry.CompactSignedGrant memory here)
    {
        uint256 key = _privateKey(uint256(keccak256(abi.encode(seed, "key", i))));
        forTwin = _signedGrant(
            key,
            _fuzzedGrantee(seed, i, twin),
            keccak256(abi.encode(seed, "purpose", i)),
            _nonEmpty(uint64(uint256(keccak256(abi.encode(seed, "scopes", i))))),
            _fuzzedExpiry(seed, i),
            deadline,
            block.chainid,
            twin
        );
        here = _item(key, forTwin.grantee, forTwin.purpose, forTwin.scopes, forTwin.expiresAt, deadline);
    }

    function _fuzzedGrantee(uint256 seed, uint256 i, address twin) internal view returns (address grantee) {
        grantee = address(uint160(uint256(keccak256(abi.encode(seed, "grantee", i)))));
        _assumeAccount(grantee);
        vm.assume(grantee != twin);
    }

    /// @dev No expiry for about a third of the items, else 1 s to 100 years ahead.
    function _fuzzedExpiry(uint256 seed, uint256 i) internal view returns (uint64) {
        uint256 ttl = uint256(keccak256(abi.encode(seed, "ttl", i)));
        return ttl % 3 == 0 ? 0 : _futureExpiry(ttl);
    }

    /// @dev Field by field and event by event, the compact batch grants what grantBySigBatch grants
    /// (on a twin registry, at the same time, from the same patients' signatures of the same grants).
    function testFuzz_compactBatch_grantsExactlyWhatTheBytesBatchGrants(
        uint256 seed,
        address relayer,
        uint256 deadlineSeed
    ) public {
        ConsentRegistry twin = new ConsentRegistry();
        uint256 deadline = _bound(deadlineSeed, START, START + DEADLINE_WINDOW);
        IConsentRegistry.SignedGrant[] memory bytesBatch = new IConsentRegistry.SignedGrant[](COHORT);
        IConsentRegistry.CompactSignedGrant[] memory compactBatch = new IConsentRegistry.CompactSignedGrant[](COHORT);
        for (uint256 i; i < COHORT; ++i) {
            (bytesBatch[i], compactBatch[i]) = _pair(seed, i, deadline, address(twin));
        }
        for (uint256 i = 1; i < COHORT; ++i) {
            vm.assume(compactBatch[i].patient != compactBatch[0].patient);
        }
        vm.assume(compactBatch[1].patient != compactBatch[2].patient);

        vm.prank(relayer);
        twin.grantBySigBatch(bytesBatch);
        for (uint256 i; i < COHORT; ++i) {
            IConsentRegistry.CompactSignedGrant memory c = compactBatch[i];
            vm.expectEmit(address(registry));
            emit IConsentRegistry.ConsentGranted(c.patient, c.grantee, c.purpose, c.scopes, c.expiresAt, c.patient);
        }
        vm.prank(relayer);
        registry.grantBySigBatchCompact(compactBatch);

        for (uint256 i; i < COHORT; ++i) {
            IConsentRegistry.CompactSignedGrant memory c = compactBatch[i];
            IConsentRegistry.Consent memory got = registry.getConsent(c.patient, c.grantee, c.purpose);
            IConsentRegistry.Consent memory want = twin.getConsent(c.patient, c.grantee, c.purpose);
            vm.assertEq(got.scopes, want.scopes, "scopes");
            vm.assertEq(got.grantedAt, want.grantedAt, "grantedAt");
            vm.assertEq(got.expiresAt, want.expiresAt, "expiresAt");
            vm.assertEq(got.revokedAt, want.revokedAt, "revokedAt");
            vm.assertEq(got.scopes, c.scopes, "the signed scopes");
            vm.assertEq(got.grantedAt, START, "granted now");
            vm.assertEq(registry.nonces(c.patient), twin.nonces(c.patient), "nonce");
            vm.assertEq(registry.nonces(c.patient), 1, "nonce consumed");
            vm.assertTrue(registry.isPermitted(c.patient, c.grantee, c.purpose, c.scopes), "permitted");
        }
        // Submitted again, the first item's spent nonce stops the batch, as for grantBySigBatch.
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, compactBatch[0].patient, 1));
        registry.grantBySigBatchCompact(compactBatch);
    }

    function test_compactBatch_empty_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(EmptyBatch.selector));
        registry.grantBySigBatchCompact(new IConsentRegistry.CompactSignedGrant[](0));
    }

    /// @dev (r, n - s) with the other parity recovers the same signer; it is refused, whether n - s
    /// fits the 255 bits of vs or not, and the low-s original is accepted afterwards.
    function testFuzz_compactBatch_highSTwin_reverts(uint256 keySeed, address grantee, bytes32 purpose) public {
        uint256 key = _privateKey(keySeed);
        _assumeAccount(grantee);
        IConsentRegistry.SignedGrant memory signed =
            _signedGrant(key, grantee, purpose, 0x0F, 0, START, block.chainid, address(registry));
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(key, _digest(_grantStructHash(signed), block.chainid, address(registry)));
        IConsentRegistry.CompactSignedGrant memory twin = _compact(signed);
        twin.r = r;
        twin.vs = bytes32(uint256(v == 27 ? 1 : 0) << 255 | (SECP256K1_ORDER - uint256(s)));

        vm.expectRevert(abi.encodeWithSelector(ISignedByPatient.InvalidSignature.selector, signed.patient));
        registry.grantBySigBatchCompact(_one(twin));
        vm.assertEq(registry.nonces(signed.patient), 0, "nonce not consumed");
        registry.grantBySigBatchCompact(_one(_compact(signed)));
        vm.assertTrue(registry.isPermitted(signed.patient, grantee, purpose, 0x0F), "low-s accepted");
    }

    /// @dev The low-s rule on its own: for a digest the test picks, an s in (n/2, 2**255) fits vs and
    /// ecrecover accepts it, so its signer is known; only the rule refuses it, and the low twin
    /// (n - s, other parity) of the same signature passes.
    function testFuzz_compactCheck_highSWithAKnownSigner_reverts(bytes32 digest, uint256 keySeed, uint256 sSeed)
        public
    {
        CompactSignatureHarness harness = new CompactSignatureHarness();
        (, bytes32 r,) = vm.sign(_privateKey(keySeed), digest); // any r that is a point's x coordinate
        uint256 highS = _bound(sSeed, SECP256K1_ORDER / 2 + 1, (1 << 255) - 1);
        address signer = ecrecover(digest, 27, r, bytes32(highS));
        vm.assume(signer != address(0));

        vm.expectRevert(abi.encodeWithSelector(ISignedByPatient.InvalidSignature.selector, signer));
        harness.checkCompact(signer, digest, 0, START, r, bytes32(highS));
        harness.checkCompact(signer, digest, 0, START, r, bytes32(1 << 255 | (SECP256K1_ORDER - highS)));
        vm.assertEq(harness.nonces(signer), 1, "the low twin passed");
    }

    function testFuzz_compactBatch_anotherPatientsSignature_reverts(
        uint256 keySeed,
        uint256 otherKeySeed,
        address grantee,
        bytes32 purpose
    ) public {
        uint256 key = _privateKey(keySeed);
        uint256 otherKey = _privateKey(otherKeySeed);
        vm.assume(key != otherKey);
        _assumeAccount(grantee);
        IConsentRegistry.SignedGrant memory signed =
            _signedGrant(key, grantee, purpose, 0x0F, 0, START, block.chainid, address(registry));
        signed.signature = _sign(otherKey, _digest(_grantStructHash(signed), block.chainid, address(registry)));

        vm.expectRevert(abi.encodeWithSelector(ISignedByPatient.InvalidSignature.selector, signed.patient));
        registry.grantBySigBatchCompact(_one(_compact(signed)));
    }

    function testFuzz_compactBatch_tamperedField_reverts(uint256 keySeed, address grantee, uint64 widenedScopes)
        public
    {
        _assumeAccount(grantee);
        IConsentRegistry.CompactSignedGrant memory item = _item(_privateKey(keySeed), grantee, GRU, 0x0F, 0, START);
        item.scopes = 0x0F | _nonEmpty(widenedScopes);
        vm.assume(item.scopes != 0x0F);

        vm.expectRevert(abi.encodeWithSelector(ISignedByPatient.InvalidSignature.selector, item.patient));
        registry.grantBySigBatchCompact(_one(item));
    }

    function testFuzz_compactBatch_forAnotherChain_reverts(uint256 keySeed, address grantee, uint256 otherChainId)
        public
    {
        _assumeAccount(grantee);
        vm.assume(otherChainId != block.chainid);
        IConsentRegistry.CompactSignedGrant memory item =
            _compact(_signedGrant(_privateKey(keySeed), grantee, GRU, 0x0F, 0, START, otherChainId, address(registry)));

        vm.expectRevert(abi.encodeWithSelector(ISignedByPatient.InvalidSignature.selector, item.patient));
        registry.grantBySigBatchCompact(_one(item));
    }

    function testFuzz_compactBatch_wrongNonce_reverts(uint256 keySeed, address grantee, uint256 futureNonce) public {
        uint256 key = _privateKey(keySeed);
        _assumeAccount(grantee);
        IConsentRegistry.SignedGrant memory ahead =
            _signedGrant(key, grantee, GRU, 0x0F, 0, START, block.chainid, address(registry));
        ahead.nonce = _bound(futureNonce, 1, type(uint256).max);
        ahead.signature = _sign(key, _digest(_grantStructHash(ahead), block.chainid, address(registry)));

        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, ahead.patient, 0));
        registry.grantBySigBatchCompact(_one(_compact(ahead)));
    }

    function testFuzz_compactBatch_expiredDeadline_reverts(
        uint256 keySeed,
        address grantee,
        uint256 deadlineSeed,
        uint256 lateBy
    ) public {
        _assumeAccount(grantee);
        uint256 deadline = _bound(deadlineSeed, START, START + DEADLINE_WINDOW);
        IConsentRegistry.CompactSignedGrant memory item = _item(_privateKey(keySeed), grantee, GRU, 0x0F, 0, deadline);
        // casting to 'uint64' is safe because deadline and delay are both bounded far below 2**64
        // forge-lint: disable-next-line(unsafe-typecast)
        uint64 submittedAt = uint64(deadline + _bound(lateBy, 1, MAX_TTL));
        vm.warp(submittedAt);

        vm.expectRevert(abi.encodeWithSelector(ISignedByPatient.SignatureExpired.selector, deadline, submittedAt));
        registry.grantBySigBatchCompact(_one(item));
        vm.assertEq(registry.nonces(item.patient), 0, "nonce not consumed");
    }

    function test_compactBatch_forTheZeroPatient_reverts() public {
        IConsentRegistry.CompactSignedGrant memory item = _item(0xA11CE, LAB_ADDRESS, GRU, 0x0F, 0, START);
        item.patient = address(0);

        vm.expectRevert(abi.encodeWithSelector(ISignedByPatient.InvalidPatient.selector, address(0)));
        registry.grantBySigBatchCompact(_one(item));
    }

    /// @dev A contract-wallet patient: its owner's signature, converted, is not the wallet's own
    /// (there is no ERC-1271 fallback); through grantBySigBatch the same signature is accepted.
    function testFuzz_compactBatch_contractWalletPatient_reverts(uint256 ownerSeed, address grantee) public {
        _assumeAccount(grantee);
        ERC1271WalletMock wallet = new ERC1271WalletMock(vm.addr(_privateKey(ownerSeed)));
        vm.assume(grantee != address(wallet));
        IConsentRegistry.SignedGrant memory signed = IConsentRegistry.SignedGrant({
            patient: address(wallet),
            grantee: grantee,
            purpose: GRU,
            scopes: 0x0F,
            expiresAt: 0,
            nonce: 0,
            deadline: START,
            signature: ""
        });
        signed.signature =
            _sign(_privateKey(ownerSeed), _digest(_grantStructHash(signed), block.chainid, address(registry)));

        vm.expectRevert(abi.encodeWithSelector(ISignedByPatient.InvalidSignature.selector, address(wallet)));
        registry.grantBySigBatchCompact(_one(_compact(signed)));
        IConsentRegistry.SignedGrant[] memory viaBytes = new IConsentRegistry.SignedGrant[](1);
        viaBytes[0] = signed;
        registry.grantBySigBatch(viaBytes);
        vm.assertTrue(registry.isPermitted(address(wallet), grantee, GRU, 0x0F), "granted through grantBySigBatch");
    }

    /// @dev The consent checks are grantBySigBatch's: a live consent is not granted again, an expiry in
    /// the past is refused, and one such item reverts the batch, the items before it included.
    function testFuzz_compactBatch_badItemRevertsTheBatch(uint256 keySeed, address grantee) public {
        _assumeAccount(grantee);
        uint256 first = _privateKey(uint256(keccak256(abi.encode(keySeed, 0))));
        uint256 second = _privateKey(uint256(keccak256(abi.encode(keySeed, 1))));
        vm.assume(first != second);
        address secondPatient = vm.addr(second);
        _grant(secondPatient, grantee, GRU, 0x01, 0);
        IConsentRegistry.CompactSignedGrant[] memory batch = new IConsentRegistry.CompactSignedGrant[](2);
        batch[0] = _item(first, grantee, GRU, 0x0F, 0, START);
        batch[1] = _item(second, grantee, GRU, 0x0F, 0, START);

        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.ConsentAlreadyActive.selector, secondPatient, grantee, GRU)
        );
        registry.grantBySigBatchCompact(batch);
        vm.assertFalse(registry.isPermitted(batch[0].patient, grantee, GRU, 0x0F), "first item rolled back");
        vm.assertEq(registry.nonces(batch[0].patient), 0, "first nonce not spent");

        batch[1] = _item(second, grantee, DS, 0x0F, START, START); // expires now: not in the future
        vm.expectRevert(abi.encodeWithSelector(InvalidExpiry.selector, START, START));
        registry.grantBySigBatchCompact(batch);
        batch[1] = _item(second, address(0), DS, 0x0F, 0, START);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.InvalidGrantee.selector, address(0)));
        registry.grantBySigBatchCompact(batch);
        batch[1] = _item(second, grantee, DS, 0, 0, START);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.EmptyScopes.selector));
        registry.grantBySigBatchCompact(batch);
    }

    /// @dev The items' checked fields are read in assembly; a non-canonical word still reverts without
    /// data, as the ABI decoder makes it, and so does an array longer than the calldata holds.
    function testFuzz_compactBatch_malformedEncoding_revertsWithoutData(uint256 keySeed, address grantee) public {
        _assumeAccount(grantee);
        IConsentRegistry.CompactSignedGrant memory item = _item(_privateKey(keySeed), grantee, GRU, 0x0F, 0, START);
        bytes memory good = abi.encodeCall(registry.grantBySigBatchCompact, (_one(item)));
        // selector, array offset, length: the item's nine words start at byte 4 + 2 * 32.
        uint256 start = 4 + 2 * 32;

        bytes memory dirtyPatient = bytes.concat(good);
        dirtyPatient[start + 11] = 0x01; // above the 20 address bytes of the patient word
        bytes memory dirtyGrantee = bytes.concat(good);
        dirtyGrantee[start + 32] = 0x01;
        bytes memory dirtyScopes = bytes.concat(good);
        dirtyScopes[start + 3 * 32 + 23] = 0x01; // above the 8 bytes of the scopes word
        bytes memory dirtyExpiry = bytes.concat(good);
        dirtyExpiry[start + 4 * 32] = 0x01;
        bytes memory tooLong = bytes.concat(good);
        tooLong[start - 1] = 0x02; // length 2, one item in the calldata

        bytes[5] memory malformed = [dirtyPatient, dirtyGrantee, dirtyScopes, dirtyExpiry, tooLong];
        for (uint256 i; i < 5; ++i) {
            (bool ok, bytes memory returned) = address(registry).call(malformed[i]);
            vm.assertFalse(ok, "malformed call reverted");
            vm.assertEq(returned.length, 0, "without data");
        }
        (bool accepted,) = address(registry).call(good);
        vm.assertTrue(accepted, "the well-formed call is accepted");
        vm.assertTrue(registry.isPermitted(item.patient, grantee, GRU, 0x0F), "granted");
    }

    address internal constant LAB_ADDRESS = address(0x1AB);
}
