"""The init of one process-based Lambda execution environment (what RAPID is in a Lambda container).

Speaks LocalStack's executor protocol: LocalStack sends ``POST /invoke`` with ``invoke-id``,
``invoked-function-arn``, ``payload`` and ``trace-id``; the init answers 202 at once and later posts
``/invocations/<id>/logs`` then ``/response`` or ``/error`` to ``LOCALSTACK_RUNTIME_ENDPOINT``; it posts
``/status/<runtime id>/ready`` when the environment can take invocations.

The handler runs in a child process (``runtime_bootstrap``) so that a timeout can end it and start a fresh
one, as AWS does. Standard library only: it starts in a fraction of a second.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ENDPOINT = os.environ["LOCALSTACK_RUNTIME_ENDPOINT"]
RUNTIME_ID = os.environ["LOCALSTACK_RUNTIME_ID"]
TIMEOUT_S = float(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3"))
MEMORY_MB = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
VERSION = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
HOST, PORT = os.environ["KINESIS_COURSE_INIT_ADDRESS"].rsplit(":", 1)
LOG_MARKER = b"\x1eKINESIS-COURSE-END-OF-INVOCATION\x1e\n"
# AWS: "The Init phase is limited to 10 seconds. If all three tasks do not complete within 10 seconds, Lambda
# retries the Init phase at the time of the first function invocation with the configured function timeout."
INIT_LIMIT_S = 10.0


def post(path: str, body: bytes, content_type: str = "application/json") -> None:
    request = urllib.request.Request(
        f"{ENDPOINT}{path}", data=body, method="POST", headers={"Content-Type": content_type}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Runtime:
    """The child process that imports and runs the handler, and the pipes that connect it."""

    def __init__(self, limit_s: float) -> None:
        self.logs: queue.Queue[bytes | None] = queue.Queue()
        self.results: queue.Queue[dict | None] = queue.Queue()
        started = time.monotonic()
        to_child_read, self._to_child = os.pipe()
        self._from_child, from_child_write = os.pipe()
        environment = {k: v for k, v in os.environ.items() if not k.startswith("KINESIS_COURSE_")}
        environment["KINESIS_COURSE_CONTROL_FDS"] = f"{to_child_read},{from_child_write}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kinesis_course_localstack.runtime_bootstrap"],
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(to_child_read, from_child_write),
        )
        os.close(to_child_read)
        os.close(from_child_write)
        threading.Thread(target=self._read_logs, daemon=True).start()
        threading.Thread(target=self._read_results, daemon=True).start()
        try:
            ready = self.results.get(timeout=limit_s)
        except queue.Empty:
            ready = False
        self.init_duration_ms = (time.monotonic() - started) * 1000
        self.cold = True
        self.init_timed_out = ready is False
        if self.init_timed_out:
            # A module that never finishes importing (a loop or a wait at module level) must not hold the
            # environment: end it, keep what it printed for the log.
            self.kill()
            self.init_output = self.collect_logs(wait_s=0.5)
            return
        if ready is None:
            raise RuntimeError(f"the runtime process exited during start ({self.process.wait()})")
        # What the module printed while it was imported; AWS shows it before the first START line.
        self.init_output = self.collect_logs(wait_s=5)

    def _read_logs(self) -> None:
        pending = b""
        for chunk in iter(lambda: self.process.stdout.read1(65536), b""):
            pending += chunk
            while (index := pending.find(LOG_MARKER)) >= 0:
                self.logs.put(pending[:index])
                self.logs.put(None)  # the end of one invocation's output
                pending = pending[index + len(LOG_MARKER) :]
            if pending and LOG_MARKER[:1] not in pending:
                self.logs.put(pending)
                pending = b""
        if pending:
            self.logs.put(pending)
        self.logs.put(None)

    def _read_results(self) -> None:
        with os.fdopen(self._from_child, "rb") as results:
            for line in results:
                self.results.put(json.loads(line))
        self.results.put(None)

    def send(self, message: dict) -> None:
        os.write(self._to_child, json.dumps(message).encode() + b"\n")

    def collect_logs(self, wait_s: float) -> str:
        """Output written since the last invocation, up to this invocation's end marker."""
        parts = []
        deadline = time.monotonic() + wait_s
        while True:
            try:
                part = self.logs.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if part is None:
                break
            parts.append(part)
        return b"".join(parts).decode(errors="replace")

    def max_memory_mb(self) -> int:
        try:
            with open(f"/proc/{self.process.pid}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) // 1024
        except OSError:
            pass
        return 0

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        if self._to_child is not None:
            os.close(self._to_child)
            self._to_child = None


class Init:
    def __init__(self) -> None:
        # None after a timeout or an exit: the next invocation starts a fresh runtime, as AWS re-runs the init then.
        self.runtime: Runtime | None = Runtime(INIT_LIMIT_S)
        self.lock = threading.Lock()

    def invoke(self, invocation: dict) -> None:
        with self.lock:
            try:
                self._invoke(invocation)
            except Exception as error:  # the caller must always get an answer
                request_id = invocation.get("invoke-id", "")
                body = {"errorMessage": f"RequestId: {request_id} Error: {error}", "errorType": "Runtime.Unknown"}
                post(f"/invocations/{request_id}/error", json.dumps(body).encode())

    def _invoke(self, invocation: dict) -> None:
        request_id = invocation["invoke-id"]
        before_start = ""
        started = time.monotonic()
        if self.runtime is None or self.runtime.init_timed_out:
            if self.runtime is not None:
                # The init phase ran out of its 10 s. AWS reports that, then runs the init again inside this
                # invocation, where it shares the function's timeout with the handler.
                before_start = self.runtime.init_output + (
                    f"INIT_REPORT Init Duration: {self.runtime.init_duration_ms:.2f} ms\tPhase: init\tStatus: timeout\n"
                )
            # Also after a timeout or an exit: the runtime was reset, and this invocation initialises it again.
            self.runtime = Runtime(TIMEOUT_S)
        runtime = self.runtime
        remaining_s = max(0.0, TIMEOUT_S - (time.monotonic() - started))
        if runtime.init_timed_out:
            result = "timeout"
        else:
            runtime.send(
                {
                    "request_id": request_id,
                    "invoked_function_arn": invocation.get("invoked-function-arn", ""),
                    "payload": invocation.get("payload", ""),
                    "trace_id": invocation.get("trace-id", ""),
                    "deadline_ms": int(time.time() * 1000 + remaining_s * 1000),
                }
            )
            try:
                result = runtime.results.get(timeout=remaining_s)
            except queue.Empty:
                result = "timeout"
        duration_ms = (time.monotonic() - started) * 1000

        max_memory_mb = runtime.max_memory_mb()
        if result == "timeout":
            # AWS: the invocation fails with "Task timed out after N.NN seconds" and the runtime is restarted.
            runtime.kill()
            output = "" if runtime.init_timed_out else runtime.collect_logs(wait_s=0.5)
            output += f"{utc_now()} {request_id} Task timed out after {TIMEOUT_S:.2f} seconds\n"
            error = {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"RequestId: {request_id} Error: Task timed out after {TIMEOUT_S:.2f} seconds",
            }
            self.runtime = None
        elif result is None:
            # The handler ended its own process (sys.exit, os._exit, a crash).
            code = runtime.process.wait()
            output = runtime.collect_logs(wait_s=0.5)
            error = {
                "errorType": "Runtime.ExitError",
                "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: exit status {code}",
            }
            output += f"{utc_now()} {request_id} {error['errorMessage']}\n"
            runtime.kill()
            self.runtime = None
        else:
            output = runtime.collect_logs(wait_s=5)
            error = result.get("error")

        report = f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tBilled Duration: {max(1, round(duration_ms))} ms\tMemory Size: {MEMORY_MB} MB\tMax Memory Used: {max_memory_mb} MB\t"
        logs = f"START RequestId: {request_id} Version: {VERSION}\n{output}"
        if runtime.cold:
            report += f"Init Duration: {runtime.init_duration_ms:.2f} ms\t"
            logs = runtime.init_output + logs
            runtime.cold = False
        logs = before_start + logs
        if logs and not logs.endswith("\n"):
            logs += "\n"
        logs += f"END RequestId: {request_id}\n{report}\n"
        post(f"/invocations/{request_id}/logs", json.dumps({"logs": logs}).encode())
        if error is None:
            post(f"/invocations/{request_id}/response", result["payload"].encode())
        else:
            post(f"/invocations/{request_id}/error", json.dumps(error).encode())


def serve(init: Init) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            if self.path != "/invoke":
                self.send_error(404)
                return
            invocation = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()
            threading.Thread(target=init.invoke, args=(invocation,), daemon=True).start()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((HOST, int(PORT)), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def exit_with_parent() -> None:
    """Ends this environment if LocalStack dies: no orphan runtime is left behind."""
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGTERM)


def main() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=exit_with_parent, daemon=True).start()
    try:
        init = Init()
        server = serve(init)
    except Exception as error:
        body = {"errorType": "Runtime.Unknown", "errorMessage": f"The process runtime failed to start: {error}"}
        post(f"/status/{RUNTIME_ID}/error", json.dumps(body).encode())
        raise
    post(f"/status/{RUNTIME_ID}/ready", b"")
    stop.wait()
    server.shutdown()
    if init.runtime is not None:
        init.runtime.kill()


if __name__ == "__main__":
    main()
