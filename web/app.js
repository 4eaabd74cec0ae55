// CareChain patient portal: plain ES modules, ethers v6, an injected EIP-1193 wallet (window.ethereum).
// Everything shown comes from the chain (events, then the current state by getter); purposes and
// scopes are put in words from abi/purposes.json. Signed consents go to the relayer named by
// /config.json, so the patient pays no gas; otherwise the wallet sends a transaction.
import { ethers } from "/vendor/ethers.min.js";

const DAY = 86400;
const SIGNATURE_LIFETIME = 3600; // a signed consent not submitted within an hour is void
const RELAY_WAIT_MS = 60000;
const NO_EXPIRY = (1n << 64n) - 1n; // delegateExpiry of an appointment without end
const BASIS = ["no basis", "a grant of this record", "a grant of this kind of record", "break the glass"];
const REVIEW = ["none", "open", "approved", "flagged"];

const $ = (selector) => document.querySelector(selector);
const state = {};

/* ---------------------------------------------------------------- words */

function short(address) {
  return `${address.slice(0, 6)}…${address.slice(-4)}`;
}

function who(address) {
  if (address.toLowerCase() === state.anyGrantee.toLowerCase()) return "anyone with a research credential";
  if (state.account && address.toLowerCase() === state.account.toLowerCase()) return "you";
  return short(address);
}

function purposeWords(id) {
  const found = state.purposeById.get(id.toLowerCase());
  return found ? `${found.label} (${found.code})` : `a clinical trial or other purpose (code ${id.slice(0, 10)}…)`;
}

function scopeWords(mask) {
  const names = state.scopes.filter((s) => (BigInt(mask) & BigInt(s.mask)) !== 0n).map((s) => s.label);
  return names.length ? names.join(", ") : "nothing";
}

function categoryWords(bit) {
  const scope = state.scopes.find((s) => s.bit === Number(bit));
  return scope ? scope.label : `category ${bit}`;
}

