#!/usr/bin/env bash
# JupyterLab on 127.0.0.1:8888 at lessons/, with LocalStack up; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/course/bin:$PATH"
extra=()
# Containers and CI machines often run as root, which Jupyter refuses unless told.
if [ "$(id -u)" = 0 ]; then extra+=(--allow-root); fi
exec tools/with_localstack.sh jupyter lab --ip=127.0.0.1 --port="${LAB_PORT:-8888}" --notebook-dir=lessons \
  --ServerApp.open_browser="${LAB_OPEN_BROWSER:-True}" --ServerApp.answer_yes=True "${extra[@]}"
