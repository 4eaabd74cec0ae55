#!/usr/bin/env node
// A `solc` command line over solc-js, enough for py-solc-x/brownie, forge and Slither (via forge):
//   --version                   prints "Version: <x.y.z+commit.hash>"
//   --standard-json [paths...]  reads Standard JSON on stdin, writes Standard JSON on stdout
// Imports that are not in the input are read from disk, relative to the working folder, --base-path,
// --include-path and --allow-paths roots. Written with fs.writeSync: process.stdout.write followed
// by an exit would cut output over 64 KiB to a pipe.
"use strict";
const fs = require("fs");
const path = require("path");

function loadSolc() {
  const where = process.env.CARECHAIN_SOLCJS;
  try {
    return require(where || "solc");
  } catch (err) {
    fs.writeSync(2, `solc-js not found (${where || "solc"}): run \`npm ci\` in the project root\n`);
    process.exit(2);
  }
}

function parseArgs(argv) {
  const args = { version: false, standardJson: false, roots: [], unknown: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = () => (inline !== undefined ? inline : argv[++i]);
    if (flag === "--version") args.version = true;
    else if (flag === "--standard-json") args.standardJson = true;
    else if (flag === "--base-path" || flag === "--include-path") args.roots.push(value());
    else if (flag === "--allow-paths") args.roots.push(...value().split(",").filter(Boolean));
    else if (flag === "--pretty-json" || flag === "--no-color") continue;
    else if (flag === "-" || !flag.startsWith("-")) continue; // stdin marker or a file the input lists anyway
    else args.unknown.push(flag);
  }
  return args;
}

function importCallback(roots) {
  const bases = [process.cwd(), ...roots.map((r) => path.resolve(r))];
  return (importPath) => {
    const candidates = path.isAbsolute(importPath) ? [importPath] : bases.map((b) => path.join(b, importPath));
    for (const candidate of candidates) {
      if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) {
        return { contents: fs.readFileSync(candidate, "utf8") };
      }
    }
    return { error: `File not found: ${importPath}` };
  };
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const solc = loadSolc();
  if (args.version) {
    const full = solc.version().replace(/\.Emscripten\.clang$/, "");
    fs.writeSync(1, `solc, the solidity compiler commandline interface\nVersion: ${full}\n`);
    return 0;
  }
  if (!args.standardJson || args.unknown.length) {
    fs.writeSync(2, `solc-js wrapper: only --version and --standard-json are supported (got ${process.argv.slice(2).join(" ")})\n`);
    return 1;
  }
  const input = fs.readFileSync(0, "utf8");
  const output = solc.compile(input, { import: importCallback(args.roots) });
  fs.writeSync(1, output);
  return 0;
}

process.exitCode = main();
