# Every target installs what it needs and skips what is already there.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CACHE ?= $(HOME)/.cache/pulumi-ipam
PULUMI_VERSION ?= 3.276.0
export PULUMI_IPAM_CACHE := $(CACHE)
export PULUMI_VERSION
# Node >= 22 first on PATH (downloaded from the npm registry when the machine's node is older).
NODE_BIN := $(shell bash scripts/install-node.sh)
export PATH := $(NODE_BIN):$(CACHE)/pulumi-$(PULUMI_VERSION)/bin:$(PATH)
export PULUMI_SKIP_UPDATE_CHECK := true

.PHONY: install deps postgres pulumi pulumi-yaml aws-emulators tools build check plugin codegen sdks examples test test-unit bench quickstart demo clean

# Everything the tests need. The main job (quickstart) needs only deps and pulumi.
install: deps postgres tools

deps: node_modules/.installed
# npm install, not npm ci: npm 11 writes lockfiles without other platforms' optional
# bindings and then refuses them in npm ci (npm/cli#4828). The committed lockfile is
# the one npm writes on a fresh install, so this leaves it unchanged.
node_modules/.installed: package.json package-lock.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

# PostgreSQL server binaries from Debian, for the PostgreSQL store's tests.
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then \
	  echo "installing postgresql from Debian's packages"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null); \
	fi

# The Pulumi CLI alone (the main job's only tool).
pulumi:
	@bash scripts/install-pulumi.sh

pulumi-yaml:
	@bash scripts/install-pulumi-yaml.sh

# Emulators for the AWS backend's tests (moto from PyPI; fakecloud from crates.io).
aws-emulators:
	@bash scripts/install-aws-emulators.sh

# The CLI, the YAML host and the emulators, built in parallel.
tools:
	@bash scripts/install-tools.sh

# node_modules/pulumi-ipam: the package as npm would install it (package.json
# and dist/provider, copied), so programs here and the provider process they
# start resolve "pulumi-ipam" as a user's project would; a copy rather than a
# link, because Pulumi writes a provider that is a module under node_modules
# as a one-line require (see provider/pulumi/resources.ts).
build: deps
	npx tsc -p tsconfig.json
	@bash scripts/install-self.sh

# Type-checks the tests, benchmarks and examples too (ts-jest does not).
check: build examples
	npx tsc -p tsconfig.check.json

# The provider plugin, packed as a plugin tarball and installed as a user would
# (pulumi plugin install resource ipam <version> -f <tarball>, into PULUMI_HOME).
plugin: build pulumi
	@bash scripts/pack-plugin.sh

# Regenerates sdk/ and provider/schema/types.ts from schema.json (a test fails when they are stale).
codegen: deps
	bash scripts/codegen.sh

# Builds each generated SDK as its users would, outside the tree (tsc + npm pack; pip install; go build).
sdks: deps
	bash scripts/build-sdks.sh

# What examples/nodejs, examples/python and examples/go need to run here through their
# languages' Automation API inline hosts (the generated SDKs, built and installed).
examples: build
	bash scripts/build-examples.sh

test: install check plugin sdks
	npx jest --ci

test-unit: deps
	npx jest tests/unit tests/property

bench: install build plugin
	bash bench/run.sh

# The main job: preview then up of the local quickstart, printing the planned
# and then the allocated CIDRs (state and store in examples/local-quickstart/.pulumi-ipam).
quickstart: deps pulumi build
	node dist/provider/cli/run.js examples/local-quickstart preview
	node dist/provider/cli/run.js examples/local-quickstart up

# The allocator on its own, without Pulumi.
demo: deps
	npx ts-node --transpile-only examples/allocator-demo.ts

clean:
	rm -rf dist coverage $(CACHE)/sdk
