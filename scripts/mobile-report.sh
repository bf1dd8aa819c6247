#!/usr/bin/env bash
# The mobile size and speed report (issue 7, "Size and speed"). Not part of CI: it does a size-optimised
# release build (minutes on 2 cores). Prints, and writes to $CARGO_TARGET_DIR/mobile-report.txt:
#  1. the stripped size of the release libfencepost_ffi.so for x86_64 Linux — a PROXY for the Android
#     arm64 .so (same Rust code and crates; no NDK here to build the real one) — and its largest crates;
#  2. how long regenerating the Kotlin and Swift bindings takes;
#  3. the cost of one on_location call (and of normalize_fix) through the Kotlin binding vs the same call
#     in Rust, measured in the same run, and the ratio.
#
# Crate breakdown: cargo-bloat is not used (installing it compiles for minutes here); instead the
# unstripped library's symbol sizes (`nm --print-size`) are summed per crate named in each demangled
# symbol, which is how cargo-bloat attributes code too. C code (bundled SQLite, ring) is grouped by
# symbol prefix. Sizes are of code and data in symbols; the file also holds tables and metadata.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
target="${CARGO_TARGET_DIR:-$repo/target}"
report="$target/mobile-report.txt"
calls="${1:-200000}"
mkdir -p "$target"
: >"$report"
say() { echo "$*" | tee -a "$report"; }

# --- 1. size -------------------------------------------------------------------------------------------
size_dir="$target/mobile-size"
start=$SECONDS
cargo build --locked -q --release -p fencepost-ffi --lib --target-dir "$size_dir" \
  --config 'profile.release.opt-level="z"' --config 'profile.release.lto=true' \
  --config 'profile.release.codegen-units=1' --config 'profile.release.strip=false'
built=$((SECONDS - start))
so="$size_dir/release/libfencepost_ffi.so"
strip -o "$size_dir/libfencepost_ffi.stripped.so" "$so"
bytes=$(stat -c %s "$size_dir/libfencepost_ffi.stripped.so")
say "== size (x86_64 Linux as a proxy for Android arm64; opt-level z, fat LTO, 1 codegen unit, stripped)"
say "$(awk -v b="$bytes" 'BEGIN { printf "libfencepost_ffi.so stripped: %d bytes = %.2f MiB (target <= 5 MiB; build %s s)", b, b/1048576, "'"$built"'" }')"
say "largest crates (symbol bytes in the unstripped library):"
nm -C --print-size --size-sort --defined-only "$so" | python3 -c '
import re, sys, collections
sizes = collections.Counter()
for line in sys.stdin:
    parts = line.rstrip("\n").split(" ", 3)
    if len(parts) < 4:
        continue
    size, name = int(parts[1], 16), parts[3]
    name = re.sub(r"^(_<|<)+", "", name)          # <T as Trait>::f -> T as Trait>::f
    name = re.sub(r"^&(mut )?", "", name)
    m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)::", name)
    if m:
        crate = m.group(1)
    elif name.startswith(("ring_", "ecp_nistz256", "GFp", "p256_", "x25519", "aes_", "gcm_", "sha256_", "sha512_")):
        crate = "[C/asm] ring"
    elif name.startswith("uniffi_"):
        crate = "fencepost_ffi (uniffi scaffolding)"
    elif "::" not in name and " " not in name:
        # Rust symbols always carry a path; an unmangled name is C code, nearly all of it the
        # bundled SQLite (its static functions have no sqlite3 prefix).
        crate = "[C] SQLite (rusqlite bundled) and other C"
    else:
        crate = "[other symbols]"
    sizes[crate] += size
total = sum(sizes.values())
for crate, size in sizes.most_common(20):
    print(f"  {size/1024:9.1f} KiB  {100*size/total:5.1f} %  {crate}")
print(f"  {total/1024:9.1f} KiB  total in symbols")
' | tee -a "$report"

# --- 2. bindings regeneration ------------------------------------------------------------------------
libdir="$(bindings/generate.sh 2>/dev/null)"
start_ns=$(date +%s%N)
for lang in kotlin swift; do
  "$target/debug/uniffi-bindgen" generate --no-format --library "$libdir/libfencepost_ffi.so" \
    --language "$lang" --out-dir "$target/uniffi-timing/$lang" >/dev/null
done
say "== bindings: Kotlin + Swift regenerated in $(( ($(date +%s%N) - start_ns) / 1000000 )) ms (library mode, debug library)"

# --- 3. FFI call cost --------------------------------------------------------------------------------
kotlin_home="$(scripts/setup-kotlin.sh | sed -n 's/^KOTLIN_HOME=//p')"
cargo build --locked -q --release -p fencepost-ffi --lib --example ffi_cost
bench="$target/kotlin-bench"
rm -rf "$bench" && mkdir -p "$bench"
cp_jars="/usr/share/java/jna.jar:$kotlin_home/lib/kotlinx-coroutines-core-jvm.jar"
"$kotlin_home/bin/kotlinc" -nowarn -jvm-target 17 -cp "$cp_jars" -d "$bench/classes" \
  "$target/uniffi/kotlin" android/fencepost/src/main/kotlin android/fencepost/src/bench/kotlin
rust_out="$("$target/release/examples/ffi_cost" "$calls")"
kotlin_out="$(java -Djna.library.path="$target/release" -cp "$bench/classes:$cp_jars:$kotlin_home/lib/kotlin-stdlib.jar" \
  dev.fencepost.FfiCostBenchKt "$calls")"
say "== FFI call cost, $calls calls each, release library, same run (ns per call)"
for call in on_location normalize_fix; do
  r=$(echo "$rust_out" | awk -v c="$call" '$2 == c { print $3 }')
  k=$(echo "$kotlin_out" | awk -v c="$call" '$2 == c { print $3 }')
  say "$(awk -v c="$call" -v r="$r" -v k="$k" 'BEGIN { printf "%-14s Rust %6d ns   Kotlin via JNA %6d ns   ratio Kotlin/Rust %.1fx", c, r, k, k/r }')"
done
say "(on_location: an available driver without a dispatch, backend unreachable: validation, the session lock and the standby throttle; no network on either side)"
echo "report written to $report"
