"""Run solution notebooks many times under nbval, optionally with every core busy, and tabulate what failed.

    python tools/soak.py [NN ...] [--runs 5] [--load] [--jobs 1]      (`make soak NB="05 08" N=5 LOAD=1`)

A lesson's outcome (its verdicts, counts, diagnoses) must not depend on how fast the laptop is or what else it
runs. One nbval run of a notebook proves little; this runs each chosen notebook ``--runs`` times, each run one
pytest session (`pytest solutions/NN-x.ipynb --nbval`, the way `make test` runs it), and prints per notebook:
runs, failures, the cells that failed (nbval's "Cell N": the N-th code cell, with its first line) and the wall
time of a run (min / median / max).

``--load`` keeps every core busy for the whole soak (tools/cpu_load.py: one busy process per core, stopped when the
soak ends, however it ends). ``--jobs 2`` runs two notebooks at once, as `make test` does; runs of the same
notebook never overlap (they share LocalStack resource names). LocalStack must be up: `make soak` starts it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from cpu_load import CpuLoad

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
CELL_TIMEOUT_S = 180  # as tools/run_tests.sh
FIRST_LINE = 48  # characters of a failed cell's first line shown in the table
LOGS = ROOT / ".state" / "soak"  # pytest's output of each failed run
RUNNING: set[subprocess.Popen] = set()  # the pytest runs under way, stopped if the soak is interrupted


@dataclass
class Run:
    notebook: Path
    seconds: float
    failed_cells: list[str] = field(default_factory=list)  # "Cell N: first line", or what broke the run
    ok: bool = True
    log: Path | None = None  # pytest's output, kept when the run failed


def choose(selectors: list[str]) -> list[Path]:
    """Notebooks by number ("08"), name or path; none: every solution notebook."""
    every = sorted(SOLUTIONS.glob("*.ipynb"))
    if not selectors:
        return every
    chosen = []
    for selector in selectors:
        if selector.isdigit():
            matches = [path for path in every if path.name.startswith(selector.zfill(2) + "-")]
        else:
            matches = [path for path in every if path.name == Path(selector).name]
        if len(matches) != 1:
            raise SystemExit(
                f"error: {selector!r} names {len(matches)} notebooks in {SOLUTIONS.relative_to(ROOT)}/; "
                "give a lesson number (08) or a file name"
            )
        chosen.append(matches[0])
    return chosen


def first_lines(notebook: Path) -> list[str]:
    """The first line of each code cell, in nbval's numbering (code cells only, from 0)."""
    cells = nbformat.read(notebook, as_version=4).cells
    lines = [(cell.source.strip().splitlines() or [""])[0] for cell in cells if cell.cell_type == "code"]
    return [line if len(line) <= FIRST_LINE else line[: FIRST_LINE - 1] + "…" for line in lines]


def failed_cells(report: Path, notebook: Path) -> list[str]:
    lines = first_lines(notebook)
    failed = []
    for case in ElementTree.parse(report).iter("testcase"):
        if case.find("failure") is None and case.find("error") is None:
            continue
        name = case.get("name", "?")
        number = name.removeprefix("Cell ")
        first = lines[int(number)] if number.isdigit() and int(number) < len(lines) else ""
        failed.append(f"{name}: {first}" if first else name)
    return failed


def run_once(notebook: Path) -> Run:
    with tempfile.TemporaryDirectory(prefix="soak-") as scratch:
        report = Path(scratch) / "report.xml"
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(notebook.relative_to(ROOT)),
            "--nbval",
            "--nbval-current-env",
            "--nbval-sanitize-with",
            "tests/nbval_sanitize.cfg",
            "--nbval-cell-timeout",
            str(CELL_TIMEOUT_S),
            f"--junitxml={report}",
        ]
        started = time.monotonic()
        with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as pytest:
            RUNNING.add(pytest)
            output, _ = pytest.communicate()
            RUNNING.discard(pytest)
        seconds = time.monotonic() - started
        if pytest.returncode == 0:
            return Run(notebook, seconds)
        cells = failed_cells(report, notebook) if report.exists() else []
        if not cells:
            tail = output.strip().splitlines()[-1:] or ["no output"]
            cells = [f"pytest exit {pytest.returncode}: {tail[0][:100]}"]
        LOGS.mkdir(parents=True, exist_ok=True)
        log = LOGS / f"{notebook.stem}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{threading.get_ident()}.log"
        log.write_text(output)
        return Run(notebook, seconds, cells, ok=False, log=log)


def soak(notebooks: list[Path], runs: int, jobs: int, progress=print) -> list[Run]:
    """Runs every notebook ``runs`` times, round by round, ``jobs`` at once, never one notebook twice at once."""
    pending = [notebook for _ in range(runs) for notebook in notebooks]
    busy: set[Path] = set()
    done: list[Run] = []
    lock = threading.Condition()

    def worker():
        while True:
            with lock:
                while pending and all(notebook in busy for notebook in pending):
                    lock.wait()
                if not pending:
                    return
                notebook = next(notebook for notebook in pending if notebook not in busy)
                pending.remove(notebook)
                busy.add(notebook)
            run = run_once(notebook)
            with lock:
                busy.discard(notebook)
                done.append(run)
                progress(
                    f"[{len(done)}/{runs * len(notebooks)}] {notebook.name}: "
                    f"{'ok' if run.ok else 'FAILED ' + '; '.join(run.failed_cells)} ({run.seconds:.0f} s)"
                    + (f", output in {run.log.relative_to(ROOT)}" if run.log else "")
                )
                lock.notify_all()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done


def table(runs: list[Run], notebooks: list[Path]) -> str:
    rows = [("notebook", "runs", "failures", "failed cells (times)", "wall s min / median / max")]
    for notebook in notebooks:
        mine = [run for run in runs if run.notebook == notebook]
        if not mine:
            continue
        counts: dict[str, int] = {}
        for run in mine:
            for cell in run.failed_cells:
                counts[cell] = counts.get(cell, 0) + 1
        seconds = [run.seconds for run in mine]
        rows.append(
            (
                notebook.stem,
                str(len(mine)),
                str(sum(not run.ok for run in mine)),
                "; ".join(f"{cell} ({count})" for cell, count in counts.items()) or "-",
                f"{min(seconds):.0f} / {statistics.median(seconds):.0f} / {max(seconds):.0f}",
            )
        )
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("---" for _ in rows[0]) + "|")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="lesson numbers or file names (default: every solution)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each notebook (default 5)")
    parser.add_argument("--load", action="store_true", help="keep every core busy while the notebooks run")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks run at once (default 1)")
    args = parser.parse_args(argv)
    notebooks = choose([word for selector in args.notebooks for word in selector.split()])

    # SIGTERM ends the soak like Ctrl-C does: through the `with` below, which stops the load.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    load = f"{os.cpu_count()} busy processes (one per core)" if args.load else "no added load"
    print(f"soak: {len(notebooks)} notebook(s) x {args.runs} runs, {args.jobs} at once, {load}", flush=True)
    started = time.monotonic()
    try:
        with CpuLoad() if args.load else contextlib.nullcontext():
            runs = soak(notebooks, args.runs, args.jobs, progress=lambda line: print(line, flush=True))
    finally:
        for pytest in list(RUNNING):
            pytest.terminate()
    print(f"\nsoak finished in {(time.monotonic() - started) / 60:.1f} min, {load}, {args.jobs} at once:\n")
    print(table(runs, notebooks))
    return 0 if all(run.ok for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
