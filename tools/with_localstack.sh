#!/usr/bin/env bash
# Runs a command with the course's LocalStack up: starts it when nothing answers on the course port,
# and stops it afterwards only if this script started it. The command runs under tools/course-env: its AWS
# settings reach the course's LocalStack only (a plain boto3 client included), whatever ~/.aws holds.
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
tools/course-env "$@"
