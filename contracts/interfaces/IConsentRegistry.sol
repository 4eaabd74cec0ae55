// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {ISignedByPatient} from "./ISignedByPatient.sol";

/// @title IConsentRegistry
/// @notice Patient consents by purpose and data scope. A consent is the triple
/// (patient, grantee, purpose) mapped to a bitmask of data scopes, the time it was granted, an
/// optional expiry and a revocation time. Only codes, bitmasks, times and addresses are stored:
/// `purpose` is keccak256 of a GA4GH DUO / HL7 purpose-of-use CURIE or an opaque trial purpose.
/// @dev No admin: nobody but a patient or their live delegate changes a patient's consents, and
/// nothing can pause a revocation. Also reverts with the shared errors of `utils/Common.sol`:
/// NotPatientOrDelegate, InvalidExpiry (an expiry other than 0, "never", must lie in the future) and
/// EmptyBatch.
interface IConsentRegistry is ISignedByPatient {
    /* ------------------------------------------------------------------ */
    /*                               STRUCTS                              */
    /* ------------------------------------------------------------------ */

    /// @notice One storage slot per consent.
    /// @param scopes Bitmask of consented data categories (see `abi/purposes.json`).
    /// @param grantedAt When the current consent was granted (0: never granted).
    /// @param expiresAt When it lapses (0: no expiry).
    /// @param revokedAt When it was revoked (0: not revoked).
    struct Consent {
        uint64 scopes;
        uint64 grantedAt;
        uint64 expiresAt;
        uint64 revokedAt;
    }

    /// @notice A consent the caller (patient or delegate) grants in a batch.
    struct GrantRequest {
        address grantee;
        bytes32 purpose;
        uint64 scopes;
        uint64 expiresAt;
    }

    /// @notice A patient-signed consent that anyone (a clinic, a relayer) may submit.
    struct SignedGrant {
        address patient;
        address grantee;
        bytes32 purpose;
        uint64 scopes;
        uint64 expiresAt;
        uint256 nonce;
        uint256 deadline;
        bytes signature;
    }

    /// @notice A signed consent of an EOA patient with its signature in the 64-byte EIP-2098 form:
    /// a static item (nine words, no tail), the cheapest to submit in a batch. The first seven
    /// members are SignedGrant's and the patient signs the same EIP-712 `Grant`; a wallet's 65-byte
    /// signature r ‖ s ‖ v converts off chain to r and vs = s | ((v - 27) << 255). A contract wallet's
    /// ERC-1271 signature does not fit two words: it goes through `grantBySigBatch`.
    /// @param r The signature's r.
    /// @param vs The signature's s (low half of the curve order only) with its y parity (v - 27) in the top bit.
    struct CompactSignedGrant {
        address patient;
        address grantee;
        bytes32 purpose;
        uint64 scopes;
        uint64 expiresAt;
        uint256 nonce;
        uint256 deadline;
        bytes32 r;
        bytes32 vs;
    }

    /* ------------------------------------------------------------------ */
    /*                               EVENTS                               */
    /* ------------------------------------------------------------------ */

    /// @notice A new consent was granted; `actor` is the patient or the delegate who acted.
    /// @param patient Whose consent.
    /// @param grantee Who may use the data (ANY_GRANTEE: anyone, a broad consent).
    /// @param purpose The purpose-of-use code hash it covers.
    /// @param scopes Bitmask of the data categories consented to.
    /// @param expiresAt When it lapses (0: no expiry).
    /// @param actor Who granted: the patient, or their delegate (for a signed grant, the patient).
    event ConsentGranted(
        address indexed patient,
        address indexed grantee,
        bytes32 indexed purpose,
        uint64 scopes,
        uint64 expiresAt,
        address actor
    );

    /// @notice A live consent's scopes or expiry changed.
    /// @param patient Whose consent.
    /// @param grantee Who may use the data.
    /// @param purpose The purpose-of-use code hash.
    /// @param scopes The new bitmask of data categories.
    /// @param expiresAt The new expiry (0: no expiry).
    /// @param actor Who changed it: the patient or their delegate.
    event ConsentUpdated(
        address indexed patient,
        address indexed grantee,
        bytes32 indexed purpose,
        uint64 scopes,
        uint64 expiresAt,
        address actor
    );

    /// @notice A consent was revoked; it permits nothing from this block on.
    /// @param patient Whose consent.
    /// @param grantee Who may no longer use the data.
    /// @param purpose The purpose-of-use code hash.
    /// @param actor Who revoked: the patient, or their delegate (for a signed revocation, the patient).
    event ConsentRevoked(address indexed patient, address indexed grantee, bytes32 indexed purpose, address actor);

