"""lessons/ must be exactly what tools/make_lessons.py derives from solutions/: never edit a lesson by hand."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_generator():
    # tools/ is a folder of scripts, not a package.
    spec = importlib.util.spec_from_file_location("make_lessons", ROOT / "tools" / "make_lessons.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


make_lessons = load_generator()


def test_lessons_are_generated_from_solutions():
    # With no solutions this passes only if lessons/ has no notebooks either (they would be "extra").
    # A marker error in a solution raises MarkerError here, naming the notebook and cell.
    problems = make_lessons.out_of_date(make_lessons.SOLUTIONS, make_lessons.LESSONS)
    if problems:
        pytest.fail(make_lessons.out_of_date_message(problems), pytrace=False)