function when(seconds) {
  const value = Number(seconds);
  if (!value) return "—";
  return new Date(value * 1000).toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

function until(expiresAt) {
  return BigInt(expiresAt) === 0n ? "until revoked" : when(expiresAt);
}

function statusOf(slot, now) {
  if (BigInt(slot.grantedAt) === 0n) return "never";
  if (BigInt(slot.revokedAt) !== 0n) return "revoked";
  if (BigInt(slot.expiresAt) !== 0n && BigInt(now) >= BigInt(slot.expiresAt)) return "expired";
  return "active";
}

// Plain sentences for the contracts' custom errors; `a` holds the error's arguments by name.
const SENTENCES = {
  ConsentAlreadyActive: (a) =>
    `You already have a live consent for ${who(a.grantee)} for ${purposeWords(a.purpose)}: revoke it first.`,
  ConsentNotActive: (a) => `There is no live consent for ${who(a.grantee)} for ${purposeWords(a.purpose)} to change.`,
  ConsentNotRevocable: (a) =>
    `There is nothing to revoke: your consent for ${who(a.grantee)} for ${purposeWords(a.purpose)} ` +
    "was never given or is already revoked.",
  InvalidGrantee: () => "That is not an address anyone could use: choose who may use your data.",
  EmptyScopes: () => "Choose at least one kind of data to share.",
  EmptyCategories: () => "Choose at least one kind of record to share.",
  InvalidExpiry: (a) => `The end date must lie in the future (the chain's time is ${when(a.currentTime)}).`,
  NotPatientOrDelegate: (a) =>
    `${who(a.caller)} may not act for ${who(a.patient)}: only the patient or a live delegate can.`,
  DelegateNotFound: (a) => `${who(a.delegate)} does not act for you.`,
  InvalidDelegate: () => "A delegate must be someone else's address.",
  InvalidPatient: () => "That patient address is not valid.",
  SignatureExpired: (a) => `Your signature expired at ${when(a.deadline)} before it reached the chain: sign again.`,
  InvalidSignature: (a) => `The signature is not ${who(a.patient)}'s: sign with the patient's own wallet.`,
  InvalidAccountNonce: () => "This signature was already used, or a newer one replaced it: sign again.",
  UncredentialedProvider: (a) => `${who(a.provider)} holds no live provider credential.`,
  GrantNotActive: (a) => `${who(a.provider)} has no live access to revoke.`,
  NotRecordPatient: () => "That record is not about you.",
  AccessDenied: (a) => `${who(a.provider)} may not read that record.`,
};

class PortalError extends Error {}

function revertOf(err) {
  if (err?.revert?.name) return err.revert;
  const candidates = [err?.data, err?.info?.error?.data, err?.error?.data, err?.info?.error?.data?.data];
  for (const data of candidates) {
    if (typeof data !== "string" || !data.startsWith("0x") || data.length < 10) continue;
    try {
      const parsed = state.errors.parseError(data);
      if (parsed) return parsed;
    } catch {
      // not one of ours: fall through to the generic message
    }
  }
  return null;
}

function explain(err) {
  if (err instanceof PortalError) return err.message;
  if (err?.code === "ACTION_REJECTED" || err?.info?.error?.code === 4001) {
    return "You declined the request in your wallet; nothing was sent.";
  }
  const revert = revertOf(err);
  if (revert) {
    const sentence = SENTENCES[revert.name];
    return sentence ? sentence(revert.args) : `The chain refused this (${revert.name}).`;
  }
  const text = err?.shortMessage || err?.message || String(err);
  if (/fetch|network|ECONNREFUSED|could not coalesce/i.test(text)) {
    return "The chain did not answer: is your wallet connected to a running node?";
  }
  return `Something went wrong: ${text}`;
}

/* ---------------------------------------------------------------- page */

function say(text, kind = "ok") {
  const box = $("#message");
  box.textContent = text;
  box.className = kind;
  box.hidden = false;
}

function cell(row, content, attrs = {}) {
  const td = document.createElement("td");
  if (content instanceof Node) td.append(content);
  else td.textContent = content;
  for (const [key, value] of Object.entries(attrs)) td.setAttribute(key, value);
  row.append(td);
  return td;
}

function addressCell(row, address) {
  return cell(row, who(address), { title: address, class: "address" });
}

function statusCell(row, status) {
  return cell(row, status, { class: `status-${status}` });
}

function button(label, action) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "secondary";
  b.textContent = label;
  b.addEventListener("click", () => act(action));
  return b;
}

function fill(table, rows) {
  const body = $(`#${table} tbody`);
  body.replaceChildren(...rows);
  document.querySelector(`.empty[data-for="${table}"]`).hidden = rows.length > 0;
}

// One action at a time: every button waits, the outcome is one sentence, then the tables are read again.
async function act(action) {
  const controls = [...document.querySelectorAll("main button")];
  controls.forEach((c) => (c.disabled = true));
  say("Working…", "busy");
  try {
    say(await action(), "ok");
  } catch (err) {
    console.warn(err);
    say(explain(err), "error");
  } finally {
    controls.forEach((c) => (c.disabled = false));
  }
  await refresh().catch((err) => say(explain(err), "error"));
}

/* ---------------------------------------------------------------- chain */

async function json(path) {
  const response = await fetch(path, { cache: "no-store" });
  if (!response.ok) throw new PortalError(`${path}: ${response.status} ${response.statusText}`);
  return response.json();
}