    /// @notice A patient appointed (or re-appointed) a delegate until `expiresAt` (0: until removed).
    /// @param patient Who appointed.
    /// @param delegate Who may now act for the patient.
    /// @param expiresAt When the appointment ends (0: until removed).
    event DelegateSet(address indexed patient, address indexed delegate, uint64 expiresAt);

    /// @notice A patient removed a delegate.
    /// @param patient Who removed them.
    /// @param delegate Who may no longer act for the patient.
    event DelegateRemoved(address indexed patient, address indexed delegate);


    /* ------------------------------------------------------------------ */
    /*                               ERRORS                               */
    /* ------------------------------------------------------------------ */

    /// @notice The grantee is the zero address.
    error InvalidGrantee(address grantee);
    /// @notice The delegate is the zero address or the patient themself.
    error InvalidDelegate(address delegate);
    /// @notice A consent must cover at least one data scope.
    error EmptyScopes();
    /// @notice A live consent already exists; change it with `update`.
    error ConsentAlreadyActive(address patient, address grantee, bytes32 purpose);
    /// @notice No live consent to update (never granted, revoked or expired).
    error ConsentNotActive(address patient, address grantee, bytes32 purpose);
    /// @notice Nothing to revoke: never granted, or already revoked.
    error ConsentNotRevocable(address patient, address grantee, bytes32 purpose);
    /// @notice The patient has no such delegate.
    error DelegateNotFound(address patient, address delegate);

    /* ------------------------------------------------------------------ */
    /*                              CONSENTS                              */
    /* ------------------------------------------------------------------ */

    /// @notice The caller grants `grantee` a new consent for `purpose` over `scopes`; a live consent
    /// for the same grantee and purpose is changed with `update` instead.
    /// @param grantee Who may use the data (ANY_GRANTEE for a broad consent; not the zero address).
    /// @dev `purpose` is an opaque key: any 32 bytes, zero too. A consent to the zero purpose permits
    /// only an `isPermitted` asked with zero, never a real purpose (a keccak256), so it widens nothing;
    /// CareChain's clients refuse to grant it (`check_grantable`), and a revocation takes whatever was
    /// granted. A check here would cost every grant gas for a caller's own bug (docs/consent.md).
    /// @param purpose The purpose-of-use code hash (GA4GH DUO / HL7 CURIE, or a trial's purpose).
    /// @param scopes Bitmask of data categories consented to (at least one; see `abi/purposes.json`).
    /// @param expiresAt When it lapses (0: no expiry; otherwise in the future).
    function grant(address grantee, bytes32 purpose, uint64 scopes, uint64 expiresAt) external;

    /// @notice A live delegate (or the patient) grants on the patient's behalf.
    /// @param patient Whose consent.
    /// @param grantee Who may use the data (ANY_GRANTEE for a broad consent; not the zero address).
    /// @param purpose The purpose-of-use code hash.
    /// @param scopes Bitmask of data categories consented to (at least one).
    /// @param expiresAt When it lapses (0: no expiry; otherwise in the future).
    function grantFor(address patient, address grantee, bytes32 purpose, uint64 scopes, uint64 expiresAt) external;

    /// @notice The caller grants several new consents in one transaction; one bad item reverts them all.
    /// @param requests The consents, each as `grant` takes it (at least one).
    function grantBatch(GrantRequest[] calldata requests) external;

    /// @notice Changes the scopes or expiry of a live consent of the caller.
    /// @param grantee Who holds the consent.
    /// @param purpose The purpose-of-use code hash.
    /// @param scopes The new bitmask of data categories (at least one).
    /// @param expiresAt The new expiry (0: no expiry; otherwise in the future).
    function update(address grantee, bytes32 purpose, uint64 scopes, uint64 expiresAt) external;

    /// @notice A live delegate (or the patient) changes a live consent on the patient's behalf.
    /// @param patient Whose consent.
    /// @param grantee Who holds the consent.
    /// @param purpose The purpose-of-use code hash.
    /// @param scopes The new bitmask of data categories (at least one).
    /// @param expiresAt The new expiry (0: no expiry; otherwise in the future).
    function updateFor(address patient, address grantee, bytes32 purpose, uint64 scopes, uint64 expiresAt) external;

