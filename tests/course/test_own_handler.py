"""Your handler, carried and kept: a lesson starts from the learner's own files once their checks passed.

Against the course's LocalStack (Lesson.start() checks it and cleans up the lesson's resources), in a course tree
of its own under tmp_path, with resource prefixes no notebook uses (kc01t-, kc02t-, ...).
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from kinesis_course import Lesson, handler_steps, own_handler
from kinesis_course.checks import ExerciseCheckFailed, expect_raises
from kinesis_course.checks import lesson01, lesson02

pytestmark = pytest.mark.localstack

# Correct, but not the course's: other messages, another structure (a helper, a table of steps).
MY_DECODING = textwrap.dedent('''\
    """My decoder."""
    import base64
    import binascii
    import json


    class MalformedRecord(ValueError):
        pass


    def _bad(record, what):
        return MalformedRecord(f"MY DECODER: record #{record['kinesis']['sequenceNumber']} is unusable, {what}")


    STEPS = [
        (lambda data: base64.b64decode(data, validate=True), binascii.Error, "its data is no base64"),
        (lambda raw: raw.decode("utf-8"), UnicodeDecodeError, "its bytes are no UTF-8"),
        (json.loads, json.JSONDecodeError, "its text is no JSON"),
    ]


    def decode_record(record):
        value = record["kinesis"]["data"]
        for step, failure, what in STEPS:
            try:
                value = step(value)
            except failure as error:
                raise _bad(record, what) from error
        if not isinstance(value, dict):
            raise _bad(record, f"its JSON is a {type(value).__name__}, no object")
        return value


    def shard_of(record):
        shard, _, _ = record["eventID"].partition(":")
        return shard
    ''')


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A lessons/ folder of its own; the lessons' AWS resources are deleted afterwards."""
    folder = tmp_path / "lessons"
    folder.mkdir()
    started = []

    def lesson(number: str) -> Lesson:
        made = Lesson(number, folder)
        made.prefix = f"kc{number}t-"  # not kcNN-: a learner's lessons/NN may run on the same LocalStack
        started.append(made)
        return made

    yield lesson
    for made in started:
        made.reset()
    own_handler.started(None)


def build(lesson: Lesson) -> Path:
    return lesson.folder / lesson.build_dir


def course_file(number: str, name: str) -> str:
    return (handler_steps.STEPS / f"lesson{number}" / name).read_text()


def said(output: str) -> dict[str, str]:
    """{file: what start() said about it} from start()'s lines ("  decoding.py  yours, from lesson 01 (...)")."""
    return dict(re.findall(r"(?m)^  (\S+\.py) +(.+)$", output))


def pass_lesson_01(course, capsys, text: str = MY_DECODING) -> Lesson:
    lesson = course("01").start()
    (build(lesson) / "decoding.py").write_text(text)
    decoding = lesson.load_module("decoding.py")
    lesson01.check_decode_record(decoding.decode_record, decoding.MalformedRecord)
    lesson01.check_shard_of(decoding.shard_of)
    capsys.readouterr()
    return lesson