async function connect() {
  if (!window.ethereum) {
    throw new PortalError("No wallet found: install a browser wallet (MetaMask, Rabby, …) and reload this page.");
  }
  const accounts = await window.ethereum.request({ method: "eth_requestAccounts" });
  if (!accounts?.length) throw new PortalError("Your wallet shared no account with this page.");
  window.ethereum.on?.("accountsChanged", () => location.reload());
  window.ethereum.on?.("chainChanged", () => location.reload());
  const provider = new ethers.BrowserProvider(window.ethereum);
  const chainId = Number((await provider.getNetwork()).chainId);
  let manifest;
  try {
    manifest = await json(`/deployments/${chainId}.json`);
  } catch {
    throw new PortalError(
      `CareChain is not deployed on chain ${chainId}: switch your wallet to the chain it was deployed on ` +
        "(or run `carechain deploy` there).",
    );
  }
  const names = ["ConsentRegistry", "AccessGrants", "RecordRegistry", "CredentialRegistry"];
  const [table, eip712, config, ...abis] = await Promise.all([
    json("/abi/purposes.json"),
    json("/abi/eip712.json"),
    json("/config.json"),
    ...names.map((name) => json(`/abi/${name}.json`)),
  ]);
  const signer = await provider.getSigner(accounts[0]);
  const contract = (name, i) => new ethers.Contract(manifest.contracts[name].address, abis[i], signer);
  const errorFragments = new Map();
  for (const abi of abis) for (const f of abi) if (f.type === "error") errorFragments.set(f.name, f);
  Object.assign(state, {
    provider,
    signer,
    chainId,
    manifest,
    eip712,
    account: ethers.getAddress(accounts[0]),
    purposes: table.purposes,
    purposeById: new Map(table.purposes.map((p) => [p.id.toLowerCase(), p])),
    scopes: table.scopes,
    anyGrantee: table.anyGrantee,
    consent: contract("ConsentRegistry", 0),
    access: contract("AccessGrants", 1),
    records: contract("RecordRegistry", 2),
    errors: new ethers.Interface([...errorFragments.values()]),
    fromBlock: Math.min(...Object.values(manifest.contracts).map((c) => c.block ?? 0)),
    relay: await findRelay(config.relay),
  });
}

async function findRelay(url) {
  if (!url) return null;
  try {
    const response = await fetch(`${url}/info`);
    if (!response.ok) return null;
    return { url, info: await response.json() };
  } catch {
    return null;
  }
}

async function chainNow() {
  return (await state.provider.getBlock("latest")).timestamp;
}

// Events first (who ever got what), then each one's current state from its getter.
async function refresh() {
  if (!state.consent) return;
  const patient = state.account;
  const from = state.fromBlock;
  const { consent, access } = state;
  const [now, granted, updated, revoked, set, removed, accessGranted, accessRevoked, reads, opened] =
    await Promise.all([
      chainNow(),
      consent.queryFilter(consent.filters.ConsentGranted(patient), from),
      consent.queryFilter(consent.filters.ConsentUpdated(patient), from),
      consent.queryFilter(consent.filters.ConsentRevoked(patient), from),
      consent.queryFilter(consent.filters.DelegateSet(patient), from),
      consent.queryFilter(consent.filters.DelegateRemoved(patient), from),
      access.queryFilter(access.filters.AccessGranted(patient), from),
      access.queryFilter(access.filters.AccessRevoked(patient), from),
      access.queryFilter(access.filters.RecordAccessed(null, patient), from),
      access.queryFilter(access.filters.BreakGlassOpened(null, patient), from),
    ]);
  await Promise.all([
    showConsents([...granted, ...updated, ...revoked], now),
    showGrants([...accessGranted, ...accessRevoked], now),
    showDelegates([...set, ...removed]),
    showReads(reads),
    showEpisodes(opened),
  ]);
  $("#footer").textContent =
    `Chain ${state.chainId}, block ${await state.provider.getBlockNumber()}, ` +
    `ConsentRegistry ${state.consent.target}, AccessGrants ${state.access.target}.`;
  document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
}

function unique(events, key) {
  return [...new Map(events.map((e) => [key(e.args), e.args])).values()];
}

