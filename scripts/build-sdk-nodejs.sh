#!/usr/bin/env bash
# Builds the generated Node.js SDK as it is published: sdk/nodejs holds
# TypeScript sources and a package.json without `main`, so the compiled bin/
# gets package.json and README.md copied in and is packed; programs install
# the tarball (a file: link to the sources would resolve a second copy of
# @pulumi/pulumi). Compiled outside the repo, into $OUT/bin (default
# $CACHE/sdk/nodejs), against the checkout's node_modules (@pulumi/pulumi,
# typescript, @types/node). Prints the tarball's path.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${PULUMI_IPAM_CACHE:-$HOME/.cache/pulumi-ipam}"
OUT="${1:-$CACHE/sdk/nodejs}"
PATH="$(bash "$ROOT/scripts/install-node.sh"):$PATH"
rm -rf "$OUT/bin"
mkdir -p "$OUT"
# No source maps: every resource registration formats a stack trace through
# source-map-support, which reads them (see README, Performance).
"$ROOT/node_modules/.bin/tsc" -p "$ROOT/sdk/nodejs/tsconfig.json" --outDir "$OUT/bin" --sourceMap false --declarationMap false
cp "$ROOT/sdk/nodejs/package.json" "$ROOT/sdk/nodejs/README.md" "$OUT/bin/"
tgz="$(cd "$OUT" && npm pack ./bin --silent --pack-destination "$OUT" | tail -n 1)"
echo "$OUT/$tgz"
