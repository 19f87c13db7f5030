# HubSignal's two commands: `make run` (the service on a private PostgreSQL) and `make test` (the test suite).
# Each installs what a fresh Debian/Ubuntu machine lacks (PostgreSQL server, libpq-dev, pkg-config) before building.

SWIFT ?= swift
SYSTEM_PACKAGES := postgresql libpq-dev pkg-config zlib1g-dev
# What only the tests need: Debian's chromium for the browser test (BrowserTests), which is skipped, saying why, where
# it cannot be installed.
TEST_PACKAGES := chromium
BENCH_ARGS ?= append --json
SOAK_ARGS ?= --minutes 10

.PHONY: run test deps test-deps build bench soak clean

## run: the service on its embedded default (a private PostgreSQL in ./.hubsignal/pg, migrated)
run: deps
	$(SWIFT) build --product hubsignal
	$(SWIFT) run --skip-build hubsignal dev

## test: every test suite, against a real PostgreSQL (DATABASE_URL, or a throwaway server the tests start), then the
## DocC catalogs of PQ and EventStore built with warnings as errors and their examples typechecked
## At most TEST_PARALLELISM tests run at once (Swift Testing's SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH): the
## suites start real serve processes, PostgreSQL servers, Chromium and Python, and unbounded they outran two cores.
TEST_PARALLELISM ?= 6
test: deps test-deps
	$(SWIFT) build --build-tests
	SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=$(TEST_PARALLELISM) $(SWIFT) test --skip-build
	scripts/check-docc

## bench: the benchmarks in release mode (BENCH_ARGS="append --events 100000 --json" for a smaller run)
bench: deps
	$(SWIFT) build -c release --product hubsignal-bench
	$(SWIFT) run -c release --skip-build hubsignal-bench $(BENCH_ARGS)

## soak: the soak bench, on demand (not in CI): real serve processes, a steady load with background faults, memory and
## the three-ledger check (SOAK_ARGS="--minutes 3 --json" for a shorter run). serve is built next to the bench.
soak: deps
	$(SWIFT) build -c release --product hubsignal
	$(SWIFT) build -c release --product hubsignal-bench
	$(SWIFT) run -c release --skip-build hubsignal-bench soak $(SOAK_ARGS)

build: deps
	$(SWIFT) build

## deps: install the system packages that are missing (skipped when present; apt-get upgrades installed ones, so we check first)
deps:
	@command -v $(SWIFT) >/dev/null 2>&1 || { echo "Swift 6.1 or later is required: https://www.swift.org/install/linux/"; exit 1; }
	@if command -v dpkg-query >/dev/null 2>&1; then \
	  missing=""; \
	  for package in $(SYSTEM_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "ok installed" || missing="$$missing $$package"; \
	  done; \
	  if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi; \
	    $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	  fi; \
	else \
	  command -v pkg-config >/dev/null 2>&1 && pkg-config --exists libpq || { echo "install libpq (macOS: brew install libpq pkg-config postgresql)"; exit 1; }; \
	fi

## test-deps: TEST_PACKAGES, installed like the system packages when missing, and the Python SDKs PythonSDKTests runs
## (scripts/install-python-sdks, into .build/test-clients); a failure only skips the tests that need them
test-deps: deps
	@$(MAKE) --no-print-directory deps SYSTEM_PACKAGES="$(TEST_PACKAGES)" || echo "$(TEST_PACKAGES) could not be installed: the browser test will be skipped"
	@scripts/install-python-sdks || true

clean:
	rm -rf .build
