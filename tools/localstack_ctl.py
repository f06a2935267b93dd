"""Start, stop and inspect the course's LocalStack on this machine (host mode) or in Docker.

    python tools/localstack_ctl.py up [--quiet]     start it unless it already runs, wait until healthy
    python tools/localstack_ctl.py down             stop what `up` started, by process group
    python tools/localstack_ctl.py status           say what runs
    python tools/localstack_ctl.py is-up            exit 0 when LocalStack answers on the course port

Standard library only: it runs before any virtual environment exists.
Everything it writes lives under .state/ (git-ignored): the pid file, the log, LocalStack's files.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("COURSE_STATE_DIR", ROOT / ".state"))
LOCALSTACK_VENV = Path(os.environ.get("LOCALSTACK_VENV", ROOT / ".venv" / "localstack"))
HOST = "127.0.0.1"
PORT = int(os.environ.get("LOCALSTACK_PORT", "4566"))
PID_FILE = STATE / "localstack.pid"
LOG_FILE = STATE / "localstack.log"
BACKEND = os.environ.get("LOCALSTACK", "host")
COMPOSE_FILE = ROOT / "docker-compose.yml"
NODE_LOOPBACK = ROOT / "localstack-extension" / "kinesis_course_localstack" / "node_loopback.js"
READY_TIMEOUT_S = float(os.environ.get("LOCALSTACK_READY_TIMEOUT", "240"))

# What the course uses; nothing else is loaded.
SERVICES = "kinesis,lambda,dynamodb,dynamodbstreams,sqs,s3,sns,iam,sts,logs,cloudwatch,cloudformation"


def localstack_environment() -> dict[str, str]:
    fs_root = STATE / "localstack"
    tmp = fs_root / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    env = {
        key: value
        for key, value in os.environ.items()
        # A learner's real AWS settings must not leak into the emulator.
        if not key.startswith(("AWS_", "LOCALSTACK_", "PROVIDER_OVERRIDE_"))
    }
    env.update(
        {
            "GATEWAY_LISTEN": f"{HOST}:{PORT}",
            "LOCALSTACK_HOST": f"{HOST}:{PORT}",
            "SQS_ENDPOINT_STRATEGY": "path",
            "SERVICES": SERVICES,
            "EAGER_SERVICE_LOADING": "1",
            # Without this, shutdown waits minutes for an analytics endpoint it cannot reach.
            "DISABLE_EVENTS": "1",
            # LocalStack's DNS server would bind port 53 on every interface; the course needs none.
            "DNS_ADDRESS": "0",
            "OVERRIDE_IN_DOCKER": "0",
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "FILESYSTEM_ROOT": str(fs_root),
            "TMPDIR": str(tmp),
            # The gaps closed by this repo's extension (localstack-extension/).
            "LAMBDA_RUNTIME_EXECUTOR": "process",
            "PROVIDER_OVERRIDE_DYNAMODB": "moto",
            "PROVIDER_OVERRIDE_DYNAMODBSTREAMS": "moto",
            # kinesis-mock holds a stream in CREATING/DELETING (and a reshard in UPDATING) for KINESIS_LATENCY ms,
            # 500 by default: an emulator's pause, not AWS's timing (AWS takes seconds, and says nothing precise).
            # Every wait on a stream's status in the course waits for the status itself, so 0 only removes time.
            "KINESIS_LATENCY": "0",
            # kinesis-mock (Node.js) would listen on every interface; this makes it use 127.0.0.1.
            "NODE_OPTIONS": f"--require={NODE_LOOPBACK}",
        }
    )
    return env


LOCALSTACK_LIB = Path("localstack", "var", "lib", "localstack")


def free_port() -> int:
    """A free port on 127.0.0.1, for a private LocalStack (tests and benchmarks run one beside the course's)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def seed_caches(state_dir: Path, source: Path = STATE) -> None:
    """Copies what the course's LocalStack built or fetched on its first start (its service catalog, kinesis-mock
    from npm) into a private LocalStack's state folder, so that it starts in seconds instead of rebuilding them."""
    for catalog in (source / LOCALSTACK_LIB / "cache").glob("service-catalog-*"):
        (state_dir / LOCALSTACK_LIB / "cache").mkdir(parents=True, exist_ok=True)
        shutil.copy2(catalog, state_dir / LOCALSTACK_LIB / "cache" / catalog.name)
    installed = source / LOCALSTACK_LIB / "lib" / "kinesis-local"
    if installed.is_dir():
        shutil.copytree(installed, state_dir / LOCALSTACK_LIB / "lib" / "kinesis-local", symlinks=True)


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(1)


def read_pid() -> int | None:
    try:
        pid = int(PID_FILE.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return pid


def health() -> dict | None:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{PORT}/_localstack/health", timeout=2) as resp:
            return json.load(resp)
    except (urllib.error.URLError, OSError, ValueError):
        return None


def port_is_taken() -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, PORT))
        except OSError:
            return True
    return False


