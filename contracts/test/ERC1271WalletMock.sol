// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// solhint-disable avoid-low-level-calls, no-inline-assembly, gas-custom-errors
// (a test wallet: it forwards arbitrary calls and bubbles their revert data up unchanged)

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title ERC1271WalletMock
/// @notice Test-only smart-contract wallet: signatures of its owner are valid (ERC-1271). It can be
/// told to lie (accept everything) or to try to re-enter the caller, to test that neither helps.
contract ERC1271WalletMock is IERC1271 {
    /// @notice How the wallet answers `isValidSignature`.
    enum Mode {
        Honest,
        AcceptAll,
        Reenter
    }

    /// @notice Whose signatures the wallet accepts, and who may `execute` through it.
    address public immutable owner;
    /// @notice How it answers now.
    Mode public mode;
    /// @notice Where a `Reenter` wallet calls back.
    address public reenterTarget;
    /// @notice What it calls there.
    bytes public reenterCall;

    constructor(address owner_) {
        owner = owner_;
    }

    /// @notice Sets how the wallet answers, and the call-back of the `Reenter` mode.
    /// @param mode_ The new mode.
    /// @param target Where a `Reenter` wallet calls back.
    /// @param data What it calls there.
    function setMode(Mode mode_, address target, bytes calldata data) external {
        mode = mode_;
        reenterTarget = target;
        reenterCall = data;
    }

    /// @notice Lets the wallet act as a patient directly (grant, setDelegate...).
    /// @param target The contract to call (its owner only).
    /// @param data The calldata.
    /// @return The call's return data (its revert data is bubbled up).
    function execute(address target, bytes calldata data) external returns (bytes memory) {
        require(msg.sender == owner, "not owner");
        (bool ok, bytes memory result) = target.call(data);
        if (!ok) {
            assembly {
                revert(add(result, 32), mload(result))
            }
        }
        return result;
    }

    /// @notice ERC-1271: the owner's signatures are valid (or all of them, in `AcceptAll` mode).
    /// @param hash The digest signed.
    /// @param signature The signature.
    /// @return ERC-1271's magic value if valid, 0 otherwise.
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (mode == Mode.AcceptAll) return IERC1271.isValidSignature.selector;
        if (mode == Mode.Reenter) {
            // Runs under STATICCALL: any state change the re-entry attempts makes it fail.
            (bool ok,) = reenterTarget.staticcall(reenterCall);
            ok;
        }
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        return err == ECDSA.RecoverError.NoError && recovered == owner ? IERC1271.isValidSignature.selector : bytes4(0);
    }
}
