"""Run solution notebooks top to bottom and store their outputs in place.

    python tools/run_solutions.py [solutions/NN-name.ipynb ...]     (default: every solutions/*.ipynb)

The outputs stored in solutions/ are what nbval compares a fresh run against (tools/run_tests.sh), so
they must come from a real, complete run against the course's LocalStack, not from a maintainer's
half-executed Jupyter session. Use `make solutions-outputs`, which starts LocalStack if needed.

A notebook that fails is left untouched on disk (its previous outputs stay) and the script exits 1
after trying the others.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from kinesis_course.endpoint import LocalStackNotRunning, health

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
# jupyter_client starts the "python3" kernel with the interpreter running this script: run it with
# .venv/course/bin/python (the Makefile does) so notebooks see the course's packages.
KERNEL = "python3"
CELL_TIMEOUT_S = 180


def require_localstack() -> None:
    try:
        health()
    except LocalStackNotRunning as error:
        sys.exit(f"error: {error}\nOr run `make solutions-outputs`, which starts it for the run.")


def run_in_place(path: Path) -> None:
    notebook = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    client = NotebookClient(
        notebook,
        kernel_name=KERNEL,
        timeout=CELL_TIMEOUT_S,
        # Relative paths in the notebook (e.g. %%writefile build/handler.py) resolve as in Jupyter.
        resources={"metadata": {"path": str(path.parent)}},
        # No per-cell timestamps in the metadata: re-running must not change cells that did not change.
        record_timing=False,
    )
    client.execute()
    nbformat.write(notebook, path)


def resolve(name: str) -> Path:
    """A notebook named by its path, or by its number or the start of its name in solutions/ (08, 08-diagnosing)."""
    if Path(name).is_file():
        return Path(name)
    found = sorted(SOLUTIONS.glob(f"{name}*.ipynb"))
    return found[0] if len(found) == 1 else Path(name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "notebooks", nargs="*", help="paths, or numbers as make soak takes them (08); default: every solutions/*.ipynb"
    )
    args = parser.parse_args(argv)
    notebooks = [resolve(name) for name in args.notebooks] or sorted(SOLUTIONS.glob("*.ipynb"))
    if not notebooks:
        print(f"no notebooks to run in {SOLUTIONS}")
        return 0
    missing = [str(path) for path in notebooks if not path.is_file()]
    if missing:
        sys.exit(f"error: no such notebook: {', '.join(missing)}")
    require_localstack()

    failed = []
    for path in notebooks:
        started = time.monotonic()
        try:
            run_in_place(path)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
            failed.append(path)
            elapsed = time.monotonic() - started
            print(f"FAILED {path} after {elapsed:.1f} s, its stored outputs are unchanged:\n{error}\n", flush=True)
            continue
        print(f"ran {path} in {time.monotonic() - started:.1f} s", flush=True)
    if failed:
        print(f"{len(failed)} of {len(notebooks)} notebooks failed: {', '.join(map(str, failed))}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
