"""What the mutation tests of the checks share: a wrong answer must be rejected with a hint naming the mistake.

Each tests/course/test_wrong_answers_NN.py feeds plausible wrong answers (the mistakes learners make) to a
lesson's checks and asserts, with ``assert_rejected``, that the check raises ExerciseCheckFailed and that its
message (what was expected, what came back, the hint) mentions the words that name that mistake.
"""

from __future__ import annotations

import pytest

from kinesis_course.checks import ExerciseCheckFailed


def assert_rejected(run_check, *mentions: str) -> str:
    """Runs ``run_check()``; it must raise ExerciseCheckFailed with a hint that mentions every word in ``mentions``."""
    with pytest.raises(ExerciseCheckFailed) as raised:
        run_check()
    message = str(raised.value)
    assert "Hint:" in message, f"the check rejected the answer but gave no hint:\n{message}"
    missing = [word for word in mentions if word.lower() not in message.lower()]
    assert not missing, f"the check's message does not name the mistake (missing {missing}):\n{message}"
    return message
