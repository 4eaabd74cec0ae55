// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IConsentGrants} from "../../contracts/interfaces/IConsentGrants.sol";

import {GrantsHandler} from "./handlers/GrantsHandler.sol";
import {GrantsTest} from "./utils/GrantsTest.sol";

/// @dev Stateful fuzzing through GrantsHandler (grants, sub-grants, the subjects' signed withdrawals, leaf withdrawals
/// and nonce burns, holds and resumes, renounces, issuer terminations, agent revocations, usage commits, time).
/// After every handler call, over every grant the handler made:
///  - every call did what the handler's model predicted, statuses agree with it, and a terminal status never changes;
///  - a grant is active iff it and every ancestor are ACTIVE, inside [notBefore, expiresAt) and under their cap;
///  - the revocation epoch is its start plus every revocation the handler made (so it never goes down);
///  - each subject's nonce is the number of its signatures the contract accepted (so nonces only go up);
///  - a sub-grant attenuates its parent (subject, ops, window, uses, purpose, asset) one level deeper, within MAX_DEPTH;
///  - no field of any grant is a subject key's address or salt.
/// Checks use `require`, not the assert cheat codes: they run for every grant after every call.
contract ConsentGrantsInvariantTest is GrantsTest {
    /// @dev Read by forge through `targetSelectors()` (the layout forge-std's StdInvariant uses).
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    GrantsHandler internal handler;
    uint256 internal startEpoch;

    function setUp() public override {
        super.setUp();
        handler = new GrantsHandler(grants, purposes);
        vm.prank(ADMIN);
        grants.grantRole(keccak256("carechain.ISSUER"), COMMITTEE);
        vm.prank(AGENT);
        grants.setAgentOperator(AGENT, OPERATOR);
        startEpoch = grants.revocationEpoch();
        // Two delegable roots to start from (one over a Merkle root), so short call sequences reach deep chains.
        uint256 delegableNow = 1 | (1 << 96); // notBefore in the past, DELEGABLE (GrantsHandler._rootPolicy)
        handler.grant(1, delegableNow, true);
        handler.grant(1, delegableNow | (2 << 72), false);
        for (uint256 i = 0; i < 2; ++i) {
            IConsentGrants.ConsentGrant memory g = grants.getGrant(handler.grantId(i));
            vm.assertTrue(g.flags & DELEGABLE != 0 && grants.isGrantActive(handler.grantId(i)), "a live delegable root");
        }
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        // Grants twice and sub-grants four times over, so a 32-call sequence builds a tree worth revoking.
        bytes4[] memory selectors = new bytes4[](17);
        selectors[0] = GrantsHandler.grant.selector;
        selectors[1] = GrantsHandler.grant.selector;
        selectors[2] = GrantsHandler.subGrant.selector;
        selectors[3] = GrantsHandler.subGrant.selector;
        selectors[4] = GrantsHandler.subGrant.selector;
        selectors[5] = GrantsHandler.subGrant.selector;
        selectors[6] = GrantsHandler.revokeBySubject.selector;
        selectors[7] = GrantsHandler.withdrawLeaf.selector;
        selectors[8] = GrantsHandler.burnNonce.selector;
        selectors[9] = GrantsHandler.suspend.selector;
        selectors[10] = GrantsHandler.resume.selector;
        selectors[11] = GrantsHandler.renounce.selector;
        selectors[12] = GrantsHandler.terminate.selector;
        selectors[13] = GrantsHandler.revokeAgent.selector;
        selectors[14] = GrantsHandler.commitUsage.selector;
        selectors[15] = GrantsHandler.commitUsage.selector;
        selectors[16] = GrantsHandler.warp.selector;
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector({addr: address(handler), selectors: selectors});
    }

    /* ------------------------------------------------------------------ */
    /*                              INVARIANTS                            */
    /* ------------------------------------------------------------------ */

    /// forge-config: ci.invariant.runs = 250
    function invariant_everyCallAsModelledAndTerminalStatusesFinal() public view {
        require(handler.unexpectedOutcomes() == 0, handler.lastUnexpected());
        uint256 n = handler.grantCount();
        for (uint256 i = 0; i < n; ++i) {
            bytes32 id = handler.grantId(i);
            uint8 status = grants.getGrant(id).status;
            require(status == handler.statusModel(id), "status differs from the model");
            uint8 terminal = handler.terminalOf(id);
            require(terminal == 0 || status == terminal, "a terminal status changed");
        }
    }

    /// forge-config: ci.invariant.runs = 250
    function invariant_activeIffEveryAncestorActiveAndInWindow() public {
        uint64 time = _syncClock();
        uint256 n = handler.grantCount();
        for (uint256 i = 0; i < n; ++i) {
            bytes32 id = handler.grantId(i);
            require(grants.isGrantActive(id) == _chainActive(id, time), "isGrantActive against the ancestor walk");
        }
    }

    /// forge-config: ci.invariant.runs = 250
    function invariant_revocationEpochCountsEveryRevocation() public view {
        uint256 epoch = grants.revocationEpoch();
        require(epoch == startEpoch + handler.revocations(), "epoch != start + revocations made");
        require(epoch >= handler.maxEpochSeen(), "the epoch went down");
    }

    /// forge-config: ci.invariant.runs = 250
    function invariant_noncesCountAcceptedSignatures() public view {
        uint256 n = handler.subjectCount();
        for (uint256 i = 0; i < n; ++i) {
            (,, bytes32 commit) = handler.subjectAt(i);
            require(grants.nonces(commit) == handler.signedActs(commit), "nonce != accepted signatures");
        }
    }

    /// forge-config: ci.invariant.runs = 250
    function invariant_subGrantsAttenuateTheirParent() public view {
        uint256 n = handler.grantCount();
        for (uint256 i = 0; i < n; ++i) {
            IConsentGrants.ConsentGrant memory c = grants.getGrant(handler.grantId(i));
            if (c.depth == 0) {
                require(c.parentGrantId == bytes32(0), "a root grant with a parent");
                continue;
            }
            IConsentGrants.ConsentGrant memory p = grants.getGrant(c.parentGrantId);
            require(p.status != NONE, "a parent that does not exist");
            require(p.flags & DELEGABLE != 0, "a child of a parent that is not delegable");
            require(c.depth == p.depth + 1 && c.depth <= grants.MAX_DEPTH(), "depth");
            require(c.subjectCommit == p.subjectCommit, "subject");
            require(c.ops & ~p.ops == 0, "ops not a subset");
            require(c.expiresAt <= p.expiresAt, "expires later");
            require(c.notBefore >= p.notBefore, "starts earlier");
            require(p.usesMax == 0 || (c.usesMax != 0 && c.usesMax <= p.usesMax), "more uses");
            require(c.purposeCode == p.purposeCode || purposes.isNarrowing(c.purposeCode, p.purposeCode), "purpose");
            require(c.assetTokenId == p.assetTokenId, "asset");
        }
    }

    /// forge-config: ci.invariant.runs = 250
    function invariant_noSubjectKeyOrSaltStored() public view {
        uint256 n = handler.grantCount();
        uint256 m = handler.subjectCount();
        for (uint256 i = 0; i < n; ++i) {
            IConsentGrants.ConsentGrant memory g = grants.getGrant(handler.grantId(i));
            bytes32[6] memory words = [
                g.scopeRef, g.purposeProfileRef, g.termsRef, g.parentGrantId, bytes32(g.assetTokenId), g.subjectCommit
            ];
            for (uint256 j = 0; j < m; ++j) {
                (address key, bytes32 salt,) = handler.subjectAt(j);
                require(g.grantee != key && g.agent != key, "a subject key as an address field");
                for (uint256 w = 0; w < words.length; ++w) {
                    require(words[w] != salt, "a salt in a field");
                    require(words[w] != bytes32(uint256(uint160(key))), "a subject key in a field");
                }
            }
        }
    }

    /* ------------------------------------------------------------------ */
    /*                               HELPERS                              */
    /* ------------------------------------------------------------------ */

    /// @dev Invariants are checked at the handler's time, whether or not the fuzzer kept the warp.
    function _syncClock() private returns (uint64 time) {
        time = handler.currentTime();
        vm.warp(time);
    }

    /// @dev ERC-8356 "Activity", walked here from getGrant: the grant and each ancestor ACTIVE, in window, under cap.
    function _chainActive(bytes32 id, uint64 time) private view returns (bool) {
        while (true) {
            IConsentGrants.ConsentGrant memory g = grants.getGrant(id);
            if (g.status != ACTIVE || time < g.notBefore || time >= g.expiresAt) return false;
            if (g.usesMax != 0 && g.useCount >= g.usesMax) return false;
            if (g.depth == 0) return true;
            id = g.parentGrantId;
        }
        return false;
    }
}
