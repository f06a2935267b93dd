"""Your handler, carried and kept: which files of the handler a lesson starts from, the learner's or the course's.

A lesson's handler files stay in its build folder (``build/<lessons|solutions>/NN/``): ``Lesson.reset()``
deletes AWS resources, never code. When a check of an exercise that lives in a handler file passes, the pass is
recorded with the SHA-256 of that file at that moment, in ``build/<lessons|solutions>/.progress/NN.json`` (one
small file per lesson, replaced atomically). ``Lesson("NN").start()`` then fills lesson NN's build folder file by
file, from the lesson that last wrote each file (kinesis_course/handler_steps):

* the learner's file, when every exercise in it passed with the file as it is now (a file a lesson gives whole,
  with no exercise in it: the learner's, once the lesson's cell has written it);
* the course's, otherwise, or when the learner switched to it with ``lesson.use_course_handler()``;

and prints one line per file saying which, and why. It never overwrites a file it did not put there itself: a
file the learner changed is left in place (said so), and a file this lesson writes again is first kept aside,
renamed ``NAME.yours-YYYYmmdd-HHMMSS.py``. Reading a file and comparing its hash with the recorded one happen on
the same bytes, so a lesson started while another one writes its files copies no half-written file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from . import handler_steps

YOURS, COURSE = "yours", "the course's"
_current = None  # the Lesson started last in this kernel: the checks record their passes for it


def started(lesson) -> None:
    """Called by Lesson.start(): the checks run from now on belong to this lesson."""
    global _current
    _current = lesson


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


# The progress file of one lesson -----------------------------------------------------------------------------


def progress_file(tree: Path, number: str) -> Path:
    return tree / ".progress" / f"{number}.json"


def read_progress(tree: Path, number: str) -> dict:
    """{"passed": {label: {file: sha256}}, "carried": {file: {...}}, "switched": {file: sha256}}; {} if none yet."""
    try:
        return json.loads(progress_file(tree, number).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _update_progress(tree: Path, number: str, change) -> None:
    progress = read_progress(tree, number)
    change(progress)
    path = progress_file(tree, number)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole to a temporary file, then renamed over the old one: a reader never sees half of it.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{number}-", suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        json.dump(progress, file, indent=1, sort_keys=True)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)


def record_pass(label: str) -> None:
    """Records that ``label`` ("Exercise NN.M") passed, with the hash of each handler file it lives in, for the
    lesson started in this kernel. Exercises outside handler files (mappings, helpers) record nothing."""
    lesson = _current
    if lesson is None or not label.startswith(f"Exercise {lesson.number}."):
        return
    files = [name for name, labels in handler_steps.exercises_in(lesson.number).items() if label in labels]
    folder = lesson.folder / lesson.build_dir
    hashes = {name: digest(data) for name in files if (data := _read(folder / name)) is not None}
    if hashes:
        _update_progress(
            folder.parent, lesson.number, lambda progress: progress.setdefault("passed", {}).update({label: hashes})
        )


# What a lesson starts from -------------------------------------------------------------------------------------


@dataclass
class Choice:
    name: str
    origin: str  # the lesson that last wrote the file, in the course
    whose: str  # YOURS or COURSE
    data: bytes
    why: str

    def line(self) -> str:
        return f"{self.whose}, from lesson {self.origin} ({self.why})"


def _labels(labels: list[str]) -> str:
    numbers = [label.removeprefix("Exercise ") for label in labels]
    return "Exercise " + (numbers[0] if len(numbers) == 1 else ", ".join(numbers[:-1]) + " and " + numbers[-1])


def choose(tree: Path, number: str, name: str, origin: str, course_path: Path) -> Choice:
    """Which ``name`` lesson ``number`` starts from: the learner's (from lesson ``origin``'s folder) or the course's."""
    course = course_path.read_bytes()
    # A switch to the course's version holds in the lesson that made it and after, while that file is unchanged.
    for later in sorted((n for n in _started_lessons(tree) if origin < n <= number), reverse=True):
        switched = read_progress(tree, later).get("switched", {}).get(name)
        if switched and digest(_read(tree / later / name) or b"") == switched:
            where = "in this lesson" if later == number else f"in lesson {later}"
            return Choice(name, origin, COURSE, course, f"you switched to it {where}")
    data = _read(tree / origin / name)  # read once: the hash compared is that of the bytes copied
    labels = handler_steps.exercises_in(origin).get(name, [])
    progress = read_progress(tree, origin)
    if not labels:
        copied = progress.get("carried", {}).get(name, {})
        if not data or (copied.get("by_kit") and copied.get("sha256") == digest(data)):
            return Choice(name, origin, COURSE, course, f"lesson {origin}'s cell that writes {name} has not run yet")
        return Choice(name, origin, YOURS, data, "it holds no exercise: taken as you left it")
    passed = progress.get("passed", {})
    missing = [label for label in labels if label not in passed]
    if missing:
        return Choice(name, origin, COURSE, course, f"{_labels(missing)} not passed yet in lesson {origin}")
    if not data:
        return Choice(name, origin, COURSE, course, f"your {name} is no longer in lesson {origin}'s folder")
    stale = [label for label in labels if passed[label].get(name) != digest(data)]
    if stale:
        return Choice(
            name,
            origin,
            COURSE,
            course,
            f"{name} changed after {_labels(stale)} passed: run the check again in lesson {origin}",
        )
    return Choice(name, origin, YOURS, data, f"{_labels(labels)} passed")


def _started_lessons(tree: Path) -> list[str]:
    return [path.stem for path in (tree / ".progress").glob("*.json") if path.stem.isdigit()]


