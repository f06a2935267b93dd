"""The shared helpers of the checks (kinesis_course/checks/cases.py) catch what they are for."""

from __future__ import annotations

import hashlib
import textwrap
from datetime import date

import pytest
from hypothesis import strategies as st

from kinesis_course.checks import ExerciseCheckFailed, ExerciseNotSolved, expect
from kinesis_course.checks.cases import in_another_process, on_another_date, property_cases, unchanged


def _at_most_nine(number):
    expect(
        "Exercise T.1", number < 10, expected="a number below 10", got=number, hint="numbers of 10 or more fail here"
    )


def test_a_property_failure_shows_the_smallest_case_and_the_hint_not_hypothesis(capsys):
    with pytest.raises(ExerciseCheckFailed) as raised:
        property_cases("Exercise T.1", st.integers(min_value=0, max_value=10_000), _at_most_nine)
    assert capsys.readouterr() == ("", "")  # Hypothesis printed no report of its own
    message = str(raised.value)
    assert "The case that fails: 10 " in message  # shrunk from whatever was drawn to the boundary
    assert message.rstrip().endswith("Hint: numbers of 10 or more fail here")
    assert "Falsifying" not in message and "hypothesis" not in message.lower()
    assert not getattr(raised.value, "__notes__", None)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_boundary_examples_are_tried_first_and_reported_as_they_are():
    seen = []

    def check_one(number):
        seen.append(number)
        _at_most_nine(number)

    with pytest.raises(ExerciseCheckFailed, match="The case that fails: 12\n"):
        property_cases("Exercise T.1", st.integers(min_value=0, max_value=9), check_one, examples=[0, 9, 12])
    assert seen == [0, 9, 12]


def test_a_passing_property_returns_how_many_cases_it_tried():
    assert property_cases("Exercise T.1", st.integers(0, 9), _at_most_nine, examples=[9], max_examples=20) >= 10


def test_the_learners_own_exception_becomes_a_check_failure_with_its_case():
    def check_one(text):
        text.encode("ascii")  # the "learner's code" raising on some input

    with pytest.raises(ExerciseCheckFailed) as raised:
        property_cases("Exercise T.2", st.text(), check_one)
    message = str(raised.value)
    assert "UnicodeEncodeError" in message and "The case that fails: '\\x80'" in message and "Hint:" in message
    assert isinstance(raised.value.__cause__, UnicodeEncodeError)  # the notebook shows where their code raised it


def test_a_function_that_answers_differently_each_time_is_named():
    calls = []

    def check_one(number):
        calls.append(number)
        if number >= 5 and calls.count(number) == 1:  # fails the first time only, as code with hidden state does
            _at_most_nine(100)

    with pytest.raises(ExerciseCheckFailed, match="different answers for the same input(.|\n)*Hint:"):
        property_cases("Exercise T.7", st.integers(0, 1000), check_one)


def test_a_stub_is_reported_as_not_solved_not_as_a_failing_case():
    def check_one(_):
        raise ExerciseNotSolved("Exercise T.3 is not solved yet")

    with pytest.raises(ExerciseNotSolved):
        property_cases("Exercise T.3", st.integers(), check_one)


_DRAWS = textwrap.dedent(
    """
    from hypothesis import strategies as st
    from kinesis_course.checks.cases import property_cases

    def draws():
        seen = []
        property_cases("Exercise T.4", st.dictionaries(st.text(), st.floats(allow_nan=False)), seen.append, max_examples=15)
        return [sorted(case.items()) for case in seen]
    """
)


def test_the_cases_drawn_are_the_same_in_every_run_and_process(tmp_path):
    module = tmp_path / "draws.py"
    module.write_text(_DRAWS)
    first = in_another_process(module, "draws", [], hash_seed=1)
    second = in_another_process(module, "draws", [], hash_seed=2)
    assert first == second and len(first) == 15


def _keep(reading):
    return {**reading, "unit": "C"}


def _edit_in_place(reading):
    reading["unit"] = reading["unit"].upper()
    return reading


def test_unchanged_returns_the_result_of_a_function_that_leaves_its_input_alone():
    assert unchanged("Exercise T.5", _keep, {"unit": "c"}) == {"unit": "C"}


def test_unchanged_catches_a_function_that_edits_its_input_in_place():
    with pytest.raises(ExerciseCheckFailed) as raised:
        unchanged("Exercise T.5", _edit_in_place, {"unit": "c", "value": float("nan")}, hint="return a new dict")
    message = str(raised.value)
    assert "in place" in message and "['unit']: 'c' -> 'C'" in message and "nan" not in message
    assert message.endswith("Hint: return a new dict")


def test_unchanged_catches_an_edit_made_before_the_function_raised():
    def pop_then_fail(record):
        record.pop("data")
        raise ValueError("no data")

    with pytest.raises(ExerciseCheckFailed, match="in place"):
        unchanged("Exercise T.5", pop_then_fail, {"data": "e30="})


def test_unchanged_reraises_the_functions_own_error_when_nothing_changed():
    with pytest.raises(ZeroDivisionError):
        unchanged("Exercise T.5", lambda number: number / 0, 1)


_KEYS = textwrap.dedent(
    """
    import hashlib

    def salted(reading_id):
        return str(hash(reading_id))

    def stable(reading_id):
        return hashlib.sha256(reading_id.encode()).hexdigest()

    def unsolved(reading_id):
        raise NotImplementedError("Exercise T.6")
    """
)


@pytest.fixture
def keys_module(tmp_path):
    module = tmp_path / "keys.py"
    module.write_text(_KEYS)
    return module


def test_a_key_from_salted_hash_differs_in_another_process(keys_module):
    first = in_another_process(keys_module, "salted", ["r-1"], hash_seed=1)
    second = in_another_process(keys_module, "salted", ["r-1"], hash_seed=2)
    assert first != second


def test_a_stable_key_is_the_same_in_another_process(keys_module):
    expected = hashlib.sha256(b"r-1").hexdigest()
    assert in_another_process(keys_module, "stable", ["r-1"], hash_seed=1) == expected
    assert in_another_process(keys_module, "stable", ["r-1"], hash_seed=2) == expected


def test_a_stub_in_another_process_is_not_solved(keys_module):
    with pytest.raises(ExerciseNotSolved, match="Exercise T.6"):
        in_another_process(keys_module, "unsolved", ["r-1"], hash_seed=1)


def test_a_module_that_does_not_import_on_its_own_fails_with_a_hint(tmp_path):
    module = tmp_path / "broken.py"
    module.write_text("def key(reading_id):\n    return notebook_helper(reading_id)\n")
    with pytest.raises(ExerciseCheckFailed, match="NameError(.|\n)*Hint: the file must work on its own"):
        in_another_process(module, "key", ["r-1"], hash_seed=1)


def _dated_key(reading_id):
    return f"{reading_id}#{date.today().isoformat()}"


def _plain_key(reading_id):
    return f"reading#{reading_id}"


def test_a_key_with_a_date_in_it_differs_on_another_date():
    assert on_another_date(_dated_key, "r-1") != _dated_key("r-1")
    assert on_another_date(_dated_key, "r-1", days=1) != _dated_key("r-1")


def test_a_key_without_a_date_is_the_same_on_another_date():
    assert on_another_date(_plain_key, "r-1") == _plain_key("r-1")
