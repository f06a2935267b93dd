"""`make test` on a learner's machine without Chromium: the browser stage of tools/run_tests.sh is a skip, not a
failure, and says why; where CI is set, the same missing browser fails the stage (tests/conftest.py).

Only the browser stage runs here (`tools/run_tests.sh --stage browser`), with CHROMIUM pointing nowhere: it
skips before `make lab` starts, so each run takes a few seconds.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
REASON = "no Chromium: the browser test needs chromium and chromedriver (/nonexistent"


def browser_stage(**env: str) -> subprocess.CompletedProcess:
    learner = {key: value for key, value in os.environ.items() if key not in ("CI", "PYTEST_XDIST_WORKER")}
    return subprocess.run(
        ["tools/run_tests.sh", "--stage", "browser"],
        cwd=ROOT,
        env={**learner, "CHROMIUM": "/nonexistent", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_chromium_the_browser_stage_skips_and_says_why():
    result = browser_stage()
    assert result.returncode == 0, result.stdout + result.stderr
    skipped = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert skipped and all(REASON in line for line in skipped), result.stdout
    assert "sudo apt-get install chromium chromium-driver" in skipped[0]
    assert " skipped in " in result.stdout and "passed" not in result.stdout


def test_in_ci_a_missing_chromium_fails_the_browser_stage():
    result = browser_stage(CI="true")
    assert result.returncode != 0, result.stdout + result.stderr
    failed = [line for line in result.stdout.splitlines() if line.startswith("ERROR")]
    assert failed and all(REASON in line and "CI is set" in line for line in failed), result.stdout
    assert "skipped" not in result.stdout
