#!/usr/bin/env bash
# Runs a command inside the Swift chroot (see setup-swift.sh) with the repo and the cargo target dir
# bind-mounted at the SAME absolute paths, so paths in module maps and -L flags mean the same thing
# inside and outside. Mounts are removed on exit.
#
# Usage: scripts/swift-chroot.sh [--unmount-only] [--cwd DIR] -- COMMAND...
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
root="$repo/.tools/swift-trixie"
target="${CARGO_TARGET_DIR:-$repo/target}"

unmount_all() {
  # Deepest first, so nested mounts come off before their parents.
  grep -oE " $root/[^ ]*" /proc/mounts | sed 's/^ //' | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
}

cwd="$repo"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --unmount-only) unmount_all; exit 0 ;;
    --cwd) cwd="$2"; shift 2 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
[[ -f "$root/.fencepost-ready" ]] || { echo "swift-chroot: run scripts/setup-swift.sh first" >&2; exit 1; }

bind() {
  mkdir -p "$root$1"
  grep -q " $root$1 " /proc/mounts || mount --bind "$1" "$root$1"
}
trap unmount_all EXIT
grep -q " $root/proc " /proc/mounts || mount -t proc proc "$root/proc"
bind "$repo"
if [[ "$target" != "$repo"/* ]]; then
  mkdir -p "$target"
  bind "$target"
fi
chroot "$root" /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$cwd" env HOME=/root PATH=/usr/bin:/bin "$@"
