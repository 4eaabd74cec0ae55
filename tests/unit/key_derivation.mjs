// A second implementation of docs/key-derivation.md, in JS: ethers 6 (EIP-712, ABI, keccak, secp256k1),
// WebCrypto's HKDF and @openzeppelin/merkle-tree, each value of docs/vectors/key-derivation.json
// recomputed from the vectors' inputs. Prints {"check name": true | false, ...} as JSON.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(`${process.cwd()}/`);
const { ethers } = require("ethers");
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");

const vectors = JSON.parse(readFileSync("docs/vectors/key-derivation.json", "utf8"));
const abi = ethers.AbiCoder.defaultAbiCoder();
const N = BigInt("0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141");
const checks = {};

const structTypes = (typedData) => {
  const types = { ...typedData.types };
  delete types.EIP712Domain;
  return types;
};
const digest = (typedData) => ethers.TypedDataEncoder.hash(typedData.domain, structTypes(typedData), typedData.message);
const commit = (salt, key) => ethers.keccak256(abi.encode(["bytes32", "address"], [salt, key]));

const derivation = vectors.keyDerivation.typedData;
checks["keyDerivation digest"] = digest(derivation) === vectors.keyDerivation.digest;
const wallet = new ethers.Wallet(vectors.inputs.walletPrivateKey);
checks["keyDerivation signature"] =
  (await wallet.signTypedData(derivation.domain, structTypes(derivation), derivation.message)) ===
  vectors.keyDerivation.signature;

for (const entry of vectors.grantKeys) {
  const ikm = entry.root === "signature" ? vectors.keyDerivation.signature : vectors.keystoreSecret.ikm;
  const info = ethers.concat([ethers.toUtf8Bytes(`carechain/v1/${entry.role}/`), ethers.toBeHex(entry.index, 4)]);
  const material = await crypto.subtle.importKey("raw", ethers.getBytes(ikm), "HKDF", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: ethers.toUtf8Bytes("carechain/keys/v1"), info: ethers.getBytes(info) },
    material,
    96 * 8,
  );
  const okm = ethers.hexlify(new Uint8Array(bits));
  const privateKey = ethers.toBeHex((BigInt(okm.slice(0, 66)) % (N - 1n)) + 1n, 32);
  const address = new ethers.Wallet(privateKey).address;
  const salt = `0x${okm.slice(66, 130)}`;
  checks[`grantKeys ${entry.root} ${entry.role} ${entry.index}`] =
    info === entry.info &&
    okm === entry.okm &&
    privateKey === entry.privateKey &&
    address === entry.address &&
    salt === entry.subjectSalt &&
    `0x${okm.slice(130)}` === entry.scopeSalt &&
    commit(salt, address) === entry.subjectCommit;
}

for (const act of ["grant", "revokeBySubject", "revokeScopeLeaf", "burnNonce"]) {
  const vector = vectors[act];
  const [salt, signature] = abi.decode(["bytes32", "bytes"], vector.subjectSig);
  checks[`${act} digest`] = digest(vector.typedData) === vector.digest;
  checks[`${act} signer`] = ethers.recoverAddress(vector.digest, signature) === vector.signer;
  checks[`${act} subjectSig opens subjectCommit`] = commit(salt, vector.signer) === vectors.grantKeys[0].subjectCommit;
}

const policy = vectors.policy;
const packed =
  BigInt(policy.notBefore) |
  (BigInt(policy.expiresAt) << 48n) |
  (BigInt(policy.ops) << 96n) |
  (BigInt(policy.purposeCode) << 128n) |
  (BigInt(policy.usesMax) << 160n) |
  (BigInt(policy.agentKind) << 176n) |
  (BigInt(policy.flags) << 184n);
checks["policy packed"] = ethers.toBeHex(packed) === ethers.toBeHex(policy.packed);
checks["policy signed"] = packed.toString() === vectors.grant.typedData.message.policy;

const scope = vectors.scope;
const values = scope.leaves.map((leaf) => [scope.scopeSalt, ethers.id(leaf.name)]);
const tree = StandardMerkleTree.of(values, ["bytes32", "bytes32"]);
checks["scope root"] = tree.root === scope.root;
for (const [index, leaf] of scope.leaves.entries()) {
  checks[`scope ${leaf.name}`] =
    abi.encode(["bytes32", "bytes32"], values[index]) === leaf.resourceId &&
    ethers.keccak256(leaf.resourceId) === leaf.resourceHash &&
    tree.leafHash(values[index]) === leaf.leaf &&
    JSON.stringify(tree.getProof(index)) === JSON.stringify(leaf.proof);
}

const child = vectors.subGrant.grant;
const tuple = "tuple(bytes32,bytes32,bytes32,uint256,bytes32,address,address,uint256)";
const fields = ["scopeRef", "purposeProfileRef", "termsRef", "assetTokenId", "subjectCommit", "grantee", "agent", "policy"];
checks["subGrant id"] =
  ethers.keccak256(abi.encode(["bytes32", tuple], [vectors.subGrant.parentGrantId, fields.map((f) => child[f])])) ===
  vectors.subGrant.subGrantId;

console.log(JSON.stringify(checks));
