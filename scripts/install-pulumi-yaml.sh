#!/usr/bin/env bash
# Builds pulumi-language-yaml from its Go module, once, into the same cache
# directory as the pulumi binary (next to it, so the CLI finds it without the
# "using pulumi-language-yaml from $PATH" warning). v1.25.0 compiles only
# against the pkg/sdk version it requires itself (v3.206.0), so it gets a
# wrapper module of its own; the host it builds works with newer CLIs.
set -euo pipefail
YAML_VERSION="${PULUMI_YAML_VERSION:-1.25.0}"
PULUMI_VERSION="${PULUMI_VERSION:-3.276.0}"
CACHE="${PULUMI_IPAM_CACHE:-$HOME/.cache/pulumi-ipam}"
BIN="$CACHE/pulumi-$PULUMI_VERSION/bin"
OUT="$CACHE/pulumi-language-yaml-$YAML_VERSION/pulumi-language-yaml"
mkdir -p "$BIN" "$(dirname "$OUT")"
if [ ! -x "$OUT" ]; then
  echo "building pulumi-language-yaml v$YAML_VERSION from its Go module (once; about 4 min on 2 cores)"
  work="$CACHE/pulumi-yaml-build-$YAML_VERSION"
  mkdir -p "$work"
  cat > "$work/go.mod" <<MOD
module pulumi-ipam-yaml-host

go 1.26

require github.com/pulumi/pulumi-yaml v$YAML_VERSION

replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
MOD
  cat > "$work/tools.go" <<'GO'
//go:build tools

package tools

import _ "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml"
GO
  (cd "$work" && GOFLAGS=-mod=mod go mod tidy -e >/dev/null 2>&1 || true
   cd "$work" && GOFLAGS=-mod=mod go build -trimpath \
     -ldflags "-s -w -X github.com/pulumi/pulumi-yaml/pkg/version.Version=v$YAML_VERSION" \
     -o "$OUT.tmp" github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml && mv "$OUT.tmp" "$OUT")
fi
ln -sf "$OUT" "$BIN/pulumi-language-yaml"
