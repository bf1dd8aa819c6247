#!/usr/bin/env bash
# Builds the debug fencepost-ffi library and generates its Kotlin and Swift bindings (build outputs, never
# committed) into $CARGO_TARGET_DIR/uniffi/{kotlin,swift}. Prints the library directory on the last line.
#
# Debug on purpose: bindings are generated from the metadata in the library, which `strip = true` removes.
# One cargo invocation builds both packages so their uniffi features unify (as in `cargo test --workspace`)
# and nothing is compiled twice.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
cd "$repo"

cargo build --locked -q -p fencepost-ffi -p uniffi-bindgen
lib="$target/debug/libfencepost_ffi.so"
out="$target/uniffi"
rm -rf "$out"
start=$(date +%s%N)
for lang in kotlin swift; do
  # --no-format: ktlint/swift-format are not installed here and formatting is not needed to compile.
  # bindings/uniffi.toml is found through cargo metadata (library mode), not passed with --config.
  "$target/debug/uniffi-bindgen" generate --no-format --library "$lib" \
    --language "$lang" --out-dir "$out/$lang" >/dev/null
done
echo "bindings generated in $(( ($(date +%s%N) - start) / 1000000 )) ms: $out" >&2
echo "$target/debug"