    /// @notice The caller revokes a consent (an expired one too, so its record shows the patient's will).
    /// @param grantee Who holds the consent.
    /// @param purpose The purpose-of-use code hash.
    function revoke(address grantee, bytes32 purpose) external;

    /// @notice A live delegate (or the patient) revokes on the patient's behalf.
    /// @param patient Whose consent.
    /// @param grantee Who holds the consent.
    /// @param purpose The purpose-of-use code hash.
    function revokeFor(address patient, address grantee, bytes32 purpose) external;

    /// @notice Submits a consent the patient signed (EIP-712 `Grant`); the submitter pays the gas.
    /// @param signed The consent, the patient's current nonce, the deadline and the patient's signature
    /// (65-byte ECDSA with low s, or a contract wallet's ERC-1271 one).
    function grantBySig(SignedGrant calldata signed) external;

    /// @notice Submits many patients' signed consents in one transaction (cohort onboarding); one bad
    /// item reverts them all.
    /// @param signed The signed consents, each as `grantBySig` takes it (at least one).
    function grantBySigBatch(SignedGrant[] calldata signed) external;

    /// @notice `grantBySigBatch` for EOA patients' compact (EIP-2098) signatures: the same digest,
    /// checks and errors, one bad item reverts the batch, no ERC-1271 fallback. Less calldata and
    /// decoding per item than the 65-byte form (a clinic's onboarding of new patients).
    /// @param signed The signed consents with their (r, vs) signatures (at least one).
    function grantBySigBatchCompact(CompactSignedGrant[] calldata signed) external;

    /// @notice Submits a revocation the patient signed (EIP-712 `Revoke`).
    /// @param patient Who signed, and whose consent.
    /// @param grantee Who holds the consent.
    /// @param purpose The purpose-of-use code hash.
    /// @param nonce The patient's current nonce (`nonces(patient)`), consumed here.
    /// @param deadline Last block time at which the signature may be submitted.
    /// @param signature The patient's 65-byte ECDSA signature (low s), or a contract wallet's ERC-1271 one.
    function revokeBySig(
        address patient,
        address grantee,
        bytes32 purpose,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /* ------------------------------------------------------------------ */
    /*                              DELEGATES                             */
    /* ------------------------------------------------------------------ */

    /// @notice The caller appoints `delegate` (a minor's parent, a proxy) until `expiresAt` (0: until removed).
    /// @param delegate Who may act for the caller (not the zero address, not the caller).
    /// @param expiresAt When the appointment ends (0: until removed; otherwise in the future).
    function setDelegate(address delegate, uint64 expiresAt) external;

    /// @notice The caller removes a delegate; always possible, whatever the delegate did.
    /// @param delegate The delegate to remove (appointed before, even if their appointment has lapsed).
    function removeDelegate(address delegate) external;

    /* ------------------------------------------------------------------ */
    /*                                VIEWS                               */
    /* ------------------------------------------------------------------ */

    /// @notice True if `grantee` (or the wildcard grantee) holds a live consent of `patient` for
    /// `purpose` covering every bit of `requiredScopes`: granted, not revoked, not expired.
    /// @param patient Whose consent.
    /// @param grantee Who would use the data.
    /// @param purpose The purpose-of-use code hash.
    /// @param requiredScopes Bitmask of the data categories the use needs.
    /// @return True if such a live consent exists now.
    function isPermitted(address patient, address grantee, bytes32 purpose, uint64 requiredScopes)
        external
        view
        returns (bool);

    /// @notice The stored consent, whatever its state.
    /// @param patient Whose consent.
    /// @param grantee Who holds it.
    /// @param purpose The purpose-of-use code hash.
    /// @return The scopes and times (all zero if never granted).
    function getConsent(address patient, address grantee, bytes32 purpose) external view returns (Consent memory);

    /// @notice Whether `delegate` may act for `patient` now.
    /// @param patient The patient.
    /// @param delegate Who would act.
    /// @return True while the appointment stands and has not expired.
    function isDelegate(address patient, address delegate) external view returns (bool);

    /// @notice When a delegate's appointment ends.
    /// @param patient The patient.
    /// @param delegate The delegate.
    /// @return The end time: 0 if never appointed or removed, type(uint64).max if it has no expiry.
    function delegateExpiry(address patient, address delegate) external view returns (uint64);

    /// @notice The grantee that stands for "any grantee" (broad consent, e.g. DUO GRU for research).
    /// @return The wildcard grantee address, type(uint160).max.
    function ANY_GRANTEE() external view returns (address);
}
