"""How checks try a learner's function on more than the statement's examples.

- ``property_cases`` draws cases from the exercise's spec with Hypothesis, the spec's boundary values first,
  and shows the learner the smallest failing case with the check's hint (never Hypothesis' own report).
- ``unchanged`` calls a function and fails if it changed its arguments in place (checks used to pass copies,
  which hid it; a Lambda handler that edits its event breaks every later step that reads it).
- ``in_another_process`` and ``on_another_date`` give a key function a second run in another interpreter
  (another ``hash()`` salt, as a new Lambda execution environment has) and on another day.
"""

from __future__ import annotations

import copy
import json
import math
import os
import subprocess
import sys
import textwrap
import zlib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kinesis_course.checks import ExerciseCheckFailed, ExerciseNotSolved, call_exercise

DEFAULT_MAX_EXAMPLES = 60
DEFAULT_MUTATION_HINT = (
    "Do not change the value you are given: build a new one and return it (e.g. `{**reading, 'unit': 'C'}` or "
    "`dict(reading)`), so the caller still has the original."
)


def _seed_for(label: str) -> int:
    # Derived from the label, not from hash(): the same check draws the same cases in every run and process.
    return zlib.crc32(label.encode())


def _with_case(error: ExerciseCheckFailed, case: Any, seed: int | None) -> ExerciseCheckFailed:
    """The check's message with the failing case inserted before its hint."""
    message = str(error)
    where = f"The case that fails: {case!r}" + (f" (drawn with seed {seed})" if seed is not None else "")
    head, separator, hint = message.partition("\nHint:")
    return ExerciseCheckFailed(f"{head}\n{where}{separator}{hint}" if separator else f"{message}\n{where}")


def _raise_from(new: ExerciseCheckFailed, original: BaseException):
    # Keep the learner's own exception as the cause (the notebook shows where their code raised it), but no
    # Hypothesis frames, notes or context.
    cause = original.__cause__
    if cause is not None:
        raise new from cause
    raise new from None


def property_cases(
    label: str,
    strategy,
    check_one: Callable[[Any], None],
    *,
    examples: Iterable[Any] = (),
    max_examples: int = DEFAULT_MAX_EXAMPLES,
    seed: int | None = None,
) -> int:
    """Runs ``check_one`` on every boundary example, then on cases drawn from ``strategy``; returns the count.

    ``check_one(case)`` raises ExerciseCheckFailed for a wrong answer. The first failing boundary example is
    reported as it is; a drawn case is shrunk by Hypothesis to the smallest that still fails. The draw is
    seeded (from the label unless ``seed`` is given), so a failure comes back the same on every run.
    """
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis.errors import Flaky

    tried = 0
    for example in examples:
        tried += 1
        try:
            check_one(example)
        except ExerciseCheckFailed as error:
            _raise_from(_with_case(error, example, None), error)

    seed = _seed_for(label) if seed is None else seed
    failing: list[Any] = []
    not_solved: list[ExerciseNotSolved] = []

    @hypothesis_seed(seed)
    @settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        phases=(Phase.generate, Phase.shrink),
        report_multiple_bugs=False,
        print_blob=False,
    )
    @given(strategy)
    def run(case):
        nonlocal tried
        tried += 1
        try:
            check_one(case)
        except ExerciseNotSolved as error:
            not_solved.append(error)
            raise
        except ExerciseCheckFailed:
            failing.append(case)
            raise
        except Exception as error:
            failing.append(case)
            raise ExerciseCheckFailed(
                f"{label}: raised {type(error).__name__}: {error}\n"
                "Hint: for this input the exercise expects a result (or the error its statement names), "
                "not this exception; read the statement again for this kind of value."
            ) from error

    try:
        run()
    except ExerciseNotSolved:
        raise not_solved[0] from None
    except ExerciseCheckFailed as error:
        # Hypothesis replays the smallest failing case last, so that is the case this error belongs to.
        _raise_from(_with_case(error, failing[-1], seed), error)
    except Flaky:
        raise ExerciseCheckFailed(
            f"{label}: your function gave different answers for the same input "
            f"(the case {failing[-1] if failing else '?'!r} failed once and passed when run again).\n"
            "Hint: the result must depend only on the arguments: no clock, random numbers, or state kept between calls."
        ) from None
    return tried


def _same(before: Any, after: Any) -> bool:
    """Equality that also says whether anything changed type or order (NaN equals NaN here)."""
    if type(before) is not type(after):
        return False
    if isinstance(before, dict):
        return list(before) == list(after) and all(_same(before[key], after[key]) for key in before)
    if isinstance(before, list | tuple):
        return len(before) == len(after) and all(_same(a, b) for a, b in zip(before, after, strict=True))
    if isinstance(before, float) and math.isnan(before):
        return math.isnan(after)
    try:
        return bool(before == after)
    except Exception:
        return before is after


