// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @dev The cheat codes these tests use, and only those: forge-std is not available offline.
/// Signatures follow forge-std's `Vm.sol`; forge answers them at `VM_ADDRESS`.
address constant VM_ADDRESS = address(uint160(uint256(keccak256("hevm cheat code"))));

interface Vm {
    /// @dev A log captured by `recordLogs`.
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    /* ---- ENVIRONMENT ---- */
    function warp(uint256 newTimestamp) external;
    function chainId(uint256 newChainId) external;

    /* ---- CALLERS ---- */
    function prank(address msgSender) external;
    function startPrank(address msgSender) external;
    function stopPrank() external;

    /* ---- EXPECTATIONS ---- */
    function expectRevert(bytes calldata revertData) external;
    function expectEmit(address emitter) external;

    /* ---- KEYS ---- */
    function addr(uint256 privateKey) external pure returns (address keyAddr);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);

    /* ---- STORAGE AND LOGS ---- */
    function load(address target, bytes32 slot) external view returns (bytes32 data);
    function store(address target, bytes32 slot, bytes32 value) external;
    function record() external;
    function accesses(address target) external returns (bytes32[] memory readSlots, bytes32[] memory writeSlots);
    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory logs);

    /* ---- FUZZING ---- */
    function assume(bool condition) external pure;

    /* ---- ASSERTIONS ---- */
    function assertTrue(bool condition, string calldata error) external pure;
    function assertFalse(bool condition, string calldata error) external pure;
    function assertEq(bool left, bool right, string calldata error) external pure;
    function assertEq(uint256 left, uint256 right, string calldata error) external pure;
    function assertEq(address left, address right, string calldata error) external pure;
    function assertEq(bytes32 left, bytes32 right, string calldata error) external pure;
}
