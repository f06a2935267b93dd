"""JupyterLab in a real browser: `make lab` as a learner starts it, headless Chromium driven by Selenium.

The test starts `make lab` (JupyterLab on a free port, no browser of its own), opens the lab in Debian's Chromium,
checks that the file browser offers both lessons/ and solutions/, opens a solved notebook, runs all its cells from
the Run menu, and asserts on what the page shows: every "✔ Exercise ... passed" line the notebook's checks print,
no error output, and (for a plot-bearing notebook) a rendered image. A screenshot of each notebook, at its last
passed check, is saved under build/browser/.

It needs Chromium and its driver: `chromium` and `chromedriver` on PATH, /usr/bin, or the CHROMIUM and CHROMEDRIVER
variables (Debian: `apt-get install chromium chromium-driver`; .ci/run installs them). Without them each test is
skipped with the reason in pytest's summary, on a learner's machine; where CI is set it fails instead (see
tests/conftest.py). Selenium drives the installed browser through the installed driver: it never downloads one.

tools/run_tests.sh runs this file in a pytest session of its own, before the rest: the notebooks it runs use the
same LocalStack resource names and build folders as nbval's runs of solutions/, so the two must not overlap.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

# JupyterLab started, notebooks run by a browser in real time: minutes, not seconds.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "browser"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
SERVE_TIMEOUT_S = 180
RUN_TIMEOUT_S = float(os.environ.get("BROWSER_RUN_TIMEOUT", "240"))
PASSED = re.compile(r"✔ Exercise \d+\.\d+ passed")

# 00 is the fastest; .ci/run adds 06, which draws plots (matplotlib PNGs in the page):
#   BROWSER_NOTEBOOKS="00-welcome 06-bisection-and-partial-batch-responses"
NOTEBOOKS = os.environ.get("BROWSER_NOTEBOOKS", "00-welcome").split()


@pytest.fixture(scope="module", autouse=True)
def chromium_installed(missing_tool):
    """Checked before `make lab` starts: a skip (a learner's machine) or a failure (CI) costs nothing."""
    absent = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if absent:
        missing_tool(
            f"no Chromium: the browser test needs chromium and chromedriver ({', '.join(absent)} not found; "
            "Debian: sudo apt-get install chromium chromium-driver, or set CHROMIUM and CHROMEDRIVER)"
        )


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


@pytest.fixture(scope="module")
def lab():
    """`make lab` on a free port, as a learner runs it; yields (base URL, token); Ctrl-C (SIGINT) stops it."""
    port, token = free_port(), secrets.token_hex(16)
    SHOTS.mkdir(parents=True, exist_ok=True)
    log_path = SHOTS / "make-lab.log"
    # JupyterLab settings and workspaces of the test's own: autosave off, so that running a solution in the page
    # never rewrites solutions/ (nbval compares against it); the learner's workspace untouched. No news setting:
    # the kit's own defaults (tools/lab-settings) must keep the news pop-up away, as for a learner.
    lab_home = Path(tempfile.mkdtemp(prefix="kc-lab-settings-"))
    for plugin, settings in (("@jupyterlab/docmanager-extension/plugin", {"autosave": False}),):
        path = lab_home / "settings" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings))
    env = {
        **os.environ,
        "LAB_PORT": str(port),
        "LAB_OPEN_BROWSER": "False",
        "JUPYTER_TOKEN": token,
        "JUPYTERLAB_SETTINGS_DIR": str(lab_home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(lab_home / "workspaces"),
    }
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "lab"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    try:
        while True:
            try:
                get_json(f"{base}/api/status?token={token}")
                break
            except (urllib.error.URLError, OSError, ValueError):
                pass
            if process.poll() is not None or time.monotonic() - started > SERVE_TIMEOUT_S:
                pytest.fail(f"`make lab` did not serve on {base} (see {log_path}):\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        print(f"make lab served JupyterLab after {time.monotonic() - started:.1f} s")
        yield base, token
    finally:
        # What a learner's Ctrl-C does: JupyterLab shuts down, and LocalStack too if make lab started it.
        for sig, grace in ((signal.SIGINT, 60), (signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            try:
                process.wait(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                continue
        shutil.rmtree(lab_home, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="kc-chromium-")
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_the_lab_offers_lessons_and_solutions(lab, browser):
    base, token = lab
    names = {item["name"] for item in get_json(f"{base}/api/contents/?token={token}")["content"]}
    assert {"lessons", "solutions"} <= names, f"the lab's root shows {sorted(names)}"
    # The address JupyterLab prints and opens (make lab's LabApp.default_url) shows lessons/ in the file browser.
    browser.get(f"{base}/?token={token}")

    def listed(driver) -> list[str]:
        return driver.execute_script(
            "return [...document.querySelectorAll('.jp-DirListing-itemName')].map(e => e.textContent.trim())"
        )

    try:
        WebDriverWait(browser, 60).until(lambda d: any(name.startswith("00-") for name in listed(d)))
    except TimeoutException:
        pytest.fail(f"the file browser should open at lessons/, it lists {listed(browser)}")


def test_no_news_or_update_pop_up_greets_a_learner(lab, browser):
    base, token = lab
    notification = get_json(f"{base}/lab/api/settings/@jupyterlab/apputils-extension:notification?token={token}")
    defaults = {key: value.get("default") for key, value in notification["schema"]["properties"].items()}
    assert defaults["fetchNews"] == "false" and defaults["checkForUpdates"] is False, (
        f"the course environment's JupyterLab defaults are {defaults}: is "
        ".venv/course/share/jupyter/lab/settings/overrides.d/kinesis-course.json installed (make setup)?"
    )
    browser.get(f"{base}/?token={token}")
    WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".jp-DirListing-itemName"))
    time.sleep(5)  # JupyterLab asks a few seconds after start; the question must not come at all
    toasts = browser.execute_script(
        "return [...document.querySelectorAll('.Toastify__toast, .jp-Notification-Toast')].map(e => e.textContent)"
    )
    assert not [text for text in toasts if "news" in text.lower() or "update" in text.lower()], toasts


def stored_passes(name: str) -> list[str]:
    """The "✔ Exercise ... passed" lines the solution's stored outputs hold: what the page must show."""
    notebook = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
    text = "".join(out.get("text", "") for cell in notebook.cells for out in cell.get("outputs", []))
    return PASSED.findall(text)


def click_menu(browser, menu: str, command: str) -> None:
    bar = WebDriverWait(browser, 30).until(
        lambda d: [e for e in d.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-itemLabel") if e.text == menu]
    )
    bar[0].click()
    item = WebDriverWait(browser, 10).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, f'.lm-Menu-item[data-command="{command}"]')
    )
    item[0].click()


@pytest.mark.localstack
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_a_solution_runs_in_the_browser(lab, browser, name):
    base, token = lab
    solution = ROOT / "solutions" / f"{name}.ipynb"
    stored = solution.read_bytes()
    expected = stored_passes(name)
    assert expected, f"solutions/{name}.ipynb stores no passed check"
    browser.get(f"{base}/lab/tree/solutions/{name}.ipynb?token={token}")
    WebDriverWait(browser, 60).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell")
    )
    WebDriverWait(browser, 90, poll_frequency=1).until(lambda d: kernel_idle(base, token, name))
    click_menu(browser, "Edit", "editmenu:clear-all")  # Clear Outputs of All Cells
    assert not PASSED.search(page_text(browser))
    click_menu(browser, "Run", "runmenu:run-all")  # Run All Cells

    def finished(driver):
        if error_outputs(driver):
            return True
        prompts = driver.execute_script(
            "return [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')].map(p => p.textContent)"
        )
        ran = all(re.fullmatch(r"\s*\[\d+\]:\s*", p) for p in prompts)
        return ran and kernel_idle(base, token, name) and len(PASSED.findall(page_text(driver))) >= len(expected)

    try:
        WebDriverWait(browser, RUN_TIMEOUT_S, poll_frequency=1).until(finished)
    finally:
        shot = SHOTS / f"{name}.png"
        # The picture shows the last check's "✔ Exercise ... passed" line (or, if it failed, where it stopped).
        browser.execute_script(
            "const outs = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output')];"
            "const hit = outs.filter(o => o.textContent.includes('\u2714 Exercise')).pop() || outs.pop();"
            "if (hit) hit.scrollIntoView({block: 'center'});"
        )
        time.sleep(1)
        browser.save_screenshot(str(shot))
        print(f"screenshot: {shot}")
    assert solution.read_bytes() == stored, f"the lab saved {solution}: it must stay as committed"
    errors = error_outputs(browser)
    assert not errors, f"a cell failed in the browser: {errors[0][:2000]}"
    assert sorted(PASSED.findall(page_text(browser))) == sorted(expected)
    if stored_images(name):
        images = browser.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-RenderedImage img")
        assert len(images) >= stored_images(name), f"{len(images)} plots shown, {stored_images(name)} expected"
        assert all(browser.execute_script("return arguments[0].naturalWidth", img) > 0 for img in images)
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", images[-1])
        time.sleep(1)
        browser.save_screenshot(str(SHOTS / f"{name}-plot.png"))
        print(f"screenshot: {SHOTS / f'{name}-plot.png'}")


def page_text(browser) -> str:
    """The text of the notebook's outputs (not of its prose, which may quote a check's line)."""
    # textContent, not Selenium's visible text: JupyterLab skips painting cells outside the viewport.
    return browser.execute_script(
        "return [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea')].map(o => o.textContent).join('\\n')"
    )


ERROR_TEXT = re.compile(
    r"Traceback \(most recent call last\)|^\s*(\w+\.)*\w*(Error|Exception|NotSolved|Failed)\b: ", re.M
)


def error_outputs(browser) -> list[str]:
    """Error outputs in the page (JupyterLab renders them, like stderr, as application/vnd.jupyter.stderr)."""
    texts = browser.execute_script(
        "return [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output')]"
        ".filter(o => o.dataset.mimeType === 'application/vnd.jupyter.stderr').map(o => o.textContent)"
    )
    return [text for text in texts if ERROR_TEXT.search(text)]


def kernel_idle(base: str, token: str, name: str) -> bool:
    sessions = get_json(f"{base}/api/sessions?token={token}")
    states = [s["kernel"]["execution_state"] for s in sessions if s.get("path", "").endswith(f"{name}.ipynb")]
    return bool(states) and all(state == "idle" for state in states)


def stored_images(name: str) -> int:
    notebook = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
    return sum("image/png" in out.get("data", {}) for cell in notebook.cells for out in cell.get("outputs", []))


SITE_LESSON = "06-bisection-and-partial-batch-responses"  # prose, folded answers and two stored plots


def test_the_course_site_reads_offline_with_its_answers_folded(browser):
    """`make site`'s page of a lesson, opened from disk: plots drawn, answers folded until the reader asks."""
    import build_site  # tools/, on pytest's pythonpath (pyproject.toml)

    page = build_site.build() / "lessons" / f"{SITE_LESSON}.html"
    browser.get(page.as_uri())
    WebDriverWait(browser, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
    images = browser.find_elements(By.CSS_SELECTOR, "article img")
    assert len(images) >= stored_images(SITE_LESSON), (
        f"{len(images)} plots shown, {stored_images(SITE_LESSON)} expected"
    )
    assert all(
        browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) > 0 for img in images
    ), "a plot did not load from the site's own files"
    folded = browser.find_elements(By.CSS_SELECTOR, "details.hide")
    summaries = [block.find_element(By.CSS_SELECTOR, "summary").text for block in folded]
    # The course's predictions are folded too, so that a reader predicts before the experiment.
    assert "Show the course's prediction" in summaries, summaries
    answers = [block for block, text in zip(folded, summaries) if text.startswith("Show the answer")]
    assert answers, f"no folded answer on the page: {summaries}"
    first = answers[0]
    code = first.find_element(By.CSS_SELECTOR, "pre")
    assert not code.is_displayed(), "an answer is visible before the reader unfolds it"
    summary = first.find_element(By.CSS_SELECTOR, "summary")
    assert "Show the answer (Exercise 06." in summary.text, summary.text
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", summary)
    time.sleep(1)
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / "site-06-folded.png"))
    summary.click()
    WebDriverWait(browser, 5).until(lambda d: code.is_displayed())
    browser.save_screenshot(str(SHOTS / "site-06-unfolded.png"))
    print(f"screenshots: {SHOTS / 'site-06-folded.png'}, {SHOTS / 'site-06-unfolded.png'}")
