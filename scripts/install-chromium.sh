#!/usr/bin/env bash
# Headless Chromium for the map tests (tests/integration/cli-map.test.ts): Debian's
# `chromium` package, installed when no chromium is on PATH. Prints the binary's path.
# No browser is ever downloaded from elsewhere (this machine reaches only package registries).
set -euo pipefail
find_chromium() { command -v chromium || command -v chromium-browser || true; }
bin=$(find_chromium)
if [ -z "$bin" ]; then
  echo "installing chromium from Debian's packages" >&2
  if [ "$(id -u)" != 0 ]; then echo "install-chromium.sh: run as root (apt-get install chromium)" >&2; exit 1; fi
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null) >&2
  bin=$(find_chromium)
  [ -n "$bin" ] || { echo "install-chromium.sh: chromium did not install" >&2; exit 1; }
fi
echo "$bin"
