#!/usr/bin/env bash
# Regenerates everything that comes from schema.json: the SDKs (sdk/nodejs,
# sdk/python, sdk/go/ipam) and the TypeScript types (provider/schema/types.ts).
#
#   scripts/codegen.sh          # into the checkout
#   scripts/codegen.sh DIR      # into DIR/sdk and DIR/provider/schema (the staleness test)
#
# The generator (provider/cmd/codegen, on pulumi/pkg/v3/codegen) is built once
# into the cache outside the repo, keyed by a hash of its sources.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$(mkdir -p "${1:-$ROOT}" && cd "${1:-$ROOT}" && pwd)"
CACHE="${PULUMI_IPAM_CACHE:-$HOME/.cache/pulumi-ipam}"
SRC="$ROOT/provider/cmd/codegen"
key="$(cat "$SRC/main.go" "$SRC/go.mod" "$SRC/go.sum" | sha256sum | cut -c1-12)"
BIN="$CACHE/codegen-$key/codegen"
if [ ! -x "$BIN" ]; then
  echo "building the SDK generator (once; about a minute with a warm Go cache)" >&2
  mkdir -p "$(dirname "$BIN")"
  (cd "$SRC" && go build -trimpath -o "$BIN.tmp" . && mv "$BIN.tmp" "$BIN")
fi
mkdir -p "$OUT/sdk" "$OUT/provider/schema"
"$BIN" -schema "$ROOT/schema.json" -out "$OUT/sdk"
# ts-node from the checkout's node_modules; node >= 22 (scripts/install-node.sh) on PATH.
PATH="$(bash "$ROOT/scripts/install-node.sh"):$PATH"
(cd "$ROOT" && node_modules/.bin/ts-node --transpile-only scripts/gen-types.ts schema.json "$OUT/provider/schema/types.ts")
