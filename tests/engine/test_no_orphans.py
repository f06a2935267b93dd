"""Killing LocalStack leaves nothing running: no Lambda runtime, no kinesis-mock.

A private LocalStack (own port, own state folder) is started with the kit's own tool, given a function and a
stream, and its main process is killed with SIGKILL, the way a crash or the OOM killer ends it: no clean-up
code of LocalStack runs. Whatever it started must notice and end by itself.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from kinesis_course import wait_until
from kinesis_course.functions import ROLE_ARN, zip_folder
from localstack_ctl import free_port, seed_caches  # tools/, on pytest's pythonpath (pyproject.toml)

pytestmark = pytest.mark.localstack

ROOT = Path(__file__).resolve().parents[2]
CTL = ROOT / "tools" / "localstack_ctl.py"


def processes_of(state_dir: Path, port: int) -> dict[int, str]:
    """Live processes that belong to the LocalStack of ``state_dir``/``port``: pid -> command line.

    A process belongs to it when its command line or working folder lies in the state folder (kinesis-mock,
    the function runtimes, whose code is unpacked there) or when it talks to LocalStack's runtime endpoint on
    ``port`` (every runtime_init and runtime_bootstrap has it in its environment).
    """
    found = {}
    marker = str(state_dir)
    endpoint = f"127.0.0.1:{port}/".encode()
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue  # a zombie runs nothing; only its parent can reap it
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            cwd = os.readlink(proc / "cwd")
            environ = (proc / "environ").read_bytes()
        except (OSError, IndexError):
            continue  # ended meanwhile, or not ours to read
        runtime_endpoint = any(
            entry.startswith(b"LOCALSTACK_RUNTIME_ENDPOINT=") and endpoint in entry for entry in environ.split(b"\0")
        )
        if marker in command or cwd.startswith(marker) or runtime_endpoint:
            found[int(proc.name)] = command
    found.pop(os.getpid(), None)
    return found


def test_killing_localstack_ends_every_process_it_started(host_mode, tmp_path):
    port = free_port()
    state_dir = tmp_path / "localstack-state"
    environment = {**os.environ, "LOCALSTACK_PORT": str(port), "COURSE_STATE_DIR": str(state_dir)}

    def ctl(command: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(CTL), command, "--quiet"], env=environment, capture_output=True, text=True, timeout=300
        )

    seed_caches(state_dir)
    started = ctl("up")
    assert started.returncode == 0, f"the private LocalStack did not start:\n{started.stdout}\n{started.stderr}"
    try:
        main_pid = int((state_dir / "localstack.pid").read_text())
        clients = {
            service: boto3.client(
                service,
                endpoint_url=f"http://127.0.0.1:{port}",
                region_name="us-east-1",
                aws_access_key_id="test",
                aws_secret_access_key="test",
            )
            for service in ("lambda", "kinesis")
        }
        # A stream makes LocalStack run kinesis-mock; an invocation makes it start a runtime.
        clients["kinesis"].create_stream(StreamName="kct-orphans", ShardCount=1)
        (tmp_path / "fn").mkdir()
        (tmp_path / "fn" / "handler.py").write_text("def handler(event, context):\n    return {'pong': event}\n")
        lam = clients["lambda"]
        lam.create_function(
            FunctionName="kct-orphans",
            Runtime="python3.12",
            Role=ROLE_ARN,
            Handler="handler.handler",
            Code={"ZipFile": zip_folder(tmp_path / "fn")},
        )
        wait_until(
            lambda: lam.get_function_configuration(FunctionName="kct-orphans")["State"] == "Active",
            timeout=30,
            what="the function to become Active",
        )
        response = lam.invoke(FunctionName="kct-orphans", Payload=b'{"ping": 1}')
        assert json.loads(response["Payload"].read()) == {"pong": {"ping": 1}}

        before = processes_of(state_dir, port)
        # The check below can only fail if it sees these processes in the first place.
        assert any("runtime_init" in command for command in before.values()), before
        assert any("runtime_bootstrap" in command for command in before.values()), before
        assert any("kinesis-local" in command for command in before.values()), before

        os.kill(main_pid, signal.SIGKILL)

        try:
            wait_until(lambda: not processes_of(state_dir, port), timeout=10, what="LocalStack's processes to end")
        except TimeoutError:
            pytest.fail(f"still running 10 s after LocalStack was killed: {processes_of(state_dir, port)}")
    finally:
        ctl("down")
        # If the assertion failed, do not leave the orphans on the machine either.
        for pid in processes_of(state_dir, port):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
