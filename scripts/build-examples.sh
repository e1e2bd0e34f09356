#!/usr/bin/env bash
# Builds what examples/nodejs, examples/python and examples/go need to run
# here through their language's Automation API inline host (the language
# hosts are not served on these machines; tests/e2e/languages.test.ts):
#   nodejs  the generated SDK unpacked into node_modules/@pulumi-ipam/ipam (scripts/install-sdk-nodejs.sh)
#   python  the SDK pip-installed into $CACHE/sdk/python-venv (scripts/build-sdks.sh python)
#   go      examples/go built with -tags inline into $CACHE/examples/ipam-go-inline
#
#   scripts/build-examples.sh [nodejs] [python] [go]     # default: all three
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${PULUMI_IPAM_CACHE:-$HOME/.cache/pulumi-ipam}"

langs=("$@")
[ ${#langs[@]} -gt 0 ] || langs=(nodejs python go)
for lang in "${langs[@]}"; do
  case "$lang" in
    nodejs) bash "$ROOT/scripts/install-sdk-nodejs.sh" ;;
    python) bash "$ROOT/scripts/build-sdks.sh" python ;;
    go)
      mkdir -p "$CACHE/examples"
      (cd "$ROOT/examples/go" && go build -tags inline -o "$CACHE/examples/ipam-go-inline" .)
      echo "examples/go: built $CACHE/examples/ipam-go-inline" ;;
    *) echo "unknown language: $lang (nodejs, python, go)" >&2; exit 2 ;;
  esac
done
