# cnlab: `make run` and `make test` do all the set-up on a fresh Debian machine (as root).
SHELL := /bin/bash
NPM_STAMP := node_modules/.package-lock.json
NATIVE := build/Release/cnlab_tun.node

.PHONY: run test build bench setup system deps clean-labs bpf

run: setup
	node dist/src/cli.js run $(ARGS)

test: setup
	@bash scripts/install-system.sh --test
	@mkdir -p test-artifacts
	npm run --silent typecheck
	@# The layer rule (dependency-cruiser), formatting (Prettier), lint (typescript-eslint) and unused code (knip).
	npm run --silent check
	@npx vitest run --reporter=default --reporter=json --outputFile.json=test-artifacts/vitest.json $(ARGS); rc=$$?; \
	  node scripts/test-summary.mjs test-artifacts/vitest.json; exit $$rc

bench: setup
	npm run --silent bench

build: deps $(NATIVE) bpf
	npx tsc -p tsconfig.json

# The BPF datapath's programs (bpf/*.c → build/bpf/*.o), for the cilium schemes. Without clang they
# are skipped, and those schemes report "unsupported here: needs clang".
BPF_SRC := $(wildcard bpf/*.c)
BPF_OBJ := $(patsubst bpf/%.c,build/bpf/%.o,$(BPF_SRC))
BPF_CFLAGS := -O2 -g -Wall -target bpf -I/usr/include/$(shell uname -m)-linux-gnu

bpf:
	@if command -v clang >/dev/null 2>&1; then $(MAKE) --no-print-directory $(BPF_OBJ); \
	  else echo "BPF objects: unsupported here: needs clang (apt-get install clang libbpf-dev)"; fi

build/bpf/%.o: bpf/%.c
	@mkdir -p build/bpf
	clang $(BPF_CFLAGS) -c $< -o $@

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
