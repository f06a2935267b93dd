"""`make site` (tools/build_site.py): the course as a static web site, built offline, every link and picture there."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

import build_site  # tools/, on pytest's pythonpath (pyproject.toml)

ROOT = Path(__file__).resolve().parents[3]
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]-*.ipynb"))


class Page(HTMLParser):
    """What a built page refers to (links, pictures, scripts, styles), its ids and its folded answers."""

    def __init__(self):
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.ids: set[str] = set()
        self.details: list[dict] = []  # {"open": bool, "summary": str}
        self._summary: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for attribute in ("href", "src"):
            if attrs.get(attribute):
                self.refs.append((tag, attribute, attrs[attribute]))
        if tag == "details":
            self.details.append({"open": "open" in attrs, "summary": ""})
        if tag == "summary" and self.details:
            self._summary = self.details[-1]

    def handle_endtag(self, tag):
        if tag == "summary":
            self._summary = None

    def handle_data(self, data):
        if self._summary is not None:
            self._summary["summary"] += data


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return build_site.build(tmp_path_factory.mktemp("site"))


def test_every_lesson_glossary_cheat_sheet_and_guide_has_a_page(site):
    for notebook in SOLUTIONS:
        page = site / "lessons" / f"{notebook.stem}.html"
        assert page.is_file(), f"no page for solutions/{notebook.name}"
        title = nbformat.read(notebook, as_version=4).cells[0].source.split("\n")[0].lstrip("# ").strip()
        assert title.split(" · ")[-1] in page.read_text(encoding="utf-8"), f"{page.name} lacks its title {title!r}"
    for name in ("docs/glossary.html", "docs/esm-parameters.html", "docs/instructor-guide.html"):
        assert (site / name).is_file(), f"no page {name}"
    landing = re.sub(r"<[^>]+>", "", (site / "index.html").read_text(encoding="utf-8"))  # the text a reader sees
    assert "make lab" in landing and "make test" in landing, "the landing page lacks the two commands"


def test_every_internal_link_and_picture_resolves(site):
    broken = []
    pages = sorted(site.rglob("*.html"))
    parsed = {path: parse(path) for path in pages}
    for path, page in parsed.items():
        for tag, attribute, value in page.refs:
            url = urlsplit(value)
            if url.scheme in ("http", "https", "mailto"):
                # A reader offline (a workshop room) must still get every style, script and picture.
                if tag != "a":
                    broken.append(f"{path.relative_to(site)}: <{tag} {attribute}> from the internet: {value}")
                continue
            if url.scheme == "data" or not (url.path or url.fragment):
                continue
            target = (path.parent / unquote(url.path)).resolve() if url.path else path
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{path.relative_to(site)}: {value} (no such file)")
            elif url.fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else parse(target).ids
                if unquote(url.fragment) not in ids:
                    broken.append(f"{path.relative_to(site)}: {value} (no #{url.fragment} in {target.name})")
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("notebook", SOLUTIONS, ids=lambda path: path.stem[:2])
def test_each_lesson_page_shows_its_stored_plots_and_folds_every_answer(site, notebook):
    solution = nbformat.read(notebook, as_version=4)
    page_path = site / "lessons" / f"{notebook.stem}.html"
    page = parse(page_path)
    text = page_path.read_text(encoding="utf-8")

    plots = sum("image/png" in output.get("data", {}) for cell in solution.cells for output in cell.get("outputs", []))
    pictures = [value for tag, _, value in page.refs if tag == "img" and "_images/" in value]
    assert len(pictures) >= plots, f"{notebook.name} stores {plots} plots, its page shows {len(pictures)}"

    exercises = [
        label for cell in solution.cells if cell.cell_type == "code" for label in build_site.answer_labels(cell.source)
    ]
    folded = " ".join(d["summary"] for d in page.details if not d["open"])
    unfolded = [label for label in exercises if f"{label}" not in folded]
    assert not unfolded, f"{notebook.name}: answers not folded away on the site: {unfolded}"
    assert not any(d["open"] for d in page.details), f"{notebook.name}: an answer is open when the page loads"
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text, "solution markers reached the page"
    assert "ci-only" not in text


def test_a_broken_link_fails_the_build_and_names_the_page(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "conf.py").write_text((ROOT / "site" / "conf.py").read_text())
    (tmp_path / "src" / "index.md").write_text("# Home\n\nSee [the glossary](docs/glossary.md#shard).\n")
    with pytest.raises(build_site.SiteError, match=r"index\.md.*docs/glossary\.md"):
        build_site.sphinx_build(tmp_path / "src", tmp_path / "html")


def test_answers_are_folded_with_the_exercise_they_answer():
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "def shard_of(record):\n    # BEGIN SOLUTION: Exercise 01.2\n"
                "    return record['eventID'].split(':')[0]\n    # END SOLUTION"
            ),
            nbformat.v4.new_code_cell("assert True", metadata={"tags": ["ci-only"]}),
            nbformat.v4.new_code_cell("print('shown as it is')"),
        ]
    )
    page = build_site.site_notebook(notebook)
    assert len(page.cells) == 2, "a ci-only cell reached the site"
    answer, plain = page.cells
    assert answer.metadata["tags"] == ["hide-input"]
    assert answer.metadata["mystnb"]["code_prompt_show"] == "Show the answer (Exercise 01.2)"
    assert "SOLUTION" not in answer.source and "split(':')[0]" in answer.source
    assert "tags" not in plain.metadata and plain.source == "print('shown as it is')"
    assert "# BEGIN SOLUTION" in notebook.cells[0].source, "the input notebook was changed"


def test_the_courses_prediction_is_folded_so_a_reader_predicts_first():
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("bisection_invocations = 9  # PREDICT: a whole number"),
            nbformat.v4.new_code_cell("observed = 9  # not a prediction"),
        ]
    )
    prediction, plain = build_site.site_notebook(notebook).cells
    assert prediction.metadata["tags"] == ["hide-input"]
    assert prediction.metadata["mystnb"]["code_prompt_show"] == "Show the course's prediction"
    assert prediction.source == "bisection_invocations = 9  # PREDICT: a whole number"
    assert "tags" not in plain.metadata
