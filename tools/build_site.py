"""The course as a static web site, to read before installing anything (`make site`).

    make site                                  build/site/html/index.html
    python tools/build_site.py [--out DIR]

Sphinx with MyST-NB builds it from the repository, offline: the notebooks are not run, each lesson shows the
solution's stored outputs (recorded on LocalStack 4.14 with the course's extension, which the site says on every
page), and every exercise's answer cell (and the course's prediction before an experiment) is folded away behind "Show
the answer", so a reader can try first.
Why Sphinx and MyST-NB: both are packages the course environment installs, and neither fetches a theme or assets
while building (Jupyter Book 2's mystmd downloads its theme at build time, which fails without internet).

The sources are staged first (build/site/src): the solution notebooks, with the rules `make lessons` uses (cells
tagged `ci-only` dropped, solution markers removed, the answers kept but folded), the glossary, the cheat sheet,
the instructor guide, the capstone's template, and site/ (the landing page and Sphinx's configuration). Sphinx
runs with warnings as errors, so a broken link between pages fails the build and names the page.
"""

from __future__ import annotations

import argparse
import copy
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from make_lessons import BEGIN, CI_ONLY_TAG, PREDICTION, SOLUTION_ONLY_TAG, solved, strip_solutions

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "site"
# What the site shows, relative to the repository; the folders keep their names, so the links between
# notebooks and pages (../docs/glossary.md#shard) work on the site as they do in the repository.
PAGES = (
    "docs/glossary.md",
    "docs/esm-parameters.md",
    "docs/instructor-guide.md",
    "infra/README.md",
    "infra/capstone.yaml",
)
ANSWER_TAG = "hide-input"  # MyST-NB folds the cell's code; its stored output stays visible


class SiteError(Exception):
    """The site did not build: Sphinx's own message names the page and the problem."""


def answer_labels(source: str) -> list[str]:
    """The exercise labels of a code cell's `# BEGIN SOLUTION: Exercise NN.M` markers, in order."""
    return [match["rest"].strip().lstrip(":").strip() for match in map(BEGIN.match, source.split("\n")) if match]


def site_notebook(notebook: nbformat.NotebookNode, name: str = "<notebook>") -> nbformat.NotebookNode:
    """One solution notebook as the site shows it (the input is not modified)."""
    page = copy.deepcopy(notebook)
    cells = []
    for index, cell in enumerate(page.cells):
        tags = list(cell.get("metadata", {}).get("tags", []))
        if CI_ONLY_TAG in tags:
            continue
        if cell.cell_type == "code":
            strip_solutions(cell.source, f"{name}, cell {index}")  # the marker errors `make lessons` gives
            labels = answer_labels(cell.source)
            if labels or SOLUTION_ONLY_TAG in tags:
                cell.source = solved(cell.source)
                cell.metadata["tags"] = tags + [ANSWER_TAG]
                what = ", ".join(labels) or "the solution"
                cell.metadata["mystnb"] = {
                    "code_prompt_show": f"Show the answer ({what})",
                    "code_prompt_hide": f"Hide the answer ({what})",
                }
            elif any(PREDICTION.match(line) for line in cell.source.split("\n")):
                # A prediction is the reader's to make before the experiment: the course's is folded too.
                cell.metadata["tags"] = tags + [ANSWER_TAG]
                cell.metadata["mystnb"] = {
                    "code_prompt_show": "Show the course's prediction",
                    "code_prompt_hide": "Hide the course's prediction",
                }
        cells.append(cell)
    page.cells = cells
    return page


def stage(src: Path, root: Path = ROOT) -> None:
    """Write the site's sources into ``src`` (emptied first)."""
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(root / "site", src)
    for path in sorted((root / "solutions").glob("[0-9][0-9]-*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        target = src / "lessons" / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(site_notebook(notebook, f"solutions/{path.name}"), target)
    for page in PAGES:
        target = src / page
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / page, target)


def sphinx_build(src: Path, html: Path) -> None:
    """Sphinx's HTML build of ``src`` into ``html``; any warning (a broken link, a missing page) fails it."""
    shutil.rmtree(html, ignore_errors=True)
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-b",
        "html",
        "-W",
        "--keep-going",
        "-n",
        "-q",
        "-E",
        "-d",
        str(html.parent / "doctrees"),
        str(src),
        str(html),
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SiteError(
            f"Sphinx could not build the site (exit {done.returncode}):\n{(done.stderr or done.stdout).strip()}"
        )


def build(out: Path = OUT, root: Path = ROOT) -> Path:
    """Stage and build the site under ``out``; returns the folder holding index.html."""
    stage(out / "src", root)
    sphinx_build(out / "src", out / "html")
    return out / "html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="where to build (default: build/site)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        html = build(args.out.resolve())
    except SiteError as error:
        print(error, file=sys.stderr)
        return 1
    size = sum(path.stat().st_size for path in html.rglob("*") if path.is_file())
    print(f"The course site: {html / 'index.html'} ({size / 1e6:.1f} MB, built in {time.monotonic() - started:.0f} s).")
    print("Open it in a browser; it needs no server and nothing from the internet.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
