#!/usr/bin/env bash
# Installs the generated Node.js SDK into this checkout's node_modules as npm
# would install the published @pulumi-ipam/ipam: the tarball that
# scripts/build-sdk-nodejs.sh packs, unpacked into
# node_modules/@pulumi-ipam/ipam (its @pulumi/pulumi is then the checkout's
# one copy). examples/nodejs and the e2e programs on the plugin resolve it
# from there, and tsconfig.check.json type-checks them against it.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
tgz="$(bash "$ROOT/scripts/build-sdk-nodejs.sh")"
dest="$ROOT/node_modules/@pulumi-ipam/ipam"
rm -rf "$dest"
mkdir -p "$dest"
tar -xzmf "$tgz" -C "$dest" --strip-components=1  # -m: install time, not npm pack's fixed 1985 mtime
echo "sdk/nodejs: installed $tgz into node_modules/@pulumi-ipam/ipam"