async function showConsents(events, now) {
  const pairs = unique(events, (a) => `${a.grantee}|${a.purpose}`);
  const slots = await Promise.all(pairs.map((a) => state.consent.getConsent(state.account, a.grantee, a.purpose)));
  const live = (c) => (c.status === "active" ? 1 : 0);
  const rows = pairs
    .map((a, i) => ({ grantee: a.grantee, purpose: a.purpose, slot: slots[i], status: statusOf(slots[i], now) }))
    .sort((x, y) => live(y) - live(x) || Number(y.slot.grantedAt - x.slot.grantedAt)) // live first, newest first
    .map(({ grantee, purpose, slot, status }) => {
      const row = document.createElement("tr");
      Object.assign(row.dataset, { grantee, purpose, status });
      addressCell(row, grantee);
      cell(row, purposeWords(purpose));
      cell(row, scopeWords(slot.scopes));
      cell(row, when(slot.grantedAt));
      cell(row, until(slot.expiresAt));
      statusCell(row, status);
      cell(row, status === "active" ? button("Revoke", () => revokeConsent(grantee, purpose)) : "");
      return row;
    });
  fill("consents", rows);
}

async function showGrants(events, now) {
  const keys = unique(events, (a) => `${a.provider}|${a.recordId}`);
  const slots = await Promise.all(
    keys.map((a) =>
      a.recordId === ethers.ZeroHash
        ? state.access.getGrant(state.account, a.provider)
        : state.access.getRecordGrant(a.provider, a.recordId),
    ),
  );
  const rows = keys.map((a, i) => {
    const slot = slots[i];
    const status = statusOf(slot, now);
    const oneRecord = a.recordId !== ethers.ZeroHash;
    const row = document.createElement("tr");
    Object.assign(row.dataset, { provider: a.provider, status });
    addressCell(row, a.provider);
    cell(row, oneRecord ? `one record (${a.recordId.slice(0, 10)}…)` : scopeWords(slot.categories));
    cell(row, when(slot.grantedAt));
    cell(row, until(slot.expiresAt));
    statusCell(row, status);
    const revoke = oneRecord
      ? () => transact(state.access, "revokeRecordAccess", [a.provider, a.recordId], "Access revoked")
      : () => transact(state.access, "revokeAccess", [state.account, a.provider], "Access revoked");
    cell(row, status === "active" ? button("Revoke", revoke) : "");
    return row;
  });
  fill("grants", rows);
}

async function showDelegates(events) {
  const delegates = unique(events, (a) => a.delegate).map((a) => a.delegate);
  const [expiries, live] = await Promise.all([
    Promise.all(delegates.map((d) => state.consent.delegateExpiry(state.account, d))),
    Promise.all(delegates.map((d) => state.consent.isDelegate(state.account, d))),
  ]);
  const rows = delegates.map((delegate, i) => {
    const status = live[i] ? "active" : expiries[i] === 0n ? "revoked" : "expired";
    const row = document.createElement("tr");
    Object.assign(row.dataset, { delegate, status });
    addressCell(row, delegate);
    cell(row, expiries[i] === 0n ? "—" : expiries[i] === NO_EXPIRY ? "until you remove them" : when(expiries[i]));
    statusCell(row, status === "revoked" ? "removed" : status);
    const remove = () => transact(state.consent, "removeDelegate", [delegate], "Delegate removed");
    cell(row, expiries[i] !== 0n ? button("Remove", remove) : "");
    return row;
  });
  fill("delegates", rows);
}

async function blockTimes(events) {
  const numbers = [...new Set(events.map((e) => e.blockNumber))];
  const blocks = await Promise.all(numbers.map((n) => state.provider.getBlock(n)));
  return new Map(blocks.map((b) => [b.number, b.timestamp]));
}

async function showReads(events) {
  const times = await blockTimes(events);
  const records = await Promise.all(events.map((e) => state.records.getRecord(e.args.recordId)));
  const newestFirst = events.map((e, i) => [e, records[i]]).reverse();
  const rows = newestFirst.map(([e, record]) => {
    const { recordId, provider, purpose, basis, episodeId } = e.args;
    const row = document.createElement("tr");
    Object.assign(row.dataset, { provider, record: recordId });
    cell(row, when(times.get(e.blockNumber)));
    addressCell(row, provider);
    cell(row, `${categoryWords(record.category)} (${recordId.slice(0, 10)}…)`);
    cell(row, purposeWords(purpose));
    cell(row, Number(basis) === 3 ? `break the glass (episode ${episodeId})` : BASIS[Number(basis)]);
    return row;
  });
  fill("reads", rows);
}