def _changes(before: Any, after: Any, path: str = "") -> list[str]:
    """Where ``after`` differs from ``before``, as 'path: before -> after' lines."""
    if isinstance(before, dict) and isinstance(after, dict):
        found = [f"{path}[{key!r}]: removed" for key in before if key not in after]
        found += [f"{path}[{key!r}]: added {after[key]!r}" for key in after if key not in before]
        for key in before:
            if key in after:
                found += _changes(before[key], after[key], f"{path}[{key!r}]")
        if not found and list(before) != list(after):
            found.append(f"{path}: keys reordered")
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [line for index, (a, b) in enumerate(zip(before, after)) for line in _changes(a, b, f"{path}[{index}]")]
    return [] if _same(before, after) else [f"{path or 'the value'}: {before!r:.120} -> {after!r:.120}"]


def unchanged(label: str, function: Callable, *args, hint: str = DEFAULT_MUTATION_HINT) -> Any:
    """Calls ``function(*args)`` and fails if it changed any argument in place; returns its result.

    The learner's function gets the very objects passed here (a deep copy is kept to compare with), so a
    change made in place is seen. An exception from the function is re-raised, after the same comparison.
    """
    before = copy.deepcopy(args)
    raised: BaseException | None = None
    try:
        result = call_exercise(label, function, *args)
    except ExerciseNotSolved:
        raise
    except Exception as error:
        raised = error
    for position, (original, now) in enumerate(zip(before, args, strict=True)):
        if not _same(original, now):
            name = getattr(function, "__name__", "your function")
            which = f"argument {position + 1}" if len(args) > 1 else "its argument"
            changes = _changes(original, now)
            shown = "\n".join(f"  {line}" for line in changes[:5]) + ("\n  ..." if len(changes) > 5 else "")
            failure = ExerciseCheckFailed(f"{label}: {name}(...) changed {which} in place:\n{shown}\nHint: {hint}")
            if raised is not None:
                raise failure from raised
            raise failure
    if raised is not None:
        raise raised
    return result


def answer_of(
    label: str, case: str, function: Callable, *args, keep_hint: str, when_raised: Callable[[Exception], str]
) -> Any:
    """The learner's answer for a case that must not raise: ``unchanged``'s result, or a failed check whose text
    (after "case: ") ``when_raised(error)`` writes, with the learner's exception as its cause."""
    try:
        return unchanged(label, function, *args, hint=keep_hint)
    except (ExerciseNotSolved, ExerciseCheckFailed):
        raise
    except Exception as error:
        raise ExerciseCheckFailed(f"{case}: {when_raised(error)}") from error


_CHILD = textwrap.dedent(
    """
    import importlib.util, json, sys
    path, name, args = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    sys.path.insert(0, str(__import__("pathlib").Path(path).resolve().parent))
    spec = importlib.util.spec_from_file_location(__import__("pathlib").Path(path).stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        result = getattr(module, name)(*args)
    except NotImplementedError as error:
        print(error, file=sys.stderr)
        sys.exit(3)
    print(json.dumps(result))
    """
)


def in_another_process(
    module_path: str | os.PathLike,
    function_name: str,
    args: list | tuple,
    *,
    hash_seed: int,
    label: str = "This check",
    timeout: float = 60,
) -> Any:
    """``function_name(*args)`` from the module file at ``module_path``, run in a fresh interpreter.

    The interpreter has PYTHONHASHSEED=hash_seed (``hash()`` of a str differs between processes, as between
    two Lambda execution environments) and the module's folder on sys.path, as Lambda has it. Arguments and
    result travel as JSON.
    """
    module_path = Path(module_path)
    environment = {**os.environ, "PYTHONHASHSEED": str(hash_seed)}
    environment.pop("PYTHONPATH", None)
    finished = subprocess.run(
        [sys.executable, "-c", _CHILD, str(module_path), function_name, json.dumps(list(args))],
        capture_output=True,
        text=True,
        env=environment,
        cwd=module_path.parent,
        timeout=timeout,
        check=False,
    )
    if finished.returncode == 3:
        raise ExerciseNotSolved(
            f"{label}: {function_name} in {module_path.name} still raises NotImplementedError "
            f"({finished.stderr.strip()}). Write the exercise, run its cell (it writes the file), then this check."
        )
    if finished.returncode != 0:
        last_lines = "\n".join(finished.stderr.strip().splitlines()[-6:])
        raise ExerciseCheckFailed(
            f"{label}: {module_path.name} run on its own (a fresh Python, as Lambda runs it) failed in "
            f"{function_name}{tuple(args)!r}:\n{last_lines}\n"
            "Hint: the file must work on its own: import what it uses at its top, and use only the module's "
            "own folder and installed packages (not names defined in the notebook)."
        )
    return json.loads(finished.stdout)


def on_another_date(function: Callable, *args, days: float = 400) -> Any:
    """``function(*args)`` with the clock moved ``days`` ahead (another day, month and year by default)."""
    import time_machine

    with time_machine.travel(datetime.now(UTC) + timedelta(days=days), tick=True):
        return function(*args)
