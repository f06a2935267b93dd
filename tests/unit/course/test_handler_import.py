"""kinesis_course.handler_import: every import of a handler file sees that folder's files, as they are now."""

from __future__ import annotations

import sys

import pytest

from kinesis_course.handler_import import import_fresh

HANDLER = "from decoding import decode\n\ndef handler(event, context=None):\n    return decode(event)\n"


def _folder(path, answer):
    path.mkdir()
    (path / "decoding.py").write_text(f"def decode(event):\n    return {answer!r}\n")
    (path / "handler.py").write_text(HANDLER)
    return path


def test_a_same_named_module_of_another_folder_never_answers(tmp_path):
    first, second = _folder(tmp_path / "lesson01", "first"), _folder(tmp_path / "lesson02", "second")
    assert import_fresh(first).handler({}) == "first"
    assert import_fresh(second).handler({}) == "second", "decoding.py of the first folder answered"
    assert sys.path[0] == str(second.resolve()), "the folder must come first on sys.path, as in Lambda"
    assert sys.path.count(str(second.resolve())) == 1


def test_a_changed_file_is_read_again(tmp_path):
    folder = _folder(tmp_path / "build", "before")
    assert import_fresh(folder).handler({}) == "before"
    (folder / "decoding.py").write_text("def decode(event):\n    return 'after'\n")
    assert import_fresh(folder, module_name="kc99_handler").handler({}) == "after"
    assert import_fresh(folder, "decoding.py").decode({}) == "after"


def test_a_module_that_fails_to_import_is_not_left_behind(tmp_path):
    folder = _folder(tmp_path / "build", "x")
    (folder / "handler.py").write_text("raise ValueError('broken at import')\n")
    with pytest.raises(ValueError, match="broken at import"):
        import_fresh(folder, module_name="kc99_broken")
    assert "kc99_broken" not in sys.modules


def test_a_missing_file_says_which_cell_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="handler.py does not exist yet: run the cell that writes it first"):
        import_fresh(tmp_path)