async function showEpisodes(events) {
  const episodes = await Promise.all(events.map((e) => state.access.getEpisode(e.args.episodeId)));
  const rows = events.map((e, i) => {
    const episode = episodes[i];
    const review = REVIEW[Number(episode.review)];
    const row = document.createElement("tr");
    Object.assign(row.dataset, { episode: String(e.args.episodeId), review });
    cell(row, `#${e.args.episodeId}`);
    addressCell(row, episode.provider);
    cell(row, when(episode.openedAt));
    cell(row, when(episode.expiresAt));
    cell(row, purposeWords(episode.reasonCode));
    const reviewer = review === "open" ? "awaiting review" : `${review} by ${who(episode.reviewer)}`;
    cell(row, reviewer, { class: `status-${review}` });
    return row;
  });
  fill("episodes", rows);
}

/* ---------------------------------------------------------------- actions */

// A simulation first, so a refusal comes back as the contract's named error before the wallet asks.
async function transact(contract, method, args, done) {
  await contract[method].staticCall(...args);
  say("Confirm the transaction in your wallet…", "busy");
  const tx = await contract[method](...args);
  say(`Waiting for transaction ${tx.hash.slice(0, 12)}… to be mined…`, "busy");
  const receipt = await tx.wait();
  return `${done}: transaction ${receipt.hash.slice(0, 12)}… mined in block ${receipt.blockNumber}.`;
}

async function signAndRelay(kind, fields, done) {
  const { consent, relay } = state;
  const [, name, version, chainId, verifyingContract] = await consent.eip712Domain();
  const message = {
    patient: state.account,
    ...fields,
    nonce: await consent.nonces(state.account),
    deadline: BigInt(await chainNow()) + BigInt(SIGNATURE_LIFETIME),
  };
  const { types } = state.eip712[`ConsentRegistry.${kind}`]; // one primary type, as signTypedData takes it
  say("Sign in your wallet (no gas)…", "busy");
  const signature = await state.signer.signTypedData({ name, version, chainId, verifyingContract }, types, message);
  const body = { kind };
  for (const { name: field } of types[kind]) body[field] = jsonValue(message[field]);
  body.signature = signature;
  // What the relayer will send, simulated here first (free): a refusal comes back with its arguments.
  const order = types[kind].map((f) => message[f.name]);
  if (kind === "Grant") await consent.grantBySig.staticCall([...order, signature]);
  else await consent.revokeBySig.staticCall(...order, signature);
  say("Signed. The relayer is submitting it…", "busy");
  const path = kind === "Grant" ? "/consents" : "/revocations";
  const submitted = await relayCall(`${relay.url}${path}`, { method: "POST", body: JSON.stringify(body) });
  const mined = await waitMined(submitted);
  return `${done}: signed by you, submitted by the relayer (transaction ${mined.tx.slice(0, 12)}…, ` +
    `block ${mined.block}). You paid no gas.`;
}

function jsonValue(value) {
  return typeof value === "bigint" ? (value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString()) : value;
}

async function relayCall(url, options = {}) {
  let response;
  try {
    response = await fetch(url, { headers: { "Content-Type": "application/json" }, ...options });
  } catch {
    throw new PortalError("The relayer did not answer: try again, or send a transaction yourself.");
  }
  // The relayer answers a refusal as {"error": code, "detail": one sentence, "errorName"?: the contract's}.
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = body.detail || response.statusText;
    const wait = response.headers.get("Retry-After");
    const later = wait ? ` Try again in ${wait} s.` : "";
    throw new PortalError(`The relayer did not submit it: ${detail}${later}`);
  }
  return body;
}

