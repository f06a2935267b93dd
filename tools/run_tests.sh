#!/usr/bin/env bash
# The whole test suite against the course's LocalStack (see tools/with_localstack.sh).
#
#   tools/run_tests.sh              the browser test (tests/browser) first, in a session of its own, then unit and
#                                   lesson tests (tests/) and every solution notebook under nbval, in one pytest
#                                   session on 2 workers
#   tools/run_tests.sh ARGS...      pytest ARGS... instead, e.g. tools/run_tests.sh tests/course -k generator
#
# nbval runs each solutions/*.ipynb top to bottom and compares the outputs with the stored ones, after
# tests/nbval_sanitize.cfg has blanked ids, clocks and timings. --dist loadfile keeps all cells of a
# notebook on one worker: they share its kernel and must run in order. The browser test runs solution notebooks
# too, in JupyterLab, with the same LocalStack resource names: it must not overlap with nbval's runs of them.
# Without Chromium the browser test is skipped, and says so.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -eq 0 ]; then
  exec tools/with_localstack.sh bash -c '
    .venv/course/bin/python -m pytest -p no:cacheprovider tests/browser && browser=0 || browser=$?
    .venv/course/bin/python -m pytest tests solutions --ignore=tests/browser \
      --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout 180 \
      -n 2 --dist loadfile && suite=0 || suite=$?
    if [ "$browser" != 0 ]; then echo "The browser test (tests/browser) failed: see its report above." >&2; fi
    if [ "$suite" != 0 ]; then exit "$suite"; else exit "$browser"; fi'
fi
exec tools/with_localstack.sh .venv/course/bin/python -m pytest "$@"
