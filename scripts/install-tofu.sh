#!/usr/bin/env bash
# Builds OpenTofu's `tofu` from its Go module at one pinned version, once, into
# a cache outside the repo; prints the binary's path. The Terraform export's
# tests use it to parse and check the synthesized cdk.tf.json (tofu init,
# validate, fmt). Skips the build when the cached binary has that version.
set -euo pipefail
TOFU_VERSION="${TOFU_VERSION:-1.12.6}"
CACHE="${PULUMI_IPAM_CACHE:-$HOME/.cache/pulumi-ipam}"
DIR="$CACHE/tofu-$TOFU_VERSION"
BIN="$DIR/tofu"

if [ -x "$BIN" ] && "$BIN" version 2>/dev/null | grep -q "^OpenTofu v$TOFU_VERSION\$"; then
  echo "$BIN"; exit 0
fi
echo "building tofu v$TOFU_VERSION from its Go module (once; several minutes on 2 cores)" >&2
work="$CACHE/tofu-build-$TOFU_VERSION"
mkdir -p "$work" "$DIR"
# A wrapper module: opentofu's go.mod replaces hcl/v2 with its fork, which
# `go install mod@version` refuses; requiring it from here with the same
# replace works.
cat > "$work/go.mod" <<MOD
module pulumi-ipam-tofu

go 1.26

require github.com/opentofu/opentofu v$TOFU_VERSION

replace github.com/hashicorp/hcl/v2 v2.20.1 => github.com/opentofu/hcl/v2 v2.20.2-0.20251021132045-587d123c2828
MOD
cat > "$work/tools.go" <<'GO'
//go:build tools

package tools

import _ "github.com/opentofu/opentofu/cmd/tofu"
GO
(cd "$work" && GOFLAGS=-mod=mod go mod tidy -e >/dev/null 2>&1 || true
 cd "$work" && GOFLAGS=-mod=mod go build -trimpath \
   -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" \
   -o "$BIN.tmp" github.com/opentofu/opentofu/cmd/tofu)
mv "$BIN.tmp" "$BIN"
"$BIN" version >&2
echo "$BIN"