async function waitMined(submission) {
  const started = Date.now();
  let current = submission;
  while (current.status !== "mined") {
    if (current.status === "failed") {
      throw new PortalError(`The relayer's transaction ${current.tx} failed on chain (${current.error}).`);
    }
    if (Date.now() - started > RELAY_WAIT_MS) {
      throw new PortalError("The relayer has not had your consent mined within a minute; it may still be.");
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    current = await relayCall(`${state.relay.url}/submissions/${submission.id}`);
  }
  return current;
}

function method() {
  return document.querySelector('input[name="method"]:checked')?.value === "relay" && state.relay ? "relay" : "tx";
}

async function giveConsent() {
  const form = $("#grant-form");
  let grantee = state.anyGrantee;
  if (!form.querySelector("#any-grantee").checked) {
    const typed = form.querySelector("#grantee").value.trim();
    if (!ethers.isAddress(typed)) {
      throw new PortalError(`“${typed}” is not an Ethereum address (0x followed by 40 hex digits, or a bad checksum).`);
    }
    grantee = ethers.getAddress(typed);
  }
  const purpose = form.querySelector("#purpose").value;
  const scopes = [...form.querySelectorAll("#scopes input:checked")].reduce((m, box) => m | BigInt(box.value), 0n);
  if (scopes === 0n) throw new PortalError("Choose at least one kind of data to share.");
  const days = form.querySelector("#days").value;
  const expiresAt = days ? BigInt(await chainNow()) + BigInt(days) * BigInt(DAY) : 0n;
  const done = `Consent given to ${who(grantee)} for ${purposeWords(purpose)}`;
  if (method() === "relay") {
    return signAndRelay("Grant", { grantee, purpose, scopes, expiresAt }, done);
  }
  return transact(state.consent, "grant", [grantee, purpose, scopes, expiresAt], done);
}

async function revokeConsent(grantee, purpose) {
  const done = `Consent for ${who(grantee)} for ${purposeWords(purpose)} revoked`;
  if (method() === "relay") return signAndRelay("Revoke", { grantee, purpose }, done);
  return transact(state.consent, "revoke", [grantee, purpose], done);
}

/* ---------------------------------------------------------------- start */

function buildForm() {
  const groups = { DUO: "Research (GA4GH DUO)", HL7: "Uses of health information (HL7)", CARECHAIN: "Other" };
  const select = $("#purpose");
  for (const [system, title] of Object.entries(groups)) {
    const group = document.createElement("optgroup");
    group.label = title;
    for (const p of state.purposes.filter((p) => p.system === system && !p.modifier && !p.revealsCondition)) {
      group.append(new Option(`${p.label} (${p.code})`, p.id, false, p.code === "HMB"));
    }
    select.append(group);
  }
  $("#scopes").replaceChildren(
    ...state.scopes.map((s) => {
      const label = document.createElement("label");
      const box = Object.assign(document.createElement("input"), { type: "checkbox", value: s.mask, id: `scope-${s.name}` });
      label.append(box, ` ${s.label}${s.securityLabel ? " (sensitive)" : ""}`);
      return label;
    }),
  );
  const relay = $("#method-relay");
  relay.disabled = !state.relay;
  (state.relay ? relay : $("#method-tx")).checked = true;
  $("#any-grantee").addEventListener("change", (e) => ($("#grantee").disabled = e.target.checked));
  $("#grant-form").addEventListener("submit", (e) => {
    e.preventDefault();
    act(giveConsent);
  });
  $("#relay-status").textContent = state.relay
    ? `Relayer at ${state.relay.url}: you can sign consents and pay no gas.`
    : "No relayer is available: consents are sent as transactions from your wallet.";
}

$("#connect").addEventListener("click", async () => {
  const control = $("#connect");
  control.disabled = true;
  try {
    await connect();
    $("#account").textContent = `Connected as ${state.account} on chain ${state.chainId}`;
    $("#account").classList.remove("muted");
    control.hidden = true;
    buildForm();
    $("#portal").hidden = false;
    await refresh();
  } catch (err) {
    console.warn(err);
    say(explain(err), "error");
    control.disabled = false;
  }
});
