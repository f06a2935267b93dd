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

GENERATED = {
    path.name: nbformat.reads(text, as_version=4) for path, text in make_lessons.expected_lessons().items()
}


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
            problems.append(f"cell {index}: {lines} lines of code (at most {limit}); move harness code to kinesis_course/")
        if TEST_MACHINERY.search(cell.source):
            problems.append(f"cell {index}: test machinery (NBVAL_ comment or assert); tag the cell ci-only or nbval-ignore-output")
    assert not problems, f"{name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", [name for name in sorted(GENERATED) if name[:2] not in ("00", "01")])
def test_a_lesson_after_01_shows_the_handler_it_starts_from(name):
    sources = "\n".join(cell.source for cell in GENERATED[name].cells if cell.cell_type == "code")
    assert "lesson.show_handler()" in sources, f"{name} does not show the handler it starts from"
