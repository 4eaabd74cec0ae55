// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ConsentGrants} from "../../../contracts/ConsentGrants.sol";
import {PurposeRegistry} from "../../../contracts/PurposeRegistry.sol";
import {IConsentGrants} from "../../../contracts/interfaces/IConsentGrants.sol";

import {GrantsTest} from "../utils/GrantsTest.sol";
import {SortedMerkle} from "../utils/SortedMerkle.sol";

/// @dev Drives ConsentGrants for the invariant test: relayed signed grants (a fresh subject key each), sub-grants
/// derived from a live parent (mostly within the attenuation rules, sometimes past one), the subjects' signed
/// withdrawals, leaf withdrawals and nonce burns, holds and their lifting by the grantee or the agent's operator,
/// renounces, issuer terminations, agent revocations, usage commits, and time moving forward. It inherits GrantsTest
/// for the spec's typed data and packing (one set of helpers for tests and handler); it does not run its set-up.
/// It keeps a model of every grant's status, every subject's nonce and every revocation it made, and predicts the
/// outcome of each withdrawal, hold and commit; a call that does not do what the model predicts is counted, not
/// thrown, so the invariant (which asserts the count is zero) reports it.
contract GrantsHandler is GrantsTest {
    address public constant STRANGER = address(0x57A4);
    uint256 public constant MAX_GRANTS = 96;
    uint256 public constant LEAVES = 4;

    /// @dev The handler's clock: it re-applies it on every call, whether or not the fuzzer keeps block.timestamp.
    uint64 public currentTime;

    Subject[] internal _subjects;
    bytes32[] internal _ids;
    mapping(bytes32 id => uint256) internal _subjectIndex;
    mapping(bytes32 id => uint8) public statusModel;
    mapping(bytes32 id => uint8) public terminalOf;
    mapping(bytes32 id => address) internal _suspender;
    mapping(bytes32 id => mapping(bytes32 leaf => bool)) internal _withdrawn;
    mapping(bytes32 id => mapping(uint64 epoch => uint32)) internal _usage;
    /// @dev Every subject signature the contract accepted: the nonce each commitment must be at.
    mapping(bytes32 commit => uint256) public signedActs;

    uint256 public revocations;
    uint256 public maxEpochSeen;
    uint256 public unexpectedOutcomes;
    string public lastUnexpected;

    constructor(ConsentGrants grants_, PurposeRegistry purposes_) {
        grants = grants_;
        purposes = purposes_;
        currentTime = uint64(block.timestamp);
        maxEpochSeen = grants_.revocationEpoch();
    }

    /* ---- VIEWS FOR THE INVARIANTS ---- */

    function grantCount() external view returns (uint256) {
        return _ids.length;
    }

    function grantId(uint256 i) external view returns (bytes32) {
        return _ids[i];
    }

    function subjectCount() external view returns (uint256) {
        return _subjects.length;
    }

    /// @dev A subject's key address, salt and commitment (never its private key).
    function subjectAt(uint256 i) external view returns (address key, bytes32 salt, bytes32 commit) {
        Subject storage s = _subjects[i];
        return (s.addr, s.salt, s.commit);
    }

    /* ---- ACTIONS ---- */

    function grant(uint256 granteeSeed, uint256 policySeed, bool rootScoped) external {
        if (_ids.length >= MAX_GRANTS) return;
        vm.warp(currentTime);
        Subject memory s = _subject(1_000_000 + _subjects.length); // a fresh key per grant
        _subjects.push(s);
        IConsentGrants.GrantInput memory g = _input(
            s, _grantee(granteeSeed), rootScoped ? _scopeRoot() : _resource("a"), _rootPolicy(policySeed, rootScoped)
        );
        if (uint8(g.policy >> 176) != 0) g.agent = AGENT;
        bytes memory sig = _grantSig(s, g, signedActs[s.commit]);
        vm.prank(RELAYER);
        try grants.grant(g, sig) returns (bytes32 id) {
            _record(id, _subjects.length - 1);
            ++signedActs[s.commit];
        } catch (bytes memory reason) {
            _unexpected("grant reverted", reason);
        }
        _after();
    }

    function subGrant(uint256 parentSeed, uint256 granteeSeed, uint256 policySeed, uint256 leafSeed) external {
        if (_ids.length == 0 || _ids.length >= MAX_GRANTS) return;
        vm.warp(currentTime);
        bytes32 parentId = _pickRecent(parentSeed);
        IConsentGrants.ConsentGrant memory p = grants.getGrant(parentId);
        (IConsentGrants.GrantInput memory g, bytes32[] memory proof) = _childOf(p, granteeSeed, policySeed, leafSeed);
        vm.prank(p.grantee);
        try grants.subGrant(parentId, g, proof) returns (bytes32 id) {
            _record(id, _subjectIndex[parentId]);
        } catch {
            // Refusals are expected (an inactive parent, a rule broken on purpose); the invariants check what went in.
        }
        _after();
    }

    function revokeBySubject(uint256 idSeed) external {
        if (_ids.length == 0) return;
        vm.warp(currentTime);
        bytes32 id = _pick(idSeed);
        Subject memory s = _subjects[_subjectIndex[id]];
        uint8 status = statusModel[id];
        bytes memory sig = _revokeSig(s, id, bytes32(0), signedActs[s.commit]);
        bool expected = status == ACTIVE || status == SUSPENDED;
        vm.prank(RELAYER);
        try grants.revokeBySubjectWithSig(id, bytes32(0), sig) {
            if (!expected) return _unexpected("revocation succeeded against the model", "");
            statusModel[id] = REVOKED_BY_SUBJECT;
            ++signedActs[s.commit];
            ++revocations;
        } catch (bytes memory reason) {
            _expectRevert(expected, reason, abi.encodeWithSelector(IConsentGrants.WrongStatus.selector, id, status));
        }
        _after();
    }

    function withdrawLeaf(uint256 idSeed, uint256 leafSeed) external {
        if (_ids.length == 0) return;
        vm.warp(currentTime);
        bytes32 id = _pick(idSeed);
        Subject memory s = _subjects[_subjectIndex[id]];
        bytes32 leaf = _leafAt(leafSeed);
        bytes memory sig = _leafSig(s, id, leaf, signedActs[s.commit]);
        bytes memory expected;
        if (grants.getGrant(id).flags & SCOPE_IS_ROOT == 0) {
            expected = abi.encodeWithSelector(IConsentGrants.NotScopeRoot.selector, id);
        } else if (_withdrawn[id][leaf]) {
            expected = abi.encodeWithSelector(IConsentGrants.LeafAlreadyWithdrawn.selector, id, leaf);
        }
        vm.prank(RELAYER);
        try grants.revokeScopeLeafWithSig(id, leaf, sig) {
            if (expected.length != 0) return _unexpected("leaf withdrawal succeeded against the model", "");
            _withdrawn[id][leaf] = true;
            ++signedActs[s.commit];
            ++revocations;
        } catch (bytes memory reason) {
            _expectRevert(expected.length == 0, reason, expected);
        }
        _after();
    }

    function burnNonce(uint256 subjectSeed) external {
        if (_subjects.length == 0) return;
        vm.warp(currentTime);
        Subject memory s = _subjects[subjectSeed % _subjects.length];
        bytes memory sig = _burnSig(s, signedActs[s.commit]);
        vm.prank(RELAYER);
        try grants.burnNonce(s.commit, sig) {
            ++signedActs[s.commit];
        } catch (bytes memory reason) {
            _unexpected("burnNonce reverted", reason);
        }
        _after();
    }

    function suspend(uint256 idSeed, uint256 callerSeed) external {
        if (_ids.length == 0) return;
        vm.warp(currentTime);
        bytes32 id = _pick(idSeed);
        IConsentGrants.ConsentGrant memory g = grants.getGrant(id);
        address caller = [g.grantee, OPERATOR, STRANGER][callerSeed % 3];
        uint8 status = statusModel[id];
        bool party =
            caller == g.grantee || (caller == OPERATOR && g.agent == AGENT && g.agentKind != ASSERTED_UNVERIFIED);
        bytes memory expected;
        if (status != ACTIVE) {
            expected = abi.encodeWithSelector(IConsentGrants.WrongStatus.selector, id, status);
        } else if (!party) {
            expected = abi.encodeWithSelector(IConsentGrants.NotAuthorized.selector, id, caller);
        }
        vm.prank(caller);
        try grants.suspend(id, bytes32(0)) {
            if (expected.length != 0) return _unexpected("suspend succeeded against the model", "");
            statusModel[id] = SUSPENDED;
            _suspender[id] = caller;
            ++revocations;
        } catch (bytes memory reason) {
            _expectRevert(expected.length == 0, reason, expected);
        }
        _after();
    }

    function resume(uint256 idSeed, uint256 callerSeed) external {
        if (_ids.length == 0) return;
        vm.warp(currentTime);
        bytes32 id = _pick(idSeed);
        IConsentGrants.ConsentGrant memory g = grants.getGrant(id);
        address caller = callerSeed % 2 == 0 ? _suspender[id] : [g.grantee, OPERATOR, STRANGER][callerSeed % 3];
        uint8 status = statusModel[id];
        bytes memory expected;
        if (status != SUSPENDED) {
            expected = abi.encodeWithSelector(IConsentGrants.WrongStatus.selector, id, status);
        } else if (caller != _suspender[id]) {
            expected = abi.encodeWithSelector(IConsentGrants.NotAuthorized.selector, id, caller);
        }
        vm.prank(caller);
        try grants.resume(id) {
            if (expected.length != 0) return _unexpected("resume succeeded against the model", "");
            statusModel[id] = ACTIVE;
        } catch (bytes memory reason) {
            _expectRevert(expected.length == 0, reason, expected);
        }
        _after();
    }

    function renounce(uint256 idSeed) external {
        if (_ids.length == 0) return;
        vm.warp(currentTime);
        bytes32 id = _pick(idSeed);
        _endByGrantee(id, false);
    }

    /// @dev COMMITTEE holds ISSUER_ROLE; it terminates what was granted to it.
    function terminate(uint256 idSeed) external {
        if (_ids.length == 0) return;
        vm.warp(currentTime);
        bytes32 id = _pick(idSeed);
        _endByGrantee(id, true);
    }

    function revokeAgent(uint256 idSeed, uint256 callerSeed) external {
        if (_ids.length == 0) return;
        vm.warp(currentTime);
        bytes32 id = _pick(idSeed);
        IConsentGrants.ConsentGrant memory g = grants.getGrant(id);
        address caller = [AGENT, OPERATOR, g.grantee, STRANGER][callerSeed % 4];
        bytes memory expected;
        if (g.agent == address(0) || g.agentStatus != LEG_ACTIVE) {
            expected = abi.encodeWithSelector(IConsentGrants.NoAgentLeg.selector, id);
        } else if (caller == STRANGER) {
            expected = abi.encodeWithSelector(IConsentGrants.NotAuthorized.selector, id, caller);
        }
        vm.prank(caller);
        try grants.revokeAgent(id, bytes32(0)) {
            if (expected.length != 0) return _unexpected("revokeAgent succeeded against the model", "");
            ++revocations;
        } catch (bytes memory reason) {
            _expectRevert(expected.length == 0, reason, expected);
        }
        _after();
    }

    function commitUsage(uint256 idSeed, uint64 epochSeed, uint256 deltaSeed) external {
        if (_ids.length == 0) return;
        vm.warp(currentTime);
        bytes32 id = _pick(idSeed);
        IConsentGrants.ConsentGrant memory g = grants.getGrant(id);
        uint64 epoch = epochSeed % 3;
        uint32 committed = _usage[id][epoch];
        bool decrease = deltaSeed % 8 == 0 && committed != 0;
        uint32 count = decrease ? committed - 1 : committed + uint32(deltaSeed % 3);
        uint8 status = statusModel[id];
        uint256 uses = uint256(g.useCount) + (decrease ? 0 : count - committed);
        bool exhausts = !decrease && g.usesMax != 0 && uses >= g.usesMax && (status == ACTIVE || status == SUSPENDED);
        vm.prank(g.grantee);
        try grants.commitUsage(id, epoch, bytes32(deltaSeed), count) {
            if (decrease) return _unexpected("a decreasing count was accepted", "");
            _usage[id][epoch] = count;
            if (exhausts) {
                statusModel[id] = EXHAUSTED;
                ++revocations;
            }
        } catch (bytes memory reason) {
            _expectRevert(
                !decrease,
                reason,
                abi.encodeWithSelector(IConsentGrants.UsageCountDecreased.selector, id, epoch, committed)
            );
        }
        _after();
    }

    /// @dev Up to three days forward.
    function warp(uint256 secondsSeed) external {
        currentTime += uint64(1 + secondsSeed % 3 days);
        vm.warp(currentTime);
    }

    /* ---- INTERNALS ---- */

    /// @dev The grantee renounces, or COMMITTEE (ISSUER_ROLE) terminates: one prediction for both.
    function _endByGrantee(bytes32 id, bool asIssuer) private {
        address grantee = grants.getGrant(id).grantee;
        address caller = asIssuer ? COMMITTEE : grantee;
        uint8 status = statusModel[id];
        bytes memory expected;
        if (caller != grantee) {
            expected = abi.encodeWithSelector(IConsentGrants.NotGrantee.selector, id, caller);
        } else if (status != ACTIVE) {
            expected = abi.encodeWithSelector(IConsentGrants.WrongStatus.selector, id, status);
        }
        bool ok;
        bytes memory reason;
        vm.prank(caller);
        if (asIssuer) {
            try grants.terminateByIssuer(id, bytes32(0)) {
                ok = true;
            } catch (bytes memory r) {
                reason = r;
            }
        } else {
            try grants.renounceByGrantee(id) {
                ok = true;
            } catch (bytes memory r) {
                reason = r;
            }
        }
        if (!ok) {
            _expectRevert(expected.length == 0, reason, expected);
        } else if (expected.length != 0) {
            _unexpected("an end succeeded against the model", "");
        } else {
            statusModel[id] = asIssuer ? TERMINATED_BY_ISSUER : RENOUNCED_BY_GRANTEE;
            ++revocations;
        }
        _after();
    }

    function _record(bytes32 id, uint256 subjectIndex) private {
        _ids.push(id);
        _subjectIndex[id] = subjectIndex;
        statusModel[id] = ACTIVE;
    }

    /// @dev After every action: statuses agree with the model, a terminal status is recorded once and never moves, and
    /// the epoch never goes down.
    function _after() private {
        for (uint256 i = 0; i < _ids.length; ++i) {
            bytes32 id = _ids[i];
            uint8 status = grants.getGrant(id).status;
            if (status != statusModel[id]) _unexpected("status differs from the model", "");
            if (terminalOf[id] != 0 && status != terminalOf[id]) _unexpected("a terminal status changed", "");
            if (terminalOf[id] == 0 && status != ACTIVE && status != SUSPENDED) terminalOf[id] = status;
        }
        uint256 epoch = grants.revocationEpoch();
        if (epoch < maxEpochSeen) _unexpected("the revocation epoch went down", "");
        maxEpochSeen = epoch;
    }

    function _grantee(uint256 seed) private pure returns (address) {
        return [CLINIC, COMMITTEE, RESEARCHER][seed % 3];
    }

    function _pick(uint256 seed) private view returns (bytes32) {
        return _ids[seed % _ids.length];
    }

    /// @dev A quarter of the time the newest grant, a quarter any, else one of the last four: chains grow deep.
    function _pickRecent(uint256 seed) private view returns (bytes32) {
        uint256 n = _ids.length;
        if (seed % 4 == 0) return _ids[n - 1];
        if (seed % 4 == 1 || n <= 4) return _ids[(seed >> 2) % n];
        return _ids[n - 1 - (seed >> 2) % 4];
    }

    function _leafAt(uint256 seed) private pure returns (bytes32) {
        return _leaf(_resource(["a", "b", "c", "d"][seed % LEAVES]));
    }

    function _leaves() private pure returns (bytes32[] memory leaves) {
        leaves = new bytes32[](LEAVES);
        for (uint256 i = 0; i < LEAVES; ++i) {
            leaves[i] = _leafAt(i);
        }
    }

    function _scopeRoot() private pure returns (bytes32) {
        return SortedMerkle.rootOf(_leaves());
    }

    /// @dev A valid root policy: a window around now of up to 30 days, 1-31 ops, one of the three codes, 0-3 uses,
    /// no agent, a verified or an asserted one, delegable three times in four.
    function _rootPolicy(uint256 seed, bool rootScoped) private view returns (uint256) {
        uint48 notBefore =
            seed % 4 == 0 ? uint48(currentTime + (seed >> 8) % 1 days) : uint48(currentTime - (seed >> 8) % 1 days);
        uint48 expiresAt = uint48(currentTime) + 1 days + uint48((seed >> 32) % 30 days);
        uint32 ops = uint32(1 + (seed >> 64) % 31);
        uint32 purpose = [GRU, HMB, TREAT][(seed >> 72) % 3];
        uint16 usesMax = uint16((seed >> 80) % 4);
        uint8 agentKind = [0, 0, SESSION_KEY, ASSERTED_UNVERIFIED][(seed >> 88) % 4];
        uint8 flags = ((seed >> 96) % 4 != 0 ? DELEGABLE : 0) | (rootScoped ? SCOPE_IS_ROOT : 0);
        return _policy(notBefore, expiresAt, ops, purpose, usesMax, agentKind, flags);
    }

    /// @dev A child of `p`: each field inside the parent's bound, or (one time in eight per field) just past it.
    function _childOf(IConsentGrants.ConsentGrant memory p, uint256 granteeSeed, uint256 seed, uint256 leafSeed)
        private
        view
        returns (IConsentGrants.GrantInput memory g, bytes32[] memory proof)
    {
        uint32 ops = seed % 8 == 7 ? p.ops | uint32(1 << ((seed >> 3) % 5)) : p.ops & uint32(1 + (seed >> 3) % 31);
        if (ops == 0) ops = p.ops;
        uint48 expiresAt = (seed >> 8) % 8 == 7 ? p.expiresAt + 1 : p.expiresAt - uint48((seed >> 11) % 1 hours);
        uint48 notBefore = (seed >> 16) % 8 == 7 && p.notBefore != 0 ? p.notBefore - 1 : p.notBefore;
        uint16 usesMax = p.usesMax == 0 ? uint16((seed >> 24) % 4) : uint16(1 + (seed >> 24) % (p.usesMax + 1)); // +1: past it
        uint32 purpose = (seed >> 32) % 8 == 7 ? TREAT : ((seed >> 35) % 2 == 0 ? p.purposeCode : HMB);
        uint8 flags = ((seed >> 40) % 4 != 3 ? DELEGABLE : 0) | (p.flags & SCOPE_IS_ROOT);
        bytes32 scopeRef = p.scopeRef;
        proof = new bytes32[](0);
        if (p.flags & SCOPE_IS_ROOT != 0 && leafSeed % 2 == 0) {
            flags &= ~SCOPE_IS_ROOT;
            scopeRef = _resource(["a", "b", "c", "d"][leafSeed % LEAVES]);
            proof = SortedMerkle.proofOf(_leaves(), leafSeed % LEAVES);
        }
        g = IConsentGrants.GrantInput(
            scopeRef,
            PROFILE,
            TERMS,
            p.assetTokenId,
            p.subjectCommit,
            _grantee(granteeSeed),
            address(0),
            _policy(notBefore, expiresAt, ops, purpose, usesMax, 0, flags)
        );
    }

    function _expectRevert(bool shouldSucceed, bytes memory reason, bytes memory expected) private {
        if (shouldSucceed) return _unexpected("reverted against the model", reason);
        if (keccak256(reason) != keccak256(expected)) _unexpected("wrong revert", reason);
    }

    function _unexpected(string memory what, bytes memory reason) private {
        ++unexpectedOutcomes;
        lastUnexpected = string.concat(what, " ", _hex4(reason));
    }

    function _hex4(bytes memory reason) private pure returns (string memory) {
        if (reason.length < 4) return "(no data)";
        bytes memory out = new bytes(10);
        (out[0], out[1]) = ("0", "x");
        bytes16 digits = "0123456789abcdef";
        for (uint256 i = 0; i < 4; ++i) {
            out[2 + 2 * i] = digits[uint8(reason[i]) >> 4];
            out[3 + 2 * i] = digits[uint8(reason[i]) & 0x0f];
        }
        return string(out);
    }
}
