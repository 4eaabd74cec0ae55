// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";

import {GuardianshipAccount} from "../../contracts/GuardianshipAccount.sol";
import {IGuardianAuthority} from "../../contracts/ConsentGrants.sol";
import {IConsentGrant} from "../../contracts/interfaces/IConsentGrant.sol";
import {IConsentGrants} from "../../contracts/interfaces/IConsentGrants.sol";
import {IGuardianshipAccount} from "../../contracts/interfaces/IGuardianshipAccount.sol";
import {IGuardianshipFactory} from "../../contracts/interfaces/IGuardianshipFactory.sol";

import {Vm} from "./utils/Vm.sol";
import {GuardianTest} from "./utils/GuardianTest.sol";

/// @dev GuardianshipAccount and GuardianshipFactory: set-up, ERC-1271 before and after the term, the guardian's
/// relayed acts, and the account as a ConsentGrants subject key end to end.
contract GuardianshipAccountTest is GuardianTest {
    bytes32 internal constant DIGEST = keccak256("a digest some verifier asks about");
    uint256 internal constant HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    /* ------------------------------------------------------------------ */
    /*                         FACTORY AND SET-UP                         */
    /* ------------------------------------------------------------------ */

    function test_deploy_atThePredictedAddress_setUpAndEmitted() public {
        Ward memory w = _plannedWard(1, TERM_ENDS);
        address guardian = vm.addr(w.guardianKey);
        vm.assertEq(address(w.account).code.length, 0, "nothing there before");

        vm.expectEmit(address(factory));
        emit IGuardianshipFactory.GuardianshipDeployed(address(w.account));
        vm.expectEmit(address(w.account));
        emit IGuardianshipAccount.GuardianshipInitialized(guardian, TERM_ENDS, address(0));
        vm.prank(RELAYER);
        address deployed = factory.deploy(_accountSalt(1), guardian, TERM_ENDS, address(0));

        vm.assertEq(deployed, address(w.account), "deployed where predicted");
        vm.assertEq(w.account.guardianSigner(), guardian, "guardian key");
        vm.assertEq(w.account.successorSigner(), address(0), "no successor yet");
        vm.assertEq(w.account.termEndsAt(), TERM_ENDS, "term");
        vm.assertEq(w.account.nonce(), 0, "nonce");
        vm.assertEq(w.account.authorityEndsAt(), TERM_ENDS, "authority ends with the term");
    }

    function test_deploy_withASuccessor_storesIt() public {
        address guardian = vm.addr(_key("guardian key", 2));
        address patient = vm.addr(_key("patient key", 2));
        vm.expectEmit(factory.predict(_accountSalt(2), guardian, TERM_ENDS, patient));
        emit IGuardianshipAccount.GuardianshipInitialized(guardian, TERM_ENDS, patient);
        IGuardianshipAccount account =
            IGuardianshipAccount(factory.deploy(_accountSalt(2), guardian, TERM_ENDS, patient));
        vm.assertEq(account.successorSigner(), patient, "successor");
    }

    /// @dev Idempotent: deploying an existing account returns it, emits nothing, and sets nothing up again (the
    /// successor the guardian named since stays).
    function test_deploy_again_returnsTheAccountUnchanged() public {
        Ward memory w = _ward(3, TERM_ENDS);
        _nameSuccessor(w);

        vm.recordLogs();
        address again = factory.deploy(_accountSalt(3), vm.addr(w.guardianKey), TERM_ENDS, address(0));
        Vm.Log[] memory logs = vm.getRecordedLogs();

        vm.assertEq(again, address(w.account), "the same account");
        vm.assertEq(logs.length, 0, "no event");
        vm.assertEq(w.account.successorSigner(), vm.addr(w.patientKey), "the successor stays");
        vm.assertEq(w.account.nonce(), 1, "the nonce stays");
    }

    /// @dev The address commits to the set-up: whoever deploys first with the same salt and other keys gets another
    /// address, and the ward's account is still deployed with the ward's keys.
    function test_deploy_sameSaltOtherKeys_cannotTakeTheAddress() public {
        Ward memory w = _plannedWard(4, TERM_ENDS);
        address intruder = vm.addr(_key("intruder", 4));
        address taken = factory.deploy(_accountSalt(4), intruder, TERM_ENDS, address(0));
        vm.assertTrue(taken != address(w.account), "another address");
        vm.assertTrue(
            factory.predict(_accountSalt(4), vm.addr(w.guardianKey), TERM_ENDS + 1, address(0)) != address(w.account),
            "another term, another address"
        );

        address deployed = factory.deploy(_accountSalt(4), vm.addr(w.guardianKey), TERM_ENDS, address(0));
        vm.assertEq(deployed, address(w.account), "the ward's address is the ward's");
        vm.assertEq(w.account.guardianSigner(), vm.addr(w.guardianKey), "with the ward's guardian");
    }

    function test_deploy_badSetUp_reverts() public {
        address guardian = vm.addr(_key("guardian key", 5));
        vm.expectRevert(abi.encodeWithSelector(IGuardianshipAccount.InvalidSigner.selector, address(0)));
        factory.deploy(_accountSalt(5), address(0), TERM_ENDS, address(0));

        vm.expectRevert(abi.encodeWithSelector(IGuardianshipAccount.InvalidSigner.selector, guardian));
        factory.deploy(_accountSalt(5), guardian, TERM_ENDS, guardian);

        vm.expectRevert(abi.encodeWithSelector(IGuardianshipAccount.InvalidTerm.selector, START, uint64(START)));
        factory.deploy(_accountSalt(5), guardian, START, address(0));
    }

    function test_initialize_twice_reverts() public {
        Ward memory w = _ward(6, TERM_ENDS);
        address other = vm.addr(_key("intruder", 6));
        vm.expectRevert(abi.encodeWithSelector(IGuardianshipAccount.AlreadyInitialized.selector));
        w.account.initialize(other, TERM_ENDS + 1, address(0));
        vm.assertEq(w.account.guardianSigner(), vm.addr(w.guardianKey), "the guardian stays");
    }

    function test_implementation_isLocked() public {
        IGuardianshipAccount impl = IGuardianshipAccount(factory.implementation());
        vm.expectRevert(abi.encodeWithSelector(IGuardianshipAccount.AlreadyInitialized.selector));
        impl.initialize(vm.addr(_key("intruder", 7)), TERM_ENDS, address(0));
        vm.assertEq(impl.guardianSigner(), address(0), "no guardian");
        bytes memory sig = _packed(_key("intruder", 7), DIGEST);
        vm.assertEq(impl.isValidSignature(DIGEST, sig), INVALID, "signs nothing");
    }

    /// @dev ConsentGrants asks IGuardianAuthority and OpenZeppelin's SignatureChecker asks IERC1271: same selectors.
    function test_interface_answersConsentGrantsAndErc1271() public pure {
        vm.assertEq(
            bytes32(IGuardianshipAccount.authorityEndsAt.selector),
            bytes32(IGuardianAuthority.authorityEndsAt.selector),
            "authorityEndsAt"
        );
        vm.assertEq(bytes32(GuardianshipAccount.isValidSignature.selector), bytes32(MAGIC), "ERC-1271 magic");
        vm.assertEq(bytes32(IERC1271.isValidSignature.selector), bytes32(MAGIC), "ERC-1271 selector");
    }

    /* ------------------------------------------------------------------ */
    /*                         ERC-1271 AND AUTHORITY                     */
    /* ------------------------------------------------------------------ */

    function test_isValidSignature_guardianUntilTheTerm_thenNobodyWithoutASuccessor() public {
        Ward memory w = _ward(10, TERM_ENDS);
        bytes memory byGuardian = _packed(w.guardianKey, DIGEST);
        bytes memory byPatient = _packed(w.patientKey, DIGEST);
        vm.assertEq(w.account.isValidSignature(DIGEST, byGuardian), MAGIC, "the guardian signs");
        vm.assertEq(w.account.isValidSignature(DIGEST, byPatient), INVALID, "not the patient");

        vm.warp(TERM_ENDS - 1);
        vm.assertEq(w.account.isValidSignature(DIGEST, byGuardian), MAGIC, "the term's last second");
        vm.warp(TERM_ENDS);
        vm.assertEq(w.account.isValidSignature(DIGEST, byGuardian), INVALID, "the term is over");
        vm.assertEq(w.account.isValidSignature(DIGEST, byPatient), INVALID, "no successor: nobody");
    }

    function test_isValidSignature_successorFromTheTerm() public {
        Ward memory w = _ward(11, TERM_ENDS);
        _nameSuccessor(w);
        bytes memory byPatient = _packed(w.patientKey, DIGEST);
        vm.assertEq(w.account.isValidSignature(DIGEST, byPatient), INVALID, "not before the term ends");

        vm.warp(TERM_ENDS);
        vm.assertEq(w.account.isValidSignature(DIGEST, byPatient), MAGIC, "the successor signs");
        vm.assertEq(w.account.isValidSignature(DIGEST, _packed(w.guardianKey, DIGEST)), INVALID, "not the guardian");
    }

    function test_isValidSignature_malformed_isInvalid() public {
        Ward memory w = _ward(12, TERM_ENDS);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(w.guardianKey, DIGEST);
        vm.assertEq(w.account.isValidSignature(DIGEST, abi.encodePacked(r, s, v)), MAGIC, "well formed");

        bytes32 highS = bytes32(SECP_N - uint256(s));
        uint8 flippedV = v == 27 ? 28 : 27;
        vm.assertTrue(uint256(highS) > HALF_N, "the malleable twin has a high s");
        vm.assertEq(w.account.isValidSignature(DIGEST, abi.encodePacked(r, highS, flippedV)), INVALID, "high s");
        vm.assertEq(w.account.isValidSignature(DIGEST, abi.encodePacked(r, s)), INVALID, "64 bytes");
        vm.assertEq(w.account.isValidSignature(DIGEST, abi.encodePacked(r, s, v, v)), INVALID, "66 bytes");
        vm.assertEq(w.account.isValidSignature(DIGEST, abi.encodePacked(r, s, uint8(29))), INVALID, "bad v");
        vm.assertEq(w.account.isValidSignature(keccak256("another"), abi.encodePacked(r, s, v)), INVALID, "digest");
    }

    function test_authorityEndsAt_theTermWhileTheGuardianIsInForce_thenNone() public {
        Ward memory w = _ward(13, TERM_ENDS);
        vm.warp(TERM_ENDS - 1);
        vm.assertEq(w.account.authorityEndsAt(), TERM_ENDS, "the guardian's term");
        vm.warp(TERM_ENDS);
        vm.assertEq(w.account.authorityEndsAt(), type(uint48).max, "the patient's key: no end");
    }

    /* ------------------------------------------------------------------ */
    /*                            SET SUCCESSOR                           */
    /* ------------------------------------------------------------------ */

    function test_setSuccessor_byTheGuardiansSignature_relayed() public {
        Ward memory w = _ward(20, TERM_ENDS);
        address patient = vm.addr(w.patientKey);
        uint256 deadline = START + 1 days;
        bytes memory sig = _setSuccessorSig(w, w.guardianKey, patient, 0, deadline);

        vm.expectEmit(address(w.account));
        emit IGuardianshipAccount.SuccessorSet(patient, 0);
        vm.prank(RELAYER);
        w.account.setSuccessor(patient, deadline, sig);
        vm.assertEq(w.account.successorSigner(), patient, "named");
        vm.assertEq(w.account.nonce(), 1, "nonce consumed");

        // Changed: the next nonce, another key.
        address other = vm.addr(_key("patient key, reissued", 20));
        sig = _setSuccessorSig(w, w.guardianKey, other, 1, deadline);
        vm.expectEmit(address(w.account));
        emit IGuardianshipAccount.SuccessorSet(other, 1);
        w.account.setSuccessor(other, deadline, sig);
        vm.assertEq(w.account.successorSigner(), other, "changed");
    }

    function test_setSuccessor_replayed_reverts() public {
        Ward memory w = _ward(21, TERM_ENDS);
        address patient = vm.addr(w.patientKey);
        bytes memory sig = _setSuccessorSig(w, w.guardianKey, patient, 0, TERM_ENDS);
        w.account.setSuccessor(patient, TERM_ENDS, sig);

        vm.expectRevert(abi.encodeWithSelector(IGuardianshipAccount.InvalidGuardianSignature.selector));
        w.account.setSuccessor(patient, TERM_ENDS, sig);
        vm.assertEq(w.account.nonce(), 1, "consumed once");
    }

    function test_setSuccessor_notByTheGuardian_reverts() public {
        Ward memory w = _ward(22, TERM_ENDS);
        address patient = vm.addr(w.patientKey);
        bytes memory sig = _setSuccessorSig(w, w.patientKey, patient, 0, TERM_ENDS);
        vm.expectRevert(abi.encodeWithSelector(IGuardianshipAccount.InvalidGuardianSignature.selector));
        w.account.setSuccessor(patient, TERM_ENDS, sig);

        sig = _setSuccessorSig(w, w.guardianKey, patient, 0, TERM_ENDS);
        vm.expectRevert(abi.encodeWithSelector(IGuardianshipAccount.InvalidGuardianSignature.selector));
        w.account.setSuccessor(vm.addr(_key("intruder", 22)), TERM_ENDS, sig);

        vm.expectRevert(abi.encodeWithSelector(IGuardianshipAccount.InvalidGuardianSignature.selector));
        w.account.setSuccessor(patient, TERM_ENDS, bytes.concat(sig, hex"00"));
        vm.assertEq(w.account.successorSigner(), address(0), "nobody named");
    }

    /// @dev The typed data names the account and the chain: a guardian key's signature for one account does nothing
    /// on another, nor on another chain.
    function test_setSuccessor_boundToTheAccountAndTheChain() public {
        Ward memory w = _ward(23, TERM_ENDS);
        address guardian = vm.addr(w.guardianKey);
        Ward memory twin = _plannedWard(23, TERM_ENDS);
        twin.account = IGuardianshipAccount(factory.deploy(_accountSalt(1023), guardian, TERM_ENDS, address(0)));
        vm.assertTrue(address(twin.account) != address(w.account), "two accounts of one guardian key");
        address patient = vm.addr(w.patientKey);

        bytes memory forTwin = _setSuccessorSig(twin, w.guardianKey, patient, 0, TERM_ENDS);
        vm.expectRevert(abi.encodeWithSelector(IGuardianshipAccount.InvalidGuardianSignature.selector));
        w.account.setSuccessor(patient, TERM_ENDS, forTwin);

        bytes memory sig = _setSuccessorSig(w, w.guardianKey, patient, 0, TERM_ENDS);
        uint256 chain = block.chainid;
        vm.chainId(chain + 1);
        vm.expectRevert(abi.encodeWithSelector(IGuardianshipAccount.InvalidGuardianSignature.selector));
        w.account.setSuccessor(patient, TERM_ENDS, sig);
        vm.chainId(chain);
        w.account.setSuccessor(patient, TERM_ENDS, sig);
        vm.assertEq(w.account.successorSigner(), patient, "on its own account and chain");
    }

    function test_setSuccessor_afterTheTermOrTheDeadline_reverts() public {
        Ward memory w = _ward(24, TERM_ENDS);
        address patient = vm.addr(w.patientKey);
        bytes memory sig = _setSuccessorSig(w, w.guardianKey, patient, 0, START + 1 days);
        vm.warp(START + 1 days + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IGuardianshipAccount.SignatureExpired.selector, START + 1 days, START + 1 days + 1)
        );
        w.account.setSuccessor(patient, START + 1 days, sig);

        sig = _setSuccessorSig(w, w.guardianKey, patient, 0, type(uint256).max);
        vm.warp(TERM_ENDS);
        vm.expectRevert(abi.encodeWithSelector(IGuardianshipAccount.TermEnded.selector, TERM_ENDS));
        w.account.setSuccessor(patient, type(uint256).max, sig);
    }

    function test_setSuccessor_zeroOrTheGuardiansKey_reverts() public {
        Ward memory w = _ward(25, TERM_ENDS);
        address guardian = vm.addr(w.guardianKey);
        bytes memory sig = _setSuccessorSig(w, w.guardianKey, address(0), 0, TERM_ENDS);
        vm.expectRevert(abi.encodeWithSelector(IGuardianshipAccount.InvalidSigner.selector, address(0)));
        w.account.setSuccessor(address(0), TERM_ENDS, sig);

        sig = _setSuccessorSig(w, w.guardianKey, guardian, 0, TERM_ENDS);
        vm.expectRevert(abi.encodeWithSelector(IGuardianshipAccount.InvalidSigner.selector, guardian));
        w.account.setSuccessor(guardian, TERM_ENDS, sig);
    }

    /* ------------------------------------------------------------------ */
    /*                       SHORTEN TERM, BURN NONCE                     */
    /* ------------------------------------------------------------------ */

    function test_shortenTerm_endsTheGuardiansAuthorityEarlier() public {
        Ward memory w = _ward(30, TERM_ENDS);
        _nameSuccessor(w);
        uint48 early = START + 100 days;
        bytes memory sig = _shortenSig(w, early, 1, START);

        vm.expectEmit(address(w.account));
        emit IGuardianshipAccount.TermShortened(TERM_ENDS, early, 1);
        vm.prank(RELAYER);
        w.account.shortenTerm(early, START, sig);
        vm.assertEq(w.account.termEndsAt(), early, "shortened");
        vm.assertEq(w.account.authorityEndsAt(), early, "authority with it");

        vm.warp(early);
        vm.assertEq(w.account.isValidSignature(DIGEST, _packed(w.patientKey, DIGEST)), MAGIC, "the patient signs");
        vm.assertEq(w.account.isValidSignature(DIGEST, _packed(w.guardianKey, DIGEST)), INVALID, "the guardian not");
    }

    function test_shortenTerm_toNow_endsItAtOnce() public {
        Ward memory w = _ward(31, TERM_ENDS);
        _nameSuccessor(w);
        w.account.shortenTerm(START, START, _shortenSig(w, START, 1, START));
        vm.assertEq(w.account.authorityEndsAt(), type(uint48).max, "over");
        vm.assertEq(w.account.isValidSignature(DIGEST, _packed(w.patientKey, DIGEST)), MAGIC, "the patient signs");
    }

    function test_shortenTerm_neverExtendsOrGoesBack() public {
        Ward memory w = _ward(32, TERM_ENDS);
        _nameSuccessor(w);
        uint48[2] memory notShorter = [TERM_ENDS, TERM_ENDS + 1];
        for (uint256 i = 0; i < notShorter.length; ++i) {
            bytes memory sig = _shortenSig(w, notShorter[i], 1, START);
            vm.expectRevert(
                abi.encodeWithSelector(IGuardianshipAccount.TermNotShortened.selector, notShorter[i], TERM_ENDS)
            );
            w.account.shortenTerm(notShorter[i], START, sig);
        }
        bytes memory past = _shortenSig(w, START - 1, 1, START);
        vm.expectRevert(abi.encodeWithSelector(IGuardianshipAccount.InvalidTerm.selector, START - 1, uint64(START)));
        w.account.shortenTerm(START - 1, START, past);
        vm.assertEq(w.account.termEndsAt(), TERM_ENDS, "unchanged");
    }

    function test_shortenTerm_withoutASuccessor_reverts() public {
        Ward memory w = _ward(33, TERM_ENDS);
        bytes memory sig = _shortenSig(w, START + 1 days, 0, START);
        vm.expectRevert(abi.encodeWithSelector(IGuardianshipAccount.NoSuccessor.selector));
        w.account.shortenTerm(START + 1 days, START, sig);
    }

    function test_shortenTerm_notByTheGuardian_reverts() public {
        Ward memory w = _ward(34, TERM_ENDS);
        _nameSuccessor(w);
        bytes32 structHash = keccak256(abi.encode(SHORTEN_TERM_TYPEHASH, START + 1 days, 1, START));
        bytes memory byPatient = _packed(w.patientKey, _accountDigest(w.account, structHash));
        vm.expectRevert(abi.encodeWithSelector(IGuardianshipAccount.InvalidGuardianSignature.selector));
        w.account.shortenTerm(START + 1 days, START, byPatient);
        vm.assertEq(w.account.termEndsAt(), TERM_ENDS, "unchanged");
    }

    function test_burnNonce_cancelsAnUnsubmittedAct() public {
        Ward memory w = _ward(35, TERM_ENDS);
        address patient = vm.addr(w.patientKey);
        bytes memory pending = _setSuccessorSig(w, w.guardianKey, patient, 0, TERM_ENDS);
        bytes memory burn =
            _packed(w.guardianKey, _accountDigest(w.account, keccak256(abi.encode(ACCOUNT_BURN_TYPEHASH, 0))));

        vm.expectEmit(address(w.account));
        emit IGuardianshipAccount.NonceBurned(0);
        vm.prank(RELAYER);
        w.account.burnNonce(burn);
        vm.assertEq(w.account.nonce(), 1, "burnt");

        vm.expectRevert(abi.encodeWithSelector(IGuardianshipAccount.InvalidGuardianSignature.selector));
        w.account.setSuccessor(patient, TERM_ENDS, pending);
        vm.expectRevert(abi.encodeWithSelector(IGuardianshipAccount.InvalidGuardianSignature.selector));
        w.account.burnNonce(burn);
    }

    /* ------------------------------------------------------------------ */
    /*                      END TO END WITH CONSENTGRANTS                 */
    /* ------------------------------------------------------------------ */

    function test_e2e_guardianSignedGrant_isMinted() public {
        Ward memory w = _ward(40, TERM_ENDS);
        IConsentGrants.GrantInput memory g = _wardInput(w, TERM_ENDS);

        vm.expectEmit(address(grants));
        emit IConsentGrant.ConsentGranted(w.commit, 0, CLINIC, GRU, TERM_ENDS);
        bytes32 id = _guardianGrant(w, g);

        vm.assertEq(id, w.commit, "a root grant's id is its commitment");
        vm.assertTrue(grants.isGrantActive(id), "active");
        vm.assertEq(grants.getGrant(id).expiresAt, TERM_ENDS, "until the term's end, not a second later");
        vm.assertEq(grants.nonces(w.commit), 1, "the subject's nonce moved");
        vm.warp(TERM_ENDS);
        vm.assertFalse(grants.isGrantActive(id), "over with the term");
    }

    function test_e2e_grantBeyondTheTerm_revertsBeyondAuthority() public {
        Ward memory w = _ward(41, TERM_ENDS);
        IConsentGrants.GrantInput memory g = _wardInput(w, TERM_ENDS + 1);
        bytes memory sig = _viaAccount(w, w.guardianKey, _grantHash(g, 0));
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.BeyondAuthority.selector, TERM_ENDS + 1, TERM_ENDS));
        grants.grant(g, sig);
        vm.assertFalse(grants.isGrantActive(w.commit), "nothing minted");
    }

    /// @dev The patient's key signs nothing through the account while the guardian is in force.
    function test_e2e_patientBeforeTheTerm_cannotGrant() public {
        Ward memory w = _ward(42, TERM_ENDS);
        _nameSuccessor(w);
        IConsentGrants.GrantInput memory g = _wardInput(w, TERM_ENDS);
        bytes memory sig = _viaAccount(w, w.patientKey, _grantHash(g, 0));
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.InvalidSubjectSignature.selector, w.commit));
        grants.grant(g, sig);
    }

    function test_e2e_afterTheTerm_theSuccessorRevokes_theGuardianCannot() public {
        Ward memory w = _ward(43, TERM_ENDS);
        bytes32 id = _guardianGrant(w, _wardInput(w, TERM_ENDS));
        _nameSuccessor(w);
        bytes32 reason = keccak256("carechain:reason:majority");
        bytes32 revokeHash = keccak256(abi.encode(REVOKE_TYPEHASH, id, reason, 1));

        // Before the term the guardian could; after it, not.
        vm.warp(TERM_ENDS);
        bytes memory byGuardian = _viaAccount(w, w.guardianKey, revokeHash);
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.InvalidSubjectSignature.selector, w.commit));
        grants.revokeBySubjectWithSig(id, reason, byGuardian);

        vm.expectEmit(address(grants));
        emit IConsentGrant.ConsentRevoked(id, w.commit, uint8(IConsentGrants.Status.REVOKED_BY_SUBJECT), reason);
        vm.prank(RELAYER);
        grants.revokeBySubjectWithSig(id, reason, _viaAccount(w, w.patientKey, revokeHash));
        vm.assertEq(grants.getGrant(id).status, uint8(IConsentGrants.Status.REVOKED_BY_SUBJECT), "revoked");
    }

    /// @dev Capacity regained: the guardian ends the term early; what it granted before keeps its expiry until the
    /// patient's key revokes it, and the guardian can no longer grant past the new end.
    function test_e2e_termShortened_thePatientTakesOver() public {
        Ward memory w = _ward(44, TERM_ENDS);
        bytes32 id = _guardianGrant(w, _wardInput(w, TERM_ENDS));
        _nameSuccessor(w);
        uint48 early = START + 30 days;
        w.account.shortenTerm(early, START, _shortenSig(w, early, 1, START));
        vm.assertEq(w.account.authorityEndsAt(), early, "the guardian's authority ends early");

        vm.warp(early);
        vm.assertTrue(grants.isGrantActive(id), "a grant made in the term keeps its expiry");
        bytes32 revokeHash = keccak256(abi.encode(REVOKE_TYPEHASH, id, bytes32(0), 1));
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.InvalidSubjectSignature.selector, w.commit));
        grants.revokeBySubjectWithSig(id, bytes32(0), _viaAccount(w, w.guardianKey, revokeHash));
        vm.prank(RELAYER);
        grants.revokeBySubjectWithSig(id, bytes32(0), _viaAccount(w, w.patientKey, revokeHash));
        vm.assertFalse(grants.isGrantActive(id), "the patient revoked it");
    }

    function test_e2e_shortenedTerm_capsANewGrant() public {
        Ward memory w = _ward(45, TERM_ENDS);
        _nameSuccessor(w);
        uint48 early = START + 30 days;
        w.account.shortenTerm(early, START, _shortenSig(w, early, 1, START));
        IConsentGrants.GrantInput memory g = _wardInput(w, early + 1);
        bytes memory sig = _viaAccount(w, w.guardianKey, _grantHash(g, 0));
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.BeyondAuthority.selector, early + 1, early));
        grants.grant(g, sig);
    }
}
