#!/usr/bin/env bash
# Step Functions engine (issue 5), verified locally against moto:
#   1. installs moto[server] and cfn-lint from PyPI into .tools/sfn-venv (once);
#   2. lints the deploy template (deploy/template.yaml) with cfn-lint;
#   3. lints the server with the `stepfunctions` feature (the workspace clippy runs without it);
#   4. starts moto_server on a free 127.0.0.1 port, turns on ASL execution
#      (POST /moto-api/config {"stepfunctions": {"execute_state_machine": true}}),
#   5. runs the workflow contract suite (tests/workflow_contract.rs) against `--engine stepfunctions`
#      with short timeouts; the same suite runs against the embedded engine in `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/../.."

# shellcheck source=lib/moto.sh
source scripts/ci/lib/moto.sh
ensure_sfn_venv

echo "-- cfn-lint deploy/template.yaml"
"$VENV/bin/cfn-lint" deploy/template.yaml

# cfn-lint checks a state machine's definition against the States Language schema (rule E3601) only when it
# is inline, so the ASL is also linted inside a minimal AWS::StepFunctions::StateMachine template; a
# deliberately broken copy must fail, proving the definition is really inspected.
ASL_TMP=$(mktemp -d)
asl_template() {
  "$VENV/bin/python" - "$1" "$2" <<'PY'
import json, sys
asl = json.load(open(sys.argv[1]))
role = {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}
tpl = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": {
    "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"FifoQueue": True, "ContentBasedDeduplication": True}},
    "Role": {"Type": "AWS::IAM::Role", "Properties": role},
    "Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
        "StateMachineType": "STANDARD", "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]}, "Definition": asl,
        "DefinitionSubstitutions": {"TaskQueueUrl": {"Ref": "Queue"}}}}}}
json.dump(tpl, open(sys.argv[2], "w"), indent=1)
PY
}
echo "-- cfn-lint server/statemachine/order.asl.json (States Language schema)"
asl_template server/statemachine/order.asl.json "$ASL_TMP/asl.json"
"$VENV/bin/cfn-lint" "$ASL_TMP/asl.json"
sed 's/"Type": "Choice"/"Type": "Choise"/' server/statemachine/order.asl.json >"$ASL_TMP/broken.asl.json"
asl_template "$ASL_TMP/broken.asl.json" "$ASL_TMP/broken.json"
if "$VENV/bin/cfn-lint" "$ASL_TMP/broken.json" >/dev/null; then
  echo "cfn-lint accepted a broken state machine: it is not checking the definition" >&2
  exit 1
fi
rm -rf "$ASL_TMP"

echo "-- clippy with --features stepfunctions"
cargo clippy -p fencepost-server -p fencepost-cli --features fencepost-cli/stepfunctions --all-targets --locked -- -D warnings

start_moto
LOG="$MOTO_LOG"
ENDPOINT="$MOTO_ENDPOINT"

export FENCEPOST_CONTRACT_ENGINE=stepfunctions
export FENCEPOST_AWS_ENDPOINT="$ENDPOINT"
# Short timeouts so the timeout tests run in seconds (moto runs them on the wall clock).
export FENCEPOST_SFN_TIMING='{"decisionTimeoutS":5,"offerTimeoutS":5,"dispatchRetryS":1,"dispatchWindowS":600,"pickupHeartbeatS":5,"pickupTimeoutS":20,"deliveryTimeoutS":12}'
echo "-- workflow contract suite against --engine stepfunctions (moto)"
if ! cargo test -p fencepost-cli --features stepfunctions --locked --test workflow_contract -- --test-threads 2; then
  echo "--- moto log (tail) ---"; tail -50 "$LOG"
  exit 1
fi
