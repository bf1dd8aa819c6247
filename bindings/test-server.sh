# Sourced by scripts/ci/30-kotlin.sh and 31-swift.sh: starts a real `fencepost serve` on a free loopback
# port with a fresh database, exports FENCEPOST_URL and FENCEPOST_ADMIN_TOKEN for the tests, and stops it
# (by its own PID) when the calling script exits.

start_test_server() {
  local binary="$1" dir="$2"
  rm -rf "$dir" && mkdir -p "$dir"  # a fresh database every run
  export FENCEPOST_ADMIN_TOKEN="mobile-tests-admin-$RANDOM$RANDOM"
  "$binary" serve --listen 127.0.0.1:0 --db "$dir/fencepost.db" >"$dir/stdout.log" 2>"$dir/server.log" &
  FENCEPOST_SERVER_PID=$!
  trap 'kill "$FENCEPOST_SERVER_PID" 2>/dev/null || true; wait "$FENCEPOST_SERVER_PID" 2>/dev/null || true' EXIT
  local i
  for i in $(seq 1 200); do
    FENCEPOST_URL="$(sed -n 's/^fencepost: listening on //p' "$dir/stdout.log" | head -n1)"
    if [[ -n "$FENCEPOST_URL" ]] && curl -fsS "$FENCEPOST_URL/healthz" >/dev/null 2>&1; then
      [[ "$FENCEPOST_URL" == http* ]] || FENCEPOST_URL="http://$FENCEPOST_URL"
      export FENCEPOST_URL
      echo "fencepost serve: $FENCEPOST_URL (pid $FENCEPOST_SERVER_PID)"
      return 0
    fi
    if ! kill -0 "$FENCEPOST_SERVER_PID" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "fencepost serve did not start:" >&2
  cat "$dir/server.log" >&2
  return 1
}
