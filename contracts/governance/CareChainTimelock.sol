// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title CareChainTimelock
/// @notice The CredentialRegistry's default admin on a public chain: appointing or removing a registrar is
/// scheduled by the operator's multisig, waits `getMinDelay()` in public view, and only then runs, so a
/// stolen admin key cannot appoint a registrar who attests EMERGENCY and breaks glass in the same block
/// (issue 15, finding A.6). A scheduled operation can be cancelled while it waits.
/// @dev OpenZeppelin's TimelockController as it is, self-administered (no admin account): changing its
/// proposers, executors or delay is itself a timelocked operation on the timelock. Proposers also get
/// CANCELLER_ROLE. The runbook is docs/governance.md.
contract CareChainTimelock is TimelockController {
    /// @notice Deploys a timelock that administers itself, with no admin account.
    /// @param minDelay Seconds between scheduling an operation and the earliest time it may run.
    /// @param proposers Who schedule (and may cancel) operations: the operator's multisig.
    /// @param executors Who run a ready operation: the multisig, or address(0) for anyone.
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors)
        TimelockController(minDelay, proposers, executors, address(0))
    {}
}