def test_the_learners_own_decode_record_reaches_lesson_02_and_passes_its_checks(course, capsys):
    pass_lesson_01(course, capsys)

    lesson = course("02").start()
    assert said(capsys.readouterr().out) == {"decoding.py": "yours, from lesson 01 (Exercise 01.1 and 01.2 passed)"}
    assert (build(lesson) / "decoding.py").read_text() == MY_DECODING
    lesson.show_handler()
    table = capsys.readouterr().out
    assert any(
        line.split()[:2] == ["decoding.py", "decode_record"] and line.endswith("  yours") for line in table.splitlines()
    ), table
    assert any(line.split()[:2] == ["decoding.py", "_bad"] for line in table.splitlines()), "the learner's own helper"

    for name in ("readings.py", "handler.py"):
        (build(lesson) / name).write_text(course_file("02", name))
    readings = lesson.load_module("readings.py")
    handler = lesson.load_module("handler.py")
    lesson02.check_normalise(readings.normalise, readings.InvalidReading)
    lesson02.check_handler(handler.handler)
    assert "✔ Exercise 02.2 passed" in capsys.readouterr().out
    # The handler decodes with the learner's decode_record: its own message for a record that is not JSON.
    decoding = lesson.load_module("decoding.py")
    record = {"eventID": "shardId-000000000000:1", "kinesis": {"sequenceNumber": "1", "data": "bm90IGpzb24="}}
    with pytest.raises(decoding.MalformedRecord, match="MY DECODER: record #1 is unusable, its text is no JSON"):
        decoding.decode_record(record)

    # And lesson 03 starts from all three files of the learner's, each with its reason.
    course("03").start()
    assert said(capsys.readouterr().out) == {
        "decoding.py": "yours, from lesson 01 (Exercise 01.1 and 01.2 passed)",
        "handler.py": "yours, from lesson 02 (Exercise 02.2 passed)",
        "readings.py": "yours, from lesson 02 (Exercise 02.1 passed)",
    }


def test_a_file_changed_after_its_checks_passed_is_not_carried(course, capsys):
    first = pass_lesson_01(course, capsys)
    (build(first) / "decoding.py").write_text(MY_DECODING + "\n# edited after the checks passed\n")

    lesson = course("02").start()
    assert said(capsys.readouterr().out)["decoding.py"] == (
        "the course's, from lesson 01 (decoding.py changed after Exercise 01.1 and 01.2 passed: run the check again "
        "in lesson 01)"
    )
    assert (build(lesson) / "decoding.py").read_text() == course_file("01", "decoding.py")
    lesson.show_handler()
    assert any(
        line.split()[:2] == ["decoding.py", "decode_record"] and line.endswith("  the course's")
        for line in capsys.readouterr().out.splitlines()
    )
    # Nothing passed at all in lesson 03's case: it says which exercise is missing.
    course("03").start()
    assert (
        said(capsys.readouterr().out)["readings.py"]
        == "the course's, from lesson 02 (Exercise 02.1 not passed yet in lesson 02)"
    )


def test_reset_deletes_what_the_kit_built_and_keeps_the_learners_code(course, capsys):
    lesson = pass_lesson_01(course, capsys)
    generated = lesson.folder / lesson.generated_dir("powertools")
    generated.mkdir(parents=True)
    (generated / "big.bin").write_bytes(b"x" * 1000)
    lesson.reset()
    assert (build(lesson) / "decoding.py").read_text() == MY_DECODING
    assert not generated.exists()
    # Starting the lesson again keeps it too, and the next lesson still takes it.
    course("01").start()
    assert (build(lesson) / "decoding.py").read_text() == MY_DECODING
    course("02").start()
    assert said(capsys.readouterr().out)["decoding.py"].startswith("yours, from lesson 01")


def test_use_course_handler_keeps_the_learners_copy_and_later_lessons_follow_it(course, capsys):
    pass_lesson_01(course, capsys)
    lesson = course("02").start()
    lesson.use_course_handler("decoding.py")
    switching = capsys.readouterr().out
    assert (build(lesson) / "decoding.py").read_text() == course_file("01", "decoding.py")
    (kept,) = build(lesson).glob("decoding.yours-*.py")
    assert kept.read_text() == MY_DECODING
    assert (
        f"decoding.py  the course's, from lesson 01, is in {lesson.build_dir.as_posix()}/ now; yours is kept "
        f"beside it as {kept.name}" in switching
    )
    with pytest.raises(ValueError, match="triage.py: not a file this lesson starts from.*decoding.py"):
        lesson.use_course_handler("triage.py")

    course("02").start()  # a re-run of lesson 02 keeps the switch
    assert (
        said(capsys.readouterr().out)["decoding.py"]
        == "the course's, from lesson 01 (you switched to it in this lesson)"
    )
    course("03").start()
    assert (
        said(capsys.readouterr().out)["decoding.py"] == "the course's, from lesson 01 (you switched to it in lesson 02)"
    )
    # Putting one's own file back undoes the switch.
    kept.replace(build(lesson) / "decoding.py")
    course("04").start()
    assert said(capsys.readouterr().out)["decoding.py"] == "yours, from lesson 01 (Exercise 01.1 and 01.2 passed)"


