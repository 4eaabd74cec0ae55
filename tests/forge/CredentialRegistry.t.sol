// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {ICredentialRegistry} from "../../contracts/interfaces/ICredentialRegistry.sol";

import {CareChainTest} from "./utils/CareChainTest.sol";
import {VM_ADDRESS} from "./utils/Vm.sol";

/// @dev Fuzz tests of attest / suspend / reinstate / revoke, the validity window of hasCredential,
/// and who may call them (registrars only).
contract CredentialRegistryTest is CareChainTest {
    /* ------------------------------------------------------------------ */
    /*                                ATTEST                              */
    /* ------------------------------------------------------------------ */

    function testFuzz_attest_storesTheCredential(
        address account,
        uint256 roleSeed,
        bytes32 licenseHash,
        uint256 fromSeed,
        uint256 lengthSeed,
        bool openEnded
    ) public {
        _assumeFresh(account);
        bytes32 role = _role(roleSeed);
        vm.assume(licenseHash != bytes32(0));
        uint64 validFrom = uint64(_bound(fromSeed, 0, START + MAX_TTL));
        uint64 validUntil = openEnded ? 0 : _max(validFrom, START) + uint64(_bound(lengthSeed, 1, MAX_TTL));

        vm.expectEmit(address(credentials));
        emit ICredentialRegistry.CredentialAttested(account, role, licenseHash, validFrom, validUntil, REGISTRAR);
        vm.prank(REGISTRAR);
        credentials.attest(account, role, licenseHash, validFrom, validUntil);

        ICredentialRegistry.Credential memory c = credentials.getCredential(account, role);
        vm.assertEq(c.licenseHash, licenseHash, "licenseHash");
        vm.assertEq(c.validFrom, validFrom, "validFrom");
        vm.assertEq(c.validUntil, validUntil, "validUntil");
        vm.assertEq(uint256(c.status), uint256(ICredentialRegistry.Status.Active), "status");
        vm.assertEq(credentials.hasCredential(account, role), validFrom <= START, "live once validFrom is reached");
    }

    function testFuzz_hasCredential_onlyInsideTheValidityWindow(
        address account,
        uint256 roleSeed,
        uint256 fromSeed,
        uint256 lengthSeed,
        uint256 probeSeed
    ) public {
        _assumeFresh(account);
        bytes32 role = _role(roleSeed);
        uint64 validFrom = uint64(_bound(fromSeed, 1, START + MAX_TTL));
        uint64 validUntil = _max(validFrom, START) + uint64(_bound(lengthSeed, 1, MAX_TTL));
        vm.prank(REGISTRAR);
        credentials.attest(account, role, LICENSE, validFrom, validUntil);

        vm.warp(validFrom - 1);
        vm.assertFalse(credentials.hasCredential(account, role), "before validFrom");
        vm.warp(validFrom);
        vm.assertTrue(credentials.hasCredential(account, role), "at validFrom");
        vm.warp(validUntil - 1);
        vm.assertTrue(credentials.hasCredential(account, role), "last live second");
        vm.warp(validUntil);
        vm.assertFalse(credentials.hasCredential(account, role), "at validUntil");

        uint256 probe = _bound(probeSeed, 0, validUntil + MAX_TTL);
        vm.warp(probe);
        vm.assertEq(
            credentials.hasCredential(account, role), validFrom <= probe && probe < validUntil, "anywhere in time"
        );
    }

    function testFuzz_hasCredential_openEnded_neverLapses(
        address account,
        uint256 roleSeed,
        uint256 fromSeed,
        uint256 laterSeed
    ) public {
        _assumeFresh(account);
        bytes32 role = _role(roleSeed);
        uint64 validFrom = uint64(_bound(fromSeed, 0, START + MAX_TTL));
        vm.prank(REGISTRAR);
        credentials.attest(account, role, LICENSE, validFrom, 0);

        vm.warp(_bound(laterSeed, validFrom, type(uint64).max));
        vm.assertTrue(credentials.hasCredential(account, role), "no end date");
    }

    /// @dev A renewal replaces the licence and window; after a revocation it starts afresh.
    function testFuzz_attest_renewsOverAnyStatusButSuspended(
        address account,
        uint256 roleSeed,
        uint8 statusSeed,
        bytes32 newLicense,
        uint256 lengthSeed
    ) public {
        _assumeFresh(account);
        bytes32 role = _role(roleSeed);
        vm.assume(newLicense != bytes32(0));
        ICredentialRegistry.Status status = ICredentialRegistry.Status(statusSeed % 5);
        _bringTo(account, role, status);
        uint64 validUntil = START + uint64(_bound(lengthSeed, 1, MAX_TTL));

        vm.prank(REGISTRAR);
        if (
            status == ICredentialRegistry.Status.Suspended || status == ICredentialRegistry.Status.RevokedWhileSuspended
        ) {
            // Only `reinstate` lifts a suspension: neither a renewal nor revoke + attest bypasses it.
            vm.expectRevert(
                abi.encodeWithSelector(ICredentialRegistry.InvalidCredentialStatus.selector, account, role, status)
            );
            credentials.attest(account, role, newLicense, START, validUntil);
            return;
        }
        credentials.attest(account, role, newLicense, START, validUntil);

        ICredentialRegistry.Credential memory c = credentials.getCredential(account, role);
        vm.assertEq(c.licenseHash, newLicense, "new licence");
        vm.assertEq(c.validUntil, validUntil, "new window");
        vm.assertEq(uint256(c.status), uint256(ICredentialRegistry.Status.Active), "active again");
        vm.assertTrue(credentials.hasCredential(account, role), "live");
    }

    function testFuzz_attest_rejectsMalformedInput(
        address account,
        uint256 roleSeed,
        uint256 fromSeed,
        uint256 untilSeed,
        uint256 pastSeed
    ) public {
        _assumeFresh(account);
        bytes32 role = _role(roleSeed);
        uint64 validFrom = uint64(_bound(fromSeed, 1, type(uint64).max));
        uint64 emptyUntil = uint64(_bound(untilSeed, 1, validFrom)); // ends before or when it starts
        uint64 pastUntil = uint64(_bound(pastSeed, 1, START)); // already over (0 would mean "no end")

        vm.startPrank(REGISTRAR);
        vm.expectRevert(abi.encodeWithSelector(ICredentialRegistry.InvalidAccount.selector, address(0)));
        credentials.attest(address(0), role, LICENSE, START, 0);
        vm.expectRevert(abi.encodeWithSelector(ICredentialRegistry.InvalidLicenseHash.selector));
        credentials.attest(account, role, bytes32(0), START, 0);
        vm.expectRevert(abi.encodeWithSelector(ICredentialRegistry.InvalidValidity.selector, validFrom, emptyUntil));
        credentials.attest(account, role, LICENSE, validFrom, emptyUntil);
        vm.expectRevert(abi.encodeWithSelector(ICredentialRegistry.InvalidValidity.selector, 0, pastUntil));
        credentials.attest(account, role, LICENSE, 0, pastUntil);
        vm.stopPrank();

        vm.assertEq(uint256(credentials.getCredential(account, role).status), 0, "nothing stored");
    }

    function testFuzz_attest_unknownRole_reverts(address account, bytes32 role) public {
        _assumeFresh(account);
        vm.assume(!_isCredentialRole(role));

        vm.prank(REGISTRAR);
        vm.expectRevert(abi.encodeWithSelector(ICredentialRegistry.UnknownRole.selector, role));
        credentials.attest(account, role, LICENSE, START, 0);
        vm.assertFalse(credentials.hasCredential(account, role), "nothing granted");
    }

    /// @dev The access-control roles are not credentials: a registrar cannot mint registrars or admins.
    function test_attest_accessControlRoles_areUnknown() public {
        vm.startPrank(REGISTRAR);
        vm.expectRevert(abi.encodeWithSelector(ICredentialRegistry.UnknownRole.selector, REGISTRAR_ROLE));
        credentials.attest(CUSTODIAN, REGISTRAR_ROLE, LICENSE, START, 0);
        vm.expectRevert(abi.encodeWithSelector(ICredentialRegistry.UnknownRole.selector, bytes32(0)));
        credentials.attest(CUSTODIAN, bytes32(0), LICENSE, START, 0);
        vm.stopPrank();
    }

    function test_roleIds_matchTheSpec() public view {
        vm.assertEq(credentials.REGISTRAR_ROLE(), REGISTRAR_ROLE, "REGISTRAR");
        vm.assertEq(credentials.PROVIDER(), PROVIDER, "PROVIDER");
        vm.assertEq(credentials.RESEARCHER(), RESEARCHER, "RESEARCHER");
        vm.assertEq(credentials.IRB(), IRB, "IRB");
        vm.assertEq(credentials.EMERGENCY(), EMERGENCY, "EMERGENCY");
        vm.assertEq(credentials.REVIEWER(), REVIEWER, "REVIEWER");
        vm.assertEq(credentials.CUSTODIAN(), CUSTODIAN_ROLE, "CUSTODIAN");
    }

    /* ------------------------------------------------------------------ */
    /*                   SUSPEND / REINSTATE / REVOKE                     */
    /* ------------------------------------------------------------------ */

    function testFuzz_suspendAndReinstate_toggleTheCredential(address account, uint256 roleSeed, uint8 rounds) public {
        _assumeFresh(account);
        bytes32 role = _role(roleSeed);
        _attest(account, role);

        for (uint256 i; i < 1 + rounds % 3; ++i) {
            vm.expectEmit(address(credentials));
            emit ICredentialRegistry.CredentialSuspended(account, role, REGISTRAR);
            _suspend(account, role);
            vm.assertFalse(credentials.hasCredential(account, role), "suspended");

            vm.expectEmit(address(credentials));
            emit ICredentialRegistry.CredentialReinstated(account, role, REGISTRAR);
            vm.prank(REGISTRAR);
            credentials.reinstate(account, role);
            vm.assertTrue(credentials.hasCredential(account, role), "reinstated");
        }
        vm.assertEq(credentials.getCredential(account, role).licenseHash, LICENSE, "licence kept");
    }

    /// @dev A suspension does not stop the clock: a credential reinstated after its end stays dead.
    function testFuzz_reinstate_afterValidUntil_staysDead(address account, uint256 roleSeed, uint256 lengthSeed)
        public
    {
        _assumeFresh(account);
        bytes32 role = _role(roleSeed);
        uint64 validUntil = START + uint64(_bound(lengthSeed, 1, MAX_TTL));
        vm.prank(REGISTRAR);
        credentials.attest(account, role, LICENSE, START, validUntil);
        _suspend(account, role);

        vm.warp(validUntil);
        vm.prank(REGISTRAR);
        credentials.reinstate(account, role);
        vm.assertFalse(credentials.hasCredential(account, role), "expired while suspended");
    }

    function testFuzz_suspend_requiresAnActiveCredential(address account, uint256 roleSeed, uint8 statusSeed) public {
        _assumeFresh(account);
        bytes32 role = _role(roleSeed);
        ICredentialRegistry.Status status = [
            ICredentialRegistry.Status.None,
            ICredentialRegistry.Status.Suspended,
            ICredentialRegistry.Status.Revoked,
            ICredentialRegistry.Status.RevokedWhileSuspended
        ][statusSeed % 4];
        _bringTo(account, role, status);

        vm.prank(REGISTRAR);
        vm.expectRevert(
            abi.encodeWithSelector(ICredentialRegistry.InvalidCredentialStatus.selector, account, role, status)
        );
        credentials.suspend(account, role);
    }

    function testFuzz_reinstate_requiresASuspendedCredential(address account, uint256 roleSeed, uint8 statusSeed)
        public
    {
        _assumeFresh(account);
        bytes32 role = _role(roleSeed);
        ICredentialRegistry.Status status = [
            ICredentialRegistry.Status.None, ICredentialRegistry.Status.Active, ICredentialRegistry.Status.Revoked
        ][statusSeed % 3];
        _bringTo(account, role, status);

        vm.prank(REGISTRAR);
        vm.expectRevert(
            abi.encodeWithSelector(ICredentialRegistry.InvalidCredentialStatus.selector, account, role, status)
        );
        credentials.reinstate(account, role);
        vm.assertEq(uint256(credentials.getCredential(account, role).status), uint256(status), "status unchanged");
    }

    function testFuzz_revoke_isFinal(address account, uint256 roleSeed, bool fromSuspended, uint256 laterSeed) public {
        _assumeFresh(account);
        bytes32 role = _role(roleSeed);
        _bringTo(
            account, role, fromSuspended ? ICredentialRegistry.Status.Suspended : ICredentialRegistry.Status.Active
        );

        vm.expectEmit(address(credentials));
        emit ICredentialRegistry.CredentialRevoked(account, role, REGISTRAR);
        vm.prank(REGISTRAR);
        credentials.revoke(account, role);
        vm.assertFalse(credentials.hasCredential(account, role), "revoked");

        vm.warp(START + _bound(laterSeed, 0, MAX_TTL));
        ICredentialRegistry.Status revoked =
            fromSuspended ? ICredentialRegistry.Status.RevokedWhileSuspended : ICredentialRegistry.Status.Revoked;
        vm.assertEq(uint256(credentials.getCredential(account, role).status), uint256(revoked), "revoked status");
        bytes memory err =
            abi.encodeWithSelector(ICredentialRegistry.InvalidCredentialStatus.selector, account, role, revoked);
        vm.startPrank(REGISTRAR);
        if (!fromSuspended) {
            vm.expectRevert(err);
            credentials.reinstate(account, role);
        }
        vm.expectRevert(err);
        credentials.suspend(account, role);
        vm.expectRevert(err);
        credentials.revoke(account, role);
        vm.stopPrank();
        vm.assertFalse(credentials.hasCredential(account, role), "still revoked");
    }

    /// @dev Finding A.7: revoke + attest must not replace a suspended credential; the suspension outlives
    /// the revocation until `reinstate` lifts it (leaving it revoked), and only then may a registrar attest afresh.
    function testFuzz_revoke_thenAttest_keepsTheSuspension(address account, uint256 roleSeed) public {
        _assumeFresh(account);
        bytes32 role = _role(roleSeed);
        _bringTo(account, role, ICredentialRegistry.Status.Suspended);

        vm.startPrank(REGISTRAR);
        credentials.revoke(account, role);
        vm.assertEq(
            uint256(credentials.getCredential(account, role).status),
            uint256(ICredentialRegistry.Status.RevokedWhileSuspended),
            "revoked, still suspended"
        );
        vm.expectRevert(
            abi.encodeWithSelector(
                ICredentialRegistry.InvalidCredentialStatus.selector,
                account,
                role,
                ICredentialRegistry.Status.RevokedWhileSuspended
            )
        );
        credentials.attest(account, role, LICENSE, 0, 0);
        vm.assertFalse(credentials.hasCredential(account, role), "suspension not lifted by revoke + attest");

        vm.expectEmit(address(credentials));
        emit ICredentialRegistry.CredentialReinstated(account, role, REGISTRAR);
        credentials.reinstate(account, role);
        vm.assertEq(
            uint256(credentials.getCredential(account, role).status),
            uint256(ICredentialRegistry.Status.Revoked),
            "reinstate lifts the suspension, the revocation stays"
        );
        vm.assertFalse(credentials.hasCredential(account, role), "still revoked");
        credentials.attest(account, role, LICENSE, 0, 0);
        vm.stopPrank();
        vm.assertTrue(credentials.hasCredential(account, role), "a fresh attestation after the lift");
    }

    function testFuzz_revoke_neverAttested_reverts(address account, bytes32 role) public {
        _assumeFresh(account);
        vm.prank(REGISTRAR);
        vm.expectRevert(
            abi.encodeWithSelector(
                ICredentialRegistry.InvalidCredentialStatus.selector, account, role, ICredentialRegistry.Status.None
            )
        );
        credentials.revoke(account, role);
    }

    function testFuzz_credentials_areKeptPerAccountAndRole(
        address account,
        address other,
        uint256 roleSeed,
        uint256 otherRoleSeed
    ) public {
        _assumeFresh(account);
        _assumeFresh(other);
        vm.assume(account != other);
        bytes32 role = _role(roleSeed);
        bytes32 otherRole = _role(otherRoleSeed);
        vm.assume(role != otherRole);
        _attest(account, role);
        _attest(account, otherRole);

        vm.assertFalse(credentials.hasCredential(other, role), "other account");
        _suspend(account, role);
        vm.assertFalse(credentials.hasCredential(account, role), "suspended role");
        vm.assertTrue(credentials.hasCredential(account, otherRole), "other role untouched");
    }

    /* ------------------------------------------------------------------ */
    /*                              REGISTRARS                            */
    /* ------------------------------------------------------------------ */

    /// @dev Every registrar action, by anyone but a registrar (the admin included), reverts first.
    function testFuzz_nonRegistrar_reverts(address caller, address account, uint256 roleSeed) public {
        vm.assume(caller != REGISTRAR && caller != VM_ADDRESS);
        _assumeFresh(account);
        bytes32 role = _role(roleSeed);
        _attest(account, role);
        bytes memory err =
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, caller, REGISTRAR_ROLE);

        vm.startPrank(caller);
        vm.expectRevert(err);
        credentials.attest(account, role, keccak256("forged"), START, 0);
        vm.expectRevert(err);
        credentials.suspend(account, role);
        vm.expectRevert(err);
        credentials.reinstate(account, role);
        vm.expectRevert(err);
        credentials.revoke(account, role);
        vm.stopPrank();

        vm.assertEq(credentials.getCredential(account, role).licenseHash, LICENSE, "licence untouched");
        vm.assertTrue(credentials.hasCredential(account, role), "still live");
    }

    function test_admin_isNotARegistrar() public {
        vm.prank(ADMIN);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, ADMIN, REGISTRAR_ROLE)
        );
        credentials.attest(ADMIN, PROVIDER, LICENSE, START, 0);
    }

    function testFuzz_registrars_areAppointedAndRemovedByTheAdmin(address registrar, address account, uint256 roleSeed)
        public
    {
        _assumeFresh(registrar);
        _assumeFresh(account);
        bytes32 role = _role(roleSeed);

        vm.prank(ADMIN);
        credentials.grantRole(REGISTRAR_ROLE, registrar);
        vm.expectEmit(address(credentials));
        emit ICredentialRegistry.CredentialAttested(account, role, LICENSE, START, 0, registrar);
        vm.prank(registrar);
        credentials.attest(account, role, LICENSE, START, 0);

        vm.prank(ADMIN);
        credentials.revokeRole(REGISTRAR_ROLE, registrar);
        vm.prank(registrar);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, registrar, REGISTRAR_ROLE)
        );
        credentials.suspend(account, role);
        vm.assertTrue(credentials.hasCredential(account, role), "attestation outlives its registrar's role");
    }

    /* ------------------------------------------------------------------ */
    /*                               HELPERS                              */
    /* ------------------------------------------------------------------ */

    /// @dev An open-ended credential from now, brought to `status` (None: never attested).
    function _bringTo(address account, bytes32 role, ICredentialRegistry.Status status) private {
        if (status == ICredentialRegistry.Status.None) return;
        _attest(account, role);
        vm.startPrank(REGISTRAR);
        if (status == ICredentialRegistry.Status.Suspended) credentials.suspend(account, role);
        if (status == ICredentialRegistry.Status.Revoked) credentials.revoke(account, role);
        if (status == ICredentialRegistry.Status.RevokedWhileSuspended) {
            credentials.suspend(account, role);
            credentials.revoke(account, role);
        }
        vm.stopPrank();
    }

    function _max(uint64 a, uint64 b) private pure returns (uint64) {
        return a > b ? a : b;
    }
}
