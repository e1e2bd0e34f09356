#!/usr/bin/env bash
# Packs the provider plugin `pulumi-resource-ipam` as a Pulumi plugin tarball
# and installs it as a user would:
#   pulumi plugin install resource ipam <version> -f dist/plugin/pulumi-resource-ipam-v<version>-linux-amd64.tar.gz
# The tarball holds the packed package with its production dependencies
# (npm install of the `npm pack` tarball) and a shim that runs it with the
# node on PATH (>= 22). PULUMI_HOME decides where it goes (default ~/.pulumi).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
version=$(node -p 'require("./package.json").version')
out="$ROOT/dist/plugin"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$out"
pkg=$(npm pack --silent --pack-destination "$stage" | tail -n1)
(cd "$stage" && echo '{"name":"pulumi-resource-ipam","private":true}' > package.json &&
  npm install --omit=dev --no-audit --no-fund --prefer-offline --loglevel=error "./$pkg" >/dev/null && rm -f "$pkg" package-lock.json)
cat > "$stage/pulumi-resource-ipam" <<'SH'
#!/bin/sh
# The engine starts this with its address; the plugin prints the port it serves on.
exec node "$(dirname "$0")/node_modules/pulumi-ipam/dist/provider/plugin/main.js" "$@"
SH
chmod +x "$stage/pulumi-resource-ipam"
tarball="$out/pulumi-resource-ipam-v$version-linux-amd64.tar.gz"
tar -czf "$tarball" -C "$stage" .
pulumi plugin install resource ipam "$version" -f "$tarball" --reinstall >/dev/null
echo "installed plugin resource ipam v$version from $tarball"
