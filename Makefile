# CareChain — every target installs what it needs (quickly skipped when present).
# `make demo` and `make test` are the README's two commands; `make test-quick` is for working sessions.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT := $(CURDIR)
VENV := $(ROOT)/.venv
BIN := $(VENV)/bin
PYTHON ?= python3
SOLC := $(ROOT)/.solc/solc-v0.8.28
# .tools/bin holds Foundry's real binaries (see carechain.dev.toolchain.link_foundry_tools): the npm
# wrapper of forge always exits 0, so a failing forge test would not fail `make test`.
export PATH := $(ROOT)/.tools/bin:$(ROOT)/node_modules/.bin:$(BIN):$(PATH)
export SOLCX_BINARY_PATH := $(ROOT)/.solc
export CARECHAIN_ROOT := $(ROOT)
FORGE_PROFILE ?= ci
# brownie starts and stops its chain; the guard makes sure the chain also stops when brownie is killed.
GUARD = $(BIN)/python -m carechain.dev.guard
GANACHE_SUITE := tests/consent tests/consent_grants tests/smoke

.PHONY: abi help setup compile demo bench test test-quick test-unit test-anvil duplicates postgres test-ganache forge forge-quick lint fuzz snapshot networks clean \
	chromium portal portal-screenshot rehearsal gateway docs

help:
	@echo "make demo        consents, provider access and a trial on a local Anvil chain (installs on first run)"
	@echo "make test        everything CI runs: lint + Slither, forge fuzz under coverage, pytest on Anvil, Ganache"
	@echo "make test-quick  pytest on Anvil and forge (no coverage), without installs (day-to-day)"
	@echo "make test-unit   the chain-free tests alone: plain pytest, no brownie, no node (under two minutes)"
	@echo "make fuzz        forge fuzz/invariant tests with the deep profile"
	@echo "make portal      the patient portal on a local chain, with the relayer, for a browser wallet"
	@echo "make gateway     a hospital's record gateway on a local chain, with a lab result, to try with curl"
	@echo "make bench       gas beside EAS and Merkle speed beside the JS library; writes benchmarks/results/*.json"

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm missing: installing Debian's nodejs and npm"; \
	  apt-get update -qq && apt-get install -y -qq nodejs npm; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(SOLC) $(ROOT)/.tools/bin/forge &: $(BIN)/.installed node_modules/.installed src/carechain/dev/toolchain.py \
		src/carechain/dev/solcjs_wrapper.cjs
	$(BIN)/python -m carechain.dev.toolchain

# brownie keeps networks in ~/.brownie; add the Ganache 7 network once per machine.
networks: $(BIN)/.installed
	@grep -qs 'id: ganache7' $(HOME)/.brownie/network-config.yaml || \
	  $(BIN)/brownie networks add Development ganache7 cmd=ganache host=http://127.0.0.1 port=8546 \
	    evm_version=shanghai accounts=10 mnemonic=brownie gas_limit=30000000 >/dev/null

setup: $(SOLC) $(ROOT)/.tools/bin/forge networks

compile: setup
	$(BIN)/brownie compile

demo: compile
	$(GUARD) $(BIN)/brownie run scripts/demo.py --network development

bench: compile postgres
	$(BIN)/python -m benchmarks.gas
	$(BIN)/python -m benchmarks.merkle
	$(BIN)/python -m benchmarks.indexer
	$(BIN)/python -m benchmarks.onboarding
	$(BIN)/python -m benchmarks.gateway

# Each phase is a make run of its own, timed: the phase times come at the end, also when a phase fails.
TEST_PHASES := compile lint forge test-anvil test-ganache
test:
	@MAKE='$(MAKE)' $(PYTHON) .ci/phases.py $(TEST_PHASES)

test-quick: forge-quick test-anvil

# The indexer tests start a throwaway PostgreSQL server of their own; install Debian's when missing.
postgres:
	@command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  { echo "initdb missing: installing Debian's postgresql"; apt-get update -qq && apt-get install -y -qq postgresql; }

# The portal's browser tests drive Debian's Chromium through playwright-core (which never downloads a
# browser of its own); install it when missing.
chromium:
	@test -x /usr/bin/chromium || \
	  { echo "chromium missing: installing Debian's chromium"; apt-get update -qq && apt-get install -y -qq chromium; }

# The patient portal on a local Anvil (PORTAL_CHAIN_PORT, 8545 as browser wallets expect): deploys, tells the
# story of PATIENT (your wallet's address; default Anvil's account 1), starts the relayer, serves the page and
# prints its URL; Ctrl-C stops everything.
PORTAL_PORT ?= 8800
PORTAL_CHAIN_PORT ?= 8545
PORTAL_NETWORK ?= development
portal: compile
	$(GUARD) $(BIN)/python -m carechain.dev.stacks portal --port $(PORTAL_PORT) --chain-port $(PORTAL_CHAIN_PORT) \
	  $(if $(PATIENT),--patient $(PATIENT))

