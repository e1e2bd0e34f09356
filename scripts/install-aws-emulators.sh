#!/usr/bin/env bash
# Installs the local AWS emulators the AWS backend's tests run against, once,
# into the cache outside the repo (versions pinned in tests/support/aws/versions.env):
#
#   moto[server]  PyPI, into a venv at  $CACHE/moto-$MOTO_VERSION/           (Elastic IPs)
#   fakecloud     crates.io (cargo install --locked --debug: an unoptimised build, several times quicker to compile), into $CACHE/fakecloud-$FAKECLOUD_VERSION/bin
#                 (EC2 IPAM; build dir $CACHE/fakecloud-target; 20-60 min the first time)
#   cloudemu      Go module proxy, into $CACHE/cloudemu-$CLOUDEMU_VERSION/bin (EC2 IPAM)
#
# Skips whatever is already there and prints nothing on success. When the Go
# module proxy refuses cloudemu (it answers 403 "not available" on this
# workplace) it says so in one line and goes on: the IPAM tests then skip,
# with the reason, instead of the whole install failing. CLOUDEMU_REQUIRED=1
# turns that into a failure. Without cargo, fakecloud is skipped the same way
# (FAKECLOUD_REQUIRED=1: fail); FAKECLOUD_SKIP=1 skips its build altogether.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=../tests/support/aws/versions.env
source "$ROOT/tests/support/aws/versions.env"
MOTO_VERSION="${MOTO_VERSION_OVERRIDE:-$MOTO_VERSION}"
CLOUDEMU_VERSION="${CLOUDEMU_VERSION_OVERRIDE:-$CLOUDEMU_VERSION}"
FAKECLOUD_VERSION="${FAKECLOUD_VERSION_OVERRIDE:-$FAKECLOUD_VERSION}"
CACHE="${PULUMI_IPAM_CACHE:-$HOME/.cache/pulumi-ipam}"

# ---- moto[server] into its own venv ----------------------------------------
MOTO_DIR="$CACHE/moto-$MOTO_VERSION"
moto_ok() {
  [ -x "$MOTO_DIR/bin/moto_server" ] &&
    "$MOTO_DIR/bin/python" -c "import moto, flask, flask_cors, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null
}
if ! moto_ok; then
  PY="${PYTHON:-$(command -v python3 || true)}"
  if [ -z "$PY" ]; then echo "install-aws-emulators: python3 (>= 3.9) is needed for moto" >&2; exit 1; fi
  rm -rf "$MOTO_DIR"
  mkdir -p "$CACHE"
  log="$(mktemp)"
  if ! { "$PY" -m venv "$MOTO_DIR" &&
         "$MOTO_DIR/bin/pip" install --disable-pip-version-check -q \
           -c "$ROOT/tests/support/aws/moto-constraints.txt" "moto[server]==$MOTO_VERSION"; } >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"; rm -rf "$MOTO_DIR"
    echo "install-aws-emulators: pip install moto[server]==$MOTO_VERSION failed" >&2; exit 1
  fi
  rm -f "$log"
  moto_ok || { echo "install-aws-emulators: moto $MOTO_VERSION venv at $MOTO_DIR does not import" >&2; exit 1; }
fi

# ---- fakecloud from crates.io ----------------------------------------------
# A server binary the tests start (AGPL-3.0: run, never linked into the project).
FAKECLOUD_DIR="$CACHE/fakecloud-$FAKECLOUD_VERSION"
FAKECLOUD_BIN="$FAKECLOUD_DIR/bin/fakecloud"
if [ "${FAKECLOUD_SKIP:-0}" != 1 ] &&
   { [ ! -x "$FAKECLOUD_BIN" ] || [ "$("$FAKECLOUD_BIN" --version 2>/dev/null)" != "fakecloud $FAKECLOUD_VERSION" ]; }; then
  if ! command -v cargo >/dev/null 2>&1; then
    echo "install-aws-emulators: fakecloud $FAKECLOUD_VERSION not installed: cargo (Rust >= 1.85, rustup.rs) is needed to build it; the EC2 IPAM tests will skip" >&2
    [ "${FAKECLOUD_REQUIRED:-0}" = 1 ] && exit 1
  else
    mkdir -p "$FAKECLOUD_DIR"
    log="$FAKECLOUD_DIR/build.log"
    echo "install-aws-emulators: building fakecloud $FAKECLOUD_VERSION with cargo (once; log: $log)" >&2
    if ! CARGO_TARGET_DIR="$CACHE/fakecloud-target" \
         cargo install fakecloud --version "$FAKECLOUD_VERSION" --locked --debug --root "$FAKECLOUD_DIR" >"$log" 2>&1; then
      tail -n 30 "$log" >&2
      echo "install-aws-emulators: building fakecloud $FAKECLOUD_VERSION failed (log: $log)" >&2; exit 1
    fi
  fi
fi

# ---- cloudemu from the Go module proxy --------------------------------------
CLOUDEMU_DIR="$CACHE/cloudemu-$CLOUDEMU_VERSION"
CLOUDEMU_BIN="$CLOUDEMU_DIR/bin/cloudemu"
CLOUDEMU_MOD="github.com/stackshy/cloudemu/v2"
if [ ! -x "$CLOUDEMU_BIN" ] || [ "$("$CLOUDEMU_BIN" version 2>/dev/null)" != "cloudemu $CLOUDEMU_VERSION" ]; then
  command -v go >/dev/null 2>&1 || { echo "install-aws-emulators: go (>= 1.25) is needed to build cloudemu" >&2; exit 1; }
  work="$CLOUDEMU_DIR/build"
  mkdir -p "$work" "$CLOUDEMU_DIR/bin"
  # A wrapper module requiring cloudemu: `go install mod@version` refuses a
  # module whose go.mod has replace directives; building from a requirer does not.
  # The server's main is cloudemu's own cmd/cloudemu (`cloudemu serve`).
  cat > "$work/go.mod" <<MOD
module pulumi-ipam-cloudemu

go 1.25

require $CLOUDEMU_MOD $CLOUDEMU_VERSION
MOD
  cat > "$work/tools.go" <<GO
//go:build tools

package tools

import _ "$CLOUDEMU_MOD/cmd/cloudemu"
GO
  log="$CLOUDEMU_DIR/build.log"
  if ! (cd "$work" && GOFLAGS=-mod=mod go mod download "$CLOUDEMU_MOD@$CLOUDEMU_VERSION") >"$log" 2>&1; then
    reason="$({ grep -m1 -oE '[0-9]{3} [A-Z][A-Za-z ]+$' "$log"; grep -m1 -oE 'server response: .*' "$log"; } | paste -sd ';' -)"
    [ -n "$reason" ] || reason="$(tail -n1 "$log")"
    echo "install-aws-emulators: cloudemu $CLOUDEMU_VERSION not installed: the Go module proxy did not serve $CLOUDEMU_MOD ($reason); its probe tests will skip, fakecloud serves EC2 IPAM to the AWS backend tests (see docs/emulators-aws.md)" >&2
    [ "${CLOUDEMU_REQUIRED:-0}" = 1 ] && exit 1
    exit 0
  fi
  if ! (cd "$work" && GOFLAGS=-mod=mod go mod tidy &&
        GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w -X main.version=$CLOUDEMU_VERSION" \
          -o "$CLOUDEMU_BIN" "$CLOUDEMU_MOD/cmd/cloudemu") >>"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "install-aws-emulators: building cloudemu $CLOUDEMU_VERSION failed (log: $log)" >&2; exit 1
  fi
fi
