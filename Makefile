# Roster: `make run` to try it, `make test` for everything CI checks, `make bench`
# for the speed figures. Every target installs what it needs first.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run

CARGO         ?= cargo
SITE          := target/site
PKG           := $(SITE)/pkg
FRONT_TARGET  := target/front
WASM_BINDGEN_VERSION := $(shell awk '/^name = "wasm-bindgen"$$/{getline; gsub(/"/,"",$$3); print $$3; exit}' Cargo.lock)
PG_ADMIN_URL  ?= postgres://postgres@127.0.0.1:5432/postgres
E2E_PORT      ?= 3210
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/end2end/node_modules/.bin:$(PATH)

.PHONY: run build tools wasm-opt front front-release precompress server test unit lint integration integration-sqlite office-tools \
        integration-postgres e2e e2e-tools bench clean-db release deploy-check bench-chromium fuzz load-tools \
        screenshots

## run: build, migrate roster.db, seed a demo if empty, serve http://127.0.0.1:3000
run: build
	./target/debug/server serve

# The site is always the optimised WASM (what users get); `front` is the quicker
# debug build for working on the UI.
build: front-release server

## tools: the wasm32 target and the wasm-bindgen CLI matching Cargo.lock
tools:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@if ! wasm-bindgen --version 2>/dev/null | grep -q " $(WASM_BINDGEN_VERSION)"; then \
	  echo "Installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) (one time, ~9 minutes)…"; \
	  $(CARGO) install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION); \
	fi

front: tools
	$(CARGO) build -p frontend --lib --target wasm32-unknown-unknown --target-dir $(FRONT_TARGET)
	$(MAKE) --no-print-directory site WASM=$(FRONT_TARGET)/wasm32-unknown-unknown/debug/frontend.wasm
	frontend/hash-site.sh $(SITE)
	$(MAKE) --no-print-directory precompress QUALITY=4

## front-release: the optimised WASM (size-tuned profile, wasm-opt from npm's binaryen)
front-release: tools wasm-opt
	$(CARGO) build -p frontend --lib --target wasm32-unknown-unknown --target-dir $(FRONT_TARGET) --profile wasm-release
	$(MAKE) --no-print-directory site WASM=$(FRONT_TARGET)/wasm32-unknown-unknown/wasm-release/frontend.wasm
	wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int $(PKG)/roster_bg.wasm -o $(PKG)/roster_bg.wasm
	frontend/hash-site.sh $(SITE)
	$(MAKE) --no-print-directory precompress QUALITY=11

