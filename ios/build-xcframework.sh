#!/usr/bin/env bash
# Builds FencepostFFI.xcframework (device arm64 + simulator arm64/x86_64) from the Rust core and puts the
# generated Swift into ios/FencepostKit. macOS with Xcode only: Apple's linkers and SDKs do not exist on
# the project's Linux CI. In Xcode, replace the package's `systemLibrary` target with
# `.binaryTarget(name: "fencepost_ffiFFI", path: "../build/FencepostFFI.xcframework")`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$here/.."
target="${CARGO_TARGET_DIR:-$repo/target}"
[[ "$(uname)" == Darwin ]] || { echo "build-xcframework.sh needs macOS with Xcode" >&2; exit 1; }
cd "$repo"

rustup target add aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios
for t in aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios; do
  cargo build --locked --release -p fencepost-ffi --lib --target "$t"
done
bindings/generate.sh >/dev/null  # host build: the bindings come from its metadata

headers="$target/xcframework/headers"
rm -rf "$headers" && mkdir -p "$headers"
cp "$target/uniffi/swift/fencepost_ffiFFI.h" "$headers/"
cp "$target/uniffi/swift/fencepost_ffiFFI.modulemap" "$headers/module.modulemap"
cp "$target/uniffi/swift/FencepostFFI.swift" "$here/FencepostKit/Sources/FencepostFFI/"

mkdir -p "$target/xcframework/sim"
lipo -create "$target/aarch64-apple-ios-sim/release/libfencepost_ffi.a" \
  "$target/x86_64-apple-ios/release/libfencepost_ffi.a" -output "$target/xcframework/sim/libfencepost_ffi.a"
rm -rf "$repo/ios/build/FencepostFFI.xcframework"
xcodebuild -create-xcframework \
  -library "$target/aarch64-apple-ios/release/libfencepost_ffi.a" -headers "$headers" \
  -library "$target/xcframework/sim/libfencepost_ffi.a" -headers "$headers" \
  -output "$repo/ios/build/FencepostFFI.xcframework"
echo "built ios/build/FencepostFFI.xcframework"
