# Sourced by the CI stages that need the AWS emulator (20-stepfunctions.sh, 21-lambda.sh); run from the
# repository root.
#   ensure_sfn_venv: installs moto[server] and cfn-lint from PyPI into .tools/sfn-venv (once, pinned).
#   start_moto:      starts moto_server on a free 127.0.0.1 port with Step Functions execution on
#                    (POST /moto-api/config {"stepfunctions": {"execute_state_machine": true}}); sets
#                    MOTO_ENDPOINT, MOTO_PID and MOTO_LOG, and kills the server when the shell exits.

VENV=.tools/sfn-venv
MOTO_VERSION=5.2.5
CFN_LINT_VERSION=1.58.0

ensure_sfn_venv() {
  if ! "$VENV/bin/python" -c "import moto, cfnlint" 2>/dev/null \
     || [ "$("$VENV/bin/python" -c 'import moto; print(moto.__version__)')" != "$MOTO_VERSION" ]; then
    echo "-- installing moto[server]==$MOTO_VERSION and cfn-lint==$CFN_LINT_VERSION into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "moto[server]==$MOTO_VERSION" "cfn-lint==$CFN_LINT_VERSION"
  fi
}

start_moto() {
  local port
  port=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  MOTO_LOG=$(mktemp -t moto.XXXXXX.log)
  "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$MOTO_LOG" 2>&1 &
  MOTO_PID=$!
  trap 'kill "$MOTO_PID" 2>/dev/null || true' EXIT
  MOTO_ENDPOINT="http://127.0.0.1:$port"
  "$VENV/bin/python" - "$MOTO_ENDPOINT" <<'PY'
import json, sys, time, urllib.request
endpoint = sys.argv[1]
for _ in range(100):
    try:
        urllib.request.urlopen(endpoint + "/moto-api/", timeout=1)
        break
    except Exception:
        time.sleep(0.1)
else:
    sys.exit("moto_server did not start")
req = urllib.request.Request(endpoint + "/moto-api/config", method="POST",
                             data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode(),
                             headers={"Content-Type": "application/json"})
urllib.request.urlopen(req, timeout=5)
print("-- moto_server ready at", endpoint, "with Step Functions execution on")
PY
}
