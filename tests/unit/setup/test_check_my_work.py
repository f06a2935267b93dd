"""tools/check_my_work.py (`make check`) on small notebooks: no LocalStack needed."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

import check_my_work  # tools/, on pytest's pythonpath (pyproject.toml)


@pytest.fixture(autouse=True)
def terminal_of_100_columns(monkeypatch, tmp_path):
    """`make check` fits its output to the terminal (shutil.get_terminal_size reads COLUMNS first); its reports go
    to the test's own folder, never the checkout's build/."""
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("REPORT", str(tmp_path / "reports"))
    monkeypatch.delenv("LEARNER", raising=False)


# The two exceptions as the kit's checks raise them; only their names matter to `make check`.
PRELUDE = "class ExerciseNotSolved(Exception): pass\nclass ExerciseCheckFailed(AssertionError): pass"


def check(source: str, label: str):
    """A check cell, and its solved twin (same id) whose stored output names the exercise."""
    cell = new_code_cell(source)
    cell.metadata["tags"] = ["exercise-check"]
    solved = new_code_cell(source, outputs=[new_output("stream", name="stdout", text=f"✔ {label} passed\n")])
    solved.id = cell.id
    solved.metadata["tags"] = ["exercise-check"]
    return cell, solved


def write_pair(tmp_path: Path, name: str, cells) -> None:
    lessons, solutions = tmp_path / "lessons", tmp_path / "solutions"
    lessons.mkdir(exist_ok=True)
    solutions.mkdir(exist_ok=True)
    prelude = new_code_cell(PRELUDE)
    lesson = [prelude] + [c[0] if isinstance(c, tuple) else c for c in cells]
    solution = [prelude] + [c[1] if isinstance(c, tuple) else c for c in cells]
    for folder, body in ((lessons, lesson), (solutions, solution)):
        nb = new_notebook(cells=body)
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, folder / name)


def test_passed_wrong_and_not_reached_after_an_early_stop(tmp_path, capsys):
    write_pair(
        tmp_path,
        "03-demo.ipynb",
        [
            check("print('✔ Exercise 03.1 passed')", "Exercise 03.1"),
            check(
                "raise ExerciseCheckFailed('Exercise 03.2: expected 3, got 2.\\nHint: count again')", "Exercise 03.2"
            ),
            check("print('never runs')", "Exercise 03.3"),
        ],
    )
    code = check_my_work.main(["03"], tmp_path / "lessons", tmp_path / "solutions")
    out = capsys.readouterr().out
    assert code == 1
    rows = {line.split()[1] + " " + line.split()[2]: line for line in out.splitlines() if line.startswith("03-demo")}
    assert " passed" in rows["Exercise 03.1"]
    assert " wrong " in rows["Exercise 03.2"] and "expected 3, got 2." in rows["Exercise 03.2"]
    assert "Hint" not in rows["Exercise 03.2"]  # the first line only
    assert " not reached " in rows["Exercise 03.3"] and "stopped at Exercise 03.2" in rows["Exercise 03.3"]
    assert "1 of 3 exercises pass." in out
    below = out.split("What the checks said:", 1)[1]
    assert "✘ 03-demo · Exercise 03.2 · wrong\n  Exercise 03.2: expected 3, got 2.\n\n  Hint: count again" in below


# What a real check says (kinesis_course.checks): a first line longer than a terminal, then the hint.
LONG_MESSAGE = (
    "Exercise 01.2: expected MalformedRecord to propagate out of the handler for the record whose data is not "
    "base64 (sequence number 49650000000000000000000000000000000000000000000000000002), got "
    "{'processed': 2, 'skipped': ['49650000000000000000000000000000000000000000000000000002']}."
)
LONG_HINT = (
    "Hint: a record that cannot be decoded is not a reading to skip: let decode_record's error reach the ESM, "
    "so that the whole batch fails and is retried, instead of catching it in the loop with the invalid readings."
)


@pytest.mark.parametrize("columns", ["60", "200"])
def test_a_wrong_answer_shows_its_whole_message_and_hint_wrapped_to_the_terminal(
    tmp_path, capsys, monkeypatch, columns
):
    monkeypatch.setenv("COLUMNS", columns)
    write_pair(
        tmp_path,
        "01-demo.ipynb",
        [
            check(f"raise ExerciseCheckFailed({LONG_MESSAGE + chr(10) + LONG_HINT!r})", "Exercise 01.2"),
        ],
    )
    assert check_my_work.main(["01"], tmp_path / "lessons", tmp_path / "solutions") == 1
    out = capsys.readouterr().out
    table, below = out.split("What the checks said:", 1)
    (row,) = [line for line in table.splitlines() if line.startswith("01-demo")]
    assert " wrong " in row and "Hint" not in row and len(row) <= max(60, int(columns))
    said = below.split("✘ 01-demo · Exercise 01.2 · wrong\n", 1)[1].split("\n\n0 of 1 exercises pass.", 1)[0]
    # Wrapped to the terminal; only a word longer than a line (a sequence number, kept whole) goes beyond it.
    assert all(len(line) <= int(columns) or len(line.split()) == 1 for line in said.splitlines()), said
    message, hint = said.split("\n\n  Hint: ", 1)
    # Every word of the message and of the hint, in order: wrapped, nothing cut.
    assert message.split() == LONG_MESSAGE.split()
    assert ("Hint: " + hint).split() == LONG_HINT.split()


def test_the_error_that_stopped_a_lesson_outside_a_check_is_shown_whole(tmp_path, capsys):
    error = "no stream named kc02-readings; " * 8 + "run the cell that creates it first"
    write_pair(
        tmp_path,
        "02-b.ipynb",
        [
            new_code_cell(f"raise KeyError({error!r})"),
            check("print('✔ Exercise 02.1 passed')", "Exercise 02.1"),
            check("print('✔ Exercise 02.2 passed')", "Exercise 02.2"),
        ],
    )
    assert check_my_work.main(["02"], tmp_path / "lessons", tmp_path / "solutions") == 1
    below = capsys.readouterr().out.split("What the checks said:", 1)[1]
    assert below.count("✘ 02-b") == 1 and "✘ 02-b · stopped before Exercise 02.1" in below
    said = below.split("✘ 02-b · stopped before Exercise 02.1\n", 1)[1].split("\n\n0 of 2 exercises pass.", 1)[0]
    assert said.split() == f"KeyError: {error!r}".split()


def test_not_solved_and_an_error_outside_a_check(tmp_path, capsys):
    write_pair(
        tmp_path, "01-a.ipynb", [check("raise ExerciseNotSolved('Exercise 01.1 is not solved yet')", "Exercise 01.1")]
    )
    write_pair(
        tmp_path,
        "02-b.ipynb",
        [
            new_code_cell("1 / 0"),
            check("print('✔ Exercise 02.1 passed')", "Exercise 02.1"),
        ],
    )
    assert check_my_work.main([], tmp_path / "lessons", tmp_path / "solutions") == 1
    out = capsys.readouterr().out
    assert any(line.startswith("01-a") and " not solved" in line for line in out.splitlines())
    (row,) = [line for line in out.splitlines() if line.startswith("02-b")]
    assert " not reached " in row and "ZeroDivisionError" in row
    assert "✘ 02-b · stopped before Exercise 02.1\n  ZeroDivisionError: division by zero" in out


def test_exit_0_when_every_exercise_passes_and_copies_are_not_lessons(tmp_path, capsys):
    write_pair(tmp_path, "01-a.ipynb", [check("print('✔ Exercise 01.1 passed')", "Exercise 01.1")])
    write_pair(tmp_path, "01-a.yours-20260101-000000.ipynb", [check("raise ExerciseNotSolved()", "Exercise 01.1")])
    (tmp_path / "solutions" / "01-a.yours-20260101-000000.ipynb").unlink()
    assert check_my_work.main(["1"], tmp_path / "lessons", tmp_path / "solutions") == 0
    assert "1 of 1 exercises pass." in capsys.readouterr().out
    with pytest.raises(SystemExit, match="the lessons are 01"):
        check_my_work.main(["07"], tmp_path / "lessons", tmp_path / "solutions")


def test_each_run_updates_the_learners_report_lesson_by_lesson(tmp_path, capsys, monkeypatch):
    import json

    monkeypatch.setenv("LEARNER", "Ada L.")
    write_pair(tmp_path, "01-one.ipynb", [check("pass", "Exercise 01.1")])
    write_pair(
        tmp_path,
        "02-two.ipynb",
        [check("raise ExerciseCheckFailed('wrong field\\nHint: read kinesis')", "Exercise 02.1")],
    )
    check_my_work.main([], tmp_path / "lessons", tmp_path / "solutions")
    report_file = tmp_path / "reports" / "Ada-L.json"
    assert f"Your report: {report_file}" in capsys.readouterr().out
    report = json.loads(report_file.read_text())
    assert report["kind"] == "kinesis-course check report" and report["learner"] == "Ada L."
    assert [(r["lesson"], r["exercise"], r["result"], r["first_line"]) for r in report["results"]] == [
        ("01-one", "Exercise 01.1", "passed", ""),
        ("02-two", "Exercise 02.1", "wrong", "wrong field"),
    ]

    # Lesson 02 solved and checked alone: its row is replaced, lesson 01's is kept.
    write_pair(tmp_path, "02-two.ipynb", [check("pass", "Exercise 02.1")])
    check_my_work.main(["02"], tmp_path / "lessons", tmp_path / "solutions")
    results = json.loads(report_file.read_text())["results"]
    assert [(r["lesson"], r["result"]) for r in results] == [("01-one", "passed"), ("02-two", "passed")]
    assert results[1]["checked_at"] >= results[0]["checked_at"]


def test_a_report_folder_that_cannot_be_written_is_said_and_the_table_still_shown(tmp_path, capsys, monkeypatch):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("REPORT", str(blocked))
    write_pair(tmp_path, "01-one.ipynb", [check("pass", "Exercise 01.1")])
    assert check_my_work.main([], tmp_path / "lessons", tmp_path / "solutions") == 0
    out = capsys.readouterr().out
    assert "1 of 1 exercises pass." in out
    assert f"Your report could not be written in {blocked}" in out and "Set REPORT to a folder" in out


PREDICTIONS = """
from kinesis_course.predictions import compare
compare("03.A", 3, 3, why="one attempt and two retries")
compare("03.B", "r-05", "r-04", why="the batch starts at the checkpoint")
compare("03.C", ..., 9, why="not made")
"""


def test_predictions_have_a_column_of_their_own_and_never_fail_a_lesson(tmp_path, capsys):
    write_pair(
        tmp_path,
        "03-demo.ipynb",
        [
            new_code_cell(PREDICTIONS),
            check("print('✔ Exercise 03.1 passed')", "Exercise 03.1"),
        ],
    )
    code = check_my_work.main(["03"], tmp_path / "lessons", tmp_path / "solutions")
    out = capsys.readouterr().out
    assert code == 0 and "1 of 1 exercises pass." in out
    column = out.split("predictions (what you expected before each experiment; never a failure)", 1)[1]
    assert "03-demo  03.A as predicted · 03.B different · 03.C not made" in column
    report = json.loads((tmp_path / "reports" / next(p.name for p in (tmp_path / "reports").iterdir())).read_text())
    assert [(p["prediction"], p["result"]) for p in report["predictions"]] == [
        ("03.A", "as predicted"),
        ("03.B", "different"),
        ("03.C", "not made"),
    ]


STRETCH_PRELUDE = """
from kinesis_course.checks import stretch, call_exercise, ExerciseCheckFailed as Failed
def check_double(f):
    if call_exercise("Stretch 03.S", f, 2) != 4:
        raise Failed("Stretch 03.S: expected 4, got something else.\\nHint: double it")
    print("✔ Stretch 03.S passed")