def test_a_failing_later_check_names_the_carried_file_and_its_lesson(course, capsys):
    # Right for lesson 01's records (none has a reading_id), wrong for every reading of lesson 02.
    broken = MY_DECODING.replace(
        "    return value\n", "    return value if 'reading_id' not in value else value['reading_ident']\n", 1
    )
    pass_lesson_01(course, capsys, broken)
    lesson = course("02").start()
    for name in ("readings.py", "handler.py"):
        (build(lesson) / name).write_text(course_file("02", name))
    handler = lesson.load_module("handler.py")

    with pytest.raises(ExerciseCheckFailed) as failed:
        lesson02.check_handler(handler.handler)
    message = str(failed.value)
    assert "your handler raised KeyError" in message
    line = broken.splitlines().index("    return value if 'reading_id' not in value else value['reading_ident']") + 1
    assert f"It was raised in decoding.py (line {line}), your own from lesson 01, carried into this lesson." in message
    assert 'lesson.use_course_handler("decoding.py")' in message
    # The same for a check that expects an exception and gets another one.
    decoding = lesson.load_module("decoding.py")
    with pytest.raises(ExerciseCheckFailed, match=r"(?s)got KeyError.*It was raised in decoding\.py .* from lesson 01"):
        expect_raises("Exercise 02.9", decoding.MalformedRecord, decoding.decode_record, {"eventID": "x"}, hint="h")

    # This lesson's own file is not blamed on an earlier one.
    (build(lesson) / "readings.py").write_text(
        course_file("02", "readings.py").replace(
            "    for field in", "    reading['humidity_percent']\n    for field in", 1
        )
    )
    (build(lesson) / "decoding.py").write_text(course_file("01", "decoding.py"))
    readings = lesson.load_module("readings.py")
    with pytest.raises(ExerciseCheckFailed) as failed:
        lesson02.check_normalise(readings.normalise, readings.InvalidReading)
    assert "carried" not in str(failed.value)


def test_a_different_file_already_in_the_lessons_folder_is_never_overwritten(course, capsys):
    pass_lesson_01(course, capsys)
    lesson = course("02")
    mine = "# my own decoding.py, written straight into lesson 02's folder\n" + MY_DECODING
    build(lesson).mkdir(parents=True)
    (build(lesson) / "decoding.py").write_text(mine)

    lesson.start()
    assert (
        said(capsys.readouterr().out)["decoding.py"]
        == f"kept yours, already in {lesson.build_dir.as_posix()}/ (the kit would have copied yours from lesson 01)"
    )
    assert (build(lesson) / "decoding.py").read_text() == mine
    course("02").start()
    assert (build(lesson) / "decoding.py").read_text() == mine

    # A file the lesson writes again itself (here lesson 03's handler.py, from an earlier run) is kept aside.
    third = course("03").start()
    (build(third) / "handler.py").write_text(course_file("03", "handler.py"))
    capsys.readouterr()
    course("03").start()
    (kept,) = build(third).glob("handler.yours-*.py")
    assert kept.read_text() == course_file("03", "handler.py")
    assert said(capsys.readouterr().out)["handler.py"].endswith(f"; your earlier one is kept as {kept.name}")
    assert (build(third) / "handler.py").read_text() == course_file("02", "handler.py")
    # The same text is not kept twice.
    (build(third) / "handler.py").write_text(course_file("03", "handler.py"))
    course("03").start()
    assert len(list(build(third).glob("handler.yours-*.py"))) == 1
