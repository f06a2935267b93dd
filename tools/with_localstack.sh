#!/usr/bin/env bash
# Runs a command with the course's LocalStack up: starts it when nothing answers on the course port,
# and stops it afterwards only if this script started it.
set -euo pipefail
cd "$(dirname "$0")/.."
ctl=(.venv/course/bin/python tools/localstack_ctl.py)
started=0
if ! "${ctl[@]}" is-up; then
  "${ctl[@]}" up
  started=1
fi
stop_if_started() { if [ "$started" = 1 ]; then "${ctl[@]}" down; fi; }
trap stop_if_started EXIT
trap 'exit 130' INT TERM
"$@"
