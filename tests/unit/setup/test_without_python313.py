"""`make status` and `make down` before Python 3.13 exists: with any python3, or with no Python at all."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
# What a bare machine has: a shell and the base tools, no Python.
BASE_TOOLS = ("sh", "bash", "make", "cat", "curl", "kill", "ps", "awk", "sleep", "rm", "dirname", "sed", "env", "uname")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def bare_path(tmp_path) -> str:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in BASE_TOOLS:
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    return str(bin_dir)


def run(command: list[str], path: str, state: Path) -> subprocess.CompletedProcess:
    # A copy of the kit's tools in a folder of its own: its .state/ is not the course's, and .venv/ is absent.
    env = {"PATH": path, "HOME": str(state), "LOCALSTACK_PORT": str(free_port())}
    return subprocess.run(command, cwd=state, env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def kit_copy(tmp_path) -> Path:
    copy = tmp_path / "kit"
    copy.mkdir()
    shutil.copytree(ROOT / "tools", copy / "tools")
    shutil.copy2(ROOT / "Makefile", copy / "Makefile")
    return copy


@pytest.mark.parametrize("target", ["status", "down"])
def test_make_status_and_down_with_no_python_at_all(kit_copy, bare_path, target):
    result = run(["make", "-s", target], bare_path, kit_copy)
    assert "Permission denied" not in result.stderr and "No such file" not in result.stderr, result.stderr
    if target == "status":
        assert result.returncode != 0 and "Nothing answers on http://127.0.0.1:" in result.stdout
    else:
        assert result.returncode == 0 and "is not running" in result.stdout


def test_make_status_with_an_older_python3(kit_copy, bare_path, tmp_path, missing_tool):
    python3 = shutil.which("python3", path="/usr/bin:/usr/local/bin") or shutil.which("python3")
    if not python3:
        missing_tool("no python3 on this machine (besides Python 3.13): nothing to test `make status` with")
    os.symlink(python3, Path(bare_path) / "python3")
    result = run(["make", "-s", "status"], bare_path, kit_copy)
    assert result.returncode != 0 and "Start LocalStack with `make up`" in result.stdout, result.stderr


def test_make_doctor_says_what_to_do_for_each_missing_prerequisite(kit_copy, bare_path):
    result = run(["make", "-s", "doctor"], bare_path, kit_copy)
    assert result.returncode != 0
    assert "MISSING  Python 3.13" in result.stdout
    assert "deadsnakes" in result.stdout or "brew install python@3.13" in result.stdout
    assert "uv python install 3.13" in result.stdout
    assert "MISSING  Node.js 18 or newer" in result.stdout
