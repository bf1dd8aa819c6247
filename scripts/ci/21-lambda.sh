#!/usr/bin/env bash
# The AWS Lambda entry points (issue 5): the `bootstrap` binary of lambda/ (its own workspace, outside the
# default build because it pulls in the AWS SDK and the Lambda runtime):
#   1. rustfmt --check and clippy -D warnings on the lambda crate;
#   2. its tests: the handlers in-process (no AWS), then the real binary twice (api + worker) against a
#      fake Lambda Runtime API and moto (tests/lambda_moto.rs).
# Runs after 20-stepfunctions.sh and shares its target dir: crates whose features resolve the same in both
# workspaces are reused, but the AWS SDK is not (the Lambda crates turn on extra features of `bytes` and
# `serde`, under it), so a fresh CI run builds the SDK a second time here (docs/deploy-aws.md, Figures).
set -euo pipefail
cd "$(dirname "$0")/../.."

# shellcheck source=lib/moto.sh
source scripts/ci/lib/moto.sh
ensure_sfn_venv

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
MANIFEST=lambda/Cargo.toml

# lambda/Cargo.lock was seeded from the root one: a crate both workspaces use must stay at one version, or
# the two builds (and what each tests) drift apart.
echo "-- lambda/Cargo.lock pins the root Cargo.lock's versions"
python3 - <<'PY'
import re, sys
def versions(path):
    found = {}
    for name, version in re.findall(r'\[\[package\]\]\nname = "([^"]+)"\nversion = "([^"]+)"', open(path).read()):
        found.setdefault(name, set()).add(version)
    return found
root, lam = versions("Cargo.lock"), versions("lambda/Cargo.lock")
drift = sorted(f"{n}: root {sorted(root[n])}, lambda {sorted(lam[n])}" for n in root.keys() & lam.keys()
               if n not in ("fencepost-server",) and not (root[n] & lam[n]))
if drift:
    sys.exit("versions differ between Cargo.lock and lambda/Cargo.lock (update lambda/Cargo.lock: "
             "cargo update --manifest-path lambda/Cargo.toml -p NAME --precise VERSION):\n  " + "\n  ".join(drift))
PY

echo "-- rustfmt --check (lambda)"
cargo fmt --manifest-path "$MANIFEST" --check
echo "-- clippy (lambda)"
cargo clippy --manifest-path "$MANIFEST" --all-targets --locked -- -D warnings

start_moto
export FENCEPOST_AWS_ENDPOINT="$MOTO_ENDPOINT"
echo "-- lambda tests (handlers; bootstrap api + worker on a fake Runtime API and moto)"
if ! cargo test --manifest-path "$MANIFEST" --locked; then
  echo "--- moto log (tail) ---"; tail -50 "$MOTO_LOG"
  exit 1
fi