# A hospital's record gateway on a local Anvil (GATEWAY_CHAIN_PORT): deploys, attests a hospital, a GP,
# a specialist and an ER physician, lets the patient grant the GP their labs, ingests a lab result and
# serves it; prints the URL and curl lines; Ctrl-C stops the gateway and the chain. GATEWAY_MODE=receipts
# logs reads as signed receipts batched on chain; BLOCK_TIME=1 mines a block a second after the set-up.
GATEWAY_PORT ?= 8600
GATEWAY_CHAIN_PORT ?= 8545
GATEWAY_MODE ?= tx
gateway: compile
	$(GUARD) $(BIN)/python -m carechain.dev.stacks gateway --port $(GATEWAY_PORT) --chain-port $(GATEWAY_CHAIN_PORT) \
	  --log-mode $(GATEWAY_MODE) $(if $(CONFIRMATIONS),--confirmations $(CONFIRMATIONS)) \
	  $(if $(BLOCK_TIME),--block-time $(BLOCK_TIME))

# Retakes docs/portal.png: the browser tests, keeping their screenshot after a signed grant.
portal-screenshot: compile chromium
	CARECHAIN_PORTAL_SCREENSHOT=1 $(GUARD) $(BIN)/brownie test tests/portal --network $(PORTAL_NETWORK)

# Rewrites the transcripts and benchmark tables in README.md and docs/*.md from real runs (docs/transcripts.py):
# the demo on brownie's DOCS_NETWORK, the CLI session on an Anvil of its own, benchmarks/results/*.json as they are.
DOCS_NETWORK ?= development
docs: compile
	DOCS_NETWORK=$(DOCS_NETWORK) $(BIN)/python docs/transcripts.py

# The testnet rehearsal (tests/rehearsal): its own Anvil on a free port, --block-time 1 --chain-id 11155111,
# a temporary project folder whose .env points at it (yours is not touched); deploy, the consent, access and
# trial flows through the CLI with a key per role, `carechain index --confirmations 2` and `carechain audit`,
# each checked on chain; the node is stopped afterwards. brownie starts its chain (REHEARSAL_NETWORK) as for any
# test; the rehearsal does not use it.
REHEARSAL_NETWORK ?= development
rehearsal: compile
	$(GUARD) $(BIN)/brownie test tests/rehearsal --network $(REHEARSAL_NETWORK) -v

# The chain-free tests: tests/unit, and tests/indexer/test_decode.py beside the indexer tests. Plain pytest
# without brownie's plugin (tests/conftest.py then refuses `import brownie`), no node.
UNIT_TESTS := tests/unit tests/indexer/test_decode.py
UNIT_PYTEST = $(BIN)/python -m pytest $(UNIT_TESTS) -q -p no:pytest-brownie

test-unit: $(SOLC) $(ROOT)/.tools/bin/forge
	$(UNIT_PYTEST)

# The whole suite runs once, under coverage of src/ (child processes too: pyproject's [tool.coverage]): the
# chain-free tests under plain pytest, then the others under brownie on Anvil, adding to the same coverage
# data; below 90% of src/ lines it fails. The chain tests run in TEST_WORKERS pytest-xdist workers, each with
# an Anvil of its own (brownie's xdist support: worker N's node listens on the network's port + N) and whole
# test files dealt out to them; a chain test spends most of its time in Python, not in the node, so two
# workers on two cores take about half the time of one.
TEST_WORKERS ?= 2
ANVIL_NETWORK ?= development
test-anvil: postgres chromium
	$(UNIT_PYTEST) --cov=carechain --cov-report=
	$(GUARD) $(BIN)/brownie test tests $(UNIT_TESTS:%=--ignore=%) --network $(ANVIL_NETWORK) -n $(TEST_WORKERS) \
	  --cov=carechain --cov-append --cov-report=term --cov-fail-under=90

test-ganache:
	$(GUARD) $(BIN)/brownie test $(GANACHE_SUITE) --network ganache7

# One forge run, under coverage (unoptimised, so the gas snapshot is checked on its own optimised build):
# the contracts must keep 95% of lines and branches (.ci/coverage_gate.py prints them per contract).
forge:
	@mkdir -p build/coverage
	FOUNDRY_PROFILE=$(FORGE_PROFILE) forge coverage --report summary --report lcov \
	  --report-file build/coverage/lcov.info --no-match-coverage 'tests/|contracts/test/'
	$(BIN)/python .ci/coverage_gate.py build/coverage/lcov.info
	forge snapshot --match-test test_gas --check .gas-snapshot --tolerance 1

forge-quick:
	FOUNDRY_PROFILE=$(FORGE_PROFILE) forge test
	forge snapshot --match-test test_gas --check .gas-snapshot --tolerance 1

snapshot:
	forge snapshot --match-test test_gas --snap .gas-snapshot

fuzz:
	FOUNDRY_PROFILE=deep forge test

# solhint: .solhint.json (rules turned off, each with its reason in the README). Slither builds through
# forge (foundry.toml, the same compiler) and fails on any medium or high finding.
lint:
	$(BIN)/ruff check src tests scripts benchmarks .ci
	$(BIN)/mypy
	solhint --max-warnings 0 'contracts/**/*.sol'
	$(BIN)/slither . --config-file slither.config.json
	@$(MAKE) --no-print-directory duplicates

# Repeated code in src/: pylint's duplicate-code (pinned in pyproject, settings in the script) prints every
# block of 6+ similar lines; one that .ci/duplicates-allowed.txt does not allow fails.
duplicates:
	$(BIN)/python .ci/duplicates.py

clean:
	rm -rf build .solc .tools cache reports .pytest_cache .hypothesis

abi: compile
	$(BIN)/python -c "from carechain.core.deployments import export_abis; from pathlib import Path; export_abis(Path('.'))"