"""


def stretch_cell(body: str):
    source = f"def double(x):\n{body}\nstretch('Stretch 03.S', check_double, double)"
    cell = new_code_cell(source)
    cell.metadata["tags"] = ["stretch-check"]
    solved = new_code_cell(source, outputs=[new_output("stream", name="stdout", text="✔ Stretch 03.S passed\n")])
    solved.id = cell.id
    solved.metadata["tags"] = ["stretch-check"]
    return cell, solved


@pytest.mark.parametrize(
    "body, result, code",
    [
        ("    raise NotImplementedError('Stretch 03.S')", "not attempted", 0),
        ("    return x * 2", "passed", 0),
        ("    return x + 1", "wrong", 0),
    ],
)
def test_an_optional_stretch_is_listed_but_never_counted(tmp_path, capsys, body, result, code):
    write_pair(
        tmp_path,
        "03-demo.ipynb",
        [
            check("print('✔ Exercise 03.1 passed')", "Exercise 03.1"),
            new_code_cell(STRETCH_PRELUDE),
            stretch_cell(body),
        ],
    )
    assert check_my_work.main(["03"], tmp_path / "lessons", tmp_path / "solutions") == code
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("03-demo") and "Stretch 03.S" in line)
    assert f" {result} " in f"{row} " and "(optional)" in row
    assert "1 of 1 exercises pass" in out
    if result == "wrong":
        assert "Hint: double it" in out.split("What the checks said:", 1)[1]
