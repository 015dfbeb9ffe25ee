# cnlab: `make run` and `make test` do all the set-up on a fresh Debian machine (as root).
SHELL := /bin/bash
NPM_STAMP := node_modules/.package-lock.json
NATIVE := build/Release/cnlab_tun.node

.PHONY: run test build bench setup system deps clean-labs

run: setup
	node dist/src/cli.js run $(ARGS)

test: setup
	@bash scripts/install-system.sh --test
	@mkdir -p test-artifacts
	npm run --silent typecheck
	@npx vitest run --reporter=default --reporter=json --outputFile.json=test-artifacts/vitest.json $(ARGS); rc=$$?; \
	  node scripts/test-summary.mjs test-artifacts/vitest.json; exit $$rc

bench: setup
	npm run --silent bench

build: deps $(NATIVE)
	npx tsc -p tsconfig.json

# The encapsulation daemon's TUN/TAP and UDP addon (node-gyp, against Node's own headers).
$(NATIVE): binding.gyp native/tun.c native/udp.c native/cnlab.h
	npm run --silent build:native

setup: system build

# Debian packages the labs need; installs only what is missing, so it is quick when all is there.
system:
	@bash scripts/install-system.sh

deps: $(NPM_STAMP)

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $(NPM_STAMP)

# Remove every lab cnlab recorded (never anything else).
clean-labs: build
	node dist/src/cli.js clean
