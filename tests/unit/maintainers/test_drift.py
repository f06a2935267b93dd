"""tools/drift.py (`make drift`): what moved, what failed, and the report, from made-up installs and JUnit files.

The drift run itself (new releases, every solution under nbval) is the weekly workflow's job, not the suite's."""

from __future__ import annotations

from datetime import datetime, timezone

import drift  # tools/, on pytest's pythonpath (pyproject.toml)


def test_what_moved_lists_the_watched_packages_first_and_marks_those_pulled_in():
    locked = {"boto3": "1.40.0", "botocore": "1.40.0", "urllib3": "2.5.0", "nbval": "0.11.0", "six": "1.17.0"}
    newest = {
        "boto3": "1.41.2",
        "botocore": "1.41.2",
        "urllib3": "2.6.0",
        "nbval": "0.11.0",
        "six": "1.17.0",
        "new-dep": "1.0",
    }
    assert drift.moved(locked, newest) == [
        ("boto3", "1.40.0", "1.41.2", True),
        ("botocore", "1.40.0", "1.41.2", True),
        ("new-dep", "-", "1.0", False),
        ("urllib3", "2.5.0", "2.6.0", False),
    ]
    assert drift.normalise("AWS_Lambda_Powertools") in drift.WATCHED


def test_a_junit_report_gives_counts_and_the_failed_ids(tmp_path):
    junit = tmp_path / "suite.xml"
    junit.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="solutions.07-capstone-faults.ipynb" name="Cell 20"><failure message="x"/></testcase>'
        '<testcase classname="tests.course.test_cases" name="test_a"/>'
        '<testcase classname="tests.course.test_cases" name="test_b"><skipped/></testcase>'
        '<testcase classname="tests.course.test_own_handler" name="test_c"><error message="y"/></testcase>'
        "</testsuite></testsuites>"
    )
    counts, failed = drift.read_junit(junit)
    assert counts == {"passed": 1, "failed": 1, "errors": 1, "skipped": 1}
    assert failed == ["solutions.07-capstone-faults.ipynb::Cell 20", "tests.course.test_own_handler::test_c"]
    assert drift.read_junit(tmp_path / "none.xml") == ({}, ["(no report: pytest did not get to write one)"])


def test_the_report_says_what_moved_what_ran_and_what_broke():
    ok = drift.Stage("lessons in sync", ["x"], returncode=0, seconds=2)
    broken = drift.Stage(
        "fast job's tests",
        ["y"],
        returncode=1,
        seconds=9,
        counts={"passed": 3, "failed": 1},
        failed=["tests.course.test_generator::test_x"],
    )
    text = drift.report(
        [("boto3", "1.40.0", "1.41.2", True)], [ok, broken], datetime(2026, 12, 2, 5, 17, tzinfo=timezone.utc)
    )
    assert "# Drift watch, 2026-12-02 05:17 UTC" in text
    assert "| boto3 | 1.40.0 | 1.41.2 | yes |" in text
    assert "| lessons in sync | ok |" in text and "| fast job's tests | exit 1 | 3 | 1 |" in text
    assert "## What broke" in text and "- `tests.course.test_generator::test_x`" in text
    quiet = drift.report([], [ok], datetime(2026, 12, 2, tzinfo=timezone.utc))
    assert "Nothing: the lock already holds the newest releases" in quiet and "What broke" not in quiet


def test_a_stage_that_may_be_empty_passes_when_pytest_collected_nothing(tmp_path):
    def pytest_exit(code):
        return ["python3", "-c", f"raise SystemExit({code})"]

    empty = drift.Stage("'alone' solutions", pytest_exit(5), may_be_empty=True)
    drift.run_stage(empty, tmp_path / "alone.log", None)
    assert empty.returncode == 0 and empty.failed == []
    failing = drift.Stage("'alone' solutions", pytest_exit(1), may_be_empty=True)
    drift.run_stage(failing, tmp_path / "alone.log", None)
    assert failing.returncode == 1 and failing.failed == ["(exit 1: see alone.log)"]
    strict = drift.Stage("fast job's tests", pytest_exit(5))
    drift.run_stage(strict, tmp_path / "fast.log", None)
    assert strict.returncode == 5
