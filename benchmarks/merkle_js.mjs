// The JS side of benchmarks/merkle.py: @openzeppelin/merkle-tree on the same ["address", "uint256"] values.
// usage: node --max-old-space-size=8192 benchmarks/merkle_js.mjs LEAVES PROOFS
// The values are made here by the rule benchmarks/merkle.py uses (no giant JSON pipe); only
// StandardMerkleTree.of is timed for the build. Prints {"build_s", "root", "proofs", "proofs_per_s"}.
import { writeSync } from 'node:fs';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';

// Keep in step with benchmarks/merkle.py: ADDRESS_MULTIPLIER, account(), amount(), proof_index().
const ADDRESS_MULTIPLIER = 0x9e3779b97f4a7c15f39cc0605cedc8341082276bn;
const ADDRESS_SPACE = 1n << 160n;
const PROOF_STRIDE = 2654435761;

const account = i => '0x' + ((BigInt(i + 1) * ADDRESS_MULTIPLIER) % ADDRESS_SPACE).toString(16).padStart(40, '0');
const amount = i => String(i); // a decimal string, as the library's README writes amounts
const proofIndex = (k, count) => Number((BigInt(k) * BigInt(PROOF_STRIDE)) % BigInt(count));

const [count, proofs] = process.argv.slice(2).map(Number);
if (!(count > 0) || !(proofs >= 0)) {
  throw new Error('usage: merkle_js.mjs LEAVES PROOFS');
}
const values = Array.from({ length: count }, (_, i) => [account(i), amount(i)]);

let start = process.hrtime.bigint();
const tree = StandardMerkleTree.of(values, ['address', 'uint256']);
const buildSeconds = Number(process.hrtime.bigint() - start) / 1e9;

start = process.hrtime.bigint();
for (let k = 0; k < proofs; k++) {
  tree.getProof(proofIndex(k, count));
}
const proofSeconds = Number(process.hrtime.bigint() - start) / 1e9;

const result = { build_s: buildSeconds, root: tree.root, proofs, proofs_per_s: proofs ? proofs / proofSeconds : null };
writeSync(1, JSON.stringify(result) + '\n');