## wasm-opt: binaryen from the npm registry (Debian's is too old: it breaks hydration)
wasm-opt:
	@command -v npm >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nodejs npm; }
	cd end2end && { [ -d node_modules/binaryen ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund; }

# Brotli and gzip copies of the site's files, sent as they are (Node's zlib); without
# Node the build goes on with a note, and the server compresses per request instead.
precompress:
	@if command -v node >/dev/null; then node frontend/precompress.mjs $(PKG) $(QUALITY); \
	else echo "NOTE: node not found: the site's files are not precompressed (the server compresses them per request)."; fi

# Each build starts from an empty pkg/; the compressed copies are made after the last
# step that changes a file (see frontend/precompress.mjs), and the files are named by
# their content (frontend/hash-site.sh) just before.
site:
	mkdir -p $(PKG)
	rm -f $(PKG)/* $(SITE)/hash.txt
	wasm-bindgen --target web --no-typescript --out-dir $(PKG) --out-name roster $(WASM)
	cp style/main.css $(PKG)/roster.css
	cp -r public/. $(SITE)/

server:
	$(CARGO) build -p server

## release: one optimised server and its site in dist/roster (deploy that folder)
release: front-release
	$(CARGO) build -p server --release
	rm -rf dist/roster && mkdir -p dist/roster
	cp target/release/server dist/roster/roster
	cp -r $(SITE) dist/roster/site
	@echo "dist/roster: run ./dist/roster/roster serve (see README, Running in production)"

## deploy-check: start the release folder as the Dockerfile and systemd unit do
deploy-check: release
	deploy/smoke.sh dist/roster

## test: unit tests, lint, integration on SQLite and PostgreSQL, end-to-end in Chromium
## (each step timed; the times are printed at the end, also when a step fails)
TEST_STEPS := unit lint integration e2e deploy-check
test:
	@mkdir -p target; times=target/test-times.txt; : > $$times; start=$$(date +%s); \
	report() { echo; echo "Time per step (s):"; cat $$times; echo "total $$(( $$(date +%s) - start ))"; }; \
	trap report EXIT; \
	for step in $(TEST_STEPS); do \
	  t=$$(date +%s); $(MAKE) --no-print-directory $$step; \
	  printf '%-14s %5d\n' $$step $$(( $$(date +%s) - t )) >> $$times; \
	done; \
	echo "All tests passed."

unit:
	$(CARGO) test -p app --features ssr --lib
	$(CARGO) test -p server --lib --bins

lint: tools
	$(CARGO) fmt --all --check
	$(CARGO) clippy -p app --features ssr --all-targets -- -D warnings
	$(CARGO) clippy -p server --all-targets -- -D warnings
	$(CARGO) clippy -p frontend --target wasm32-unknown-unknown --target-dir $(FRONT_TARGET) -- -D warnings

integration: office-tools integration-sqlite integration-postgres

## office-tools: LibreOffice Calc (headless), which the export tests open files with
office-tools:
	@command -v soffice >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends libreoffice-calc-nogui; }

integration-sqlite:
	$(CARGO) test -p server --test api

# With CI=true PostgreSQL is required; elsewhere a missing server is skipped loudly.
integration-postgres:
	@if pg_isready -q -d "$(PG_ADMIN_URL)" 2>/dev/null || psql "$(PG_ADMIN_URL)" -Atc 'select 1' >/dev/null 2>&1; then \
	  TEST_DATABASE_URL="$(PG_ADMIN_URL)" $(CARGO) test -p server --test api; \
	elif [ "$${CI:-}" = "true" ]; then \
	  echo "ERROR: PostgreSQL does not answer at $(PG_ADMIN_URL); CI requires the PostgreSQL tests." >&2; exit 1; \
	else \
	  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
	  echo "!!! SKIPPED: PostgreSQL integration tests (no server at $(PG_ADMIN_URL))   !!!"; \
	  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
	fi

## screenshots: every page at 1024x768 and 1400x900 in target/screenshots/ (seeded demo
## with a crowded user), to look at before calling a UI change done
SHOT_PORT ?= 3300
screenshots: build e2e-tools
	@db=target/screenshots.db; [ -f "$$db" ] || { \
	  DATABASE_URL="sqlite://$$db?mode=rwc" ./target/debug/server seed --users $${SHOT_USERS:-2000} && \
	  DATABASE_URL="sqlite://$$db?mode=rwc" ROSTER_ADMIN_PASSWORD=shots-password-123 \
	    ./target/debug/server create-admin --email shots@roster.test; }; \
	DATABASE_URL="sqlite://$$db?mode=rwc" ./target/debug/server serve --addr 127.0.0.1:$(SHOT_PORT) --demo-users 0 \
	  > target/screenshots.log 2>&1 & pid=$$!; trap "kill $$pid" EXIT; \
	for i in $$(seq 50); do curl -fs http://127.0.0.1:$(SHOT_PORT)/healthz >/dev/null && break; sleep 0.2; done; \
	cd end2end && node screenshots/shoot.mjs http://127.0.0.1:$(SHOT_PORT) shots@roster.test shots-password-123 ../target/screenshots

## e2e-tools: Debian's Chromium and the npm packages (Playwright, binaryen)
e2e-tools:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }
	cd end2end && { [ -d node_modules/@playwright/test ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund; }

e2e: build e2e-tools
	rm -f target/e2e.db target/e2e.db-wal target/e2e.db-shm
	DATABASE_URL="sqlite://target/e2e.db?mode=rwc" ./target/debug/server seed --users 300
	DATABASE_URL="sqlite://target/e2e.db?mode=rwc" ROSTER_ADMIN_PASSWORD="e2e-password-123" \
	  ./target/debug/server create-admin --email e2e@roster.test
	rm -f target/e2e-quota.db target/e2e-quota.db-wal target/e2e-quota.db-shm
	DATABASE_URL="sqlite://target/e2e-quota.db?mode=rwc" ./target/debug/server migrate
	DATABASE_URL="sqlite://target/e2e-quota.db?mode=rwc" ROSTER_ADMIN_PASSWORD="e2e-password-123" \
	  ./target/debug/server create-admin --email e2e@roster.test
	cd end2end && E2E_PORT=$(E2E_PORT) npx playwright test

## bench: 1,000,000 users in SQLite and PostgreSQL; list query p50/p95; release WASM size
# Then the same figures on PostgreSQL (prefixed pg.), in a database of its own that
# is kept for later runs, like the SQLite file.
bench: front-release load-tools
	$(CARGO) bench -p server --bench list -- --users $${BENCH_USERS:-1000000}
	@users=$${BENCH_USERS:-1000000}; name=roster_bench_$$users; admin='$(PG_ADMIN_URL)'; \
	if psql "$(PG_ADMIN_URL)" -Atc 'select 1' >/dev/null 2>&1; then \
	  psql "$(PG_ADMIN_URL)" -Atc "SELECT 1 FROM pg_database WHERE datname = '$$name'" | grep -q 1 \
	    || psql "$(PG_ADMIN_URL)" -qc "CREATE DATABASE $$name"; \
	  $(CARGO) bench -p server --bench list -- --users $$users \
	    --database-url "$${admin%/*}/$$name"; \
	else echo "!!! SKIPPED: the PostgreSQL figures (no server at $(PG_ADMIN_URL))"; fi
	$(MAKE) --no-print-directory bench-chromium

# wrk drives the load test (server/benches/load.lua), from Debian's packages.
load-tools:
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk; }

## bench-chromium: page load to interactive and keystroke to redrawn, in Chromium,
## against the release server on the bench's SQLite file
BENCH_PORT ?= 3299
bench-chromium: release e2e-tools
	@db=target/bench-$${BENCH_USERS:-1000000}.db; [ -f "$$db" ] || { echo "no $$db: run make bench first" >&2; exit 1; }; \
	export DATABASE_URL="sqlite://$$db?mode=rwc"; \
	ROSTER_ADMIN_PASSWORD=bench-password-123 ./dist/roster/roster create-admin --email chromium-bench@roster.test >/dev/null 2>&1 || true; \
	./dist/roster/roster serve --addr 127.0.0.1:$(BENCH_PORT) --demo-users 0 > target/bench-chromium.log 2>&1 & pid=$$!; \
	trap "kill $$pid" EXIT; \
	for _ in $$(seq 1 100); do curl -fsS http://127.0.0.1:$(BENCH_PORT)/readyz >/dev/null 2>&1 && break; sleep 0.2; done; \
	node end2end/bench/first-page.mjs http://127.0.0.1:$(BENCH_PORT) chromium-bench@roster.test bench-password-123 $${BENCH_RUNS:-20}

## fuzz: each fuzz target for FUZZ_SECONDS (default 60) from fuzz/seeds; not in CI
fuzz:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	fuzz/run.sh

clean-db:
	rm -f roster.db roster.db-wal roster.db-shm
