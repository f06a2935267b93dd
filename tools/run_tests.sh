#!/usr/bin/env bash
# The whole test suite against the course's LocalStack (see tools/with_localstack.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
exec tools/with_localstack.sh .venv/course/bin/python -m pytest "$@"
