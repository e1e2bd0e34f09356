#!/usr/bin/env bash
# Runs every benchmark and its baseline in this one invocation and prints one
# line per comparison, `<name>: <ours> vs <baseline> = <ratio>x` (ratio > 1:
# ours is better), also written to bench/results.json (raw measurements in
# bench/results-details.json). Progress goes to stderr. About 5-8 minutes.
#
#   core-vs-go-ipam        /24s from a /8 holding 50k /24s, memory, vs metal-stack/go-ipam (bench/go-ipam)
#   core-vs-ip-num-pool    same workload vs ip-num's Pool, same process
#   sqlite-commit[-normal] committed allocations/s on SQLite vs raw better-sqlite3 commits/s
#   postgres-commit[-empty] committed allocations/s on PostgreSQL vs go-ipam's PostgreSQL storage
#   growth, growth-rss     IPv6 /64s up to 1M allocations in one pool: cost and resident memory
#   plugin-{preview,up}-overhead  the same plan as YAML on the plugin vs the dynamic resources (ratio = plugin/dynamic, target <= 0.8); plugin-state-per-allocation
#   engine-{preview,up}-overhead  pulumi preview/up of 1 pool + 500 allocations vs no-op dynamic resources (ratio = ours/baseline, target <= 1.15)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$(bash scripts/install-node.sh):$PATH:/usr/local/go/bin"

OUT=$(mktemp -d "${TMPDIR:-/tmp}/ipam-bench.XXXXXX")
PGDIR="$OUT/pg"
PG_STARTED=
cleanup() {
  if [ -n "$PG_STARTED" ]; then bash "$ROOT/scripts/pg.sh" stop "$PGDIR" || true; fi
  rm -rf "$OUT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "[bench] $*" >&2; }
failed=0
step() { # step NAME OUTFILE CMD...: runs CMD with stdout to OUTFILE; a failure is reported, not fatal
  local name=$1 out=$2; shift 2
  local t0=$SECONDS
  say "$name ..."
  if "$@" >"$OUT/$out"; then say "$name done in $((SECONDS - t0)) s"; else say "$name FAILED"; rm -f "$OUT/$out"; failed=1; fi
}

say "building bench/.dist (tsc) and bench/go-ipam/go-ipam-bench (go build)"
rm -rf bench/.dist
# Type errors elsewhere do not stop the emit; only missing output does.
npx --no-install tsc -p bench/tsconfig.json >&2 || { say "tsc reported type errors (see above): fix them first"; exit 1; }
[ -f bench/.dist/bench/report.js ] || { say "tsc emitted nothing"; exit 1; }
(cd bench/go-ipam && go build -buildvcs=false -o go-ipam-bench .) >&2
NODE="node bench/.dist/bench"
GOIPAM=bench/go-ipam/go-ipam-bench

# In memory: ours and ip-num in one process, then go-ipam on the same workload.
step core core.json $NODE/core.js
step "go-ipam verify (synthetic prefill == real calls)" goipam-verify.json $GOIPAM -mode verify -prefill 1500
step "go-ipam memory" goipam-memory.json $GOIPAM -mode memory -prefill 50000 -ops 10000 -windows 10 -max-seconds 30

# SQLite, ours and the raw commit rate, files in one directory.
mkdir -p "$OUT/sqlite"
step sqlite sqlite.json env BENCH_TMP="$OUT/sqlite" $NODE/sqlite.js
rm -rf "$OUT/sqlite"

# PostgreSQL: one server, one database per run.
if url=$(bash scripts/pg.sh start "$PGDIR"); then
  PG_STARTED=1
  port=${url##*:}; port=${port%%/*}
  psql="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/psql"
  for db in ours_50k goipam_50k ours_0 goipam_0; do "$psql" -h 127.0.0.1 -p "$port" -U ipam -d postgres -qc "CREATE DATABASE $db" >&2; done
  pgbase="postgres://ipam@127.0.0.1:$port"
  step "postgres ours (50k)" pg-ours-50k.json $NODE/postgres.js "$pgbase/ours_50k" 50000
  step "postgres go-ipam (50k)" pg-goipam-50k.json $GOIPAM -mode postgres -pg-port "$port" -pg-db goipam_50k -prefill 50000 -ops 2000 -windows 5 -max-seconds 30
  step "postgres ours (empty)" pg-ours-0.json $NODE/postgres.js "$pgbase/ours_0" 0
  step "postgres go-ipam (empty)" pg-goipam-0.json $GOIPAM -mode postgres -pg-port "$port" -pg-db goipam_0 -prefill 0 -ops 2000 -windows 5 -max-seconds 20
  bash scripts/pg.sh stop "$PGDIR"
  PG_STARTED=
else
  say "PostgreSQL did not start (make postgres); skipping postgres-commit"
  failed=1
fi

# Growth to 1M allocations; RSS after GC.
step growth growth.json node --expose-gc bench/.dist/bench/growth.js

node bench/.dist/bench/report.js "$OUT" bench/results.json bench/results-details.json || failed=1

# pulumi preview / up of 1 pool + 500 allocations vs the same program of no-op
# dynamic resources (needs `make build` and the Pulumi CLI; appends its two rows).
say "engine overhead (real Pulumi CLI) ..."
node -r ts-node/register/transpile-only bench/engine-overhead.ts || failed=1

# One pool with 500 and 2,000 allocations (10,000 with IPAM_BENCH_LARGE=1), default and fast mode.
say "engine scale (real Pulumi CLI) ..."
node -r ts-node/register/transpile-only bench/engine-scale.ts || failed=1

# The same plan as a YAML program on the provider plugin vs the dynamic resources (needs `make plugin`).
say "plugin overhead (YAML on the plugin vs the dynamic resources) ..."
node -r ts-node/register/transpile-only bench/plugin-overhead.ts || failed=1

# pulumi-ipam pools and map on a store of 100k allocations: time and peak RSS against 2 s / 200 MB.
say "cli (pools, map) ..."
node -r ts-node/register/transpile-only bench/cli.ts || failed=1
exit $failed
