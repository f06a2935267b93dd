"""tools/room_report.py (`make room`): three learners' `make check` reports merged into one table and a CSV."""

from __future__ import annotations

import csv
from datetime import datetime, timezone

import check_my_work  # tools/, on pytest's pythonpath (pyproject.toml)
import room_report
from check_my_work import Row

WRONG_FIELD = "Exercise 01.2 (eventID 'shardId-000000000000:4962'): expected 'shardId-000000000000', got 'sensor-1'."


def _reports(folder):
    at = datetime(2026, 12, 2, 10, 0, tzinfo=timezone.utc)
    check_my_work.write_report(
        [Row("01-anatomy", "Exercise 01.1", "passed"), Row("01-anatomy", "Exercise 01.2", "passed")], folder, "ada", at
    )
    check_my_work.write_report(
        [Row("01-anatomy", "Exercise 01.1", "passed"), Row("01-anatomy", "Exercise 01.2", "wrong", WRONG_FIELD)],
        folder,
        "grace",
        at,
    )
    check_my_work.write_report(
        [
            Row("01-anatomy", "Exercise 01.1", "not solved"),
            Row("01-anatomy", "Exercise 01.2", "not reached", "the lesson stopped at 01.1"),
            Row("02-first", "Exercise 02.1", "wrong", WRONG_FIELD),
        ],
        folder,
        "linus",
        at,
    )


def test_three_reports_make_one_table_with_the_common_messages_and_a_csv(tmp_path, capsys):
    _reports(tmp_path)
    (tmp_path / "notes.json").write_text('{"todo": 1}')
    assert room_report.main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "left out notes.json: not a `make check` report" in out
    assert "3 learners: ada, grace, linus" in out
    lines = {line.split("  ")[0]: line.split() for line in out.splitlines() if line.startswith("Exercise ")}
    #                               passed wrong error not-solved not-reached not-attempted no-report
    assert lines["Exercise 01.1"][2:] == ["2", "0", "0", "1", "0", "0", "0"]
    assert lines["Exercise 01.2"][2:] == ["1", "1", "0", "0", "1", "0", "0"]
    assert lines["Exercise 02.1"][2:] == ["0", "1", "0", "0", "0", "0", "2"]
    assert f"Exercise 01.2 · 1 learner: {WRONG_FIELD}" in out

    with (tmp_path / "room.csv").open(newline="") as saved:
        table = list(csv.DictReader(saved))
    assert len(table) == 7
    assert {row["learner"] for row in table} == {"ada", "grace", "linus"}
    assert [row for row in table if row["learner"] == "grace" and row["exercise"] == "Exercise 01.2"][0][
        "first_line"
    ] == WRONG_FIELD
    assert all(row["checked_at"] == "2026-12-02T10:00:00+00:00" for row in table)


def test_an_empty_or_missing_folder_says_where_reports_come_from(tmp_path, capsys):
    assert room_report.main([str(tmp_path)]) == 1
    assert "build/reports/<name>.json" in capsys.readouterr().out
    assert room_report.main([str(tmp_path / "nowhere")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_the_rooms_predictions_are_counted_apart_from_the_exercises(tmp_path, capsys):
    at = datetime(2026, 12, 3, 10, 0, tzinfo=timezone.utc)
    said = {"ada": "as predicted", "grace": "different", "linus": "not made"}
    for learner, result in said.items():
        check_my_work.write_report(
            [Row("06-bisection", "Exercise 06.1", "passed")],
            tmp_path,
            learner,
            at,
            predictions=[
                check_my_work.Prediction("06-bisection", "06.A", result),
                check_my_work.Prediction("06-bisection", "06.B", "different"),
            ],
        )
    assert room_report.main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    below = out.split("Predictions made before each experiment (never a failure):", 1)[1]
    counts = {line.split()[1]: line.split()[2:] for line in below.splitlines() if line.startswith("Prediction ")}
    #                   as predicted, different, not made
    assert counts == {"06.A": ["1", "1", "1"], "06.B": ["0", "3", "0"]}
    exercise = next(line.split() for line in out.splitlines() if line.startswith("Exercise 06.1"))
    assert exercise[2:] == ["3", "0", "0", "0", "0", "0", "0"]  # predictions are not exercises
