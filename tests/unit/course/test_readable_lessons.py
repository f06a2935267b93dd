"""What a learner reads: short cells, no test machinery.

Run on the lessons the generator makes from solutions/ (not on the working copy in lessons/, which is the
learner's), so an edited lesson never fails this test.
"""

from __future__ import annotations

import re

import nbformat
import pytest

import make_lessons  # tools/, on pytest's pythonpath (pyproject.toml)

MAX_MARKDOWN_WORDS = 250  # a screenful of prose
MAX_GIVEN_CODE_LINES = 26  # "about 25": longer harness code belongs in kinesis_course/
# A handler file is one module the learner reads as a whole, docstring and imports included.
MAX_HANDLER_FILE_LINES = 30
TEST_MACHINERY = re.compile(r"NBVAL_|^\s*assert\s", re.MULTILINE)

GENERATED = {path.name: nbformat.reads(text, as_version=4) for path, text in make_lessons.expected_lessons().items()}


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_cells_are_short_and_show_no_test_machinery(name):
    problems = []
    for index, cell in enumerate(GENERATED[name].cells):
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "markdown":
            words = len(cell.source.split())
            if words > MAX_MARKDOWN_WORDS:
                problems.append(f"cell {index}: {words} words of markdown (at most {MAX_MARKDOWN_WORDS})")
            continue
        lines = len(cell.source.splitlines())
        limit = MAX_HANDLER_FILE_LINES if "handler-file" in tags else MAX_GIVEN_CODE_LINES
        if lines > limit:
            problems.append(
                f"cell {index}: {lines} lines of code (at most {limit}); move harness code to kinesis_course/"
            )
        if TEST_MACHINERY.search(cell.source):
            problems.append(
                f"cell {index}: test machinery (NBVAL_ comment or assert); tag the cell ci-only or nbval-ignore-output"
            )
    assert not problems, f"{name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", [name for name in sorted(GENERATED) if name[:2] not in ("00", "01")])
def test_a_lesson_after_01_shows_the_handler_it_starts_from(name):
    sources = "\n".join(cell.source for cell in GENERATED[name].cells if cell.cell_type == "code")
    assert "lesson.show_handler()" in sources, f"{name} does not show the handler it starts from"


SOLUTIONS = {path.name: nbformat.read(path, as_version=4) for path in sorted(make_lessons.SOLUTIONS.glob("*.ipynb"))}
COURSE_LESSONS = [name for name in sorted(GENERATED) if name[:2] != "00"]  # 00 is the welcome: no experiment
PREDICTION_LINE = re.compile(r"^\s*(?P<name>[A-Za-z_]\w*)\s*=\s*(?P<value>.*?)\s*#\s*PREDICT:", re.MULTILINE)
COMPARED = re.compile(r"^◆ Prediction (?P<label>\S+): as predicted\.", re.MULTILINE)


def _outputs(notebook) -> str:
    return "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream"
    )


@pytest.mark.parametrize("name", COURSE_LESSONS)
def test_a_lesson_asks_for_predictions_before_its_experiments(name):
    """Two or three predictions per lesson: each an empty `...` for the learner, each answered right in the
    solution, as its stored output (from a real run, kept honest by nbval) shows."""
    lesson_lines = [
        m for cell in GENERATED[name].cells if cell.cell_type == "code" for m in PREDICTION_LINE.finditer(cell.source)
    ]
    assert len(lesson_lines) >= 2, f"{name}: {len(lesson_lines)} prediction line(s), at least 2 wanted"
    assert all(m["value"] == "..." for m in lesson_lines), f"{name}: a prediction the learner did not make"
    compared = COMPARED.findall(_outputs(SOLUTIONS[name]))
    labels = re.findall(
        r"\*\*Prediction (\d\d\.[A-Z])\*\*",
        "\n".join(c.source for c in GENERATED[name].cells if c.cell_type == "markdown"),
    )
    assert labels and sorted(compared) == sorted(labels), (
        f"{name}: predictions asked {labels}, compared as predicted in the solution's outputs {compared}"
    )


@pytest.mark.parametrize("name", COURSE_LESSONS)
def test_a_lesson_ends_with_an_optional_stretch_that_does_not_stop_it(name):
    cells = GENERATED[name].cells
    stretch_checks = [c for c in cells if "stretch-check" in c.metadata.get("tags", [])]
    assert len(stretch_checks) == 1, f"{name}: {len(stretch_checks)} stretch check cells, one wanted"
    assert "stretch(" in stretch_checks[0].source, f"{name}: the stretch check does not go through checks.stretch"
    heading = re.search(r"^### Stretch (\d\d)\.S · .*\(optional\)", "\n".join(c.source for c in cells), re.MULTILINE)
    assert heading and heading[1] == name[:2], f"{name}: no `### Stretch {name[:2]}.S · ... (optional)` heading"
    assert re.search(r"✔ Stretch \d\d\.S passed", _outputs(SOLUTIONS[name])), f"{name}: the solved stretch did not pass"
