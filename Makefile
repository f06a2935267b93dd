# The course kit's commands. `make lab` and `make test` set up everything they need on a fresh machine.
#
#   make lab       set up, start LocalStack, open JupyterLab at lessons/ (Ctrl-C stops both)
#   make test      set up, start LocalStack if needed, run every test, stop what it started
#   make up        start LocalStack (host mode; LOCALSTACK=docker for Docker Compose)
#   make down      stop it          make status    say what runs
#   make lessons   regenerate lessons/ from solutions/
#   make solutions-outputs   re-run solutions/ in place so their stored outputs are real (NB=one notebook)
#   make check-lessons       fail when lessons/ is not what solutions/ generates
#   make bench     print the engine's timings
#   make clean     remove LocalStack's state and log (.state/)

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

.PHONY: help lab test up down status lessons check-lessons bench clean python313 setup

help:
	@sed -n '2,12p' Makefile | sed 's/^# \{0,1\}//'

python313:
	@test -n "$(PYTHON313)" || tools/find-python313 >/dev/null

$(LOCALSTACK_VENV)/.installed: localstack-extension/localstack.lock localstack-extension/pyproject.toml | python313
	@echo "Installing LocalStack 4.14.0 and the course's extension into $(LOCALSTACK_VENV) ..."
	test -x $(LOCALSTACK_VENV)/bin/python || $(PYTHON313) -m venv $(LOCALSTACK_VENV)
	$(LOCALSTACK_VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -r localstack-extension/localstack.lock
	$(LOCALSTACK_VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e localstack-extension
	touch $@

$(COURSE_VENV)/.installed: requirements.txt pyproject.toml | python313
	@echo "Installing the course's environment into $(COURSE_VENV) ..."
	test -x $(COURSE_PY) || $(PYTHON313) -m venv $(COURSE_VENV)
	$(COURSE_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt -e .
	touch $@

setup: $(LOCALSTACK_VENV)/.installed $(COURSE_VENV)/.installed

up: setup
	$(CTL) up

down:
	@$(PYTHON313) tools/localstack_ctl.py down

status:
	@$(PYTHON313) tools/localstack_ctl.py status

lessons: $(COURSE_VENV)/.installed
	$(COURSE_PY) tools/make_lessons.py

check-lessons: $(COURSE_VENV)/.installed
	$(COURSE_PY) tools/make_lessons.py --check

lab: setup
	tools/lab.sh

test: setup
	tools/run_tests.sh

bench: setup
	tools/with_localstack.sh $(COURSE_PY) benchmarks/engine_benchmark.py

clean:
	@$(PYTHON313) tools/localstack_ctl.py down >/dev/null 2>&1 || true
	rm -rf .state

# Re-run solution notebooks with LocalStack up and store their outputs (what nbval compares against),
# then regenerate lessons/ so it stays in sync. One notebook: make solutions-outputs NB=solutions/01-x.ipynb
.PHONY: solutions-outputs
solutions-outputs: setup
	tools/with_localstack.sh $(COURSE_PY) tools/run_solutions.py $(NB)
	$(COURSE_PY) tools/make_lessons.py