def log_tail(lines: int = 30) -> str:
    try:
        return "\n".join(LOG_FILE.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log written)"


def check_prerequisites() -> None:
    python = LOCALSTACK_VENV / "bin" / "python"
    if not python.exists():
        fail(f"LocalStack's virtual environment is missing ({LOCALSTACK_VENV}). Run `make up`, which creates it.")
    for tool in ("node", "npm"):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode:
            fail(
                f"`{tool}` was not found. LocalStack emulates Kinesis with kinesis-mock, an npm package it "
                "installs on first use. Install Node.js 18 or newer (with npm), e.g. `sudo apt-get install "
                "nodejs npm`, or run LocalStack in Docker: `LOCALSTACK=docker make up`."
            )


def wait_until_ready(pid: int | None) -> dict:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        state = health()
        if state and all(state.get("services", {}).get(name) == "running" for name in SERVICES.split(",")):
            return state
        if pid is not None and read_pid() is None:
            fail(f"LocalStack exited while starting. The end of its log ({LOG_FILE}):\n{log_tail()}")
        time.sleep(0.5)
    fail(
        f"LocalStack did not become healthy within {READY_TIMEOUT_S:.0f}s. The end of its log "
        f"({LOG_FILE}):\n{log_tail()}\nStop it with `make down` and try again."
    )


