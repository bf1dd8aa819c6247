#!/usr/bin/env bash
# Android compile check: the only Android compilation possible on this Linux CI (no SDK, NDK, Gradle/AGP
# or Google Maven). Compiles the generated Kotlin bindings, the Kotlin library (android/fencepost) and the
# API-23-only platform location feeder of the app against Android API 23's android.jar, with -no-jdk so
# every JDK class not on Android fails the build. The rest of the app (Compose, AndroidX, Play services)
# is not checked here.
#
# android.jar for API 23 exists only in Debian sid (libandroid-23-java, arch all): it is downloaded with
# a private apt list directory (the host's apt configuration is untouched) and unpacked with dpkg -x into
# .tools/android-sdk, once.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
target="${CARGO_TARGET_DIR:-$repo/target}"

kotlin_home="$(scripts/setup-kotlin.sh | sed -n 's/^KOTLIN_HOME=//p')"
sdk="$repo/.tools/android-sdk"
jar="$sdk/root/usr/lib/android-sdk/platforms/android-23/android.jar"
if [[ ! -f "$jar" ]]; then
  mkdir -p "$sdk/apt/lists/partial" "$sdk/apt/cache/archives/partial" "$sdk/apt/etc"
  mirror="$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' |
    grep -E '/debian/?$' | head -n1)" || true
  [[ -n "$mirror" ]] || { echo "32-android-compile-check: no Debian mirror in the apt sources" >&2; exit 1; }
  echo "deb $mirror sid main" >"$sdk/apt/etc/sources.list"
  apt_opts=(-o "Dir::Etc::sourcelist=$sdk/apt/etc/sources.list" -o Dir::Etc::sourceparts=-
    -o "Dir::State::Lists=$sdk/apt/lists" -o "Dir::Cache=$sdk/apt/cache" -o APT::Sandbox::User=root)
  apt-get "${apt_opts[@]}" -qq update
  (cd "$sdk" && apt-get "${apt_opts[@]}" -qq download libandroid-23-java)
  dpkg -x "$sdk"/libandroid-23-java_*.deb "$sdk/root"
fi

libdir="$(bindings/generate.sh)"
# Android before API 33 has no java.lang.ref.Cleaner: generate the bindings with JNA's cleaner instead.
out="$target/android-check"
rm -rf "$out" && mkdir -p "$out"
printf '[crates.fencepost_ffi.bindings.kotlin]\ndisable_java_cleaner = true\n' >"$out/uniffi-android.toml"
"$target/debug/uniffi-bindgen" generate --no-format --library "$libdir/libfencepost_ffi.so" \
  --language kotlin --config "$out/uniffi-android.toml" --out-dir "$out/bindings" >/dev/null

lib="$kotlin_home/lib"
start=$SECONDS
"$kotlin_home/bin/kotlinc" -nowarn -no-jdk -jvm-target 1.8 \
  -cp "$jar:/usr/share/java/jna.jar:$lib/kotlinx-coroutines-core-jvm.jar:$lib/kotlin-stdlib.jar" \
  -d "$out/classes" "$out/bindings" android/fencepost/src/main/kotlin \
  android/app/src/main/kotlin/dev/fencepost/app/platform
echo "android API 23 compile check passed ($((SECONDS - start)) s): bindings, android/fencepost, app/platform"
