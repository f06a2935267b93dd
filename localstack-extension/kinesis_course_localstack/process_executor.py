"""A Lambda runtime executor that runs Python zip functions as local processes instead of containers.

Select it with ``LAMBDA_RUNTIME_EXECUTOR=process``. Each execution environment is one ``runtime_init``
process (the part AWS calls the init, RAPID): it serves ``POST /invoke`` on a free port of 127.0.0.1 and posts
logs, results, errors and its readiness to LocalStack's ``/_localstack_lambda/...`` routes, exactly as the
Go init inside LocalStack's Lambda containers does. The handler runs in a child of the init, so that a
timeout can kill and restart it the way AWS restarts a runtime after "Task timed out".
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from localstack import config
from localstack.services.lambda_.invocation.executor_endpoint import ExecutorEndpoint
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion
from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin
from localstack.services.lambda_.invocation.runtime_executor import LambdaRuntimeException, RuntimeExecutor
from localstack.utils.net import get_free_tcp_port

LOG = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
# Variables of LocalStack's own process that a function may see; everything else comes from LocalStack's
# per-function environment (credentials, region, AWS_ENDPOINT_URL, ...) and the function's configuration.
INHERITED_VARIABLES = ("PATH", "LANG", "LC_ALL", "HOME", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")


class ProcessRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    name = "process"

    def load(self, *args, **kwargs):
        _let_failed_versions_be_deleted()
        return ProcessRuntimeExecutor


_deletion_patch_applied = False


def _let_failed_versions_be_deleted() -> None:
    """DeleteFunction works on a function whose version failed to start (e.g. a runtime refused below).

    LocalStack drops the manager of a version that failed to start, and its ``stop_version`` then raises
    "Unable to find version manager": DeleteFunction answers InternalError and the function can never be
    removed. AWS deletes failed functions like any other. A version without a manager has nothing to stop.
    """
    global _deletion_patch_applied
    if _deletion_patch_applied:
        return
    from localstack.services.lambda_.invocation.lambda_service import LambdaService
    from localstack.utils.patch import Patch

    def stop_version(stop, self, qualified_arn: str) -> None:
        with self.lambda_version_manager_lock:
            managed = qualified_arn in self.lambda_running_versions or qualified_arn in self.lambda_starting_versions
        if not managed:
            LOG.debug("Version %s has no manager (it failed to start); nothing to stop", qualified_arn)
            return
        stop(self, qualified_arn)

    Patch.function(LambdaService.stop_version, stop_version).apply()
    _deletion_patch_applied = True


class ProcessRuntimeExecutor(RuntimeExecutor):
    process: subprocess.Popen | None

    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.port = get_free_tcp_port()
        self.executor_endpoint = ExecutorEndpoint(self.id, container_address=LOOPBACK, container_port=self.port)
        self.process = None
        self.work_dir = Path(tempfile.mkdtemp(prefix=f"lambda-{function_version.id.function_name}-"))
        self.log_path = self.work_dir / "init.log"

    def start(self, env_vars: dict[str, str]) -> None:
        self.executor_endpoint.start()
        code_dir = str(self.function_version.config.code.get_unzipped_code_location())
        environment = {key: os.environ[key] for key in INHERITED_VARIABLES if key in os.environ}
        environment.update({key: str(value) for key, value in env_vars.items()})
        environment.update(
            {
                # The function's code is here, not in /var/task as in a container.
                "LAMBDA_TASK_ROOT": code_dir,
                "LAMBDA_RUNTIME_DIR": str(Path(__file__).parent),
                "TMPDIR": str(self.work_dir),
                "KINESIS_COURSE_INIT_ADDRESS": f"{LOOPBACK}:{self.port}",
                "PYTHONUNBUFFERED": "1",
            }
        )
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "kinesis_course_localstack.runtime_init"],
                cwd=code_dir,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        LOG.debug(
            "Started process runtime %s (pid %s) for %s", self.id, self.process.pid, self.function_version.qualified_arn
        )
        self.executor_endpoint.wait_for_startup()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        try:
            self.executor_endpoint.shutdown()
        except Exception as error:
            LOG.debug("Error while shutting down the endpoint of runtime %s: %s", self.id, error)
        shutil.rmtree(self.work_dir, ignore_errors=True)

    def get_address(self) -> str:
        return LOOPBACK

    def get_endpoint_from_executor(self) -> str:
        # The runtime is a local process: it reaches LocalStack where LocalStack listens.
        host = config.GATEWAY_LISTEN[0].host
        return LOOPBACK if host in ("0.0.0.0", "::", "") else host

    def get_runtime_endpoint(self) -> str:
        port = config.GATEWAY_LISTEN[0].port
        return f"http://{self.get_endpoint_from_executor()}:{port}{self.executor_endpoint.get_endpoint_prefix()}"

    def invoke(self, payload: dict[str, str]):
        return self.executor_endpoint.invoke(payload)

    def get_logs(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "The runtime process wrote no log."

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        runtime = function_version.config.runtime or ""
        if not runtime.startswith("python"):
            raise LambdaRuntimeException(
                f"The 'process' runtime executor runs Python functions only; {function_version.id.function_name} "
                f"uses {runtime or 'a container image'}. Use a python3.x runtime, or run LocalStack with Docker "
                "(LOCALSTACK=docker make up) for other runtimes."
            )
        if function_version.config.code:
            function_version.config.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        pass

    @classmethod
    def validate_environment(cls) -> bool:
        return True
