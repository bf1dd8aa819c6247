#!/usr/bin/env bash
# Builds libfencepost_ffi.so for each Android ABI with cargo-ndk into fencepost/src/main/jniLibs.
# Needs the Android NDK (ANDROID_NDK_HOME) and `cargo install cargo-ndk`; neither exists on the
# project's Linux CI, so this runs on a developer machine with Android Studio. The bundled SQLite and
# ring compile their C code with the NDK's clang.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
: "${ANDROID_NDK_HOME:?set ANDROID_NDK_HOME to the NDK (Android Studio > SDK Manager > NDK)}"
command -v cargo-ndk >/dev/null || { echo "install cargo-ndk: cargo install cargo-ndk" >&2; exit 1; }
rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android
cd "$here/.."
cargo ndk --platform 26 -t arm64-v8a -t armeabi-v7a -t x86_64 -o "$here/fencepost/src/main/jniLibs" \
  build --release -p fencepost-ffi --lib
echo "jniLibs: $(find "$here/fencepost/src/main/jniLibs" -name '*.so' | wc -l) libraries"
