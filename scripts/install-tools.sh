#!/usr/bin/env bash
# Builds the tools `make test` needs, in parallel (each skips itself when
# cached): the Pulumi CLI, the YAML language host, the AWS emulators, OpenTofu
# (to parse the Terraform export) and Debian's chromium (the map's browser test). On 2
# cores the Go and Rust builds overlap their download and link phases, so the
# cold wall time is well under their sum. Each writes a log in $CACHE/logs;
# a failing one's tail is printed.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${PULUMI_IPAM_CACHE:-$HOME/.cache/pulumi-ipam}"
logs="$CACHE/logs"; mkdir -p "$logs"
names=(pulumi pulumi-yaml aws-emulators tofu chromium)
scripts=(install-pulumi.sh install-pulumi-yaml.sh install-aws-emulators.sh install-tofu.sh install-chromium.sh)
pids=()
for i in "${!names[@]}"; do
  ( start=$(date +%s); rc=0
    bash "$ROOT/scripts/${scripts[$i]}" >"$logs/${names[$i]}.log" 2>&1 || rc=$?
    echo $(( $(date +%s) - start )) >"$logs/${names[$i]}.seconds"; exit $rc ) &
  pids[$i]=$!
done
failed=0
for i in "${!names[@]}"; do
  if wait "${pids[$i]}"; then
    echo "install-tools: ${names[$i]} ready ($(cat "$logs/${names[$i]}.seconds") s)"
    # What a skipped tool says about itself (for example an emulator the registry does not serve).
    grep -h "not installed\|skip" "$logs/${names[$i]}.log" 2>/dev/null | sed 's/^/  /' || true
  else
    echo "install-tools: ${names[$i]} failed; last lines of $logs/${names[$i]}.log:" >&2
    tail -n 30 "$logs/${names[$i]}.log" >&2
    failed=1
  fi
done
exit "$failed"
