#!/usr/bin/env bash
# Installs Swift 6 for `swift test` of the iOS package on Linux, idempotently.
#
# Why a chroot: Debian 12 (this machine) has no Swift; Debian 13 "trixie" packages `swiftlang` 6.0.3,
# which needs glibc >= 2.38. So we debootstrap a minimal trixie into .tools/swift-trixie (~3.4 GB,
# 1-2 minutes) and run swift inside it. Nothing else on the host changes except the debootstrap package.
#
# Usage: scripts/setup-swift.sh            # prints the chroot path on the last line
# Needs root (debootstrap and chroot). The mirror is the host's own Debian mirror from its apt sources.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
root="$repo/.tools/swift-trixie"
stamp="$root/.fencepost-ready"

if [[ -f "$stamp" ]]; then
  echo "swift chroot ready: $root"
  exit 0
fi
start=$SECONDS

if ! command -v debootstrap >/dev/null; then
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq debootstrap >/dev/null
fi

# The host's configured Debian mirror (deb822 or one-line format), so this works wherever apt works.
mirror="$(
  { grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
    grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}'; } |
    grep -E '/debian/?$' | head -n1
)" || true
if [[ -z "$mirror" ]]; then
  echo "setup-swift: no Debian mirror found in /etc/apt sources" >&2
  exit 1
fi

# A half-finished earlier attempt is removed first. Never delete through a live bind mount of the repo:
# unmount anything under the root, and stay on one file system while deleting.
if [[ -d "$root" ]]; then
  "$repo/scripts/swift-chroot.sh" --unmount-only || true
  if grep -q " $root/" /proc/mounts; then
    echo "setup-swift: $root still has mounts; refusing to delete it" >&2
    exit 1
  fi
  rm -rf --one-file-system "$root"
fi
mkdir -p "$root"

echo "setup-swift: debootstrap trixie from the host's mirror (takes a minute or two)"
debootstrap --variant=minbase trixie "$root" "$mirror" >"$repo/.tools/debootstrap.log" 2>&1 || {
  tail -n 20 "$repo/.tools/debootstrap.log" >&2
  exit 1
}
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true

mount -t proc proc "$root/proc"
trap 'umount "$root/proc" 2>/dev/null || true' EXIT
# libc6-dev: without it swiftc fails with "'sys/param.h' file not found".
chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
  swiftlang libc6-dev ca-certificates >"$repo/.tools/swift-apt.log" 2>&1 || {
  tail -n 20 "$repo/.tools/swift-apt.log" >&2
  exit 1
}
chroot "$root" swift --version
touch "$stamp"
echo "setup-swift: ready in $((SECONDS - start)) s: $root"
