// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {ConsentGrants} from "../../contracts/ConsentGrants.sol";
import {ERC1271WalletMock} from "../../contracts/test/ERC1271WalletMock.sol";
import {IConsentGrant} from "../../contracts/interfaces/IConsentGrant.sol";
import {IConsentGrants} from "../../contracts/interfaces/IConsentGrants.sol";
import {IPurposeCodes} from "../../contracts/interfaces/IPurposeRegistry.sol";

import {GrantsTest} from "./utils/GrantsTest.sol";
import {SortedMerkle} from "./utils/SortedMerkle.sol";
import {Vm} from "./utils/Vm.sol";

/// @dev A subject key that acts for someone else for a term (a guardianship account): ERC-1271 by its owner, and
/// `authorityEndsAt` as ConsentGrants asks it.
contract GuardianKeyMock is ERC1271WalletMock {
    uint48 public immutable authorityEndsAt;

    constructor(address owner_, uint48 endsAt) ERC1271WalletMock(owner_) {
        authorityEndsAt = endsAt;
    }
}

/// @dev Unit tests of ConsentGrants, named after ERC-8356's rules (`test_erc_*`) so docs/conformance.md can cite
/// them, and of CareChain's own surface (batch, burnNonce, agent operators, issuers, refs interning). Typed data,
/// policy words, ids and Merkle trees are built in GrantsTest and here from the standard's text.
contract ConsentGrantsTest is GrantsTest {
    address internal constant STRANGER = address(0x57A4);
    address internal constant OPERATOR_2 = address(0x0BE5);
    uint48 internal constant END = START + 365 days;
    bytes32 internal constant REASON = keccak256("carechain/reason/withdrawn");
    bytes32 internal constant ISSUER_ROLE = keccak256("carechain.ISSUER");

    /// @dev OpenZeppelin StandardMerkleTree (@openzeppelin/merkle-tree 1.0.8) of the values
    /// [keccak256("scope salt"), keccak256(name)], types ["bytes32", "bytes32"], for the names labs, imaging, notes,
    /// genomics ("carechain:category:<name>"), in that order; root and the proof of labs printed by the library.
    bytes32 internal constant SCOPE_ROOT = 0xe102358f2404cee48b130c5032f3587588548639cf668190015d228766e86600;
    bytes32 internal constant LABS_LEAF = 0x3da5346640ede1b97b8cf082efe8d0fa84dfac1c31f9df3151d6f4cdecb2189f;
    bytes32 internal constant LABS_PROOF_0 = 0x0ac4ed0d8a6d14294d959ebec88bf87e4b9699ea41481e88cdd3b8e010cc90d1;
    bytes32 internal constant LABS_PROOF_1 = 0x855c0c17ba6b4a7549dc8f6c0d900b13ab2a2ae53fafeb29520c4dbf171c3e4b;

    /* ------------------------------------------------------------------ */
    /*                               HELPERS                              */
    /* ------------------------------------------------------------------ */

    function _category(string memory name) internal pure returns (bytes32) {
        return _resource(string.concat("carechain:category:", name));
    }

    /// @dev The four leaves in the order the library pairs them (labs with notes, imaging with genomics).
    function _scopeLeaves() internal pure returns (bytes32[] memory leaves) {
        leaves = new bytes32[](4);
        leaves[0] = _leaf(_category("labs"));
        leaves[1] = _leaf(_category("notes"));
        leaves[2] = _leaf(_category("imaging"));
        leaves[3] = _leaf(_category("genomics"));
    }

    /// @dev The proof of one leaf of SCOPE_ROOT (0 labs, 1 notes, 2 imaging, 3 genomics), built by SortedMerkle.
    function _scopeProof(uint256 index) internal pure returns (bytes32[] memory) {
        return SortedMerkle.proofOf(_scopeLeaves(), index);
    }

    function _noProof() internal pure returns (bytes32[] memory) {
        return new bytes32[](0);
    }

    /// @dev A grant over the four categories (FLAG_SCOPE_IS_ROOT), READ|QUERY for GRU for a year.
    function _rootScoped(Subject memory s, address grantee, uint8 flags)
        internal
        pure
        returns (IConsentGrants.GrantInput memory)
    {
        return _input(s, grantee, SCOPE_ROOT, _policy(START, END, READ | QUERY, GRU, 0, 0, SCOPE_IS_ROOT | flags));
    }

    function _withAgent(Subject memory s, address agent, uint8 kind)
        internal
        pure
        returns (IConsentGrants.GrantInput memory g)
    {
        g = _input(s, CLINIC, _resource("labs"), _policy(START, END, READ | QUERY, GRU, 0, kind, 0));
        g.agent = agent;
    }

    /// @dev A delegable root grant to COMMITTEE: READ|QUERY|DERIVE for GRU over one resource, [START, END), 10 uses,
    /// recorded against asset 7.
    function _delegableParent(uint256 seed)
        internal
        returns (Subject memory s, bytes32 id, IConsentGrants.GrantInput memory p)
    {
        s = _subject(seed);
        p = _input(s, COMMITTEE, _resource("labs"), _policy(START, END, READ | QUERY | DERIVE, GRU, 10, 0, DELEGABLE));
        p.assetTokenId = 7;
        id = _mint(s, p);
    }

    /// @dev A sub-grant input under `p` for `grantee` with `policy`, all else the parent's.
    function _child(IConsentGrants.GrantInput memory p, address grantee, uint256 policy)
        internal
        pure
        returns (IConsentGrants.GrantInput memory)
    {
        return IConsentGrants.GrantInput(
            p.scopeRef, p.purposeProfileRef, p.termsRef, p.assetTokenId, p.subjectCommit, grantee, address(0), policy
        );
    }

    function _expectAttenuation(bytes32 parentId, IConsentGrants.GrantInput memory c, IConsentGrants.Attenuation rule)
        internal
    {
        vm.prank(COMMITTEE);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.AttenuationViolated.selector, parentId, rule));
        grants.subGrant(parentId, c, _noProof());
    }

    function _canRead(address caller, bytes32 id) internal returns (bool) {
        vm.prank(caller);
        return grants.checkAccess(id, GRU, READ, _resource("labs"), _noProof());
    }

    function _canReadCategory(address caller, bytes32 id, uint256 index, string memory name) internal returns (bool) {
        bytes32[] memory proof = _scopeProof(index);
        vm.prank(caller);
        return grants.checkAccess(id, GRU, READ, _category(name), proof);
    }

    function _status(bytes32 id) internal view returns (uint8) {
        return grants.getGrant(id).status;
    }

    function _commitUsage(address caller, bytes32 id, uint64 epoch, uint32 count) internal {
        vm.prank(caller);
        grants.commitUsage(id, epoch, keccak256(abi.encode("head", epoch, count)), count);
    }

    function _suspend(address caller, bytes32 id) internal {
        vm.prank(caller);
        grants.suspend(id, REASON);
    }

    function _makeIssuer(address account) internal {
        vm.prank(ADMIN);
        grants.grantRole(ISSUER_ROLE, account);
    }

    /* ------------------------------------------------------------------ */
    /*                          AUTHORSHIP AND MINT                       */
    /* ------------------------------------------------------------------ */

    function test_erc_grantAuthoredBySubjectSignatureRelayed() public {
        Subject memory s = _subject(1);
        IConsentGrants.GrantInput memory g = _simple(s, CLINIC);
        bytes memory sig = _grantSig(s, g, 0);
        vm.assertEq(grants.grantDigest(g, 0), _digest(_grantHash(g, 0)), "the normative Grant digest");
        vm.assertEq(grants.DOMAIN_SEPARATOR(), _domain(), "domain ConsentGrant / 1 / chain / contract");

        vm.expectEmit(address(grants));
        emit IConsentGrant.ConsentGranted(s.commit, 0, CLINIC, GRU, END);
        vm.prank(RELAYER);
        bytes32 id = grants.grant(g, sig);

        vm.assertEq(id, s.commit, "a root grant's id is its subject commitment");
        vm.assertEq(grants.subjectOf(id), s.commit, "subjectOf");
        vm.assertEq(_status(id), ACTIVE, "ACTIVE");
        vm.assertTrue(grants.isGrantActive(id), "active");
        vm.assertEq(grants.nonces(s.commit), 1, "the signature's nonce is consumed");
    }

    function test_erc_grantRequiresTheSubjectKeysSignature() public {
        Subject memory s = _subject(1);
        Subject memory other = _subject(2);
        IConsentGrants.GrantInput memory g = _simple(s, CLINIC);
        bytes memory wrongKey = _sig(Subject(other.key, other.addr, s.salt, s.commit), _grantHash(g, 0));
        bytes memory wrongSalt = _sig(Subject(s.key, s.addr, other.salt, s.commit), _grantHash(g, 0));
        bytes[3] memory bad = [wrongKey, wrongSalt, bytes("")];
        // An issuer or the admin has no way around the subject either.
        _makeIssuer(CLINIC);
        address[3] memory callers = [RELAYER, CLINIC, ADMIN];
        for (uint256 i = 0; i < bad.length; ++i) {
            vm.prank(callers[i]);
            vm.expectRevert(abi.encodeWithSelector(IConsentGrants.InvalidSubjectSignature.selector, s.commit));
            grants.grant(g, bad[i]);
        }
        vm.assertEq(_status(s.commit), NONE, "nothing minted");
        vm.assertEq(grants.nonces(s.commit), 0, "no nonce consumed");
    }

    function test_erc_signatureBoundToChainAndContract() public {
        Subject memory s = _subject(1);
        IConsentGrants.GrantInput memory g = _simple(s, CLINIC);
        bytes32 structHash = _grantHash(g, 0);
        bytes32 otherChain = keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256("ConsentGrant"), keccak256("1"), block.chainid + 1, address(grants))
        );
        bytes32 otherContract = keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256("ConsentGrant"), keccak256("1"), block.chainid, address(purposes))
        );
        bytes32[2] memory domains = [otherChain, otherContract];
        for (uint256 i = 0; i < domains.length; ++i) {
            (uint8 v, bytes32 r, bytes32 sv) =
                vm.sign(s.key, keccak256(abi.encodePacked("\x19\x01", domains[i], structHash)));
            vm.prank(RELAYER);
            vm.expectRevert(abi.encodeWithSelector(IConsentGrants.InvalidSubjectSignature.selector, s.commit));
            grants.grant(g, abi.encode(s.salt, abi.encodePacked(r, sv, v)));
        }
    }

    function test_erc_grantRevertsIfIdExists() public {
        Subject memory s = _subject(1);
        _mint(s, _simple(s, CLINIC));
        IConsentGrants.GrantInput memory again = _simple(s, RESEARCHER);
        bytes memory sig = _grantSig(s, again, 1);
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.GrantExists.selector, s.commit));
        grants.grant(again, sig);

        // Nor after a withdrawal: re-granting needs a new id (a new subject key).
        _revoke(s, s.commit);
        sig = _grantSig(s, again, 2);
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.GrantExists.selector, s.commit));
        grants.grant(again, sig);
        vm.assertEq(_status(s.commit), REVOKED_BY_SUBJECT, "still withdrawn");
        vm.assertEq(grants.getGrant(s.commit).grantee, CLINIC, "not overwritten");
    }

    function test_erc_nonceConsumedOnEverySignature() public {
        Subject memory s = _subject(1);
        IConsentGrants.GrantInput memory g = _rootScoped(s, CLINIC, 0);
        bytes32 labs = _leaf(_category("labs"));
        bytes32 notes = _leaf(_category("notes"));

        // Nonce 0: a burn before the grant exists.
        bytes memory burn0 = _burnSig(s, 0);
        vm.prank(RELAYER);
        grants.burnNonce(s.commit, burn0);
        vm.assertEq(grants.nonces(s.commit), 1, "burn consumed 0");
        // Nonce 1: the grant.
        bytes memory grantSig = _grantSig(s, g, 1);
        vm.prank(RELAYER);
        grants.grant(g, grantSig);
        vm.assertEq(grants.nonces(s.commit), 2, "grant consumed 1");
        // Nonce 2: a leaf withdrawal; another leaf signed with the same nonce is now void.
        bytes memory notesAt2 = _leafSig(s, s.commit, notes, 2);
        _withdrawLeaf(s, s.commit, labs);
        vm.assertEq(grants.nonces(s.commit), 3, "leaf withdrawal consumed 2");
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.InvalidSubjectSignature.selector, s.commit));
        grants.revokeScopeLeafWithSig(s.commit, notes, notesAt2);
        // Nonce 3: the withdrawal of the grant.
        _revoke(s, s.commit);
        vm.assertEq(grants.nonces(s.commit), 4, "revocation consumed 3");
        // A replayed burn signature is void.
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.InvalidSubjectSignature.selector, s.commit));
        grants.burnNonce(s.commit, burn0);
        vm.assertEq(grants.nonces(s.commit), 4, "a failed signature consumes nothing");
    }

    function test_erc_unregisteredPurposeRejected() public {
        Subject memory s = _subject(1);
        IConsentGrants.GrantInput memory g =
            _input(s, CLINIC, _resource("labs"), _policy(START, END, READ, 7777, 0, 0, 0));
        bytes memory sig = _grantSig(s, g, 0);
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.PurposeNotRegistered.selector, uint32(7777)));
        grants.grant(g, sig);
    }

    function test_erc_reservedBitsRejected() public {
        uint256 valid = _policy(START, END, READ, GRU, 0, 0, 0);
        uint256[12] memory bad = [
            valid | (uint256(1) << 192), // reserved high bits
            valid | (uint256(1) << 255),
            valid | (uint256(0x08) << 184), // reserved flags 0x08 .. 0x80
            valid | (uint256(0x80) << 184),
            valid | (uint256(0x20) << 96), // reserved ops 0x20 and above
            valid | (uint256(0x80000000) << 96),
            _policy(START, END, 0, GRU, 0, 0, 0), // no op
            _policy(START, END, READ, 0, 0, 0, 0), // no purpose
            _policy(START, END, READ, GRU, 0, 5, 0), // an agent kind ERC-8356 does not define
            _policy(START, END, READ, GRU, 0, 255, 0),
            valid | (uint256(0x10) << 184),
            valid | (uint256(0x100) << 96)
        ];
        for (uint256 i = 0; i < bad.length; ++i) {
            Subject memory s = _subject(100 + i);
            IConsentGrants.GrantInput memory g = _input(s, CLINIC, _resource("labs"), bad[i]);
            if (i == 8 || i == 9) g.agent = AGENT;
            bytes memory sig = _grantSig(s, g, 0);
            vm.prank(RELAYER);
            vm.expectRevert(abi.encodeWithSelector(IConsentGrants.InvalidPolicy.selector, bad[i]));
            grants.grant(g, sig);
        }
    }

    function test_grant_windowMustBeOpenAndAhead() public {
        vm.warp(START + 10);
        uint48[2][3] memory windows = [[START + 20, START + 20], [START + 30, START + 20], [START, START + 10]];
        for (uint256 i = 0; i < windows.length; ++i) {
            Subject memory s = _subject(i);
            IConsentGrants.GrantInput memory g =
                _input(s, CLINIC, _resource("labs"), _policy(windows[i][0], windows[i][1], READ, GRU, 0, 0, 0));
            bytes memory sig = _grantSig(s, g, 0);
            vm.prank(RELAYER);
            vm.expectRevert(
                abi.encodeWithSelector(
                    IConsentGrants.InvalidWindow.selector, windows[i][0], windows[i][1], uint64(START + 10)
                )
            );
            grants.grant(g, sig);
        }
        // A window that started in the past and ends ahead is fine.
        Subject memory ok = _subject(9);
        _mint(ok, _input(ok, CLINIC, _resource("labs"), _policy(0, START + 11, READ, GRU, 0, 0, 0)));
        vm.assertTrue(grants.isGrantActive(ok.commit), "notBefore 0, expiresAt ahead");
    }

    function test_grant_needsGranteeCommitmentAndAConsistentAgentLeg() public {
        Subject memory s = _subject(1);
        IConsentGrants.GrantInput memory g = _simple(s, address(0));
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.InvalidGrantee.selector, address(0)));
        grants.grant(g, "");

        g = _simple(s, CLINIC);
        g.subjectCommit = bytes32(0);
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.InvalidGrantee.selector, CLINIC));
        grants.grant(g, "");

        g = _simple(s, CLINIC);
        g.agent = AGENT; // an agent without a kind
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.InvalidAgent.selector, AGENT, uint8(0)));
        grants.grant(g, "");

        g = _withAgent(s, address(0), SESSION_KEY); // a kind without an agent
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.InvalidAgent.selector, address(0), SESSION_KEY));
        grants.grant(g, "");
    }

    function test_erc_inputCannotSetControlledFields() public {
        Subject memory s = _subject(1);
        IConsentGrants.GrantInput memory g = _withAgent(s, AGENT, SESSION_KEY);
        g.policy |= uint256(DELEGABLE) << 184;
        // The input is eight words: the signed fields of Grant but the nonce, and nothing else.
        vm.assertEq(abi.encode(g).length, 8 * 32, "eight static fields");
        // Nothing above bit 191 of the policy (where a status or depth could be smuggled) is accepted.
        IConsentGrants.GrantInput memory smuggled = _simple(s, CLINIC);
        smuggled.policy |= (uint256(REVOKED_BY_SUBJECT) << 192) | (uint256(3) << 200);
        bytes memory smuggledSig = _grantSig(s, smuggled, 0);
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.InvalidPolicy.selector, smuggled.policy));
        grants.grant(smuggled, smuggledSig);

        bytes32 id = _mint(s, g);
        IConsentGrants.ConsentGrant memory got = grants.getGrant(id);
        vm.assertEq(got.status, ACTIVE, "status set by the contract");
        vm.assertEq(got.depth, 0, "depth 0");
        vm.assertEq(got.parentGrantId, bytes32(0), "no parent");
        vm.assertEq(got.agentStatus, LEG_ACTIVE, "agent leg live");
        vm.assertEq(got.useCount, 0, "no use");
        vm.assertEq(got.lastUsedAt, 0, "never used");

        IConsentGrants.GrantInput memory c = _child(g, RESEARCHER, _policy(START, END, READ, GRU, 0, 0, 0));
        bytes32 childId = _sub(id, CLINIC, c);
        got = grants.getGrant(childId);
        vm.assertEq(got.depth, 1, "depth = parent's + 1");
        vm.assertEq(got.parentGrantId, id, "parent recorded by the contract");
        vm.assertEq(got.status, ACTIVE, "ACTIVE");
        vm.assertEq(got.agentStatus, NONE, "no agent leg");
    }

    /* ------------------------------------------------------------------ */
    /*                         SIGNATURE FORMS                            */
    /* ------------------------------------------------------------------ */

    function test_eip2098_compactSignatureGrantsAndRevokes() public {
        Subject memory s = _subject(1);
        IConsentGrants.GrantInput memory g = _simple(s, CLINIC);
        bytes memory sig = _compactSig(s, _grantHash(g, 0));
        vm.assertEq(sig.length, 32 + 32 + 32 + 64, "abi.encode(salt, 64 bytes)");
        vm.prank(RELAYER);
        grants.grant(g, sig);
        vm.assertTrue(grants.isGrantActive(s.commit), "granted with a 64-byte signature");

        bytes memory revokeSig = _compactSig(s, keccak256(abi.encode(REVOKE_TYPEHASH, s.commit, REASON, uint256(1))));
        vm.prank(RELAYER);
        grants.revokeBySubjectWithSig(s.commit, REASON, revokeSig);
        vm.assertEq(_status(s.commit), REVOKED_BY_SUBJECT, "withdrawn with a 64-byte signature");
    }

    /// @dev The malleable twin (s' = n - s, the other parity) is refused in both forms, as are a bad v and r.
    function test_signature_highSAndBadVRejected() public {
        Subject memory s = _subject(1);
        IConsentGrants.GrantInput memory g = _simple(s, CLINIC);
        (uint8 v, bytes32 r, bytes32 sv) = vm.sign(s.key, _digest(_grantHash(g, 0)));
        uint256 twinS = SECP_N - uint256(sv);
        uint8 twinV = v == 27 ? 28 : 27;
        bytes[4] memory bad = [
            abi.encodePacked(r, twinS, twinV),
            abi.encodePacked(r, twinS | (uint256(twinV - 27) << 255)),
            abi.encodePacked(r, sv, uint8(29)),
            abi.encodePacked(bytes32(0), sv, v)
        ];
        for (uint256 i = 0; i < bad.length; ++i) {
            vm.prank(RELAYER);
            vm.expectRevert(abi.encodeWithSelector(IConsentGrants.InvalidSubjectSignature.selector, s.commit));
            grants.grant(g, abi.encode(s.salt, bad[i]));
        }
        vm.prank(RELAYER);
        grants.grant(g, abi.encode(s.salt, abi.encodePacked(r, sv, v)));
        vm.assertTrue(grants.isGrantActive(s.commit), "the canonical signature goes through");
    }

    function test_signature_malformedSubjectSigRejected() public {
        Subject memory s = _subject(1);
        IConsentGrants.GrantInput memory g = _simple(s, CLINIC);
        bytes memory good = _grantSig(s, g, 0);
        bytes memory shortSig = new bytes(95);
        bytes memory wrongOffset = bytes.concat(bytes32(s.salt), bytes32(uint256(96)), new bytes(96));
        bytes memory overlong = abi.encodePacked(s.salt, uint256(64), uint256(200), new bytes(96));
        bytes memory oddLength = abi.encode(s.salt, new bytes(63));
        bytes[4] memory bad = [shortSig, wrongOffset, overlong, oddLength];
        for (uint256 i = 0; i < bad.length; ++i) {
            vm.prank(RELAYER);
            vm.expectRevert(abi.encodeWithSelector(IConsentGrants.InvalidSubjectSignature.selector, s.commit));
            grants.grant(g, bad[i]);
        }
        vm.prank(RELAYER);
        grants.grant(g, good);
        vm.assertTrue(grants.isGrantActive(s.commit), "the well-formed one goes through");
    }

    function test_erc_zeroAddressKeyNeverOpens() public {
        bytes32 salt = keccak256("salt of a commitment to address 0");
        bytes32 commit = keccak256(abi.encode(salt, address(0)));
        IConsentGrants.GrantInput memory g = _simple(Subject(0, address(0), salt, commit), CLINIC);
        bytes[6] memory bad = [
            new bytes(65), // r = s = 0, v = 0
            abi.encodePacked(bytes32(uint256(1)), bytes32(uint256(1)), uint8(27)), // ecrecover finds no key
            new bytes(64),
            abi.encodePacked(address(0), new bytes(65)), // ERC-1271 form naming address 0
            abi.encodePacked(address(0), uint8(1)),
            new bytes(0)
        ];
        for (uint256 i = 0; i < bad.length; ++i) {
            vm.prank(RELAYER);
            vm.expectRevert(abi.encodeWithSelector(IConsentGrants.InvalidSubjectSignature.selector, commit));
            grants.grant(g, abi.encode(salt, bad[i]));
            vm.prank(RELAYER);
            vm.expectRevert(abi.encodeWithSelector(IConsentGrants.InvalidSubjectSignature.selector, commit));
            grants.burnNonce(commit, abi.encode(salt, bad[i]));
        }
        vm.assertEq(_status(commit), NONE, "nothing minted");
        vm.assertEq(grants.nonces(commit), 0, "no nonce burned");
    }

    function test_erc1271_contractSubjectKeyGrantsAndRevokes() public {
        address owner = vm.addr(0x0A11CE);
        ERC1271WalletMock wallet = new ERC1271WalletMock(owner);
        bytes32 salt = keccak256("wallet salt");
        Subject memory s = Subject(0x0A11CE, address(wallet), salt, keccak256(abi.encode(salt, address(wallet))));
        IConsentGrants.GrantInput memory g = _simple(s, CLINIC);

        // The wallet's owner signs the digest; the contract asks the wallet.
        (uint8 v, bytes32 r, bytes32 sv) = vm.sign(0x0A11CE, _digest(_grantHash(g, 0)));
        vm.prank(RELAYER);
        grants.grant(g, abi.encode(salt, abi.encodePacked(address(wallet), r, sv, v)));
        vm.assertTrue(grants.isGrantActive(s.commit), "granted by an ERC-1271 key");

        // A signature the wallet refuses (another signer), and one naming another wallet of the same owner.
        bytes32 revokeDigest = _digest(keccak256(abi.encode(REVOKE_TYPEHASH, s.commit, REASON, uint256(1))));
        (v, r, sv) = vm.sign(0xB0B, revokeDigest);
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.InvalidSubjectSignature.selector, s.commit));
        grants.revokeBySubjectWithSig(s.commit, REASON, abi.encode(salt, abi.encodePacked(address(wallet), r, sv, v)));
        (v, r, sv) = vm.sign(0x0A11CE, revokeDigest);
        ERC1271WalletMock twin = new ERC1271WalletMock(owner);
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.InvalidSubjectSignature.selector, s.commit));
        grants.revokeBySubjectWithSig(s.commit, REASON, abi.encode(salt, abi.encodePacked(address(twin), r, sv, v)));

        vm.prank(RELAYER);
        grants.revokeBySubjectWithSig(s.commit, REASON, abi.encode(salt, abi.encodePacked(address(wallet), r, sv, v)));
        vm.assertEq(_status(s.commit), REVOKED_BY_SUBJECT, "withdrawn by the ERC-1271 key");
    }

    function test_guardianKey_grantsNothingBeyondItsAuthority() public {
        uint48 termEnds = START + 30 days;
        GuardianKeyMock key = new GuardianKeyMock(vm.addr(0x6A4D), termEnds);
        bytes32 salt = keccak256("guardian salt");
        Subject memory s = Subject(0x6A4D, address(key), salt, keccak256(abi.encode(salt, address(key))));
        IConsentGrants.GrantInput memory g =
            _input(s, CLINIC, _resource("labs"), _policy(START, termEnds + 1, READ, GRU, 0, 0, 0));
        (uint8 v, bytes32 r, bytes32 sv) = vm.sign(0x6A4D, _digest(_grantHash(g, 0)));
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.BeyondAuthority.selector, termEnds + 1, termEnds));
        grants.grant(g, abi.encode(salt, abi.encodePacked(address(key), r, sv, v)));

        g.policy = _policy(START, termEnds, READ, GRU, 0, 0, 0);
        (v, r, sv) = vm.sign(0x6A4D, _digest(_grantHash(g, 0)));
        vm.prank(RELAYER);
        grants.grant(g, abi.encode(salt, abi.encodePacked(address(key), r, sv, v)));
        vm.assertEq(grants.getGrant(s.commit).expiresAt, termEnds, "a grant up to the term's end");
    }

    function test_erc_directSubjectPathsRevertSubjectSignatureRequired() public {
        Subject memory s = _subject(1);
        bytes32 id = _mint(s, _rootScoped(s, CLINIC, 0));
        vm.prank(s.addr); // even from the subject key itself
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.SubjectSignatureRequired.selector));
        grants.revokeBySubject(id, REASON);
        vm.prank(s.addr);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.SubjectSignatureRequired.selector));
        grants.revokeScopeLeaf(id, LABS_LEAF);
        vm.assertTrue(grants.isGrantActive(id), "still active");
        vm.assertFalse(grants.isLeafWithdrawn(id, LABS_LEAF), "leaf still in scope");
    }

    /* ------------------------------------------------------------------ */
    /*                                 BATCH                              */
    /* ------------------------------------------------------------------ */

    function test_batch_itemsFailAloneWithGrantFailed() public {
        IConsentGrants.GrantInput[] memory gs = new IConsentGrants.GrantInput[](5);
        bytes[] memory sigs = new bytes[](5);
        Subject[5] memory subjects = [_subject(1), _subject(2), _subject(3), _subject(4), _subject(5)];
        for (uint256 i = 0; i < 5; ++i) {
            gs[i] = _simple(subjects[i], COMMITTEE);
            sigs[i] = _grantSig(subjects[i], gs[i], 0);
        }
        sigs[1] = _grantSig(subjects[0], gs[1], 0); // a signature by another key
        vm.prank(STRANGER);
        grants.grant(gs[2], sigs[2]); // item 2 front-run
        bytes memory burn = _burnSig(subjects[3], 0);
        vm.prank(RELAYER);
        grants.burnNonce(subjects[3].commit, burn); // item 3's nonce burned

        vm.expectEmit(address(grants));
        emit IConsentGrants.GrantFailed(1, subjects[1].commit, IConsentGrants.InvalidSubjectSignature.selector);
        vm.expectEmit(address(grants));
        emit IConsentGrants.GrantFailed(2, subjects[2].commit, IConsentGrants.GrantExists.selector);
        vm.expectEmit(address(grants));
        emit IConsentGrants.GrantFailed(3, subjects[3].commit, IConsentGrants.InvalidSubjectSignature.selector);
        vm.prank(RELAYER);
        uint256 minted = grants.grantBatch(gs, sigs);

        vm.assertEq(minted, 2, "items 0 and 4 minted");
        vm.assertTrue(grants.isGrantActive(subjects[0].commit), "item 0");
        vm.assertTrue(grants.isGrantActive(subjects[4].commit), "item 4");
        vm.assertEq(_status(subjects[1].commit), NONE, "item 1: bad signature");
        vm.assertEq(grants.nonces(subjects[1].commit), 0, "item 1 consumed nothing");
        vm.assertEq(grants.nonces(subjects[2].commit), 1, "item 2 counted once");
        vm.assertEq(_status(subjects[3].commit), NONE, "item 3: burned");
        vm.assertEq(grants.nonces(subjects[3].commit), 1, "item 3's only nonce use is the burn");
    }

    function test_batch_lengthsMustMatchAndItemsAreTheContractsOwn() public {
        Subject memory s = _subject(1);
        IConsentGrants.GrantInput[] memory gs = new IConsentGrants.GrantInput[](1);
        gs[0] = _simple(s, CLINIC);
        bytes[] memory sigs = new bytes[](2);
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.LengthMismatch.selector));
        grants.grantBatch(gs, sigs);

        bytes memory sig = _grantSig(s, gs[0], 0);
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.OnlySelf.selector));
        grants.grantFromBatch(gs[0], sig);
        vm.assertEq(_status(s.commit), NONE, "nothing minted");
    }

    /* ------------------------------------------------------------------ */
    /*                         SUBJECT WITHDRAWAL                         */
    /* ------------------------------------------------------------------ */

    function test_erc_relayedRevocationBySubjectWithSig() public {
        Subject memory s = _subject(1);
        bytes32 id = _mint(s, _simple(s, CLINIC));
        uint256 epoch = grants.revocationEpoch();
        bytes memory sig = _revokeSig(s, id, REASON, 1);

        vm.expectEmit(address(grants));
        emit IConsentGrant.ConsentRevoked(id, s.commit, REVOKED_BY_SUBJECT, REASON);
        vm.prank(STRANGER); // anyone submits: the subject needs neither a wallet nor gas
        grants.revokeBySubjectWithSig(id, REASON, sig);

        vm.assertEq(_status(id), REVOKED_BY_SUBJECT, "REVOKED_BY_SUBJECT");
        vm.assertFalse(grants.isGrantActive(id), "inactive at once");
        vm.assertEq(grants.effectiveStatus(id), REVOKED_BY_SUBJECT, "effective status");
        vm.assertEq(grants.nonces(s.commit), 2, "nonce consumed");
        vm.assertEq(grants.revocationEpoch(), epoch + 1, "epoch moved");
        vm.assertFalse(_canRead(CLINIC, id), "no access");
    }

    function test_revokeBySubjectWithSig_rejectsAnotherActOrAStaleNonce() public {
        Subject memory s = _subject(1);
        bytes32 id = _mint(s, _simple(s, CLINIC));
        Subject memory other = _subject(2);
        _mint(other, _simple(other, CLINIC));
        bytes[4] memory bad = [
            _revokeSig(s, id, keccak256("another reason"), 1),
            _revokeSig(s, other.commit, REASON, 1),
            _revokeSig(s, id, REASON, 0),
            _leafSig(s, id, REASON, 1)
        ];
        for (uint256 i = 0; i < bad.length; ++i) {
            vm.prank(RELAYER);
            vm.expectRevert(abi.encodeWithSelector(IConsentGrants.InvalidSubjectSignature.selector, s.commit));
            grants.revokeBySubjectWithSig(id, REASON, bad[i]);
        }
        bytes32 unknown = keccak256("no such grant");
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.WrongStatus.selector, unknown, NONE));
        grants.revokeBySubjectWithSig(unknown, REASON, bad[0]);
        vm.assertTrue(grants.isGrantActive(id), "still active");
    }

    /// @dev "SUSPENDED -> REVOKED_BY_SUBJECT: subject always wins": a grantee's hold does not block the withdrawal.
    function test_erc_subjectRevocationOverridesSuspension() public {
        Subject memory s = _subject(1);
        bytes32 id = _mint(s, _simple(s, CLINIC));
        _suspend(CLINIC, id);
        _revoke(s, id);
        vm.assertEq(_status(id), REVOKED_BY_SUBJECT, "withdrawn while suspended");
        vm.prank(CLINIC);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.WrongStatus.selector, id, REVOKED_BY_SUBJECT));
        grants.resume(id);
    }

    function test_burnNonce_cancelsAnUnsubmittedSignature() public {
        Subject memory s = _subject(1);
        IConsentGrants.GrantInput memory g = _simple(s, CLINIC);
        bytes memory unsubmitted = _grantSig(s, g, 0);
        bytes memory burn = _burnSig(s, 0);

        vm.expectEmit(address(grants));
        emit IConsentGrants.NonceBurned(s.commit, 0);
        vm.prank(RELAYER);
        grants.burnNonce(s.commit, burn);
        vm.assertEq(grants.nonces(s.commit), 1, "nonce 0 consumed");
        vm.assertEq(_status(s.commit), NONE, "a burn writes no grant");
        vm.assertEq(grants.subjectOf(s.commit), bytes32(0), "no grant to name a subject");

        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.InvalidSubjectSignature.selector, s.commit));
        grants.grant(g, unsubmitted);

        // The subject signs again with the next nonce.
        _mint(s, g);
        vm.assertTrue(grants.isGrantActive(s.commit), "re-signed grant");
        vm.assertEq(grants.nonces(s.commit), 2, "nonce 1 consumed");
    }

    function test_burnNonce_needsTheSubjectsSignature() public {
        Subject memory s = _subject(1);
        Subject memory other = _subject(2);
        bytes memory foreign = _sig(other, keccak256(abi.encode(BURN_TYPEHASH, s.commit, uint256(0))));
        bytes memory otherCommit = _burnSig(other, 0); // signed for the other commitment
        bytes[2] memory bad = [foreign, otherCommit];
        for (uint256 i = 0; i < bad.length; ++i) {
            vm.prank(RELAYER);
            vm.expectRevert(abi.encodeWithSelector(IConsentGrants.InvalidSubjectSignature.selector, s.commit));
            grants.burnNonce(s.commit, bad[i]);
        }
        vm.assertEq(grants.nonces(s.commit), 0, "nothing burned");
    }

    /* ------------------------------------------------------------------ */
    /*                           SCOPE LEAVES                             */
    /* ------------------------------------------------------------------ */

    function test_erc_merkleLeafAndSortedPairs() public {
        // Leaf: keccak256(bytes.concat(keccak256(resourceId))), OpenZeppelin's StandardMerkleTree leaf.
        vm.assertEq(_leaf(_category("labs")), LABS_LEAF, "the library's leaf of labs");
        // Interior nodes: sorted pairs; SortedMerkle's tree over the same leaves has the library's root and proof.
        vm.assertEq(SortedMerkle.rootOf(_scopeLeaves()), SCOPE_ROOT, "the library's root");
        bytes32[] memory proof = _scopeProof(0);
        vm.assertEq(proof.length, 2, "two levels");
        vm.assertEq(proof[0], LABS_PROOF_0, "sibling");
        vm.assertEq(proof[1], LABS_PROOF_1, "uncle");

        Subject memory s = _subject(1);
        bytes32 id = _mint(s, _rootScoped(s, CLINIC, 0));
        string[4] memory names = ["labs", "notes", "imaging", "genomics"];
        for (uint256 i = 0; i < names.length; ++i) {
            vm.assertTrue(_canReadCategory(CLINIC, id, i, names[i]), "every leaf proves");
        }
        vm.assertFalse(_canReadCategory(CLINIC, id, 1, "labs"), "another leaf's proof");
        // An interior node handed in as a resource with the rest of its path: its hash is not a leaf (the double hash).
        bytes32 inner = SortedMerkle.hashPair(_leaf(_category("labs")), _leaf(_category("notes")));
        vm.assertEq(SortedMerkle.hashPair(inner, LABS_PROOF_1), SCOPE_ROOT, "the node and its sibling make the root");
        bytes32[] memory upper = new bytes32[](1);
        upper[0] = LABS_PROOF_1;
        vm.prank(CLINIC);
        vm.assertFalse(grants.checkAccess(id, GRU, READ, inner, upper), "an inner node is no resource");
        vm.prank(CLINIC);
        vm.assertFalse(grants.checkAccess(id, GRU, READ, _category("labs"), _noProof()), "a root needs a proof");
    }

    function test_erc_merkleSingleLeafAndUnsortedPairs() public {
        bytes32 labs = _leaf(_category("labs"));
        bytes32 notes = _leaf(_category("notes"));
        (bytes32 lo, bytes32 hi) = labs < notes ? (labs, notes) : (notes, labs);
        // A single-leaf tree: scopeRef == leaf and an empty proof.
        Subject memory one = _subject(1);
        bytes32 single = _mint(one, _input(one, CLINIC, labs, _policy(START, END, READ, GRU, 0, 0, SCOPE_IS_ROOT)));
        vm.prank(CLINIC);
        vm.assertTrue(grants.checkAccess(single, GRU, READ, _category("labs"), _noProof()), "single leaf");
        // A root hashed in the unsorted order proves nothing.
        Subject memory two = _subject(2);
        bytes32 unsortedRoot = keccak256(abi.encodePacked(hi, lo));
        bytes32 unsorted =
            _mint(two, _input(two, CLINIC, unsortedRoot, _policy(START, END, READ, GRU, 0, 0, SCOPE_IS_ROOT)));
        bytes32[] memory proof = new bytes32[](1);
        proof[0] = notes;
        vm.prank(CLINIC);
        vm.assertFalse(grants.checkAccess(unsorted, GRU, READ, _category("labs"), proof), "unsorted pair");
        Subject memory three = _subject(3);
        bytes32 sorted = _mint(
            three,
            _input(
                three, CLINIC, keccak256(abi.encodePacked(lo, hi)), _policy(START, END, READ, GRU, 0, 0, SCOPE_IS_ROOT)
            )
        );
        vm.prank(CLINIC);
        vm.assertTrue(grants.checkAccess(sorted, GRU, READ, _category("labs"), proof), "sorted pair");
    }

    function test_erc_scopeLeafWithdrawnOnAncestor() public {
        Subject memory s = _subject(1);
        bytes32 parent = _mint(s, _rootScoped(s, COMMITTEE, DELEGABLE));
        IConsentGrants.GrantInput memory sameRoot = _child(
            _rootScoped(s, COMMITTEE, 0), RESEARCHER, _policy(START, END, READ, GRU, 0, 0, SCOPE_IS_ROOT | DELEGABLE)
        );
        bytes32 childRoot = _sub(parent, COMMITTEE, sameRoot);
        IConsentGrants.GrantInput memory oneLeaf =
            _input(s, CLINIC, _category("notes"), _policy(START, END, READ, GRU, 0, 0, 0));
        vm.prank(COMMITTEE);
        bytes32 childLeaf = grants.subGrant(parent, oneLeaf, _scopeProof(1));
        vm.assertTrue(_canReadCategory(CLINIC, childLeaf, 1, "notes"), "before: the leaf child reads notes");

        uint256 epoch = grants.revocationEpoch();
        bytes32 notes = _leaf(_category("notes"));
        bytes memory sig = _leafSig(s, parent, notes, 1);
        vm.expectEmit(address(grants));
        emit IConsentGrant.ScopeLeafRevoked(parent, notes);
        vm.prank(RELAYER);
        grants.revokeScopeLeafWithSig(parent, notes, sig);
        vm.assertEq(grants.revocationEpoch(), epoch + 1, "epoch moved");
        vm.assertTrue(grants.isLeafWithdrawn(parent, notes), "recorded on the parent");
        vm.assertFalse(grants.isLeafWithdrawn(childRoot, notes), "and only there");

        vm.assertFalse(_canReadCategory(COMMITTEE, parent, 1, "notes"), "parent: notes withdrawn");
        vm.assertTrue(_canReadCategory(COMMITTEE, parent, 0, "labs"), "parent: labs stays");
        vm.assertFalse(_canReadCategory(RESEARCHER, childRoot, 1, "notes"), "child: withdrawn on the ancestor");
        vm.assertTrue(_canReadCategory(RESEARCHER, childRoot, 0, "labs"), "child: labs stays");
        vm.prank(CLINIC);
        vm.assertFalse(grants.checkAccess(childLeaf, GRU, READ, _category("notes"), _noProof()), "leaf child too");
        vm.assertTrue(grants.isGrantActive(childLeaf), "the grant itself survives");

        // No child can re-list the withdrawn leaf, at any depth.
        IConsentGrants.GrantInput memory relist =
            _input(s, RESEARCHER, _category("notes"), _policy(START, END, READ, GRU, 0, 0, 0));
        vm.prank(COMMITTEE);
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsentGrants.AttenuationViolated.selector, parent, IConsentGrants.Attenuation.SCOPE
            )
        );
        grants.subGrant(parent, relist, _scopeProof(1));
        relist.grantee = CLINIC;
        vm.prank(RESEARCHER);
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsentGrants.AttenuationViolated.selector, childRoot, IConsentGrants.Attenuation.SCOPE
            )
        );
        grants.subGrant(childRoot, relist, _scopeProof(1));
    }

    function test_revokeScopeLeafWithSig_errors() public {
        Subject memory s = _subject(1);
        bytes32 leafScoped = _mint(s, _simple(s, CLINIC));
        bytes memory sig = _leafSig(s, leafScoped, LABS_LEAF, 1);
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.NotScopeRoot.selector, leafScoped));
        grants.revokeScopeLeafWithSig(leafScoped, LABS_LEAF, sig);

        bytes32 unknown = keccak256("no such grant");
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.UnknownGrant.selector, unknown));
        grants.revokeScopeLeafWithSig(unknown, LABS_LEAF, sig);

        Subject memory r = _subject(2);
        bytes32 rooted = _mint(r, _rootScoped(r, CLINIC, 0));
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.InvalidSubjectSignature.selector, r.commit));
        grants.revokeScopeLeafWithSig(rooted, LABS_LEAF, _leafSig(s, rooted, LABS_LEAF, 1));
        _withdrawLeaf(r, rooted, LABS_LEAF);
        bytes memory again = _leafSig(r, rooted, LABS_LEAF, 2);
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.LeafAlreadyWithdrawn.selector, rooted, LABS_LEAF));
        grants.revokeScopeLeafWithSig(rooted, LABS_LEAF, again);
    }

    /* ------------------------------------------------------------------ */
    /*                             SUB-GRANTS                             */
    /* ------------------------------------------------------------------ */

    function test_subGrant_mintsAChildWithItsSpecId() public {
        (Subject memory s, bytes32 parent, IConsentGrants.GrantInput memory p) = _delegableParent(1);
        IConsentGrants.GrantInput memory c = _child(p, RESEARCHER, _policy(START, END, READ, HMB, 5, 0, 0));
        bytes32 expected = _subId(parent, c);
        vm.expectEmit(address(grants));
        emit IConsentGrant.ConsentSubGranted(expected, parent, 1);
        bytes32 id = _sub(parent, COMMITTEE, c);
        vm.assertEq(id, expected, "id = keccak256(abi.encode(parentGrantId, g))");
        vm.assertEq(grants.subjectOf(id), s.commit, "the parent's subject");
        vm.assertTrue(grants.isGrantActive(id), "active");
        vm.prank(RESEARCHER);
        vm.assertTrue(grants.checkAccess(id, HMB, READ, _resource("labs"), _noProof()), "the researcher reads for HMB");

        // An identical re-issue reverts.
        vm.prank(COMMITTEE);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.GrantExists.selector, id));
        grants.subGrant(parent, c, _noProof());
    }

    /// @dev A sub-grant carries an agent leg of its own (the ERC bounds the grant, not who acts for its grantee).
    function test_subGrant_withItsOwnAgentLeg() public {
        (, bytes32 parent, IConsentGrants.GrantInput memory p) = _delegableParent(1);
        IConsentGrants.GrantInput memory c = _child(p, RESEARCHER, _policy(START, END, READ, GRU, 5, SESSION_KEY, 0));
        c.agent = AGENT;
        bytes32 id = _sub(parent, COMMITTEE, c);
        IConsentGrants.ConsentGrant memory got = grants.getGrant(id);
        vm.assertEq(got.agent, AGENT, "agent");
        vm.assertEq(got.agentKind, SESSION_KEY, "kind");
        vm.assertEq(got.agentStatus, LEG_ACTIVE, "leg live");
        vm.assertTrue(_canRead(AGENT, id), "the child's agent acts");
        vm.assertFalse(_canRead(RESEARCHER, id), "not its grantee past the agent");
    }

    function test_subGrant_needsALiveKnownParent() public {
        (Subject memory s, bytes32 parent, IConsentGrants.GrantInput memory p) = _delegableParent(1);
        IConsentGrants.GrantInput memory c = _child(p, RESEARCHER, _policy(START, END, READ, GRU, 5, 0, 0));
        bytes32 unknown = keccak256("no such grant");
        vm.prank(COMMITTEE);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.UnknownGrant.selector, unknown));
        grants.subGrant(unknown, c, _noProof());

        _suspend(COMMITTEE, parent);
        vm.prank(COMMITTEE);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.WrongStatus.selector, parent, SUSPENDED));
        grants.subGrant(parent, c, _noProof());
        vm.prank(COMMITTEE);
        grants.resume(parent);

        vm.warp(END);
        vm.prank(COMMITTEE);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.WrongStatus.selector, parent, ACTIVE));
        grants.subGrant(parent, c, _noProof());
        vm.warp(START);

        _revoke(s, parent);
        vm.prank(COMMITTEE);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.WrongStatus.selector, parent, REVOKED_BY_SUBJECT));
        grants.subGrant(parent, c, _noProof());
    }

    function test_subGrant_policyChecked() public {
        (, bytes32 parent, IConsentGrants.GrantInput memory p) = _delegableParent(1);
        IConsentGrants.GrantInput memory c = _child(p, RESEARCHER, _policy(START, END, 0, GRU, 5, 0, 0));
        vm.prank(COMMITTEE);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.InvalidPolicy.selector, c.policy));
        grants.subGrant(parent, c, _noProof());
    }

    function test_erc_subGrantAttenuation_calledByParentGrantee() public {
        (, bytes32 parent, IConsentGrants.GrantInput memory p) = _delegableParent(1);
        IConsentGrants.GrantInput memory c = _child(p, RESEARCHER, _policy(START, END, READ, GRU, 5, 0, 0));
        address[3] memory others = [STRANGER, RESEARCHER, RELAYER];
        for (uint256 i = 0; i < others.length; ++i) {
            vm.prank(others[i]);
            vm.expectRevert(abi.encodeWithSelector(IConsentGrants.NotGrantee.selector, parent, others[i]));
            grants.subGrant(parent, c, _noProof());
        }
        vm.assertTrue(grants.isGrantActive(_sub(parent, COMMITTEE, c)), "the parent's grantee may");
    }

    function test_erc_subGrantAttenuation_parentMustBeDelegable() public {
        Subject memory s = _subject(1);
        IConsentGrants.GrantInput memory p =
            _input(s, COMMITTEE, _resource("labs"), _policy(START, END, READ, GRU, 0, 0, 0));
        bytes32 parent = _mint(s, p);
        vm.prank(COMMITTEE);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.NotDelegable.selector, parent));
        grants.subGrant(parent, _child(p, RESEARCHER, p.policy), _noProof());
    }

    function test_erc_subGrantAttenuation_subjectCommit() public {
        (, bytes32 parent, IConsentGrants.GrantInput memory p) = _delegableParent(1);
        IConsentGrants.GrantInput memory c = _child(p, RESEARCHER, _policy(START, END, READ, GRU, 5, 0, 0));
        c.subjectCommit = _subject(2).commit;
        _expectAttenuation(parent, c, IConsentGrants.Attenuation.SUBJECT);
        c.subjectCommit = p.subjectCommit;
        vm.assertTrue(grants.isGrantActive(_sub(parent, COMMITTEE, c)), "the parent's commitment");
    }

    function test_erc_subGrantAttenuation_opsSubset() public {
        (, bytes32 parent, IConsentGrants.GrantInput memory p) = _delegableParent(1);
        uint32[3] memory wider = [READ | EXPORT, TRAIN, READ | QUERY | DERIVE | EXPORT];
        for (uint256 i = 0; i < wider.length; ++i) {
            _expectAttenuation(
                parent,
                _child(p, RESEARCHER, _policy(START, END, wider[i], GRU, 5, 0, 0)),
                IConsentGrants.Attenuation.OPS
            );
        }
        uint32[3] memory subsets = [DERIVE, READ | QUERY, READ | QUERY | DERIVE];
        for (uint256 i = 0; i < subsets.length; ++i) {
            bytes32 id = _sub(parent, COMMITTEE, _child(p, RESEARCHER, _policy(START, END, subsets[i], GRU, 5, 0, 0)));
            vm.assertEq(grants.getGrant(id).ops, subsets[i], "a subset is accepted");
        }
    }

    function test_erc_subGrantAttenuation_expiresNoLater() public {
        (, bytes32 parent, IConsentGrants.GrantInput memory p) = _delegableParent(1);
        _expectAttenuation(
            parent,
            _child(p, RESEARCHER, _policy(START, END + 1, READ, GRU, 5, 0, 0)),
            IConsentGrants.Attenuation.EXPIRY
        );
        bytes32 id = _sub(parent, COMMITTEE, _child(p, RESEARCHER, _policy(START, END, READ, GRU, 5, 0, 0)));
        vm.assertEq(grants.getGrant(id).expiresAt, END, "the parent's expiry itself");
    }

    function test_erc_subGrantAttenuation_startsNoEarlier() public {
        (, bytes32 parent, IConsentGrants.GrantInput memory p) = _delegableParent(1);
        _expectAttenuation(
            parent,
            _child(p, RESEARCHER, _policy(START - 1, END, READ, GRU, 5, 0, 0)),
            IConsentGrants.Attenuation.NOT_BEFORE
        );
        bytes32 same = _sub(parent, COMMITTEE, _child(p, RESEARCHER, _policy(START, END, READ, GRU, 5, 0, 0)));
        bytes32 later = _sub(parent, COMMITTEE, _child(p, RESEARCHER, _policy(START + 1, END, READ, GRU, 5, 0, 0)));
        vm.assertTrue(grants.isGrantActive(same), "the parent's start");
        vm.assertFalse(grants.isGrantActive(later), "a later start: not yet");
        vm.warp(START + 1);
        vm.assertTrue(grants.isGrantActive(later), "then active");
    }

    function test_erc_subGrantAttenuation_usesMaxNoHigher() public {
        (, bytes32 parent, IConsentGrants.GrantInput memory p) = _delegableParent(1); // usesMax 10
        uint16[2] memory wider = [uint16(11), 0]; // 0 is unlimited: wider than 10
        for (uint256 i = 0; i < wider.length; ++i) {
            _expectAttenuation(
                parent,
                _child(p, RESEARCHER, _policy(START, END, READ, GRU, wider[i], 0, 0)),
                IConsentGrants.Attenuation.USES
            );
        }
        _sub(parent, COMMITTEE, _child(p, RESEARCHER, _policy(START, END, READ, GRU, 10, 0, 0)));
        _sub(parent, COMMITTEE, _child(p, RESEARCHER, _policy(START, END, READ, GRU, 1, 0, 0)));

        // Under an unlimited parent any cap goes, unlimited too.
        Subject memory s = _subject(2);
        IConsentGrants.GrantInput memory unlimited =
            _input(s, COMMITTEE, _resource("labs"), _policy(START, END, READ, GRU, 0, 0, DELEGABLE));
        bytes32 open = _mint(s, unlimited);
        bytes32 a = _sub(open, COMMITTEE, _child(unlimited, RESEARCHER, _policy(START, END, READ, GRU, 0, 0, 0)));
        bytes32 b = _sub(open, COMMITTEE, _child(unlimited, RESEARCHER, _policy(START, END, READ, GRU, 65535, 0, 0)));
        vm.assertEq(grants.getGrant(a).usesMax, 0, "unlimited under unlimited");
        vm.assertEq(grants.getGrant(b).usesMax, 65535, "any cap under unlimited");
    }

    function test_erc_subGrantAttenuation_purposeEqualOrRegisteredNarrowing() public {
        (, bytes32 parent, IConsentGrants.GrantInput memory p) = _delegableParent(1); // GRU
        _expectAttenuation(
            parent, _child(p, RESEARCHER, _policy(START, END, READ, TREAT, 5, 0, 0)), IConsentGrants.Attenuation.PURPOSE
        );
        bytes32 narrower = _sub(parent, COMMITTEE, _child(p, RESEARCHER, _policy(START, END, READ, HMB, 5, 0, 0)));
        vm.assertEq(grants.getGrant(narrower).purposeCode, HMB, "HMB narrows GRU");

        // The reverse is a widening.
        Subject memory s = _subject(2);
        IConsentGrants.GrantInput memory hmb =
            _input(s, COMMITTEE, _resource("labs"), _policy(START, END, READ, HMB, 0, 0, DELEGABLE));
        bytes32 hmbParent = _mint(s, hmb);
        _expectAttenuation(
            hmbParent,
            _child(hmb, RESEARCHER, _policy(START, END, READ, GRU, 0, 0, 0)),
            IConsentGrants.Attenuation.PURPOSE
        );
    }

    function test_erc_subGrantAttenuation_depthBounded() public {
        Subject memory s = _subject(1);
        IConsentGrants.GrantInput memory g =
            _input(s, COMMITTEE, _resource("labs"), _policy(START, END, READ, GRU, 0, 0, DELEGABLE));
        bytes32 id = _mint(s, g);
        bytes32 root = id;
        vm.assertEq(grants.MAX_DEPTH(), 4, "MAX_DEPTH");
        for (uint16 depth = 1; depth <= 4; ++depth) {
            vm.expectEmit(address(grants));
            emit IConsentGrant.ConsentSubGranted(_subId(id, g), id, depth);
            id = _sub(id, COMMITTEE, g);
            vm.assertEq(grants.getGrant(id).depth, depth, "depth");
        }
        vm.assertTrue(grants.isGrantActive(id), "depth 4 active");
        vm.prank(COMMITTEE);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.DepthExceeded.selector, uint16(5)));
        grants.subGrant(id, g, _noProof());

        _revoke(s, root);
        vm.assertFalse(grants.isGrantActive(id), "the root's withdrawal reaches depth 4");
        vm.assertEq(grants.effectiveStatus(id), REVOKED_BY_SUBJECT, "and shows there");
    }

    function test_erc_subGrantAttenuation_sameAsset() public {
        (, bytes32 parent, IConsentGrants.GrantInput memory p) = _delegableParent(1); // asset 7
        uint256[2] memory others = [uint256(8), 0];
        for (uint256 i = 0; i < others.length; ++i) {
            IConsentGrants.GrantInput memory c = _child(p, RESEARCHER, _policy(START, END, READ, GRU, 5, 0, 0));
            c.assetTokenId = others[i];
            _expectAttenuation(parent, c, IConsentGrants.Attenuation.ASSET);
        }
    }

    function test_erc_scopeContainmentProven() public {
        Subject memory s = _subject(1);
        IConsentGrants.GrantInput memory p = _rootScoped(s, COMMITTEE, DELEGABLE);
        bytes32 parent = _mint(s, p);
        uint256 childPolicy = _policy(START, END, READ, GRU, 0, 0, 0);

        // The parent's own scope, root-scoped, is accepted; a leaf with its proof too.
        _sub(parent, COMMITTEE, _child(p, RESEARCHER, _policy(START, END, READ, GRU, 0, 0, SCOPE_IS_ROOT)));
        IConsentGrants.GrantInput memory imaging = _child(p, RESEARCHER, childPolicy);
        imaging.scopeRef = _category("imaging");
        vm.prank(COMMITTEE);
        bytes32 leafChild = grants.subGrant(parent, imaging, _scopeProof(2));
        vm.assertEq(grants.getGrant(leafChild).scopeRef, _category("imaging"), "one leaf");

        // Unproven: no proof, another leaf's proof, a resource outside the tree, a sub-tree root, the root as a leaf.
        _expectAttenuation(parent, imaging, IConsentGrants.Attenuation.SCOPE);
        vm.prank(COMMITTEE);
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsentGrants.AttenuationViolated.selector, parent, IConsentGrants.Attenuation.SCOPE
            )
        );
        grants.subGrant(parent, imaging, _scopeProof(0));
        IConsentGrants.GrantInput memory outside = _child(p, RESEARCHER, childPolicy);
        outside.scopeRef = _category("billing");
        vm.prank(COMMITTEE);
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsentGrants.AttenuationViolated.selector, parent, IConsentGrants.Attenuation.SCOPE
            )
        );
        grants.subGrant(parent, outside, _scopeProof(2));
        IConsentGrants.GrantInput memory subtree =
            _child(p, RESEARCHER, _policy(START, END, READ, GRU, 0, 0, SCOPE_IS_ROOT));
        subtree.scopeRef = LABS_PROOF_1; // the genuine (imaging, genomics) node: undecidable, so refused
        _expectAttenuation(parent, subtree, IConsentGrants.Attenuation.SCOPE);
        _expectAttenuation(parent, _child(p, RESEARCHER, childPolicy), IConsentGrants.Attenuation.SCOPE);
    }

    function test_erc_scopeContainment_leafScopedParent() public {
        (, bytes32 parent, IConsentGrants.GrantInput memory p) = _delegableParent(1); // one resource, not a root
        IConsentGrants.GrantInput memory other = _child(p, RESEARCHER, _policy(START, END, READ, GRU, 5, 0, 0));
        other.scopeRef = _resource("imaging");
        _expectAttenuation(parent, other, IConsentGrants.Attenuation.SCOPE);
        // The same reference read as a Merkle root would widen it.
        IConsentGrants.GrantInput memory asRoot =
            _child(p, RESEARCHER, _policy(START, END, READ, GRU, 5, 0, SCOPE_IS_ROOT));
        _expectAttenuation(parent, asRoot, IConsentGrants.Attenuation.SCOPE);
        bytes32 same = _sub(parent, COMMITTEE, _child(p, RESEARCHER, _policy(START, END, READ, GRU, 5, 0, 0)));
        vm.assertEq(grants.getGrant(same).scopeRef, p.scopeRef, "the same resource");
    }

    function test_erc_unsetPurposeRegistryFailsClosed() public {
        grants = new ConsentGrants(ADMIN, IPurposeCodes(address(0)));
        vm.assertEq(grants.purposeRegistry(), address(0), "no registry");
        Subject memory s = _subject(1);
        // Root grants take any non-zero code.
        IConsentGrants.GrantInput memory p =
            _input(s, COMMITTEE, _resource("labs"), _policy(START, END, READ, GRU, 0, 0, DELEGABLE));
        bytes32 parent = _mint(s, p);
        // A registered narrowing elsewhere does not count here: exact equality only.
        _expectAttenuation(
            parent, _child(p, RESEARCHER, _policy(START, END, READ, HMB, 0, 0, 0)), IConsentGrants.Attenuation.PURPOSE
        );
        bytes32 equal = _sub(parent, COMMITTEE, _child(p, RESEARCHER, _policy(START, END, READ, GRU, 0, 0, 0)));
        vm.assertTrue(grants.isGrantActive(equal), "equal purpose");

        Subject memory t = _subject(2);
        _mint(t, _input(t, CLINIC, _resource("labs"), _policy(START, END, READ, 7777, 0, 0, 0)));
        vm.assertEq(grants.getGrant(t.commit).purposeCode, 7777, "an unregistered code, as the registry is unset");
    }

    /* ------------------------------------------------------------------ */
    /*                          STATUS AND CASCADE                        */
    /* ------------------------------------------------------------------ */

    function test_erc_revokeBySubjectCascadesLazily() public {
        Subject memory s = _subject(1);
        IConsentGrants.GrantInput memory g =
            _input(s, COMMITTEE, _resource("labs"), _policy(START, END, READ, GRU, 0, 0, DELEGABLE));
        bytes32 root = _mint(s, g);
        bytes32 child = _sub(root, COMMITTEE, _child(g, RESEARCHER, g.policy));
        bytes32 grandchild = _sub(child, RESEARCHER, _child(g, CLINIC, _policy(START, END, READ, GRU, 0, 0, 0)));

        vm.record();
        _revoke(s, root);
        (, bytes32[] memory writes) = vm.accesses(address(grants));
        vm.assertEq(_distinct(writes), 2, "the root's word 0 and the epoch: no write per descendant");

        vm.assertFalse(grants.isGrantActive(child), "child inactive");
        vm.assertFalse(grants.isGrantActive(grandchild), "grandchild inactive");
        vm.assertEq(_status(grandchild), ACTIVE, "its own word untouched (lazy)");
        vm.assertEq(grants.effectiveStatus(child), REVOKED_BY_SUBJECT, "child shows the withdrawal");
        vm.assertEq(grants.effectiveStatus(grandchild), REVOKED_BY_SUBJECT, "grandchild too");
        vm.assertFalse(_canRead(CLINIC, grandchild), "no access at depth 2");
    }

    function _distinct(bytes32[] memory slots) internal pure returns (uint256 n) {
        for (uint256 i = 0; i < slots.length; ++i) {
            bool seen;
            for (uint256 j = 0; j < i; ++j) {
                seen = seen || slots[j] == slots[i];
            }
            if (!seen) ++n;
        }
    }

    function test_isGrantActive_ancestorHoldsAndEndsReachDescendants() public {
        Subject memory s = _subject(1);
        IConsentGrants.GrantInput memory g =
            _input(s, COMMITTEE, _resource("labs"), _policy(START, END, READ, GRU, 0, 0, DELEGABLE));
        bytes32 root = _mint(s, g);
        bytes32 child = _sub(root, COMMITTEE, _child(g, RESEARCHER, g.policy));
        bytes32 grandchild = _sub(child, RESEARCHER, _child(g, CLINIC, _policy(START, END, READ, GRU, 0, 0, 0)));

        _suspend(RESEARCHER, child);
        vm.assertFalse(grants.isGrantActive(grandchild), "a hold above holds below");
        vm.assertEq(grants.effectiveStatus(grandchild), ACTIVE, "a hold is not terminal: own status shown");
        vm.prank(RESEARCHER);
        grants.resume(child);
        vm.assertTrue(grants.isGrantActive(grandchild), "resumed above, active below");

        vm.prank(RESEARCHER);
        grants.renounceByGrantee(child);
        vm.assertTrue(grants.isGrantActive(root), "the root lives on");
        vm.assertFalse(grants.isGrantActive(grandchild), "the middle's end reaches below");
        vm.assertEq(grants.effectiveStatus(grandchild), RENOUNCED_BY_GRANTEE, "inherited terminal status");
        vm.assertEq(grants.effectiveStatus(keccak256("none")), NONE, "unknown: NONE");
    }

    /// @dev Every terminal status is final: no act moves it, and re-granting needs a new id.
    function test_erc_terminalStatusNeverReturnsToActive() public {
        _makeIssuer(COMMITTEE);
        Subject[4] memory subjects = [_subject(1), _subject(2), _subject(3), _subject(4)];
        bytes32[4] memory ids;
        for (uint256 i = 0; i < 4; ++i) {
            ids[i] = _mint(
                subjects[i], _input(subjects[i], COMMITTEE, _resource("labs"), _policy(START, END, READ, GRU, 2, 0, 0))
            );
        }
        _revoke(subjects[0], ids[0]);
        vm.prank(COMMITTEE);
        grants.renounceByGrantee(ids[1]);
        vm.prank(COMMITTEE);
        grants.terminateByIssuer(ids[2], REASON);
        _commitUsage(COMMITTEE, ids[3], 1, 2);
        uint8[4] memory terminal = [REVOKED_BY_SUBJECT, RENOUNCED_BY_GRANTEE, TERMINATED_BY_ISSUER, EXHAUSTED];
        for (uint256 i = 0; i < 4; ++i) {
            _assertFinal(subjects[i], ids[i], terminal[i]);
        }
    }

    function _assertFinal(Subject memory s, bytes32 id, uint8 status) internal {
        bytes memory wrong = abi.encodeWithSelector(IConsentGrants.WrongStatus.selector, id, status);
        vm.prank(COMMITTEE);
        vm.expectRevert(wrong);
        grants.resume(id);
        vm.prank(COMMITTEE);
        vm.expectRevert(wrong);
        grants.suspend(id, REASON);
        vm.prank(COMMITTEE);
        vm.expectRevert(wrong);
        grants.renounceByGrantee(id);
        vm.prank(COMMITTEE);
        vm.expectRevert(wrong);
        grants.terminateByIssuer(id, REASON);
        bytes memory revokeSig = _revokeSig(s, id, REASON, grants.nonces(s.commit));
        vm.prank(RELAYER);
        vm.expectRevert(wrong);
        grants.revokeBySubjectWithSig(id, REASON, revokeSig);
        IConsentGrants.GrantInput memory again = _simple(s, COMMITTEE);
        bytes memory grantSig = _grantSig(s, again, grants.nonces(s.commit));
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.GrantExists.selector, id));
        grants.grant(again, grantSig);
        _commitUsage(COMMITTEE, id, 9, 5);
        vm.assertEq(_status(id), status, "unchanged");
        vm.assertFalse(grants.isGrantActive(id), "inactive");
    }

    function test_erc_resumeOnlyBySuspender() public {
        Subject memory s = _subject(1);
        bytes32 id = _mint(s, _withAgent(s, AGENT, SESSION_KEY));
        vm.prank(AGENT);
        grants.setAgentOperator(AGENT, OPERATOR);

        vm.prank(CLINIC);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.WrongStatus.selector, id, ACTIVE));
        grants.resume(id);
        address[2] memory notParties = [STRANGER, AGENT];
        for (uint256 i = 0; i < notParties.length; ++i) {
            vm.prank(notParties[i]);
            vm.expectRevert(abi.encodeWithSelector(IConsentGrants.NotAuthorized.selector, id, notParties[i]));
            grants.suspend(id, REASON);
        }

        // The grantee's hold: only the grantee lifts it.
        vm.expectEmit(address(grants));
        emit IConsentGrant.ConsentRevoked(id, bytes32(uint256(uint160(CLINIC))), SUSPENDED, REASON);
        _suspend(CLINIC, id);
        vm.assertFalse(grants.isGrantActive(id), "held");
        vm.prank(CLINIC);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.WrongStatus.selector, id, SUSPENDED));
        grants.suspend(id, REASON);
        _expectNotAuthorizedResume(id, OPERATOR);
        _expectNotAuthorizedResume(id, AGENT);
        vm.expectEmit(address(grants));
        emit IConsentGrants.ConsentResumed(id, CLINIC);
        vm.prank(CLINIC);
        grants.resume(id);
        vm.assertTrue(grants.isGrantActive(id), "resumed");

        // The operator's hold: only the operator lifts it.
        _suspend(OPERATOR, id);
        _expectNotAuthorizedResume(id, CLINIC);
        _expectNotAuthorizedResume(id, STRANGER);
        vm.prank(OPERATOR);
        grants.resume(id);
        vm.assertEq(_status(id), ACTIVE, "ACTIVE again");
    }

    function _expectNotAuthorizedResume(bytes32 id, address caller) internal {
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.NotAuthorized.selector, id, caller));
        grants.resume(id);
    }

    function test_renounceByGrantee() public {
        Subject memory s = _subject(1);
        bytes32 id = _mint(s, _withAgent(s, AGENT, SESSION_KEY));
        address[2] memory others = [AGENT, STRANGER];
        for (uint256 i = 0; i < others.length; ++i) {
            vm.prank(others[i]);
            vm.expectRevert(abi.encodeWithSelector(IConsentGrants.NotGrantee.selector, id, others[i]));
            grants.renounceByGrantee(id);
        }
        _suspend(CLINIC, id);
        vm.prank(CLINIC);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.WrongStatus.selector, id, SUSPENDED));
        grants.renounceByGrantee(id);
        vm.prank(CLINIC);
        grants.resume(id);

        vm.expectEmit(address(grants));
        emit IConsentGrant.ConsentRevoked(id, bytes32(uint256(uint160(CLINIC))), RENOUNCED_BY_GRANTEE, bytes32(0));
        vm.prank(CLINIC);
        grants.renounceByGrantee(id);
        vm.assertEq(_status(id), RENOUNCED_BY_GRANTEE, "renounced");

        bytes32 unknown = keccak256("no such grant");
        vm.prank(CLINIC);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.NotGrantee.selector, unknown, CLINIC));
        grants.renounceByGrantee(unknown);
    }

    function test_terminateByIssuer_issuerRoleAndGrantee() public {
        vm.assertEq(grants.ISSUER_ROLE(), ISSUER_ROLE, "carechain.ISSUER");
        Subject memory s = _subject(1);
        bytes32 toCommittee = _mint(s, _simple(s, COMMITTEE));
        Subject memory t = _subject(2);
        bytes32 toClinic = _mint(t, _simple(t, CLINIC));

        address[2] memory noRole = [COMMITTEE, ADMIN];
        for (uint256 i = 0; i < noRole.length; ++i) {
            vm.prank(noRole[i]);
            vm.expectRevert(
                abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, noRole[i], ISSUER_ROLE)
            );
            grants.terminateByIssuer(toCommittee, REASON);
        }
        _makeIssuer(COMMITTEE);
        vm.prank(COMMITTEE);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.NotGrantee.selector, toClinic, COMMITTEE));
        grants.terminateByIssuer(toClinic, REASON);

        uint256 epoch = grants.revocationEpoch();
        vm.expectEmit(address(grants));
        emit IConsentGrant.ConsentRevoked(
            toCommittee, bytes32(uint256(uint160(COMMITTEE))), TERMINATED_BY_ISSUER, REASON
        );
        vm.prank(COMMITTEE);
        grants.terminateByIssuer(toCommittee, REASON);
        vm.assertEq(_status(toCommittee), TERMINATED_BY_ISSUER, "terminated");
        vm.assertEq(grants.revocationEpoch(), epoch + 1, "epoch moved");
        vm.assertTrue(grants.isGrantActive(toClinic), "another grantee's grant untouched");
    }

    /* ------------------------------------------------------------------ */
    /*                                AGENT                               */
    /* ------------------------------------------------------------------ */

    function test_erc_checkAccessAgentVerification() public {
        uint8[3] memory verified = [SESSION_KEY, EXTERNAL_REGISTRY, TOKEN_BOUND_ACCOUNT];
        for (uint256 i = 0; i < verified.length; ++i) {
            Subject memory s = _subject(i);
            bytes32 id = _mint(s, _withAgent(s, AGENT, verified[i]));
            vm.assertTrue(_canRead(AGENT, id), "the agent");
            vm.assertFalse(_canRead(CLINIC, id), "not the grantee past its agent");
            vm.assertFalse(_canRead(STRANGER, id), "not a stranger");
        }
        Subject memory plain = _subject(9);
        bytes32 direct = _mint(plain, _simple(plain, CLINIC));
        vm.assertTrue(_canRead(CLINIC, direct), "no agent leg: the grantee");
        vm.assertFalse(_canRead(AGENT, direct), "no agent leg: nobody else");
    }

    function test_erc_assertedAgentNeverSatisfies() public {
        Subject memory s = _subject(1);
        bytes32 id = _mint(s, _withAgent(s, AGENT, ASSERTED_UNVERIFIED));
        vm.assertEq(grants.getGrant(id).agentKind, ASSERTED_UNVERIFIED, "recorded for audit");
        vm.assertEq(grants.getGrant(id).agent, AGENT, "the claimed agent");
        vm.assertFalse(_canRead(AGENT, id), "an asserted agent is no agent");
        vm.assertTrue(_canRead(CLINIC, id), "the grantee acts itself");
    }

    /// @dev An asserted agent is recorded for audit only: it cannot commit usage, so it cannot exhaust the subject's
    /// grant (a terminal status) on the strength of a claim nobody proved.
    function test_erc_assertedAgentCannotCommitUsage() public {
        Subject memory s = _subject(1);
        IConsentGrants.GrantInput memory g = _withAgent(s, AGENT, ASSERTED_UNVERIFIED);
        g.policy = _policy(START, END, READ, GRU, 1, ASSERTED_UNVERIFIED, 0);
        bytes32 id = _mint(s, g);
        vm.prank(AGENT);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.NotAuthorized.selector, id, AGENT));
        grants.commitUsage(id, 1, keccak256("head"), 1);
        vm.assertEq(_status(id), ACTIVE, "not exhausted by an unproven agent");
        vm.assertEq(grants.usageCount(id, 1), 0, "nothing committed");
        _commitUsage(CLINIC, id, 1, 1); // the grantee reports its own use
        vm.assertEq(_status(id), EXHAUSTED, "exhausted by the grantee's report");
    }

    /// @dev Nor can the operator an asserted agent names hold the grant: suspend is the grantee's alone then.
    function test_erc_assertedAgentsOperatorCannotSuspend() public {
        Subject memory s = _subject(1);
        bytes32 id = _mint(s, _withAgent(s, AGENT, ASSERTED_UNVERIFIED));
        vm.prank(AGENT);
        grants.setAgentOperator(AGENT, OPERATOR);
        vm.prank(OPERATOR);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.NotAuthorized.selector, id, OPERATOR));
        grants.suspend(id, bytes32(0));
        vm.assertEq(_status(id), ACTIVE, "not held by an unproven agent's operator");
        vm.prank(CLINIC);
        grants.suspend(id, bytes32(0));
        vm.assertEq(_status(id), SUSPENDED, "the grantee holds it");
    }

    function test_revokeAgent_endsTheLegNotTheGrant() public {
        address[3] memory revokers = [AGENT, CLINIC, OPERATOR];
        vm.prank(AGENT);
        grants.setAgentOperator(AGENT, OPERATOR);
        for (uint256 i = 0; i < revokers.length; ++i) {
            Subject memory s = _subject(i);
            bytes32 id = _mint(s, _withAgent(s, AGENT, SESSION_KEY));
            vm.prank(STRANGER);
            vm.expectRevert(abi.encodeWithSelector(IConsentGrants.NotAuthorized.selector, id, STRANGER));
            grants.revokeAgent(id, REASON);

            uint256 epoch = grants.revocationEpoch();
            vm.expectEmit(address(grants));
            emit IConsentGrant.AgentRevoked(id, AGENT, REASON);
            vm.prank(revokers[i]);
            grants.revokeAgent(id, REASON);
            vm.assertEq(grants.revocationEpoch(), epoch + 1, "epoch moved");
            vm.assertEq(grants.getGrant(id).agentStatus, LEG_REVOKED, "leg revoked");
            vm.assertTrue(grants.isGrantActive(id), "grant survives");
            vm.assertFalse(_canRead(AGENT, id), "the agent is out");
            vm.assertTrue(_canRead(CLINIC, id), "the grantee keeps the grant");

            vm.prank(revokers[i]);
            vm.expectRevert(abi.encodeWithSelector(IConsentGrants.NoAgentLeg.selector, id));
            grants.revokeAgent(id, REASON);
        }
        Subject memory plain = _subject(9);
        bytes32 direct = _mint(plain, _simple(plain, CLINIC));
        vm.prank(CLINIC);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.NoAgentLeg.selector, direct));
        grants.revokeAgent(direct, REASON);
    }

    function test_agentOperator_setByTheAgentHandedOverByTheOperator() public {
        vm.assertEq(grants.agentOperatorOf(AGENT), address(0), "none named");
        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.NotAgentOperator.selector, AGENT, address(0)));
        grants.setAgentOperator(AGENT, STRANGER);

        vm.expectEmit(address(grants));
        emit IConsentGrants.AgentOperatorSet(AGENT, OPERATOR);
        vm.prank(AGENT);
        grants.setAgentOperator(AGENT, OPERATOR);
        vm.assertEq(grants.agentOperatorOf(AGENT), OPERATOR, "named");

        // Once named, not even the agent renames: a compromised agent cannot shed its operator.
        vm.prank(AGENT);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.NotAgentOperator.selector, AGENT, OPERATOR));
        grants.setAgentOperator(AGENT, STRANGER);

        vm.expectEmit(address(grants));
        emit IConsentGrants.AgentOperatorSet(AGENT, OPERATOR_2);
        vm.prank(OPERATOR);
        grants.setAgentOperator(AGENT, OPERATOR_2);
        vm.assertEq(grants.agentOperatorOf(AGENT), OPERATOR_2, "handed over");

        Subject memory s = _subject(1);
        bytes32 id = _mint(s, _withAgent(s, AGENT, SESSION_KEY));
        vm.prank(OPERATOR);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.NotAuthorized.selector, id, OPERATOR));
        grants.suspend(id, REASON);
        _suspend(OPERATOR_2, id);
        vm.assertEq(_status(id), SUSPENDED, "the new operator holds");
    }

    /// @dev CareChain records which kind of party suspended (grantee or the agent's operator), not its address: after a
    /// handover the new operator lifts the old one's hold (docs/private-consent.md).
    function test_agentOperator_handoverCarriesTheHold() public {
        Subject memory s = _subject(1);
        bytes32 id = _mint(s, _withAgent(s, AGENT, SESSION_KEY));
        vm.prank(AGENT);
        grants.setAgentOperator(AGENT, OPERATOR);
        _suspend(OPERATOR, id);
        vm.prank(OPERATOR);
        grants.setAgentOperator(AGENT, OPERATOR_2);
        _expectNotAuthorizedResume(id, OPERATOR);
        vm.prank(OPERATOR_2);
        grants.resume(id);
        vm.assertEq(_status(id), ACTIVE, "resumed by the current operator");
    }

    /* ------------------------------------------------------------------ */
    /*                             CHECK ACCESS                           */
    /* ------------------------------------------------------------------ */

    function test_checkAccess_matchesOpPurposeResourceAndWindow() public {
        Subject memory s = _subject(1);
        bytes32 id =
            _mint(s, _input(s, CLINIC, _resource("labs"), _policy(START + 10, START + 20, READ | QUERY, GRU, 0, 0, 0)));
        vm.warp(START + 10);
        uint32[6] memory ops = [uint32(0), 0x20, READ | 0x20, DERIVE, READ | DERIVE, READ | QUERY];
        bool[6] memory allowed = [false, false, false, false, false, true];
        for (uint256 i = 0; i < ops.length; ++i) {
            vm.prank(CLINIC);
            vm.assertEq(
                grants.checkAccess(id, GRU, ops[i], _resource("labs"), _noProof()),
                allowed[i],
                "ops: subset, known bits"
            );
        }
        vm.prank(CLINIC);
        vm.assertFalse(grants.checkAccess(id, HMB, READ, _resource("labs"), _noProof()), "equality of purpose only");
        vm.prank(CLINIC);
        vm.assertFalse(grants.checkAccess(id, GRU, READ, _resource("imaging"), _noProof()), "another resource");
        vm.prank(CLINIC);
        vm.assertFalse(grants.checkAccess(keccak256("none"), GRU, READ, _resource("labs"), _noProof()), "no grant");
        vm.warp(START + 9);
        vm.assertFalse(_canRead(CLINIC, id), "before notBefore");
        vm.warp(START + 20);
        vm.assertFalse(_canRead(CLINIC, id), "at expiresAt");
    }

    function test_erc_isGrantActiveWindowAndUses() public {
        Subject memory s = _subject(1);
        bytes32 id =
            _mint(s, _input(s, CLINIC, _resource("labs"), _policy(START + 10, START + 100, READ, GRU, 2, 0, 0)));
        uint48[5] memory times = [START, START + 9, START + 10, START + 99, START + 100];
        bool[5] memory active = [false, false, true, true, false];
        for (uint256 i = 0; i < times.length; ++i) {
            vm.warp(times[i]);
            vm.assertEq(grants.isGrantActive(id), active[i], "[notBefore, expiresAt)");
        }
        vm.warp(START + 50);
        _commitUsage(CLINIC, id, 1, 1);
        vm.assertTrue(grants.isGrantActive(id), "one use of two");
        _commitUsage(CLINIC, id, 1, 2);
        vm.assertFalse(grants.isGrantActive(id), "useCount reached usesMax");
    }

    /// @dev The use cap is read on its own, not only through EXHAUSTED: with useCount at usesMax in word 0 (bits
    /// 120-135, docs/private-consent.md) and the status left ACTIVE, the grant is not active.
    function test_erc_isGrantActiveReadsTheUseCapItself() public {
        Subject memory s = _subject(1);
        bytes32 id = _mint(s, _input(s, CLINIC, _resource("labs"), _policy(START, END, READ, GRU, 2, 0, 0)));
        bytes32 word0 = keccak256(abi.encode(id, uint256(4))); // _records is slot 4
        uint256 w0 = uint256(vm.load(address(grants), word0));
        vm.store(address(grants), word0, bytes32(w0 | (uint256(2) << 120)));
        vm.assertEq(grants.getGrant(id).useCount, 2, "useCount = usesMax");
        vm.assertEq(_status(id), ACTIVE, "status untouched");
        vm.assertFalse(grants.isGrantActive(id), "useCount >= usesMax: not active");
    }

    /* ------------------------------------------------------------------ */
    /*                                USAGE                               */
    /* ------------------------------------------------------------------ */

    function test_erc_commitUsageMonotonicAndExhausts() public {
        Subject memory s = _subject(1);
        IConsentGrants.GrantInput memory g = _withAgent(s, AGENT, SESSION_KEY);
        g.policy = _policy(START, END, READ, GRU, 3, SESSION_KEY, 0);
        bytes32 id = _mint(s, g);
        vm.warp(START + 5);
        bytes32 head = keccak256(abi.encodePacked(bytes32(0), keccak256("record 1")));
        vm.expectEmit(address(grants));
        emit IConsentGrant.UsageCommitted(id, 1, head, 1);
        vm.prank(CLINIC);
        grants.commitUsage(id, 1, head, 1);
        vm.assertEq(grants.usageCount(id, 1), 1, "epoch 1: 1");
        vm.assertEq(grants.getGrant(id).useCount, 1, "one use");
        vm.assertEq(grants.getGrant(id).lastUsedAt, START + 5, "last used now");

        vm.prank(CLINIC);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.UsageCountDecreased.selector, id, uint64(1), uint32(1)));
        grants.commitUsage(id, 1, head, 0);
        _commitUsage(AGENT, id, 2, 1); // the live agent commits too; epochs add up
        vm.assertEq(grants.getGrant(id).useCount, 2, "two uses over two epochs");
        _commitUsage(CLINIC, id, 1, 1); // the same count again adds nothing
        vm.assertEq(grants.getGrant(id).useCount, 2, "no new record");

        uint256 epoch = grants.revocationEpoch();
        vm.expectEmit(address(grants));
        emit IConsentGrant.ConsentRevoked(id, bytes32(uint256(uint160(CLINIC))), EXHAUSTED, bytes32(0));
        _commitUsage(CLINIC, id, 1, 2);
        vm.assertEq(_status(id), EXHAUSTED, "usesMax reached");
        vm.assertEq(grants.revocationEpoch(), epoch + 1, "epoch moved");
    }

    function test_commitUsage_onlyGranteeOrLiveAgent() public {
        Subject memory s = _subject(1);
        bytes32 id = _mint(s, _withAgent(s, AGENT, SESSION_KEY));
        address[2] memory notParties = [STRANGER, OPERATOR];
        for (uint256 i = 0; i < notParties.length; ++i) {
            vm.prank(notParties[i]);
            vm.expectRevert(abi.encodeWithSelector(IConsentGrants.NotAuthorized.selector, id, notParties[i]));
            grants.commitUsage(id, 1, bytes32(0), 1);
        }
        _commitUsage(AGENT, id, 1, 1);
        vm.prank(CLINIC);
        grants.revokeAgent(id, REASON);
        vm.prank(AGENT);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.NotAuthorized.selector, id, AGENT));
        grants.commitUsage(id, 1, bytes32(0), 2);
        bytes32 unknown = keccak256("no such grant");
        vm.prank(CLINIC);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.UnknownGrant.selector, unknown));
        grants.commitUsage(unknown, 1, bytes32(0), 1);
        vm.assertEq(grants.getGrant(id).useCount, 1, "only the agent's commit counted");
    }

    function test_erc_exhaustedNeverOverwritesTerminal() public {
        _makeIssuer(COMMITTEE);
        Subject memory s = _subject(1);
        bytes32 revoked = _mint(s, _input(s, COMMITTEE, _resource("labs"), _policy(START, END, READ, GRU, 2, 0, 0)));
        _revoke(s, revoked);
        Subject memory t = _subject(2);
        bytes32 ended = _mint(t, _input(t, COMMITTEE, _resource("labs"), _policy(START, END, READ, GRU, 2, 0, 0)));
        vm.prank(COMMITTEE);
        grants.terminateByIssuer(ended, REASON);

        uint256 epoch = grants.revocationEpoch();
        _commitUsage(COMMITTEE, revoked, 1, 5);
        _commitUsage(COMMITTEE, ended, 1, 5);
        vm.assertEq(_status(revoked), REVOKED_BY_SUBJECT, "the subject's status stays");
        vm.assertEq(_status(ended), TERMINATED_BY_ISSUER, "the issuer's status stays");
        vm.assertEq(grants.getGrant(revoked).useCount, 5, "the uses are still recorded");
        vm.assertEq(grants.revocationEpoch(), epoch, "no revocation happened");

        // ACTIVE or SUSPENDED -> EXHAUSTED.
        Subject memory u = _subject(3);
        bytes32 held = _mint(u, _input(u, COMMITTEE, _resource("labs"), _policy(START, END, READ, GRU, 2, 0, 0)));
        _suspend(COMMITTEE, held);
        _commitUsage(COMMITTEE, held, 1, 2);
        vm.assertEq(_status(held), EXHAUSTED, "a hold exhausts too");
    }

    function test_commitUsage_countsSaturateAtUint16() public {
        Subject memory s = _subject(1);
        bytes32 id = _mint(s, _simple(s, CLINIC)); // unlimited
        _commitUsage(CLINIC, id, 1, type(uint32).max);
        vm.assertEq(grants.getGrant(id).useCount, type(uint16).max, "saturates");
        vm.assertEq(grants.usageCount(id, 1), type(uint32).max, "the epoch's count is kept whole");
        vm.assertEq(_status(id), ACTIVE, "unlimited: never exhausted");
    }

    /* ------------------------------------------------------------------ */
    /*                           REVOCATION EPOCH                         */
    /* ------------------------------------------------------------------ */

    function test_erc_revocationEpochIncreasesOnEveryRevocation() public {
        _makeIssuer(COMMITTEE);
        uint256 epoch = grants.revocationEpoch();
        Subject memory s = _subject(1);
        bytes32 a = _mint(s, _rootScoped(s, COMMITTEE, 0));
        Subject[4] memory others = [_subject(2), _subject(3), _subject(4), _subject(5)];
        bytes32[4] memory ids;
        for (uint256 i = 0; i < 4; ++i) {
            IConsentGrants.GrantInput memory g =
                _input(others[i], COMMITTEE, _resource("labs"), _policy(START, END, READ, GRU, 1, SESSION_KEY, 0));
            g.agent = AGENT;
            ids[i] = _mint(others[i], g);
        }
        vm.assertEq(grants.revocationEpoch(), epoch, "grants are no revocation");

        _withdrawLeaf(s, a, LABS_LEAF);
        vm.assertEq(grants.revocationEpoch(), ++epoch, "leaf withdrawal");
        _revoke(s, a);
        vm.assertEq(grants.revocationEpoch(), ++epoch, "subject withdrawal");
        vm.prank(COMMITTEE);
        grants.renounceByGrantee(ids[0]);
        vm.assertEq(grants.revocationEpoch(), ++epoch, "renounce");
        vm.prank(COMMITTEE);
        grants.terminateByIssuer(ids[1], REASON);
        vm.assertEq(grants.revocationEpoch(), ++epoch, "termination");
        _suspend(COMMITTEE, ids[2]);
        vm.assertEq(grants.revocationEpoch(), ++epoch, "suspension");
        vm.prank(AGENT);
        grants.revokeAgent(ids[3], REASON);
        vm.assertEq(grants.revocationEpoch(), ++epoch, "agent leg");
        _commitUsage(COMMITTEE, ids[3], 1, 1);
        vm.assertEq(grants.revocationEpoch(), ++epoch, "exhaustion");

        vm.prank(COMMITTEE);
        grants.resume(ids[2]);
        bytes memory burn = _burnSig(others[0], 1);
        vm.prank(RELAYER);
        grants.burnNonce(others[0].commit, burn);
        vm.assertEq(grants.revocationEpoch(), epoch, "a resume or a nonce burn is no revocation");
    }

    /* ------------------------------------------------------------------ */
    /*                                VIEWS                               */
    /* ------------------------------------------------------------------ */

    function test_getGrant_returnsEveryField() public {
        Subject memory s = _subject(1);
        bytes32 profile = keccak256("carechain/profile/HMB/v2");
        bytes32 terms = keccak256("carechain/terms/biobank/v3");
        uint256 policy = _policy(
            START - 5,
            START + 200 days,
            0x1f,
            GRU,
            500,
            TOKEN_BOUND_ACCOUNT,
            SCOPE_IS_ROOT | DELEGABLE | DESTROY_DERIVATIVES
        );
        IConsentGrants.GrantInput memory g =
            IConsentGrants.GrantInput(SCOPE_ROOT, profile, terms, 99, s.commit, COMMITTEE, AGENT, policy);
        bytes32 id = _mint(s, g);
        vm.warp(START + 60);
        _commitUsage(AGENT, id, 3, 4);

        IConsentGrants.ConsentGrant memory e;
        (e.scopeRef, e.purposeProfileRef, e.termsRef, e.assetTokenId, e.subjectCommit) =
        (SCOPE_ROOT, profile, terms, 99, s.commit);
        (e.grantee, e.notBefore, e.expiresAt, e.agent, e.ops, e.purposeCode) =
        (COMMITTEE, START - 5, START + 200 days, AGENT, 0x1f, GRU);
        (e.status, e.flags, e.depth, e.agentKind, e.agentStatus) = (ACTIVE, 0x07, 0, TOKEN_BOUND_ACCOUNT, LEG_ACTIVE);
        (e.lastUsedAt, e.useCount, e.usesMax) = (START + 60, 4, 500);
        _assertGrant(grants.getGrant(id), e);

        IConsentGrants.GrantInput memory c = IConsentGrants.GrantInput(
            _category("imaging"),
            PROFILE,
            TERMS,
            99,
            s.commit,
            RESEARCHER,
            address(0),
            _policy(START, START + 100 days, READ, HMB, 7, 0, 0)
        );
        vm.prank(COMMITTEE);
        bytes32 child = grants.subGrant(id, c, _scopeProof(2));
        IConsentGrants.ConsentGrant memory f;
        (f.scopeRef, f.purposeProfileRef, f.termsRef, f.parentGrantId, f.assetTokenId, f.subjectCommit) =
        (_category("imaging"), PROFILE, TERMS, id, 99, s.commit);
        (f.grantee, f.notBefore, f.expiresAt, f.ops, f.purposeCode, f.status, f.depth, f.usesMax) =
        (RESEARCHER, START, START + 100 days, READ, HMB, ACTIVE, 1, 7);
        _assertGrant(grants.getGrant(child), f);

        IConsentGrants.ConsentGrant memory zero;
        _assertGrant(grants.getGrant(keccak256("no such grant")), zero);
    }

    function _assertGrant(IConsentGrants.ConsentGrant memory got, IConsentGrants.ConsentGrant memory e) internal pure {
        vm.assertEq(got.scopeRef, e.scopeRef, "scopeRef");
        vm.assertEq(got.purposeProfileRef, e.purposeProfileRef, "purposeProfileRef");
        vm.assertEq(got.termsRef, e.termsRef, "termsRef");
        vm.assertEq(got.parentGrantId, e.parentGrantId, "parentGrantId");
        vm.assertEq(got.assetTokenId, e.assetTokenId, "assetTokenId");
        vm.assertEq(got.subjectCommit, e.subjectCommit, "subjectCommit");
        vm.assertEq(got.grantee, e.grantee, "grantee");
        vm.assertEq(got.notBefore, e.notBefore, "notBefore");
        vm.assertEq(got.expiresAt, e.expiresAt, "expiresAt");
        vm.assertEq(got.agent, e.agent, "agent");
        vm.assertEq(got.ops, e.ops, "ops");
        vm.assertEq(got.purposeCode, e.purposeCode, "purposeCode");
        vm.assertEq(got.status, e.status, "status");
        vm.assertEq(got.flags, e.flags, "flags");
        vm.assertEq(got.depth, e.depth, "depth");
        vm.assertEq(got.agentKind, e.agentKind, "agentKind");
        vm.assertEq(got.agentStatus, e.agentStatus, "agentStatus");
        vm.assertEq(got.lastUsedAt, e.lastUsedAt, "lastUsedAt");
        vm.assertEq(got.useCount, e.useCount, "useCount");
        vm.assertEq(got.usesMax, e.usesMax, "usesMax");
    }

    /// @dev Word 1 of a grant (docs/private-consent.md): grantee | ops | purposeCode | refsIndex (bits 224-255).
    function _refsIndexOf(bytes32 id) internal view returns (uint32) {
        bytes32 word1 = bytes32(uint256(keccak256(abi.encode(id, uint256(4)))) + 1); // _records is slot 4
        return uint32(uint256(vm.load(address(grants), word1)) >> 224);
    }

    function test_refs_samePairSameIndexViewsReturnTheHashes() public {
        bytes32 otherTerms = keccak256("carechain/terms/research/v2");
        Subject[3] memory subjects = [_subject(1), _subject(2), _subject(3)];
        IConsentGrants.GrantInput memory third = _simple(subjects[2], CLINIC);
        third.termsRef = otherTerms;

        IConsentGrants.GrantInput memory first = _simple(subjects[0], CLINIC);
        bytes memory sig = _grantSig(subjects[0], first, 0);
        vm.expectEmit(address(grants));
        emit IConsentGrants.RefsInterned(1, PROFILE, TERMS);
        vm.prank(RELAYER);
        bytes32 a = grants.grant(first, sig);
        vm.recordLogs();
        bytes32 b = _mint(subjects[1], _simple(subjects[1], RESEARCHER));
        vm.assertEq(_countLogs(IConsentGrants.RefsInterned.selector), 0, "the pair is stored once");
        sig = _grantSig(subjects[2], third, 0);
        vm.expectEmit(address(grants));
        emit IConsentGrants.RefsInterned(2, PROFILE, otherTerms);
        vm.prank(RELAYER);
        bytes32 c = grants.grant(third, sig);

        vm.assertEq(_refsIndexOf(a), 1, "first pair: index 1");
        vm.assertEq(_refsIndexOf(b), 1, "same pair, same index");
        vm.assertEq(_refsIndexOf(c), 2, "a new pair, a new index");
        vm.assertEq(grants.getGrant(b).purposeProfileRef, PROFILE, "the view returns the profile hash");
        vm.assertEq(grants.getGrant(b).termsRef, TERMS, "and the terms hash");
        vm.assertEq(grants.getGrant(c).termsRef, otherTerms, "its own terms hash");
    }

    function _countLogs(bytes32 topic0) internal returns (uint256 n) {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].topics.length != 0 && logs[i].topics[0] == topic0) ++n;
        }
    }

    /// @dev A deployment stores its shipped pairs ahead of grants: anyone may, a stored pair keeps its index and is
    /// not stored again, and a grant naming it then stores only the index.
    function test_refs_internAheadOfGrants() public {
        vm.assertEq(grants.refsIndex(PROFILE, TERMS), 0, "not stored yet");
        vm.expectEmit(address(grants));
        emit IConsentGrants.RefsInterned(1, PROFILE, TERMS);
        vm.prank(STRANGER);
        vm.assertEq(grants.internRefs(PROFILE, TERMS), 1, "stored at index 1");
        vm.assertEq(grants.refsIndex(PROFILE, TERMS), 1, "the view finds it");
        vm.recordLogs();
        vm.assertEq(grants.internRefs(PROFILE, TERMS), 1, "stored once: the same index");
        bytes32 id = _mint(_subject(1), _simple(_subject(1), CLINIC));
        vm.assertEq(_countLogs(IConsentGrants.RefsInterned.selector), 0, "neither the second call nor the grant stores it");
        vm.assertEq(_refsIndexOf(id), 1, "the grant stores the index");
        vm.assertEq(grants.refsIndex(PROFILE, keccak256("other terms")), 0, "another pair is not stored");
    }

    function test_refs_fullTableRefusesANewPair() public {
        _mint(_subject(1), _simple(_subject(1), CLINIC)); // interns (PROFILE, TERMS) at index 1
        // _refs (slot 6) at 2^32 entries: no index is left for a new pair.
        vm.store(address(grants), bytes32(uint256(6)), bytes32(uint256(1) << 32));
        Subject memory s = _subject(2);
        IConsentGrants.GrantInput memory g = _simple(s, CLINIC);
        g.termsRef = keccak256("carechain/terms/research/v9");
        bytes memory sig = _grantSig(s, g, 0);
        vm.prank(RELAYER);
        vm.expectRevert(abi.encodeWithSelector(IConsentGrants.RefsFull.selector));
        grants.grant(g, sig);
        Subject memory t = _subject(3);
        _mint(t, _simple(t, CLINIC));
        vm.assertTrue(grants.isGrantActive(t.commit), "a stored pair is still used");
    }

    function test_erc_supportsInterfaceIConsentGrant() public view {
        string[16] memory functions = [
            "revokeBySubject(bytes32,bytes32)",
            "renounceByGrantee(bytes32)",
            "revokeAgent(bytes32,bytes32)",
            "revokeScopeLeaf(bytes32,bytes32)",
            "revokeBySubjectWithSig(bytes32,bytes32,bytes)",
            "revokeScopeLeafWithSig(bytes32,bytes32,bytes)",
            "suspend(bytes32,bytes32)",
            "resume(bytes32)",
            "terminateByIssuer(bytes32,bytes32)",
            "checkAccess(bytes32,uint32,uint32,bytes32,bytes32[])",
            "isGrantActive(bytes32)",
            "effectiveStatus(bytes32)",
            "subjectOf(bytes32)",
            "nonces(bytes32)",
            "revocationEpoch()",
            "commitUsage(bytes32,uint64,bytes32,uint32)"
        ];
        bytes4 id;
        for (uint256 i = 0; i < functions.length; ++i) {
            id ^= bytes4(keccak256(bytes(functions[i])));
        }
        vm.assertEq(bytes32(id), bytes32(type(IConsentGrant).interfaceId), "IConsentGrant is the ERC's interface");
        vm.assertTrue(grants.supportsInterface(id), "IConsentGrant");
        vm.assertTrue(grants.supportsInterface(0x01ffc9a7), "ERC-165");
        vm.assertTrue(grants.supportsInterface(type(IAccessControl).interfaceId), "IAccessControl");
        bytes4 withGrant =
            id ^ bytes4(keccak256("grant((bytes32,bytes32,bytes32,uint256,bytes32,address,address,uint256),bytes)"));
        vm.assertFalse(grants.supportsInterface(withGrant), "grant is left out of the id");
        vm.assertFalse(grants.supportsInterface(0xffffffff), "ERC-165's invalid id");
    }

    /* ------------------------------------------------------------------ */
    /*                                PRIVACY                             */
    /* ------------------------------------------------------------------ */

    /// @dev Privacy rule 7 and "never written on-chain": no storage word written and no log word emitted while a
    /// subject grants, is sub-granted, withdraws a leaf, withdraws and burns a nonce holds its key or its salt.
    function test_erc_subjectKeyAndSaltNeverOnChain() public {
        Subject memory s = _subject(1);
        vm.record();
        vm.recordLogs();
        IConsentGrants.GrantInput memory g = _rootScoped(s, COMMITTEE, DELEGABLE);
        bytes32 id = _mint(s, g);
        _sub(id, COMMITTEE, _child(g, RESEARCHER, g.policy));
        _withdrawLeaf(s, id, LABS_LEAF);
        _revoke(s, id);
        bytes memory burn = _burnSig(s, grants.nonces(s.commit));
        vm.prank(RELAYER);
        grants.burnNonce(s.commit, burn);

        (, bytes32[] memory writes) = vm.accesses(address(grants));
        vm.assertTrue(writes.length > 0, "writes recorded");
        for (uint256 i = 0; i < writes.length; ++i) {
            _assertNoSecret(vm.load(address(grants), writes[i]), s);
        }
        Vm.Log[] memory logs = vm.getRecordedLogs();
        vm.assertTrue(logs.length > 0, "logs recorded");
        for (uint256 i = 0; i < logs.length; ++i) {
            for (uint256 t = 0; t < logs[i].topics.length; ++t) {
                _assertNoSecret(logs[i].topics[t], s);
            }
            bytes memory data = logs[i].data;
            for (uint256 w = 0; w + 32 <= data.length; w += 32) {
                bytes32 word;
                assembly ("memory-safe") {
                    word := mload(add(add(data, 0x20), w))
                }
                _assertNoSecret(word, s);
            }
        }
    }

    /// @dev The word is not the salt and holds the key's 20 bytes at no byte offset.
    function _assertNoSecret(bytes32 word, Subject memory s) internal pure {
        vm.assertTrue(word != s.salt, "a salt on chain");
        for (uint256 shift = 0; shift <= 96; shift += 8) {
            vm.assertTrue(address(uint160(uint256(word) >> shift)) != s.addr, "a subject key on chain");
        }
    }
}
