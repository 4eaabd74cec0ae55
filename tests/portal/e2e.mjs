// The patient portal in headless Chromium (Debian's), driven by playwright-core; run by test_portal.py.
//
// A test wallet is injected as window.ethereum: JSON-RPC goes to the Anvil, and the patient's dev key
// (PORTAL_PATIENT_KEY, from the environment only) signs eth_signTypedData_v4 and eth_sendTransaction here
// in node through ethers, the way a browser wallet would. The patient connects, signs a consent that the
// relayer submits (or sends it as a transaction when there is no relayer), sees it on the page and on
// chain, revokes it, gives a second consent by transaction, is told in words why a duplicate is refused,
// and sees the reads and the break-glass episode the test logged. Prints one JSON line of what it saw.
import { mkdirSync } from "node:fs";
import { join } from "node:path";

import { ethers } from "ethers";
import { chromium } from "playwright-core";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const PORTAL = env("PORTAL_URL");
const RPC = env("PORTAL_RPC_URL");
const SHOTS = env("PORTAL_ARTIFACTS");
const RESEARCHER = ethers.getAddress(env("PORTAL_RESEARCHER"));
const HMB = ethers.id("DUO:0000006");
const TREAT = ethers.id("v3-ActReason:TREAT");
const VIA_RELAY = process.env.PORTAL_RELAY === "1";
const STEP_MS = 30000;
// TOOLCHAIN.md: without the background-networking flags Chromium keeps dialling out on a closed network.
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync"];

const node = new ethers.JsonRpcProvider(RPC, undefined, { staticNetwork: true, cacheTimeout: -1 });
const wallet = new ethers.Wallet(env("PORTAL_PATIENT_KEY"), node);
const registry = new ethers.Contract(env("PORTAL_CONSENT_REGISTRY"), [
  "function isPermitted(address,address,bytes32,uint64) view returns (bool)",
  "function nonces(address) view returns (uint256)",
], node);

let rpcId = 0;
async function forward(method, params) {
  const response = await fetch(RPC, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: ++rpcId, method, params }),
  });
  const answer = await response.json();
  return answer.error ? { error: answer.error } : { result: answer.result };
}

// What a browser wallet does with each request the page sends it.
async function walletRequest({ method, params }) {
  switch (method) {
    case "eth_requestAccounts":
    case "eth_accounts":
      return { result: [wallet.address] };
    case "eth_signTypedData_v4": {
      const [signer, text] = params;
      if (ethers.getAddress(signer) !== wallet.address) return { error: { code: 4100, message: "unknown account" } };
      const { domain, types, message } = JSON.parse(text);
      delete types.EIP712Domain;
      return { result: await wallet.signTypedData(domain, types, message) };
    }
    case "eth_sendTransaction": {
      const [tx] = params;
      const sent = await wallet.sendTransaction({ to: tx.to, data: tx.data, value: tx.value ?? 0n, gasLimit: tx.gas });
      return { result: sent.hash };
    }
    default:
      return forward(method, params);
  }
}

async function injectWallet(page) {
  await page.exposeFunction("__carechainWallet", async (text) => {
    try {
      return JSON.stringify(await walletRequest(JSON.parse(text)));
    } catch (err) {
      return JSON.stringify({ error: { code: -32603, message: err.shortMessage || err.message, data: err.data } });
    }
  });
  await page.addInitScript(() => {
    window.ethereum = {
      isCareChainTestWallet: true,
      async request({ method, params }) {
        const answer = JSON.parse(await window.__carechainWallet(JSON.stringify({ method, params: params ?? [] })));
        if (answer.error) {
          const error = new Error(answer.error.message);
          Object.assign(error, { code: answer.error.code, data: answer.error.data });
          throw error;
        }
        return answer.result;
      },
      on() {},
      removeListener() {},
    };
  });
}

function check(condition, what) {
  if (!condition) throw new Error(`check failed: ${what}`);
}

// An action's outcome: the message box leaves its busy state as ok or error.
async function outcome(page) {
  const box = page.locator("#message.ok, #message.error");
  await box.waitFor({ timeout: STEP_MS });
  return { kind: await box.getAttribute("class"), text: (await box.textContent()).trim() };
}

async function afterRefresh(page, before) {
  await page.waitForFunction((n) => Number(document.body.dataset.refreshed || 0) > n, before, { timeout: STEP_MS });
}

const refreshed = (page) => page.evaluate(() => Number(document.body.dataset.refreshed || 0));

async function giveConsent(page, { purpose, scopes, days, how }) {
  await page.fill("#grantee", RESEARCHER);
  await page.selectOption("#purpose", purpose);
  await page.$$eval("#scopes input", (boxes) => boxes.forEach((box) => (box.checked = false)));
  for (const scope of scopes) await page.check(`#scope-${scope}`);
  await page.fill("#days", days ? String(days) : "");
  await page.check(how === "relay" ? "#method-relay" : "#method-tx");
  const before = await refreshed(page);
  await page.click("#grant");
  const result = await outcome(page);
  await afterRefresh(page, before);
  return result;
}

const row = (page, purpose, status) =>
  page.locator(`#consents tr[data-grantee="${RESEARCHER}"][data-purpose="${purpose}"][data-status="${status}"]`);

