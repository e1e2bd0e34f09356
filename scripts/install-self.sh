#!/usr/bin/env bash
# Installs this checkout into its own node_modules as npm would install the
# published package: package.json plus the "files" it lists (dist/provider
# without source maps: a program's every resource registration formats stack
# traces through source-map-support, which maps frames only where maps exist).
set -euo pipefail
cd "$(dirname "$0")/.."
dest=node_modules/pulumi-ipam
[ -d dist/provider ] || { echo "dist/provider missing: run tsc first" >&2; exit 1; }
rm -rf "$dest"
mkdir -p "$dest/dist"
cp package.json schema.json "$dest/"
cp -R dist/provider "$dest/dist/"
find "$dest/dist" -name '*.map' -delete
# The package's bin, as npm links it, so `npx pulumi-ipam` resolves here and in the examples below.
mkdir -p node_modules/.bin
chmod +x "$dest/dist/provider/cli/main.js"
ln -sf ../pulumi-ipam/dist/provider/cli/main.js node_modules/.bin/pulumi-ipam
