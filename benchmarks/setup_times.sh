#!/usr/bin/env bash
# How long a fresh clone takes to be useful: `make lab` until JupyterLab serves, and `make test` in total.
# It prints figures; it asserts nothing (not a test).
#
#   benchmarks/setup_times.sh                   make lab and make test, each in a fresh clone, first with empty
#                                               package caches (cold), then again with the caches the first
#                                               round filled (warm)
#   benchmarks/setup_times.sh lab               only make lab (or: test, setup; several: "lab setup")
#   REF=2b43cc3 benchmarks/setup_times.sh setup the same for another commit (e.g. before uv: only `setup` and
#                                               `lab` there, its tests did not follow LOCALSTACK_PORT)
#   ROUNDS=warm benchmarks/setup_times.sh       only the warm round (caches from an earlier run of this script)
#
# Each run gets its own clone of the committed tree (REF, default HEAD), its own LocalStack port and JupyterLab
# port, so that it never touches the course's LocalStack on 4566, and is removed afterwards. The caches (uv's,
# pip's for uv itself, npm's for kinesis-mock) live in $BENCH_CACHE (default /tmp/kinesis-course-bench-cache).
# On a shared or busy machine the figures include the wait for the CPU: note the load average printed with them.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REF=$(git -C "$ROOT" rev-parse "${REF:-HEAD}")
WHAT=${*:-lab test}
ROUNDS=${ROUNDS:-cold warm}
BENCH_CACHE=${BENCH_CACHE:-/tmp/kinesis-course-bench-cache}
WORK=$(mktemp -d /tmp/kinesis-course-bench.XXXXXX)
RESULTS=()

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

now() { python3 -c 'import time; print(time.monotonic())'; }
since() { python3 -c "import sys, time; print(f'{time.monotonic() - float(sys.argv[1]):.1f}')" "$1"; }

fresh_clone() {
  local dir=$WORK/clone-$1
  rm -rf "$dir"
  git clone --quiet --no-hardlinks "$ROOT" "$dir"
  git -C "$dir" checkout --quiet "$REF"
  echo "$dir"
}

caches_env() {
  # The package caches every installer in the kit uses, pointed at this benchmark's.
  export UV_CACHE_DIR=$BENCH_CACHE/uv PIP_CACHE_DIR=$BENCH_CACHE/pip npm_config_cache=$BENCH_CACHE/npm
}

sizes() {
  local dir=$1
  du -sh "$dir"/.venv/course "$dir"/.venv/localstack 2>/dev/null | awk '{ printf "%s %s  ", $2, $1 }' | sed "s|$dir/||g"
}

stop_group() {
  local pid=$1
  kill -INT -- "-$pid" 2>/dev/null || true
  for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || return 0; sleep 1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
}

bench_setup() {
  local round=$1 dir start
  dir=$(fresh_clone "setup-$round")
  start=$(now)
  (cd "$dir" && make setup >"$WORK/setup-$round.log" 2>&1)
  RESULTS+=("make setup|$round|$(since "$start")|$(sizes "$dir")")
  rm -rf "$dir"
}

bench_lab() {
  local round=$1 dir start pid served=""
  dir=$(fresh_clone "lab-$round")
  local lab_port ls_port
  lab_port=$(free_port)
  ls_port=$(free_port)
  start=$(now)
  (cd "$dir" && LOCALSTACK_PORT=$ls_port LAB_PORT=$lab_port LAB_OPEN_BROWSER=False JUPYTER_TOKEN=bench \
    exec setsid make lab >"$WORK/lab-$round.log" 2>&1) &
  pid=$!
  for _ in $(seq 900); do
    if curl -fsS "http://127.0.0.1:$lab_port/api/status?token=bench" >/dev/null 2>&1; then served=$(since "$start"); break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  stop_group "$pid"
  (cd "$dir" && LOCALSTACK_PORT=$ls_port tools/localstack-ctl down >/dev/null 2>&1 || true)
  RESULTS+=("make lab (until it serves)|$round|${served:-failed, see $WORK/lab-$round.log}|$(sizes "$dir")")
  rm -rf "$dir"
}

bench_test() {
  local round=$1 dir start status=0 summary
  dir=$(fresh_clone "test-$round")
  start=$(now)
  (cd "$dir" && LOCALSTACK_PORT=$(free_port) make test >"$WORK/test-$round.log" 2>&1) || status=$?
  summary=$(grep -E "^=+ .*(passed|failed|error).* in " "$WORK/test-$round.log" | tail -1 | tr -d '=' | sed 's/^ *//')
  RESULTS+=("make test (set-up included)|$round|$(since "$start")|exit $status; $summary")
  rm -rf "$dir"
}

echo "Benchmarking $(git -C "$ROOT" rev-parse --short "$REF") in $WORK (rounds: $ROUNDS; $WHAT) ..."
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime | sed 's/.*load averages*: //')
for round in $ROUNDS; do
  if [ "$round" = cold ]; then rm -rf "$BENCH_CACHE"; fi
  mkdir -p "$BENCH_CACHE"
  caches_env
  for what in $WHAT; do
    echo "  $round: make $what ..."
    "bench_$what" "$round"
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime | sed 's/.*load averages*: //')

echo
printf '%-30s %-6s %-10s %s\n' "what" "cache" "seconds" "detail"
for row in "${RESULTS[@]}"; do
  IFS='|' read -r what round seconds detail <<<"$row"
  printf '%-30s %-6s %-10s %s\n' "$what" "$round" "$seconds" "$detail"
done
echo
echo "commit $(git -C "$ROOT" rev-parse --short "$REF"), $(nproc 2>/dev/null || sysctl -n hw.ncpu) cores, load average before: $load_before, after: $load_after"
echo "package caches: $(du -sh "$BENCH_CACHE" 2>/dev/null | cut -f1) in $BENCH_CACHE; logs in $WORK"
