#!/usr/bin/env bash
# What `make demo` shows a newcomer, end to end on the embedded workspace (SQLite + local files):
# train a job, register its model, serve it behind an endpoint, score two rows, and name the
# studio page of the run. The endpoint is deleted on the way out, so nothing is left running;
# STUDIO=1 keeps the studio open on that run until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/../.."

trainyard init .
trainyard job submit -f examples/diabetes/job.yml --stream
run=$(trainyard run list -e diabetes --max 1 --output json | python -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])')

trainyard model register -n diabetes --run "$run" -p outputs/model.pkl --alias demo
trap 'trainyard endpoint delete diabetes-demo >/dev/null' EXIT
trainyard endpoint create diabetes-demo >/dev/null
trainyard deployment create blue -e diabetes-demo -m diabetes@demo
trainyard endpoint traffic diabetes-demo blue=100
echo "scoring examples/diabetes/request.json (two patients) through the endpoint:"
trainyard endpoint invoke diabetes-demo --data examples/diabetes/request.json

if [ "${STUDIO:-0}" = 1 ]; then
  trainyard studio --run "$run"
else
  echo "see this run in the studio: trainyard studio --run ${run:0:12}   (or make demo STUDIO=1)"
fi
