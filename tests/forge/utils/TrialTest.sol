// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ConsentGrants} from "../../../contracts/ConsentGrants.sol";
import {PurposeRegistry} from "../../../contracts/PurposeRegistry.sol";
import {TrialRegistry} from "../../../contracts/TrialRegistry.sol";
import {IPurposeCodes} from "../../../contracts/interfaces/IPurposeRegistry.sol";
import {ITrialRegistry} from "../../../contracts/interfaces/ITrialRegistry.sol";

import {CareChainTest} from "./CareChainTest.sol";

/// @dev TrialRegistry on top of CareChainTest's consents and credentials, with the ConsentGrants its trial grants
/// live in (a purpose registry holding HRESCH, CLINTRCH narrowing it, and CLINTRCHPC narrowing that; ISSUER_ROLE
/// granted to the trial registry): a sponsor, an IRB member (the IRB of record of the trials registered here), another
/// credentialed IRB and two credentialed sites. The trial purpose is written here from the spec, not read back.
abstract contract TrialTest is CareChainTest {
    address internal constant SPONSOR = address(0x5905);
    address internal constant IRB_MEMBER = address(0x1A8);
    address internal constant OTHER_IRB = address(0x1A8B);
    address internal constant SITE = address(0x517E01);
    address internal constant OTHER_SITE = address(0x517E02);

    bytes32 internal constant PROTOCOL = keccak256("protocol: phase II, version 1");
    bytes32 internal constant PRIMARY = keccak256("primary endpoints: HbA1c at 24 weeks");
    bytes32 internal constant SECONDARY = keccak256("secondary endpoints: weight, LDL");
    uint64 internal constant TRIAL_SCOPES = 0x0C; // labs + imaging

    // CareChain's purpose codes (carechain.core.profiles): HL7 v3-ActReason, 10_000 + its number there.
    uint32 internal constant HRESCH = 10_037; // healthcare research
    uint32 internal constant CLINTRCH = 10_039; // clinical trial research, narrows HRESCH
    uint32 internal constant CLINTRCHPC = 10_041; // clinical trial research with placebo control, narrows CLINTRCH
    bytes32 internal constant ISSUER_ROLE = keccak256("carechain.ISSUER");

    PurposeRegistry internal purposes;
    ConsentGrants internal grants;
    TrialRegistry internal trials;

    function setUp() public virtual override {
        super.setUp();
        purposes = new PurposeRegistry(ADMIN);
        uint32[] memory codes = new uint32[](3);
        IPurposeCodes.Purpose[] memory terms = new IPurposeCodes.Purpose[](3);
        bytes32 hl7 = keccak256("http://terminology.hl7.org/CodeSystem/v3-ActReason|3.0.0");
        (codes[0], terms[0]) = (HRESCH, IPurposeCodes.Purpose(keccak256("v3-ActReason:HRESCH"), hl7, 0));
        (codes[1], terms[1]) = (CLINTRCH, IPurposeCodes.Purpose(keccak256("v3-ActReason:CLINTRCH"), hl7, HRESCH));
        (codes[2], terms[2]) = (CLINTRCHPC, IPurposeCodes.Purpose(keccak256("v3-ActReason:CLINTRCHPC"), hl7, CLINTRCH));
        vm.prank(ADMIN);
        purposes.register(codes, terms);
        grants = new ConsentGrants(ADMIN, purposes);
        trials = new TrialRegistry(registry, credentials, grants);
        vm.prank(ADMIN);
        grants.grantRole(ISSUER_ROLE, address(trials));
        _attest(IRB_MEMBER, IRB);
        _attest(OTHER_IRB, IRB);
        _attest(SITE, RESEARCHER);
        _attest(OTHER_SITE, RESEARCHER);
    }

    /* ---- INPUTS ---- */

    /// @dev keccak256(abi.encode("carechain.trial", trialId, version)), as ITrialRegistry states it.
    function _trialPurpose(uint256 trialId, uint32 version) internal pure returns (bytes32) {
        return keccak256(abi.encode("carechain.trial", trialId, version));
    }

    /// @dev A case-report-form row of `subject` (visit 1, an HbA1c value), told apart by its salt.
    function _row(bytes32 salt, address subject) internal pure returns (ITrialRegistry.Row memory) {
        return ITrialRegistry.Row({salt: salt, subject: subject, visit: 1, field: "hba1c_pct", value: "6.1"});
    }

    /// @dev A fuzzed account that plays none of the fixed parts (and is not a contract here).
    function _assumeOutsider(address account) internal view {
        _assumeFresh(account);
        vm.assume(
            account != address(trials) && account != address(grants) && account != address(purposes)
                && account != SPONSOR && account != IRB_MEMBER && account != OTHER_IRB && account != SITE
                && account != OTHER_SITE
        );
    }

    /* ---- ACTIONS ---- */

    /// @dev A plain trial of SPONSOR's, IRB_MEMBER its IRB of record.
    function _register(uint64 requiredScopes) internal returns (uint256 trialId) {
        vm.prank(SPONSOR);
        trialId = trials.register(PROTOCOL, requiredScopes, IRB_MEMBER, PRIMARY, SECONDARY, bytes32(0));
    }

    function _approve(uint256 trialId, uint32 version) internal {
        vm.prank(IRB_MEMBER);
        trials.approve(trialId, version);
    }

    function _addSite(uint256 trialId, address site) internal {
        vm.prank(SPONSOR);
        trials.addSite(trialId, site);
    }

    /// @dev Registered, version 1 approved, SITE added: ready to enrol and commit.
    function _openTrial(uint64 requiredScopes) internal returns (uint256 trialId) {
        trialId = _register(requiredScopes);
        _approve(trialId, 1);
        _addSite(trialId, SITE);
    }

    /// @dev The subject's consent to this TrialRegistry for the trial's purpose at `version`.
    function _consentTo(address subject, uint256 trialId, uint32 version, uint64 scopes, uint64 expiresAt) internal {
        _grant(subject, address(trials), _trialPurpose(trialId, version), scopes, expiresAt);
    }

    function _enroll(uint256 trialId, address subject) internal {
        vm.prank(SITE);
        trials.enroll(trialId, subject);
    }

    function _commit(uint256 trialId, address site, bytes32 root, uint32 rows) internal returns (uint32) {
        vm.prank(site);
        return trials.commitBatch(trialId, root, rows);
    }

    function _lock(uint256 trialId) internal {
        vm.prank(SPONSOR);
        trials.lock(trialId);
    }

    function _status(uint256 trialId) internal view returns (ITrialRegistry.Status) {
        return trials.getTrial(trialId).status;
    }
}
