#!/usr/bin/env bash
# JupyterLab on 127.0.0.1:${LAB_PORT:-8888}, with LocalStack up; Ctrl-C stops both.
# It is rooted at the course's folder, so that lessons/ (where it opens) and solutions/ are both one click away.
# Its kernels inherit tools/course-env's settings (see tools/with_localstack.sh): a plain boto3 client in a
# notebook reaches the course's LocalStack only.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/course/bin:$PATH"
extra=()
# Containers and CI machines often run as root, which Jupyter refuses unless told.
if [ "$(id -u)" = 0 ]; then extra+=(--allow-root); fi
# ${extra[@]+...}: macOS's bash 3.2 treats an empty array as unset under `set -u`.
exec tools/with_localstack.sh jupyter lab --ip=127.0.0.1 --port="${LAB_PORT:-8888}" \
  --ServerApp.root_dir="$PWD" --LabApp.default_url=/lab/tree/lessons \
  --ServerApp.open_browser="${LAB_OPEN_BROWSER:-True}" --ServerApp.answer_yes=True ${extra[@]+"${extra[@]}"}
