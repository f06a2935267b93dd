"""tools/check_my_work.py (`make check`) on small notebooks: no LocalStack needed."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

import check_my_work  # tools/, on sys.path through the root conftest.py


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
    write_pair(tmp_path, "03-demo.ipynb", [
        check("print('✔ Exercise 03.1 passed')", "Exercise 03.1"),
        check("raise ExerciseCheckFailed('Exercise 03.2: expected 3, got 2.\\nHint: count again')", "Exercise 03.2"),
        check("print('never runs')", "Exercise 03.3"),
    ])
    code = check_my_work.main(["03"], tmp_path / "lessons", tmp_path / "solutions")
    out = capsys.readouterr().out
    assert code == 1
    rows = {line.split()[1] + " " + line.split()[2]: line for line in out.splitlines() if line.startswith("03-demo")}
    assert " passed" in rows["Exercise 03.1"]
    assert " wrong " in rows["Exercise 03.2"] and "expected 3, got 2." in rows["Exercise 03.2"]
    assert "Hint" not in rows["Exercise 03.2"]  # the first line only
    assert " not reached " in rows["Exercise 03.3"] and "stopped at Exercise 03.2" in rows["Exercise 03.3"]
    assert "1 of 3 exercises pass." in out


def test_not_solved_and_an_error_outside_a_check(tmp_path, capsys):
    write_pair(tmp_path, "01-a.ipynb", [check("raise ExerciseNotSolved('Exercise 01.1 is not solved yet')", "Exercise 01.1")])
    write_pair(tmp_path, "02-b.ipynb", [
        new_code_cell("1 / 0"),
        check("print('✔ Exercise 02.1 passed')", "Exercise 02.1"),
    ])
    assert check_my_work.main([], tmp_path / "lessons", tmp_path / "solutions") == 1
    out = capsys.readouterr().out
    assert any(line.startswith("01-a") and " not solved" in line for line in out.splitlines())
    (row,) = [line for line in out.splitlines() if line.startswith("02-b")]
    assert " not reached " in row and "ZeroDivisionError" in row


def test_exit_0_when_every_exercise_passes_and_copies_are_not_lessons(tmp_path, capsys):
    write_pair(tmp_path, "01-a.ipynb", [check("print('✔ Exercise 01.1 passed')", "Exercise 01.1")])
    write_pair(tmp_path, "01-a.yours-20260101-000000.ipynb", [check("raise ExerciseNotSolved()", "Exercise 01.1")])
    (tmp_path / "solutions" / "01-a.yours-20260101-000000.ipynb").unlink()
    assert check_my_work.main(["1"], tmp_path / "lessons", tmp_path / "solutions") == 0
    assert "1 of 1 exercises pass." in capsys.readouterr().out
    with pytest.raises(SystemExit, match="the lessons are 01"):
        check_my_work.main(["07"], tmp_path / "lessons", tmp_path / "solutions")
