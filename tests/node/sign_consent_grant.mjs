// Signs entries of abi/eip712.json as any frontend would, from that file alone: ethers 6's
// Wallet.signTypedData(domain, types, value), with the entry's domain plus the chainId and verifyingContract
// the signer fills. tests/consent_grants/test_typed_data_node.py submits the signatures to ConsentGrants.
//
// stdin, one JSON object (the key never on the command line):
//   {"key": "0x<private key>", "chainId": 31337, "verifyingContract": "0x...",
//    "sign": {"ConsentGrants.Grant": {<field>: <value>, ...}, "ConsentGrants.RevokeBySubject": {...}}}
// uint256 values as decimal strings (a policy exceeds JSON's safe integers), bytes32 as 0x-hex.
// stdout, one JSON line: {"signer": "0x...", "signatures": {<entry>: "0x..."}, "digests": {<entry>: "0x..."}}.
// Anything wrong (an entry the file lacks, a missing or malformed field): one line on stderr, exit 1.
import { readFileSync } from "node:fs";
import { ethers } from "ethers";

const EIP712_FILE = new URL("../../abi/eip712.json", import.meta.url);

async function main() {
  const request = JSON.parse(readFileSync(0, "utf8"));
  const entries = JSON.parse(readFileSync(EIP712_FILE, "utf8"));
  const wallet = new ethers.Wallet(request.key);
  const signatures = {};
  const digests = {};
  for (const [name, value] of Object.entries(request.sign)) {
    const entry = entries[name];
    if (!entry) throw new Error(`abi/eip712.json has no entry ${name}`);
    const domain = { ...entry.domain, chainId: request.chainId, verifyingContract: request.verifyingContract };
    signatures[name] = await wallet.signTypedData(domain, entry.types, value);
    digests[name] = ethers.TypedDataEncoder.hash(domain, entry.types, value);
  }
  process.stdout.write(`${JSON.stringify({ signer: wallet.address, signatures, digests })}\n`);
}

main().catch((err) => {
  process.stderr.write(`sign_consent_grant: ${err.shortMessage ?? err.message}\n`);
  process.exit(1);
});