def warm_up_kinesis() -> None:
    """Makes LocalStack start kinesis-mock now (installing it from npm the first time), not in a learner's cell."""
    request = urllib.request.Request(
        f"http://{HOST}:{PORT}/",
        data=b"{}",
        method="POST",
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "Kinesis_20131202.ListStreams",
            "Authorization": "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/kinesis/aws4_request, "
            "SignedHeaders=host, Signature=0",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            response.read()
    except (urllib.error.URLError, OSError) as error:
        fail(
            f"LocalStack started but its Kinesis emulator did not ({error}). LocalStack installs kinesis-mock "
            f"from the npm registry on first use: check that npm can reach it. The end of its log ({LOG_FILE}):\n"
            f"{log_tail()}"
        )


def up_host(quiet: bool) -> None:
    pid = read_pid()
    if pid is not None:
        if not quiet:
            print(f"LocalStack already runs (pid {pid}) on http://{HOST}:{PORT}")
        wait_until_ready(pid)
        return
    if health():
        if not quiet:
            print(f"A LocalStack not started by this kit already answers on http://{HOST}:{PORT}; using it.")
        return
    if port_is_taken():
        fail(
            f"Port {PORT} on {HOST} is taken by another program. Find it with `ss -ltnp 'sport = :{PORT}'` "
            f"(or `lsof -i :{PORT}`), stop it, then run the command again."
        )
    check_prerequisites()
    STATE.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with open(LOG_FILE, "ab") as log:
        process = subprocess.Popen(
            [str(LOCALSTACK_VENV / "bin" / "python"), "-m", "localstack.runtime.main"],
            cwd=STATE,
            env=localstack_environment(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group, so that `down` stops LocalStack and everything it spawned.
            start_new_session=True,
        )
    PID_FILE.write_text(str(process.pid))
    if not quiet:
        print(f"Starting LocalStack 4.14 on http://{HOST}:{PORT} (pid {process.pid}, log {LOG_FILE}) ...")
    wait_until_ready(process.pid)
    warm_up_kinesis()
    if not quiet:
        print(f"LocalStack is ready after {time.monotonic() - started:.1f}s.")


def down_host() -> None:
    pid = read_pid()
    helpers = _helper_processes()
    if pid is None and not helpers:
        PID_FILE.unlink(missing_ok=True)
        print("LocalStack (host mode) is not running.")
        return
    if pid is not None:
        for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and _group_alive(pid):
                time.sleep(0.1)
            if not _group_alive(pid):
                break
    # LocalStack starts kinesis-mock in a session of its own; it runs from our state folder, which names it ours.
    for helper in _helper_processes():
        try:
            os.kill(helper, signal.SIGKILL)
        except ProcessLookupError:
            pass
    PID_FILE.unlink(missing_ok=True)
    print(f"LocalStack{f' (pid {pid})' if pid else ''} and its child processes stopped.")


def _processes() -> list[tuple[int, int, str, str]]:
    """(pid, process group, state, command line) of every process, from `ps` (Linux and macOS alike; no /proc)."""
    listing = subprocess.run(
        ["ps", "-A", "-o", "pid=", "-o", "pgid=", "-o", "stat=", "-o", "args="],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    processes = []
    for line in listing.splitlines():
        fields = line.split(None, 3)
        if len(fields) >= 3 and fields[0].isdigit() and fields[1].isdigit():
            processes.append((int(fields[0]), int(fields[1]), fields[2], fields[3] if len(fields) > 3 else ""))
    return processes


def _helper_processes() -> list[int]:
    """Processes started from this kit's LocalStack folder (kinesis-mock), even if LocalStack itself died."""
    marker = str(STATE / "localstack") + "/"
    return [pid for pid, _, _, args in _processes() if marker in args and pid != os.getpid()]


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    # A zombie leader still counts until reaped; reap it if it is our child (it is not, normally).
    try:
        os.waitpid(pgid, os.WNOHANG)
    except ChildProcessError:
        pass
    return _group_has_live_members(pgid)


def _group_has_live_members(pgid: int) -> bool:
    # ps's state starts with Z for a zombie on Linux and macOS.
    return any(group == pgid and not state.startswith("Z") for _, group, state, _ in _processes())


def compose(*args: str) -> None:
    command = ["docker", "compose", "-f", str(COMPOSE_FILE), *args]
    if subprocess.run(["docker", "info"], capture_output=True).returncode:
        fail("LOCALSTACK=docker needs a running Docker engine, and none answers. Start Docker, or use host mode.")
    subprocess.run(command, check=True)


def status() -> int:
    pid = read_pid()
    state = health()
    if BACKEND == "docker":
        compose("ps")
    if pid:
        print(f"host mode: LocalStack runs with pid {pid}; log {LOG_FILE}")
    if state:
        running = sorted(k for k, v in state.get("services", {}).items() if v == "running")
        print(
            f"http://{HOST}:{PORT}: LocalStack {state.get('version')} is healthy; running: {', '.join(running) or 'none yet'}"
        )
        return 0
    print(f"Nothing answers on http://{HOST}:{PORT}. Start LocalStack with `make up`.")
    return 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down", "status", "is-up"])
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    if args.command == "is-up":
        raise SystemExit(0 if health() else 1)
    if args.command == "status":
        raise SystemExit(status())
    if BACKEND == "docker":
        if args.command == "up":
            compose("up", "--build", "--detach", "--wait")
        else:
            compose("down")
        return
    if BACKEND != "host":
        fail(f"LOCALSTACK must be `host` (the default) or `docker`, not {BACKEND!r}.")
    up_host(args.quiet) if args.command == "up" else down_host()


if __name__ == "__main__":
    main()
