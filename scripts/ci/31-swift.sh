#!/usr/bin/env bash
# Swift: generates the bindings from the real library, puts them into the Swift package (ios/FencepostKit),
# starts a real `fencepost serve`, and runs `swift test` inside the Debian trixie chroot that
# scripts/setup-swift.sh installs (Swift 6.0.3; Debian 12 has no Swift). Needs root for the chroot.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
target="${CARGO_TARGET_DIR:-$repo/target}"

scripts/setup-swift.sh
libdir="$(bindings/generate.sh)"
cargo build --locked -q -p fencepost-cli --bin fencepost

pkg="$repo/ios/FencepostKit"
cp "$target/uniffi/swift/FencepostFFI.swift" "$pkg/Sources/FencepostFFI/"
cp "$target/uniffi/swift/fencepost_ffiFFI.h" "$pkg/Sources/fencepost_ffiFFI/"

# shellcheck source=bindings/test-server.sh
source bindings/test-server.sh
start_test_server "$target/debug/fencepost" "$target/swift-tests/server"

# The repo and the target dir are bind-mounted at the same paths inside the chroot (swift-chroot.sh);
# the chroot shares the host's network, so the tests reach the server on 127.0.0.1. The package's
# build directory lives in the target dir, not in the source tree.
scripts/swift-chroot.sh --cwd "$pkg" -- \
  env FENCEPOST_URL="$FENCEPOST_URL" FENCEPOST_ADMIN_TOKEN="$FENCEPOST_ADMIN_TOKEN" FENCEPOST_REPO="$repo" \
  swift test --scratch-path "$target/swift-build" \
  -Xlinker -L"$libdir" -Xlinker -rpath -Xlinker "$libdir"