def _keep_aside(path: Path) -> Path:
    """Renames a learner's file to NAME.yours-YYYYmmdd-HHMMSS.py beside it, unless an identical copy is kept
    there already; returns where the learner's text now is."""
    data = path.read_bytes()
    for kept in sorted(path.parent.glob(f"{path.stem}.yours-*{path.suffix}")):
        if _read(kept) == data:
            path.unlink()
            return kept
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target, counter = path.with_name(f"{path.stem}.yours-{stamp}{path.suffix}"), 1
    while target.exists():
        counter += 1
        target = path.with_name(f"{path.stem}.yours-{stamp}-{counter}{path.suffix}")
    path.rename(target)
    return target


def _write(path: Path, data: bytes) -> None:
    """Writes a handler file whole, then renames it into place: a lesson starting meanwhile never reads half of it."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    with os.fdopen(handle, "wb") as file:
        file.write(data)
    os.chmod(temporary, 0o644)  # as an ordinary file: mkstemp's 0600 would travel into the function's zip
    os.replace(temporary, path)


def carry(lesson) -> list[tuple[str, str]]:
    """Fills the lesson's build folder with the handler the lessons before it built; returns (file, what it did)."""
    folder = lesson.folder / lesson.build_dir
    tree, number = folder.parent, lesson.number
    folder.mkdir(parents=True, exist_ok=True)
    before = read_progress(tree, number).get("carried", {})
    written_here = handler_steps.files_of(number)
    carried, lines = {}, []
    for name, (origin, course_path) in sorted(handler_steps.handler_before(number).items()):
        choice = choose(tree, number, name, origin, course_path)
        destination = folder / name
        present = _read(destination)
        kit_copy = (
            present is not None and before.get(name, {}).get("by_kit") and before[name].get("sha256") == digest(present)
        )
        line = choice.line()
        if present is not None and present != choice.data and not kit_copy:
            if name in written_here:
                # This lesson writes the file again later: it must start from the carried one, so the learner's
                # version (most likely this lesson's, from an earlier run) goes aside, never lost.
                line += f"; your earlier one is kept as {_keep_aside(destination).name}"
            else:
                carried[name] = {"whose": YOURS, "from": origin, "sha256": digest(present), "by_kit": False}
                lines.append(
                    (
                        name,
                        f"kept yours, already in {lesson.build_dir.as_posix()}/ (the kit would have "
                        f"copied {choice.whose} from lesson {origin})",
                    )
                )
                continue
        if present != choice.data:
            _write(destination, choice.data)
        carried[name] = {"whose": choice.whose, "from": origin, "sha256": digest(choice.data), "by_kit": True}
        lines.append((name, line))
    _update_progress(tree, number, lambda progress: progress.update(carried=carried))
    return lines


def whose_files(lesson) -> dict[str, str]:
    """{carried file: YOURS or COURSE}, as start() (or use_course_handler) left this lesson's build folder."""
    folder = lesson.folder / lesson.build_dir
    carried = read_progress(folder.parent, lesson.number).get("carried", {})
    return {name: record["whose"] for name, record in carried.items()}


def use_course_handler(lesson, names: tuple[str, ...]) -> list[tuple[str, str]]:
    """Puts the course's version of the given carried files (all if none) into the lesson's build folder; the
    learner's copy is kept beside it, renamed. Returns (file, what it did) per file."""
    before = handler_steps.handler_before(lesson.number)
    unknown = sorted(set(names) - set(before))
    if unknown:
        carried = ", ".join(sorted(before)) or "none: this lesson starts the handler"
        raise ValueError(
            f"{', '.join(unknown)}: not a file this lesson starts from. The files carried into lesson "
            f"{lesson.number} are: {carried}."
        )
    folder = lesson.folder / lesson.build_dir
    folder.mkdir(parents=True, exist_ok=True)
    lines, updates = [], {}
    for name in names or sorted(before):
        origin, course_path = before[name]
        course = course_path.read_bytes()
        destination = folder / name
        present = _read(destination)
        kept = ""
        if present is not None and present != course:
            kept = f"; yours is kept beside it as {_keep_aside(destination).name}"
        _write(destination, course)
        updates[name] = {"whose": COURSE, "from": origin, "sha256": digest(course), "by_kit": True}
        lines.append((name, f"the course's, from lesson {origin}, is in {lesson.build_dir.as_posix()}/ now{kept}"))

    def switch(progress: dict) -> None:
        progress.setdefault("carried", {}).update(updates)
        progress.setdefault("switched", {}).update({name: record["sha256"] for name, record in updates.items()})

    _update_progress(folder.parent, lesson.number, switch)
    return lines


# Which carried file an error came from ------------------------------------------------------------------------


def carried_origin(error: BaseException) -> str:
    """A sentence naming the carried handler file (and the lesson it came from) in which ``error`` was raised, for
    the lesson started in this kernel; "" when the error comes from elsewhere (this lesson's own files, the kit)."""
    lesson = _current
    if lesson is None or error.__traceback__ is None:
        return ""
    folder = (lesson.folder / lesson.build_dir).resolve()
    carried = read_progress(folder.parent, lesson.number).get("carried", {})
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        path = Path(frame.filename).resolve()
        if path.parent != folder:
            continue
        record = carried.get(path.name)
        if record is None or digest(_read(path) or b"") != record["sha256"]:
            return ""  # the innermost frame in the build folder is this lesson's own code
        whose = "your own" if record["whose"] == YOURS else "the course's"
        sentence = (
            f"It was raised in {path.name} (line {frame.lineno}), {whose} from lesson {record['from']}, "
            f"carried into this lesson."
        )
        if record["whose"] == YOURS:
            sentence += (
                f" If your lesson {record['from']} code is the cause, `lesson.use_course_handler("
                f'"{path.name}")` puts the course\'s version here (yours is kept beside it, renamed); '
                "then run the cells that load the handler again."
            )
        return sentence
    return ""
