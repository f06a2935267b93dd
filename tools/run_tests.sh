#!/usr/bin/env bash
# The test suite against the course's LocalStack (see tools/with_localstack.sh), in two tiers.
#
#   tools/run_tests.sh                  `make test`: the suite stage below without the tests marked slow; what a
#                                       learner and a maintainer run after every change
#   tools/run_tests.sh --all            `make test-all` (what .ci/run and the GitHub workflow run): the browser
#                                       stage, then the suite stage with the slow tests too
#   tools/run_tests.sh --stage browser  the browser test (tests/browser) alone, in a pytest session of its own
#                                       (the `make lab` it runs starts LocalStack when needed, and stops it)
#   tools/run_tests.sh --stage suite    every test in tests/ (tests/unit, the lessons' checks, the engine ...) and
#                                       every solution notebook under nbval, in one pytest session on 3 workers
#                                       (KC_MARKS="not slow" leaves the slow ones out, as `make test` does)
#   tools/run_tests.sh ARGS...          pytest ARGS... instead, e.g. tools/run_tests.sh tests/unit -k generator
#
# The slow tier (pytest's `slow` marker) is what can only prove itself in real time over minutes: the course
# clock's factor-1 reference (AWS's own timing, a minute of record age) and JupyterLab driven in a browser.
#
# nbval runs each solutions/*.ipynb top to bottom and compares the outputs with the stored ones, after
# tests/nbval_sanitize.cfg has blanked ids, clocks and timings. --dist loadfile keeps all cells of a
# notebook on one worker: they share its kernel and must run in order. A notebook whose metadata says
# kinesis_course.measures_throughput (lesson 08: which mapping keeps up) runs after the others, alone: another
# notebook's load on the same LocalStack process would be measured with it (conftest.py marks its cells).
# Three workers by default (KC_WORKERS), on the 2-core machines the kit is measured on: the suite waits on
# LocalStack much of the time (2 workers left the CPU 38 % idle), and a third worker fills it (first pytest
# session 236 s against 290 s, 2026-12-07). `make soak-suite` is the proof that the timing-sensitive lessons
# (05, 07) hold at that load. Each run ends with its longest test files; KC_STORE_DURATIONS=1
# (`make durations`) stores them all in tests/durations.json, which `--longest-first` orders by (see conftest.py)
# and tools/ci_shards.py splits the GitHub workflow's shards by.
# The browser test runs solution notebooks too, in JupyterLab, with the same LocalStack resource names: it must
# not overlap with nbval's runs of them.
# Without Chromium the browser test is skipped, with its reason in the summary, and the stage passes; where CI
# is set it fails instead (tests/conftest.py).
set -euo pipefail
cd "$(dirname "$0")/.."
pytest=(.venv/course/bin/python -m pytest)

browser_stage() {
  "${pytest[@]}" -p no:cacheprovider tests/browser
}

nbval=(--nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout 180)
if [ "${KC_STORE_DURATIONS:-}" = 1 ]; then nbval+=(--store-durations); fi

suite_stage() {
  local together=0 alone=0
  local marks=${KC_MARKS:+($KC_MARKS) and }
  if [ -n "${KC_PATHS-tests solutions}" ]; then
    "${pytest[@]}" ${KC_PATHS-tests solutions} --ignore=tests/browser "${nbval[@]}" \
      -m "${marks}not measures_throughput" -n "${KC_WORKERS:-3}" --dist loadfile || together=$?
  fi
  # KC_PATHS and KC_ALONE_PATHS: the files of one CI shard (tools/ci_shards.py); an empty KC_ALONE_PATHS: none.
  if [ -n "${KC_ALONE_PATHS-solutions}" ]; then
    echo "Now the solutions that measure throughput, each with LocalStack to itself:"
    "${pytest[@]}" ${KC_ALONE_PATHS-solutions} "${nbval[@]}" -m "${marks}measures_throughput" || alone=$?
  fi
  if [ "$alone" = 5 ]; then alone=0; fi  # pytest's "no tests collected": no notebook is marked so
  if [ "$together" != 0 ]; then return "$together"; fi
  return "$alone"
}

both_stages() {
  local browser=0 suite=0
  if [ "${KC_BROWSER:-1}" = 1 ]; then browser_stage || browser=$?; fi  # KC_BROWSER=0: a CI shard without it
  suite_stage || suite=$?
  if [ "$browser" != 0 ]; then echo "The browser test (tests/browser) failed: see its report above." >&2; fi
  if [ "$suite" != 0 ]; then return "$suite"; fi
  return "$browser"
}

# tools/with_localstack.sh runs a command, not a shell function: it calls this script back with the stage named.
if [ "${1:-}" = --in-localstack ]; then
  case "${2:-}" in
    suite) suite_stage ;;
    both) both_stages ;;
  esac
  exit $?
fi
if [ "$#" -eq 0 ]; then
  export KC_MARKS=${KC_MARKS-not slow}
  exec tools/with_localstack.sh tools/run_tests.sh --in-localstack suite
fi
if [ "$1" = --all ]; then
  exec tools/with_localstack.sh tools/run_tests.sh --in-localstack both
fi
if [ "$1" = --stage ]; then
  case "${2:-}" in
    browser) browser_stage; exit $? ;;
    suite) exec tools/with_localstack.sh tools/run_tests.sh --in-localstack suite ;;
    *) echo "usage: tools/run_tests.sh [--all | --stage browser|suite | PYTEST_ARGS...]" >&2; exit 2 ;;
  esac
fi
exec tools/with_localstack.sh "${pytest[@]}" "$@"