async function main() {
  mkdirSync(SHOTS, { recursive: true });
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: FLAGS });
  const seen = { console: [] };
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on("console", (m) => m.type() === "error" && seen.console.push(m.text()));
    page.on("pageerror", (err) => seen.console.push(String(err)));
    await injectWallet(page);
    await page.goto(PORTAL);
    await page.screenshot({ path: join(SHOTS, "01-before-connect.png"), fullPage: true });

    await page.click("#connect");
    await page.locator("#portal").waitFor({ state: "visible", timeout: STEP_MS });
    await page.waitForFunction(() => Number(document.body.dataset.refreshed || 0) > 0, null, { timeout: STEP_MS });
    seen.account = (await page.textContent("#account")).trim();
    check(seen.account.includes(wallet.address), `the page shows the connected patient (${seen.account})`);
    seen.relayStatus = (await page.textContent("#relay-status")).trim();
    check(await page.isEnabled("#method-relay") === VIA_RELAY, "signing through the relayer is offered iff there is one");
    seen.reads = await page.locator("#reads tbody tr").allInnerTexts();
    seen.episodes = await page.locator("#episodes tbody tr").allInnerTexts();
    seen.grants = await page.locator("#grants tbody tr").allInnerTexts();
    seen.delegates = await page.locator("#delegates tbody tr").allInnerTexts();

    // 1. The patient signs a consent; the relayer submits it (no gas), or the wallet sends it.
    const how = VIA_RELAY ? "relay" : "tx";
    const balance = await node.getBalance(wallet.address);
    seen.signedGrant = await giveConsent(page, { purpose: HMB, scopes: ["labs", "genomics"], days: 90, how });
    check(seen.signedGrant.kind === "ok", `the signed consent went through: ${seen.signedGrant.text}`);
    await row(page, HMB, "active").waitFor({ timeout: STEP_MS });
    seen.consentRow = (await row(page, HMB, "active").innerText()).trim();
    check(seen.consentRow.includes("laboratory results, genomics and genetic testing"), "scopes are in words");
    check(seen.consentRow.includes("health or medical or biomedical research (HMB)"), "the purpose is in words");
    seen.permittedAfterGrant = await registry.isPermitted(wallet.address, RESEARCHER, HMB, 1n << 7n);
    check(seen.permittedAfterGrant, "the chain permits what the page shows");
    seen.balanceUnchanged = (await node.getBalance(wallet.address)) === balance;
    if (VIA_RELAY) check(seen.balanceUnchanged, "a relayed consent costs the patient nothing");
    await page.screenshot({ path: join(SHOTS, "02-after-signed-grant.png"), fullPage: true });

    // 2. A second consent, sent as a transaction from the wallet.
    seen.txGrant = await giveConsent(page, { purpose: TREAT, scopes: ["medications"], days: 0, how: "tx" });
    check(seen.txGrant.kind === "ok", `the transaction went through: ${seen.txGrant.text}`);
    await row(page, TREAT, "active").waitFor({ timeout: STEP_MS });
    check((await node.getBalance(wallet.address)) < balance, "a transaction costs the patient gas");

    // 3. The same consent again: the chain's ConsentAlreadyActive, in words, before the wallet asks.
    seen.duplicate = await giveConsent(page, { purpose: TREAT, scopes: ["medications"], days: 0, how: "tx" });
    check(seen.duplicate.kind === "error", "a duplicate consent is refused");
    check(seen.duplicate.text.startsWith("You already have a live consent for"), `in words: ${seen.duplicate.text}`);
    await page.screenshot({ path: join(SHOTS, "03-refused-duplicate.png"), fullPage: true });

    // 4. A mistyped address never reaches the chain.
    await page.fill("#grantee", "0x1234");
    await page.click("#grant");
    seen.badAddress = await outcome(page);
    check(seen.badAddress.kind === "error" && seen.badAddress.text.includes("is not an Ethereum address"),
      `a bad address is explained: ${seen.badAddress.text}`);

    // 5. The patient revokes the signed consent (signed again when the relayer is there).
    await page.check(VIA_RELAY ? "#method-relay" : "#method-tx");
    const before = await refreshed(page);
    await row(page, HMB, "active").locator("button", { hasText: "Revoke" }).click();
    seen.revoke = await outcome(page);
    check(seen.revoke.kind === "ok", `the revocation went through: ${seen.revoke.text}`);
    await afterRefresh(page, before);
    await row(page, HMB, "revoked").waitFor({ timeout: STEP_MS });
    seen.permittedAfterRevoke = await registry.isPermitted(wallet.address, RESEARCHER, HMB, 1n << 7n);
    check(!seen.permittedAfterRevoke, "the chain no longer permits it");
    seen.nonce = Number(await registry.nonces(wallet.address));
    await page.screenshot({ path: join(SHOTS, "04-after-revoke.png"), fullPage: true });
    seen.consents = await page.locator("#consents tbody tr").allInnerTexts();
  } finally {
    await browser.close();
  }
  check(seen.console.length === 0, `no errors in the page's console: ${seen.console.join(" | ")}`);
  process.stdout.write(JSON.stringify(seen) + "\n");
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exitCode = 1;
});
