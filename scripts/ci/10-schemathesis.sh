#!/usr/bin/env bash
# Property-based API testing of `fencepost serve` with schemathesis (PyPI), against its own /openapi.json:
#   1. installs schemathesis (pinned) into .tools/schemathesis-venv (once);
#   2. builds and starts the real server on a free 127.0.0.1 port with a temporary database;
#   3. provisions one store, driver and customer, and places an order (so ids exist);
#   4. runs schemathesis once per party (operations selected by OpenAPI tag, each with that party's bearer
#      token), bounded by --max-examples so the whole stage stays well under 3 minutes;
#   5. fails on any 5xx, undocumented status code, wrong content type or response-schema violation.
# The two server-sent-event feeds (/store/events, /driver/events) are excluded: they are endless streams by
# design, which a request/response fuzzer cannot finish reading; tests/server_lifecycle.rs covers them.
set -euo pipefail
cd "$(dirname "$0")/../.."

VENV=.tools/schemathesis-venv
VERSION=4.32.5
MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-25}
if [ "$("$VENV/bin/schemathesis" --version 2>/dev/null | awk '{print $NF}')" != "$VERSION" ]; then
  echo "-- installing schemathesis==$VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "schemathesis==$VERSION"
fi

echo "-- building fencepost"
cargo build --locked -p fencepost-cli --bin fencepost
BIN="${CARGO_TARGET_DIR:-target}/debug/fencepost"

WORK=$(mktemp -d)
export FENCEPOST_ADMIN_TOKEN="schemathesis-admin-$(date +%s%N)"
"$BIN" serve --listen 127.0.0.1:0 --db "$WORK/st.db" >"$WORK/stdout" 2>"$WORK/server.log" &
SERVER_PID=$!
cleanup() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

BASE=""
for _ in $(seq 1 300); do
  BASE=$(sed -n 's/^fencepost: listening on //p' "$WORK/stdout" | head -n1)
  [ -n "$BASE" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log"; echo "server exited"; exit 1; }
  sleep 0.1
done
[ -n "$BASE" ] || { echo "server did not start"; exit 1; }
echo "-- server at $BASE"

# Provision one of each party and an order; prints shell assignments STORE=… DRIVER=… CUSTOMER=….
eval "$("$VENV/bin/python" - "$BASE" "$FENCEPOST_ADMIN_TOKEN" <<'PY'
import json, sys, urllib.request
base, admin = sys.argv[1], sys.argv[2]
def post(path, token, body):
    req = urllib.request.Request(base + path, json.dumps(body).encode(), method="POST",
        headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)
store = post("/admin/stores", admin, {"storeId": "st-store", "name": "Schemathesis Pizza",
    "location": {"latitude": 60.17, "longitude": 24.94}, "capacity": 100000})["token"]
driver = post("/admin/drivers", admin, {"name": "st"})["token"]
customer = post("/admin/customers", admin, {})["token"]
post("/order", customer, {"storeId": "st-store", "paymentId": "p", "pies": [{"size": "small", "cheese": "small",
    "toppings": []}], "deliveryAddress": {"coordinates": {"latitude": 60.171, "longitude": 24.941},
    "streetAddress": "a", "city": "b", "postalCode": "c", "province": "d"}})
print(f"STORE={store}\nDRIVER={driver}\nCUSTOMER={customer}")
PY
)"

CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
run_party() {
  local tag=$1 token=$2
  echo "-- schemathesis: $tag operations"
  "$VENV/bin/schemathesis" run "$BASE/openapi.json" \
    --include-tag "$tag" --exclude-path-regex '/events$' \
    --header "Authorization: Bearer $token" \
    --checks "$CHECKS" --max-examples "$MAX_EXAMPLES" --request-timeout 10 --seed 1 \
    --generation-deterministic --no-color
}
run_party health "$CUSTOMER"
run_party customer "$CUSTOMER"
run_party store "$STORE"
run_party driver "$DRIVER"
run_party admin "$FENCEPOST_ADMIN_TOKEN"
if grep -q "panicked" "$WORK/server.log"; then
  echo "the server logged a panic:"; grep -A5 panicked "$WORK/server.log"; exit 1
fi
echo "-- schemathesis: no server errors or schema violations"
