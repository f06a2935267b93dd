"""Unit tests of tools/make_lessons.py on small in-memory notebooks."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

import make_lessons  # tools/, on pytest's pythonpath (pyproject.toml)


def stub(label: str, indent: str = "") -> str:
    return f'{indent}raise NotImplementedError("{label}: replace this line with your solution")'


def notebook(*cells) -> nbformat.NotebookNode:
    nb = new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def lesson_sources(*cells) -> list[str]:
    return [cell.source for cell in make_lessons.generate_lesson(notebook(*cells), "nb.ipynb").cells]


def test_top_level_block_becomes_one_stub_line():
    source = "x = 1\n# BEGIN SOLUTION: Exercise 01.1\ny = x + 1\nz = y * 2\n# END SOLUTION\nprint(x)"
    assert lesson_sources(new_code_cell(source)) == [f"x = 1\n{stub('Exercise 01.1')}\nprint(x)"]


def test_stub_keeps_the_indentation_of_the_begin_marker_in_a_function_body():
    source = (
        "def batch_size(records):\n"
        '    """How many records per batch."""\n'
        "    # BEGIN SOLUTION: Exercise 02.3\n"
        "    if not records:\n"
        "        return 0\n"
        "    return len(records)\n"
        "    # END SOLUTION\n"
    )
    docstring = '    """How many records per batch."""\n'
    expected = "def batch_size(records):\n" + docstring + stub("Exercise 02.3", "    ") + "\n"
    assert lesson_sources(new_code_cell(source)) == [expected]


def test_writefile_cell_gets_the_stub_inside_the_handler():
    source = (
        "%%writefile build/handler.py\n"
        "import json\n"
        "\n"
        "def handler(event, context):\n"
        "    # BEGIN SOLUTION: Exercise 03.1\n"
        "    return {'batchItemFailures': []}\n"
        "    # END SOLUTION"
    )
    expected = "%%writefile build/handler.py\nimport json\n\ndef handler(event, context):\n" + stub(
        "Exercise 03.1", "    "
    )
    assert lesson_sources(new_code_cell(source)) == [expected]


def test_several_blocks_in_one_cell_each_carry_their_own_label():
    source = (
        "def a():\n"
        "    # BEGIN SOLUTION: Exercise 04.1\n"
        "    return 1\n"
        "    # END SOLUTION\n"
        "\n"
        "def b():\n"
        "\t# BEGIN SOLUTION: Exercise 04.2 (bonus)\n"
        "\treturn 2\n"
        "\t# END SOLUTION\n"
    )
    expected = f"def a():\n{stub('Exercise 04.1', '    ')}\n\ndef b():\n{stub('Exercise 04.2 (bonus)', chr(9))}\n"
    assert lesson_sources(new_code_cell(source)) == [expected]


def test_stub_is_valid_python_that_raises_with_the_label():
    source = 'def f():\n    # BEGIN SOLUTION: Exercise "05.1"\n    return 1\n    # END SOLUTION\n'
    namespace = {}
    exec(lesson_sources(new_code_cell(source))[0], namespace)
    with pytest.raises(NotImplementedError, match=r'Exercise "05.1": replace this line with your solution'):
        namespace["f"]()


def test_a_prediction_keeps_its_name_and_comment_and_loses_its_value():
    source = (
        "invocations = 9  # PREDICT: a whole number\n"
        'first_retried = "r-05"  # PREDICT: a label, e.g. "r-00"\n'
        "observed = 9  # not a prediction"
    )
    assert lesson_sources(new_code_cell(source)) == [
        "invocations = ...  # PREDICT: a whole number\n"
        'first_retried = ...  # PREDICT: a label, e.g. "r-00"\n'
        "observed = 9  # not a prediction"
    ]


def test_code_without_markers_is_unchanged():
    source = "# a comment about the solution\nprint('BEGIN SOLUTION')"
    assert lesson_sources(new_code_cell(source), new_markdown_cell("# Title")) == [source, "# Title"]


@pytest.mark.parametrize(
    "source, line, complaint",
    [
        ("# BEGIN SOLUTION: Exercise 1.1\nx = 1", 1, "no `# END SOLUTION`"),
        ("x = 1\n# END SOLUTION", 2, "without a `# BEGIN SOLUTION"),
        ("# BEGIN SOLUTION: A\n# BEGIN SOLUTION: B\n# END SOLUTION", 2, "cannot nest"),
        ("# BEGIN SOLUTION\nx = 1\n# END SOLUTION", 1, "label after the colon"),
        ("# BEGIN SOLUTION:   \nx = 1\n# END SOLUTION", 1, "label after the colon"),
    ],
)
def test_unbalanced_or_unlabelled_markers_name_notebook_cell_and_line(source, line, complaint):
    nb = notebook(new_markdown_cell("intro"), new_code_cell("ok = True"), new_code_cell(source))
    with pytest.raises(make_lessons.MarkerError) as error:
        make_lessons.generate_lesson(nb, "solutions/01-demo.ipynb")
    message = str(error.value)
    assert message.startswith("solutions/01-demo.ipynb, cell 2: ")
    assert f"line {line}" in message
    assert complaint in message


def test_markers_in_a_markdown_cell_are_an_error_rather_than_a_leak():
    nb = notebook(new_markdown_cell("# BEGIN SOLUTION: Exercise 1.1\nthe answer\n# END SOLUTION"))
    with pytest.raises(make_lessons.MarkerError, match="cell 0: solution markers only work in code cells"):
        make_lessons.generate_lesson(nb, "nb.ipynb")


def test_outputs_and_execution_counts_are_cleared_ids_tags_and_metadata_kept():
    cell = new_code_cell("print(1)", execution_count=7, outputs=[new_output("stream", name="stdout", text="1\n")])
    cell.metadata["tags"] = ["exercise-check"]
    cell.metadata["execution"] = {"iopub.status.busy": "2025-01-01T00:00:00Z"}
    nb = notebook(cell)
    lesson = make_lessons.generate_lesson(nb, "nb.ipynb")
    (out,) = lesson.cells
    assert out.outputs == [] and out.execution_count is None
    assert out.id == cell.id
    assert out.metadata == {"tags": ["exercise-check"]}
    assert lesson.metadata == nb.metadata
    # The solution itself is left alone.
    assert nb.cells[0].outputs and nb.cells[0].execution_count == 7


def test_solution_only_cells_are_dropped():
    secret = new_code_cell("assert answer == 42")
    secret.metadata["tags"] = ["solution-only"]
    note = new_markdown_cell("Only maintainers read this.")
    note.metadata["tags"] = ["solution-only", "other"]
    sources = lesson_sources(new_code_cell("answer = 41 + 1"), secret, note, new_markdown_cell("end"))
    assert sources == ["answer = 41 + 1", "end"]


def write_solution(folder: Path, name: str, nb: nbformat.NotebookNode) -> None:
    folder.mkdir(exist_ok=True)
    nbformat.write(nb, folder / name)


def demo_notebook() -> nbformat.NotebookNode:
    return notebook(
        new_markdown_cell("Café ☕ — non-ASCII stays readable"),
        new_code_cell(
            "def f():\n    # BEGIN SOLUTION: Exercise 01.1\n    return 1\n    # END SOLUTION", execution_count=1
        ),
    )


def test_writing_twice_gives_identical_bytes(tmp_path):
    solutions, lessons = tmp_path / "solutions", tmp_path / "lessons"
    write_solution(solutions, "01-demo.ipynb", demo_notebook())
    make_lessons.write_lessons(solutions, lessons)
    first = (lessons / "01-demo.ipynb").read_bytes()
    make_lessons.write_lessons(solutions, lessons)
    assert (lessons / "01-demo.ipynb").read_bytes() == first
    assert first.endswith(b"}\n") and "Café ☕".encode() in first
    assert b'\n "cells": [\n  {\n' in first  # nbformat's indent=1
    assert make_lessons.out_of_date(solutions, lessons) == []


def test_check_lists_missing_differing_and_extra_lessons(tmp_path):
    solutions, lessons = tmp_path / "solutions", tmp_path / "lessons"
    write_solution(solutions, "01-a.ipynb", demo_notebook())
    write_solution(solutions, "02-b.ipynb", demo_notebook())
    write_solution(solutions, "99-orphan.ipynb", demo_notebook())
    make_lessons.write_lessons(solutions, lessons)
    # A maintainer changes a solution, deletes one lesson and removes another's solution, without regenerating.
    changed = demo_notebook()
    changed.cells[0].source = changed.cells[0].source.replace("Café", "Cafe")
    write_solution(solutions, "01-a.ipynb", changed)
    (lessons / "02-b.ipynb").unlink()
    (solutions / "99-orphan.ipynb").unlink()

    problems = make_lessons.out_of_date(solutions, lessons)
    assert [p.split()[0] for p in problems] == ["differs:", "missing:", "extra:"]
    assert [Path(p.split()[1]).name for p in problems] == ["01-a.ipynb", "02-b.ipynb", "99-orphan.ipynb"]
    assert make_lessons.out_of_date_message(problems).endswith(
        "run `make lessons` to regenerate lessons/ and kinesis_course/handler_steps/ from solutions/"
    )

    assert make_lessons.write_lessons(solutions, lessons) == []  # regenerating fixes all three: nobody edited them
    assert make_lessons.out_of_date(solutions, lessons) == []
    assert sorted(p.name for p in lessons.iterdir()) == ["01-a.ipynb", "02-b.ipynb"]


# A learner's work is theirs (issue 9): an edited lesson is neither overwritten nor removed without --force.


def learner_edits(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source = nb.cells[1].source.replace('raise NotImplementedError("Exercise 01.1', "return 1  # (")
    nbformat.write(nb, path)


def test_an_edited_lesson_is_left_alone_and_named(tmp_path, capsys):
    solutions, lessons = tmp_path / "solutions", tmp_path / "lessons"
    write_solution(solutions, "01-a.ipynb", demo_notebook())
    write_solution(solutions, "02-b.ipynb", demo_notebook())
    make_lessons.write_lessons(solutions, lessons)
    learner_edits(lessons / "01-a.ipynb")
    mine = (lessons / "01-a.ipynb").read_text()
    write_solution(solutions, "02-b.ipynb", notebook(new_markdown_cell("lesson 02, changed by a maintainer")))
    capsys.readouterr()

    assert make_lessons.write_lessons(solutions, lessons) == [lessons / "01-a.ipynb"]
    assert (lessons / "01-a.ipynb").read_text() == mine
    assert "changed by a maintainer" in (lessons / "02-b.ipynb").read_text()  # the unedited one is regenerated
    err = capsys.readouterr().err
    assert "you edited them" in err and "01-a.ipynb" in err and "make fresh L=NN" in err and "FORCE=1" in err


def test_force_keeps_the_learners_copy_beside_the_fresh_lesson(tmp_path):
    solutions, lessons = tmp_path / "solutions", tmp_path / "lessons"
    write_solution(solutions, "01-a.ipynb", demo_notebook())
    make_lessons.write_lessons(solutions, lessons)
    fresh = (lessons / "01-a.ipynb").read_text()
    learner_edits(lessons / "01-a.ipynb")
    mine = (lessons / "01-a.ipynb").read_text()

    assert make_lessons.write_lessons(solutions, lessons, force=True) == []
    assert (lessons / "01-a.ipynb").read_text() == fresh
    (kept,) = lessons.glob("01-a.yours-*.ipynb")
    assert kept.read_text() == mine
    # The kept copy is the learner's own notebook: a later run neither removes it nor calls the course out of date.
    assert make_lessons.write_lessons(solutions, lessons) == []
    assert kept.exists()
    assert make_lessons.out_of_date(solutions, lessons, accept_committed=True) == []


def test_fresh_writes_one_lesson_and_keeps_the_learners_copy(tmp_path, monkeypatch, capsys):
    solutions, lessons = tmp_path / "solutions", tmp_path / "lessons"
    write_solution(solutions, "01-a.ipynb", demo_notebook())
    write_solution(solutions, "02-b.ipynb", demo_notebook())
    make_lessons.write_lessons(solutions, lessons)
    learner_edits(lessons / "01-a.ipynb")
    learner_edits(lessons / "02-b.ipynb")
    mine = (lessons / "02-b.ipynb").read_text()
    monkeypatch.setattr(make_lessons, "SOLUTIONS", solutions)
    monkeypatch.setattr(make_lessons, "LESSONS", lessons)
    monkeypatch.setattr(make_lessons, "HANDLER_STEPS", make_lessons.steps_beside(lessons))  # never the real ones

    assert make_lessons.main(["--fresh", "01"]) == 0
    assert "raise NotImplementedError" in (lessons / "01-a.ipynb").read_text()
    assert (lessons / "02-b.ipynb").read_text() == mine  # only the lesson asked for
    assert len(list(lessons.glob("01-a.yours-*.ipynb"))) == 1
    assert "kept your copy" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="the lessons are 01, 02"):
        make_lessons.main(["--fresh", "07"])


def test_a_learners_own_notebook_is_never_removed(tmp_path):
    solutions, lessons = tmp_path / "solutions", tmp_path / "lessons"
    write_solution(solutions, "01-a.ipynb", demo_notebook())
    write_solution(lessons, "my-notes.ipynb", notebook(new_markdown_cell("mine")))
    make_lessons.write_lessons(solutions, lessons)
    assert (lessons / "my-notes.ipynb").exists()


def git(folder: Path, *args: str) -> None:
    import subprocess

    subprocess.run(
        ["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        check=True,
        capture_output=True,
    )


def test_drift_is_judged_on_gits_committed_lessons_when_the_learner_edited_theirs(tmp_path):
    solutions, lessons = tmp_path / "solutions", tmp_path / "lessons"
    write_solution(solutions, "01-a.ipynb", demo_notebook())
    make_lessons.write_lessons(solutions, lessons)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "course")
    learner_edits(lessons / "01-a.ipynb")
    (tmp_path / ".state").rename(tmp_path / "state-gone")  # `make clean`: only git's copy tells what is generated

    assert make_lessons.out_of_date(solutions, lessons) != []  # the working copy differs ...
    assert make_lessons.out_of_date(solutions, lessons, accept_committed=True) == []  # ... but the course is in sync
    assert make_lessons.edited_lessons(make_lessons.generated(solutions, lessons, tmp_path / "steps"), lessons) == [
        lessons / "01-a.ipynb"
    ]
    # A maintainer who changes a solution without regenerating is still caught.
    changed = demo_notebook()
    changed.cells[0].source = "changed"
    write_solution(solutions, "01-a.ipynb", changed)
    assert make_lessons.out_of_date(solutions, lessons, accept_committed=True) == [
        "differs: " + str(lessons / "01-a.ipynb")
    ]


def test_main_check_writes_nothing_and_exits_1_until_regenerated(tmp_path, monkeypatch, capsys):
    solutions, lessons = tmp_path / "solutions", tmp_path / "lessons"
    write_solution(solutions, "01-a.ipynb", demo_notebook())
    monkeypatch.setattr(make_lessons, "SOLUTIONS", solutions)
    monkeypatch.setattr(make_lessons, "LESSONS", lessons)
    monkeypatch.setattr(make_lessons, "HANDLER_STEPS", make_lessons.steps_beside(lessons))  # never the real ones

    assert make_lessons.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "missing:" in err and "01-a.ipynb" in err and "make lessons" in err
    assert not lessons.exists()

    assert make_lessons.main([]) == 0
    assert make_lessons.main(["--check"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("OK: ")


def test_main_reports_marker_errors_without_writing(tmp_path, monkeypatch, capsys):
    solutions, lessons = tmp_path / "solutions", tmp_path / "lessons"
    write_solution(solutions, "01-a.ipynb", notebook(new_code_cell("# BEGIN SOLUTION: Exercise 01.1\nx = 1")))
    monkeypatch.setattr(make_lessons, "SOLUTIONS", solutions)
    monkeypatch.setattr(make_lessons, "LESSONS", lessons)
    monkeypatch.setattr(make_lessons, "HANDLER_STEPS", make_lessons.steps_beside(lessons))  # never the real ones

    assert make_lessons.main([]) == 1
    assert "01-a.ipynb, cell 0: " in capsys.readouterr().err
    assert not lessons.exists()


# The real tree: lessons/ must be exactly what tools/make_lessons.py derives from solutions/: never edit a lesson by
# hand. A learner's edits are theirs, so a lesson also passes when git's committed copy is the generated one
# (after a learner solved lessons, `make test` stays green; on a fresh clone the working copy is the committed one).
def test_lessons_are_generated_from_solutions():
    # With no solutions this passes only if lessons/ has no notebooks either (they would be "extra").
    # A marker error in a solution raises MarkerError here, naming the notebook and cell.
    problems = make_lessons.out_of_date(make_lessons.SOLUTIONS, make_lessons.LESSONS, accept_committed=True)
    if problems:
        pytest.fail(make_lessons.out_of_date_message(problems), pytrace=False)
