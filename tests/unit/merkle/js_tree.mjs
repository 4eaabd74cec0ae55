// The reference side of the interop tests: @openzeppelin/merkle-tree itself, driven by JSON.
// stdin: {"ops": [op, ...]}; stdout: {"results": [result, ...]}, one result per op, in order.
// One node process answers a whole batch, so many trees cost one node start-up.
//
// op "of":     {kind: "standard"|"simple", values, encoding?, sortLeaves?, customHash?,
//               proofs?: [index], multiproofs?: [[index]]}
//              -> {root, dump, render, leafHashes, proofs, multiproofs}
// op "load":   {kind, dump, customHash?, verify?: [{leaf, proof}], verifyMulti?: [multiproof]}
//              -> {root, dump, render, entries, verified, verifiedMulti}
// op "verify": {kind, root, encoding?, leaf, proof} or {kind, root, encoding?, multiproof}
//              -> {verified} (the static verify / verifyMultiProof)
// Any op that throws gives {error, name} instead.
import { createHash } from 'node:crypto';
import { readFileSync, writeSync } from 'node:fs';
import { SimpleMerkleTree, StandardMerkleTree } from '@openzeppelin/merkle-tree';

// A non-commutative custom node hash the Python tests mirror: sha256(left ++ right).
const bytesOf = hex => Buffer.from(hex.replace(/^0x/, ''), 'hex');
const sha256Pair = (a, b) => '0x' + createHash('sha256').update(Buffer.concat([bytesOf(a), bytesOf(b)])).digest('hex');

const classOf = kind => (kind === 'simple' ? SimpleMerkleTree : StandardMerkleTree);

function build(op) {
  if (op.kind === 'simple') {
    return SimpleMerkleTree.of(op.values, { sortLeaves: op.sortLeaves ?? true, nodeHash: op.customHash ? sha256Pair : undefined });
  }
  return StandardMerkleTree.of(op.values, op.encoding, { sortLeaves: op.sortLeaves ?? true });
}

function describe(tree) {
  return { root: tree.root, dump: tree.dump(), render: tree.render() };
}

const ops = {
  of(op) {
    const tree = build(op);
    return {
      ...describe(tree),
      leafHashes: op.values.map(value => tree.leafHash(value)),
      proofs: (op.proofs ?? []).map(index => tree.getProof(index)),
      multiproofs: (op.multiproofs ?? []).map(indices => tree.getMultiProof(indices)),
    };
  },
  load(op) {
    const tree = op.kind === 'simple' ? SimpleMerkleTree.load(op.dump, op.customHash ? sha256Pair : undefined) : StandardMerkleTree.load(op.dump);
    return {
      ...describe(tree),
      entries: Array.from(tree.entries()),
      verified: (op.verify ?? []).map(({ leaf, proof }) => tree.verify(leaf, proof)),
      verifiedMulti: (op.verifyMulti ?? []).map(multiproof => tree.verifyMultiProof(multiproof)),
    };
  },
  verify(op) {
    const cls = classOf(op.kind);
    const head = op.kind === 'simple' ? [op.root] : [op.root, op.encoding];
    if (op.multiproof) {
      return { verified: cls.verifyMultiProof(...head, op.multiproof) };
    }
    return { verified: cls.verify(...head, op.leaf, op.proof) };
  },
};

const request = JSON.parse(readFileSync(0, 'utf8'));
const results = request.ops.map(op => {
  try {
    return ops[op.op](op);
  } catch (error) {
    return { error: error.message, name: error.name };
  }
});
// writeSync, not process.stdout.write + exit: a pipe would cut output past 64 KiB.
writeSync(1, JSON.stringify({ results }));
