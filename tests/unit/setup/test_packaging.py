"""`pip install .` (not editable) gives a kinesis_course that works: every package, module and data file it reads.

An editable install serves files from the checkout, so a subpackage or a data file left out of the build goes
unseen until someone installs the kit for real (a dev container, a course site build). Here the wheel is built
from the files git tracks under kinesis_course/, must hold exactly those, and is installed into a virtual
environment of its own, where every package must import from the install, not from the checkout.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = "kinesis_course"


def _tracked_package_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z", PACKAGE], cwd=ROOT, capture_output=True, text=True, check=True)
    return sorted(name for name in listed.stdout.split("\0") if name)


class Installer(NamedTuple):
    """How to build a wheel (``build(out, source)``) and install one into a venv (``install(python, wheel)``)."""

    build: Callable[[Path, Path], list[str]]
    install: Callable[[Path, Path], list[str]]


def _installer(missing_tool) -> Installer:
    """uv where `make setup` put it (or on PATH), else the course environment's pip (the fast CI job's venv)."""
    uv = shutil.which("uv") or next((str(p) for p in [ROOT / ".venv" / "uv" / "bin" / "uv"] if p.exists()), None)
    if uv:
        return Installer(
            lambda out, source: [uv, "build", "--quiet", "--wheel", "--out-dir", str(out), str(source)],
            lambda python, wheel: [uv, "pip", "install", "--quiet", "--no-deps", "--python", str(python), str(wheel)],
        )
    if subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True).returncode == 0:
        pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
        return Installer(
            lambda out, source: [*pip, "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(source)],
            lambda python, wheel: [*pip, "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)],
        )
    missing_tool("neither uv nor pip to build the wheel: `make setup` installs uv into .venv/uv")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory, missing_tool) -> tuple[Path, Installer]:
    # Built from a copy of what git tracks: setuptools would otherwise reuse the checkout's build/ (stale files of an
    # earlier build), write its build/ and egg-info into the checkout, and pack a learner's untracked files.
    installer = _installer(missing_tool)
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("dist")
    shutil.copy(ROOT / "pyproject.toml", source)
    for name in _tracked_package_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    built = subprocess.run(installer.build(out, source), capture_output=True, text=True)
    assert built.returncode == 0, built.stdout + built.stderr
    (found,) = out.glob("*.whl")
    return found, installer


def test_the_wheel_holds_every_file_git_tracks_under_the_package_and_nothing_else(wheel):
    path, _ = wheel
    with zipfile.ZipFile(path) as archive:
        packed = sorted(name for name in archive.namelist() if name.startswith(f"{PACKAGE}/"))
    tracked = _tracked_package_files()
    assert f"{PACKAGE}/capstone/__init__.py" in tracked  # the package pyproject.toml's hand list once left out
    assert "kinesis_course/handler_steps/exercises.json" in tracked  # a data file, read at run time
    missing, extra = sorted(set(tracked) - set(packed)), sorted(set(packed) - set(tracked))
    assert not missing, f"left out of the wheel (pyproject.toml's package discovery or package-data): {missing}"
    assert not extra, f"in the wheel but not tracked by git: {extra}"


def test_a_non_editable_install_in_a_fresh_venv_imports_every_package_from_the_install(wheel, tmp_path):
    path, installer = wheel
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    installed = subprocess.run(installer.install(python, path), capture_output=True, text=True)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    # The kit's dependencies (boto3 ...) from the course environment, after the venv's own site-packages. A path in
    # a .pth file does not run that folder's own .pth files, so the checkout's editable install stays out.
    (site / "course-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    packages = sorted(
        str(Path(name).parent).replace("/", ".") for name in _tracked_package_files() if name.endswith("/__init__.py")
    )
    probe = (
        "import importlib, json, sys\n"
        "from pathlib import Path\n"
        f"found = {{name: importlib.import_module(name).__file__ for name in {packages!r}}}\n"
        "from kinesis_course import handler_steps\n"
        "from kinesis_course.capstone import run\n"
        "steps = Path(handler_steps.__file__).parent\n"
        "print(json.dumps({'files': found, 'exercises': json.loads((steps / 'exercises.json').read_text()) != {},\n"
        "                  'steps': sorted(str(p.relative_to(steps)) for p in steps.glob('lesson*/*.py')),\n"
        "                  'wrapper': run.FAULTS_MODULE.exists() and run.POWERTOOLS_HANDLER.exists()}))\n"
    )
    # Run from the temporary folder, so that the checkout is not on sys.path and cannot answer for the install.
    done = subprocess.run([str(python), "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    elsewhere = {name: file for name, file in report["files"].items() if not file.startswith(str(site))}
    assert not elsewhere, f"imported from outside the install: {elsewhere}"
    assert len(report["files"]) == len(packages) >= 4
    steps = ROOT / PACKAGE / "handler_steps"
    assert report["steps"] == sorted(str(p.relative_to(steps)) for p in steps.glob("lesson*/*.py"))
    assert report["exercises"] and report["wrapper"], report
