"""Repository-wide pytest hooks. Keep this file to what must apply to every collected notebook."""

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def _use_the_course_environment() -> None:
    """The AWS settings of tools/course-env (course LocalStack, dummy credentials, the kit's config files), also
    when pytest is started directly rather than through `make test`: nbval's kernels inherit them."""
    if os.environ.get("KINESIS_COURSE_ALLOW_REMOTE") == "1":
        return
    dump = "import json, os; print(json.dumps({k: v for k, v in os.environ.items() if k.startswith('AWS_')}))"
    tool = Path(__file__).resolve().parent / "tools" / "course-env"
    result = subprocess.run([str(tool), sys.executable, "-c", dump], capture_output=True, text=True, check=True)
    for key in [key for key in os.environ if key.startswith("AWS_")]:
        del os.environ[key]
    os.environ.update(json.loads(result.stdout))


_use_the_course_environment()


def pytest_collectstart(collector):
    # nbval compares each cell's fresh outputs with the ones stored in solutions/. stderr is not worth
    # comparing: it carries progress bars, boto3/botocore deprecation and library warnings, and log
    # lines whose wording changes with library versions, none of which the course teaches. nbval's
    # documented way to ignore an output key is to extend the notebook collector's skip_compare.
    # Errors still fail the test: an exception is an `error` output, not stderr, and nbval fails any
    # cell that raises (unless tagged raises-exception).
    if collector.path.suffix == ".ipynb" and hasattr(collector, "skip_compare"):
        collector.skip_compare += ("stderr",)


@pytest.hookimpl(trylast=True)  # after pytest's own setup: nbval's kernel for the notebook is running
def pytest_runtest_setup(item):
    # An unsolved lesson must stop at its first check with ExerciseNotSolved. Where its cells part from its
    # solution's only in exercise cells (tests/course/unsolved_lessons.py), that is proved here, in the solution's
    # kernel at the cell where they part, rather than by running the same set-up again in a new kernel.
    if type(item).__name__ != "IPyNbCell" or Path(item.path).parent.name != "solutions" or item.parent.timed_out:
        return
    from unsolved_lessons import branch as branch_of, run_branch  # tests/course/, on pytest's pythonpath

    branch = branch_of(Path(item.path))
    if branch is None or item.cell.get("id") != branch.parting_id:
        return

    problem = run_branch(item.parent.kernel, branch, timeout=item.config.option.nbval_cell_timeout)
    if problem:
        pytest.fail(
            f"lessons/{Path(item.path).name}, unsolved (run here, where it parts from its solution): {problem}",
            pytrace=False,
        )


# Seconds per test file, measured on a quiet 2-core machine by `make durations` (the suite's per-file times).
DURATIONS = Path(__file__).resolve().parent / "tests" / "durations.json"


@functools.cache
def _recorded_durations() -> dict[str, float]:
    try:
        return json.loads(DURATIONS.read_text())
    except (OSError, ValueError):
        return {}


@functools.cache
def _measures_throughput(path: Path) -> bool:
    from ci_shards import measures_throughput  # tools/, on pytest's pythonpath: the CI shards use the same rule

    return measures_throughput(path)


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config, items):
    # A notebook whose story is a throughput (lesson 08: which mapping falls behind) measures the one LocalStack
    # process every lesson shares; another notebook's load on it at the same time is not a learner's situation.
    # tools/run_tests.sh runs these alone, after the rest (`-m measures_throughput`).
    for item in items:
        if _measures_throughput(Path(item.path)):
            item.add_marker(pytest.mark.measures_throughput)
    # --longest-first (with xdist's --no-loadscope-reorder): files in the order of their recorded time, so that
    # the last file to start is a short one. Measured on 2 workers: 541 s against 555 s, but it starts the two
    # heaviest notebooks (05 and 07) together on the one LocalStack, and in 2 of 3 such runs one of them failed on
    # a timing-sensitive output; so it is not make test's default. The sort is stable and the same on every
    # worker, as xdist requires; files never measured go last.
    if config.getoption("longest_first"):
        durations = _recorded_durations()
        items.sort(key=lambda item: -durations.get(_file_of(item.nodeid), 0.0))


def _file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


class _FileDurations:
    """Adds up each test file's setup, call and teardown times; prints the longest after the run, and writes them
    all to tests/durations.json when pytest is given --store-durations (what --longest-first reads)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def pytest_runtest_logreport(self, report):
        file = _file_of(report.nodeid)
        self.seconds[file] = self.seconds.get(file, 0.0) + report.duration

    def pytest_terminal_summary(self, terminalreporter, config):
        longest = sorted(self.seconds.items(), key=lambda pair: -pair[1])
        if len(longest) > 1:
            terminalreporter.section("the longest test files (seconds of test time, on whichever worker ran them)")
            for file, seconds in longest[:12]:
                terminalreporter.line(f"{seconds:8.1f}  {file}")
            terminalreporter.line(f"{sum(self.seconds.values()):8.1f}  all {len(self.seconds)} files together")
        if longest and config.getoption("store_durations"):
            stored = {**_recorded_durations(), **{file: round(seconds, 1) for file, seconds in longest}}
            DURATIONS.write_text(json.dumps(dict(sorted(stored.items())), indent=1) + "\n")
            terminalreporter.line(f"written to {DURATIONS.name}: the next run starts the longest files first")


def pytest_addoption(parser):
    parser.addoption(
        "--store-durations", action="store_true", help="write each test file's time to tests/durations.json"
    )
    parser.addoption(
        "--longest-first", action="store_true", help="start the files with the longest time in tests/durations.json"
    )


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # on pytest-xdist's controller, or without xdist: where reports arrive
        config.pluginmanager.register(_FileDurations(), "kinesis-course-file-durations")
