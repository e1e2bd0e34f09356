#!/usr/bin/env bash
# Builds each generated SDK as its users would, outside the repo (nothing is
# written into sdk/):
#   nodejs  tsc into $CACHE/sdk/nodejs/bin, packed (scripts/build-sdk-nodejs.sh)
#   python  pip install into the venv $CACHE/sdk/python-venv, with pulumi from PyPI
#   go      go build ./... in sdk/go (github.com/pulumi/pulumi/sdk/v3 v3.276.0)
#
#   scripts/build-sdks.sh [nodejs] [python] [go]     # default: all three
#
# PyPI has no pulumi 3.276.0 (the newest is 3.272.0): the venv gets
# PULUMI_PYTHON_VERSION, which must satisfy the SDK's own requirement
# (pyproject.toml, from the generator).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${PULUMI_IPAM_CACHE:-$HOME/.cache/pulumi-ipam}"
PULUMI_PYTHON_VERSION="${PULUMI_PYTHON_VERSION:-3.272.0}"

nodejs() {
  echo "sdk/nodejs: $(bash "$ROOT/scripts/build-sdk-nodejs.sh")"
}

python() {
  local venv="$CACHE/sdk/python-venv" src="$CACHE/sdk/python-src"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  if [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("pulumi"))' 2>/dev/null)" != "$PULUMI_PYTHON_VERSION" ]; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check "pulumi==$PULUMI_PYTHON_VERSION"
  fi
  # pip builds a source tree in place (build/, *.egg-info): build a copy.
  rm -rf "$src"
  cp -r "$ROOT/sdk/python" "$src"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps "$src"
  "$venv/bin/pip" check --disable-pip-version-check >/dev/null
  "$venv/bin/python" -c 'import pulumi_ipam; pulumi_ipam.IpamPool, pulumi_ipam.IpamPoolAllocation, pulumi_ipam.ElasticIp, pulumi_ipam.Provider'
  echo "sdk/python: installed in $venv"
}

go_sdk() {
  (cd "$ROOT/sdk/go" && go build ./...)
  echo "sdk/go: go build ./... passed"
}

langs=("$@")
[ ${#langs[@]} -gt 0 ] || langs=(nodejs python go)
for lang in "${langs[@]}"; do
  case "$lang" in
    nodejs) nodejs ;;
    python) python ;;
    go) go_sdk ;;
    *) echo "unknown SDK language: $lang (nodejs, python, go)" >&2; exit 2 ;;
  esac
done
