#!/usr/bin/env bash
# Builds the Pulumi CLI from its Go module at one pinned version, once, into a
# cache outside the repo, and adds the pulumi-resource-pulumi-nodejs shim that
# runs Node dynamic providers. Skips everything when a pulumi of that version
# is already on PATH or in the cache.
set -euo pipefail
PULUMI_VERSION="${PULUMI_VERSION:-3.276.0}"
CACHE="${PULUMI_IPAM_CACHE:-$HOME/.cache/pulumi-ipam}"
BIN="$CACHE/pulumi-$PULUMI_VERSION/bin"

if command -v pulumi >/dev/null 2>&1 && [ "$(pulumi version 2>/dev/null)" = "v$PULUMI_VERSION" ]; then
  echo "pulumi v$PULUMI_VERSION already on PATH"; exit 0
fi
mkdir -p "$BIN"
if [ ! -x "$BIN/pulumi" ] || [ "$("$BIN/pulumi" version 2>/dev/null)" != "v$PULUMI_VERSION" ]; then
  echo "building pulumi v$PULUMI_VERSION from its Go module (once; 10-20 min on 2 cores)"
  work="$CACHE/pulumi-build-$PULUMI_VERSION"
  mkdir -p "$work"
  # A wrapper module: pkg/v3's own go.mod replaces sdk/v3 with a local path,
  # which `go install mod@version` refuses; requiring it from here works.
  cat > "$work/go.mod" <<MOD
module pulumi-ipam-tools

go 1.26

require (
	github.com/pulumi/pulumi/pkg/v3 v$PULUMI_VERSION
	github.com/pulumi/pulumi/sdk/v3 v$PULUMI_VERSION
)

replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e

replace golang.org/x/text => golang.org/x/text v0.39.0
MOD
  cat > "$work/tools.go" <<'GO'
//go:build tools

package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
GO
  (cd "$work" && GOFLAGS=-mod=mod go mod tidy -e >/dev/null 2>&1 || true
   cd "$work" && GOFLAGS=-mod=mod go build -trimpath \
     -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
     -o "$BIN/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
fi
# The dynamic-provider plugin is a shim that runs the provider host shipped in
# @pulumi/pulumi, resolved from the program's working directory.
cat > "$BIN/pulumi-resource-pulumi-nodejs" <<'SH'
#!/bin/sh
# With -e, node puts the arguments at argv[1..] and the host reads argv[2..]:
# the first argument stands in for the script name.
exec node -e "require(require.resolve('@pulumi/pulumi/cmd/dynamic-provider', {paths: [process.cwd()]}))" "$0" "$@"
SH
chmod +x "$BIN/pulumi-resource-pulumi-nodejs"
"$BIN/pulumi" version
