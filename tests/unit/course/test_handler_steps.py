"""The handler the course grows: what each lesson starts from, and what it shows as new or changed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kinesis_course import handler_steps


@pytest.fixture
def steps(tmp_path, monkeypatch) -> Path:
    """A small course: 01 writes decoding.py, 02 readings.py and handler.py, 04 changes handler.py."""
    files = {
        "lesson01/decoding.py": "def decode_record(record):\n    return 1\n",
        "lesson02/readings.py": "class InvalidReading(ValueError):\n    pass\n\ndef normalise(r):\n    return r\n",
        "lesson02/handler.py": "def handler(event, context):\n    return None\n",
        "lesson04/handler.py": "def handler(event, context):\n    return {}\n\ndef process(record):\n    return 1\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.setattr(handler_steps, "STEPS", tmp_path)
    return tmp_path


def test_a_lesson_starts_from_the_latest_version_of_every_earlier_file(steps, tmp_path):
    folder = tmp_path / "build"
    assert handler_steps.copy_handler_before("05", folder) == ["decoding.py", "handler.py", "readings.py"]
    assert (folder / "handler.py").read_text() == (steps / "lesson04" / "handler.py").read_text()
    assert handler_steps.copy_handler_before("03", tmp_path / "b3") == ["decoding.py", "handler.py", "readings.py"]
    assert (tmp_path / "b3" / "handler.py").read_text() == (steps / "lesson02" / "handler.py").read_text()
    assert handler_steps.copy_handler_before("01", tmp_path / "b1") == []


def test_the_table_says_what_is_carried_new_and_changed(steps):
    assert handler_steps.changes("04") == [
        ("decoding.py", "decode_record", "from lesson 01"),
        ("readings.py", "InvalidReading", "from lesson 02"),
        ("readings.py", "normalise", "from lesson 02"),
        ("handler.py", "handler", "changed in this lesson"),
        ("handler.py", "process", "new in this lesson"),
    ]
    assert ("handler.py", "handler", "from lesson 04") in handler_steps.changes("05")
    assert handler_steps.changes("01") == [("decoding.py", "decode_record", "new in this lesson")]


def test_every_lessons_starting_handler_imports_on_its_own(tmp_path):
    """The real steps: each lesson's starting folder imports as Lambda would import it (no missing module)."""
    numbers = handler_steps.lessons_with_files()
    if not numbers:
        pytest.skip("no handler steps generated yet (run `make lessons`)")
    for number in [f"{int(n) + 1:02d}" for n in numbers]:
        folder = tmp_path / number
        names = handler_steps.copy_handler_before(number, folder)
        modules = [Path(name).stem for name in names]
        code = "import importlib, sys; [importlib.import_module(m) for m in sys.argv[1:]]"
        result = subprocess.run(
            [sys.executable, "-c", code, *modules],
            cwd=folder,
            capture_output=True,
            text=True,
            env={"PATH": "", "AWS_DEFAULT_REGION": "us-east-1", "TABLE": "t"},
        )
        assert result.returncode == 0, f"the handler lesson {number} starts from does not import:\n{result.stderr}"


def test_the_table_marks_each_carried_function_yours_or_the_courses(steps, tmp_path):
    mine = tmp_path / "my_decoding.py"
    mine.write_text("def decode_record(record):\n    return 2\n\ndef _helper():\n    pass\n")
    table = handler_steps.changes_table(
        "03",
        whose={"decoding.py": "yours", "readings.py": "the course's", "handler.py": "yours"},
        carried={"decoding.py": mine},
    )
    assert table.splitlines() == [
        "file  function or class       where it comes from   whose",
        "decoding.py  decode_record    from lesson 01        yours",
        "decoding.py  _helper          from lesson 01        yours",
        "readings.py  InvalidReading   from lesson 02        the course's",
        "readings.py  normalise        from lesson 02        the course's",
        "handler.py  handler           from lesson 02        yours",
    ]
