#!/usr/bin/env bash
# Renders a `fencepost simulate --report` page in headless Chromium (Debian's `chromium`) and checks that
# it loaded with its maps: the DOM Chromium built holds one map SVG per delivery and both charts, and the
# screenshot is not blank. Installs chromium with apt-get when it is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium (Debian package)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi
if ! python3 -c 'import zlib, struct' 2>/dev/null; then
  echo "python3 is needed to inspect the screenshot" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build -p fencepost-cli --locked --quiet
bin="$CARGO_TARGET_DIR/debug/fencepost"
"$bin" simulate --orders 4 --drivers 3 --seed 11 --report "$work/report.html" > "$work/summary.txt"
cat "$work/summary.txt"

chrome_flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
  --disable-background-networking --disable-component-update --disable-sync
  --user-data-dir="$(mktemp -d)")
timeout 120 chromium "${chrome_flags[@]}" --dump-dom "file://$work/report.html" > "$work/dom.html" 2>"$work/chromium.log" \
  || { cat "$work/chromium.log" >&2; exit 1; }
timeout 120 chromium "${chrome_flags[@]}" --window-size=1280,2400 --screenshot="$work/shot.png" \
  "file://$work/report.html" >/dev/null 2>>"$work/chromium.log" || { cat "$work/chromium.log" >&2; exit 1; }

maps=$(grep -o '<svg class="map"' "$work/dom.html" | wc -l)
routes=$(grep -o 'class="route"' "$work/dom.html" | wc -l)
fences=$(grep -o 'class="fence"' "$work/dom.html" | wc -l)
echo "rendered DOM: $maps maps, $routes route lines, $fences fences"
[ "$maps" -eq 4 ] || { echo "expected 4 delivery maps, got $maps" >&2; exit 1; }
[ "$routes" -ge 8 ] || { echo "expected at least 8 route lines, got $routes" >&2; exit 1; }
[ "$fences" -ge 8 ] || { echo "expected at least 8 fences, got $fences" >&2; exit 1; }
grep -q 'class="chart eta-error"' "$work/dom.html" || { echo "ETA chart missing" >&2; exit 1; }
grep -q 'class="chart latency"' "$work/dom.html" || { echo "latency chart missing" >&2; exit 1; }

# The screenshot must exist and show more than one colour (a blank or failed page is a single colour).
python3 - "$work/shot.png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, width, height, depth, ctype = 8, b"", 0, 0, 0, 0
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + length
raw = zlib.decompress(idat)
channels = {2: 3, 6: 4}.get(ctype)
assert depth == 8 and channels, f"unexpected PNG format depth={depth} type={ctype}"
stride = width * channels + 1
colours = set()
for y in range(0, height, 7):
    row = raw[y * stride + 1:(y + 1) * stride]  # filter byte skipped; exact values do not matter here
    for x in range(0, width * channels, channels * 13):
        colours.add(bytes(row[x:x + 3]))
print(f"screenshot {width}x{height}, {len(colours)} distinct sampled byte triples")
assert len(colours) > 20, "the screenshot looks blank"
PY
echo "report renders in headless Chromium with its maps and charts"
