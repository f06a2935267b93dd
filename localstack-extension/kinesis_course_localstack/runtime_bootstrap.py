"""The Python runtime of a process-based execution environment: imports the handler and runs invocations.

It mirrors what the AWS Python runtime gives a handler: the code folder first on ``sys.path`` and as the
working directory, a context object, the root logger's ``[LEVEL]\\ttimestamp\\trequest id\\tmessage`` format,
and AWS-shaped errors (``errorMessage``, ``errorType``, ``requestId``, ``stackTrace``).
Invocations arrive as JSON lines on a pipe from ``runtime_init``; results go back the same way.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import threading
import time
import traceback

LOG_MARKER = b"\x1eKINESIS-COURSE-END-OF-INVOCATION\x1e\n"


class LambdaContext:
    """The attributes and method AWS's Python runtime gives the handler's second argument."""

    def __init__(self, request_id: str, invoked_function_arn: str, deadline_ms: int) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def __repr__(self) -> str:
        return f"LambdaContext(aws_request_id={self.aws_request_id!r}, function_name={self.function_name!r})"


class RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


REQUEST_ID = RequestIdFilter()


def configure_logging() -> None:
    handler = logging.StreamHandler(sys.stdout)
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s", "%Y-%m-%dT%H:%M:%S"
    )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.addFilter(REQUEST_ID)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # As on AWS, the root logger lets WARNING and above through unless the function sets a level.
    root.setLevel(os.environ.get("AWS_LAMBDA_LOG_LEVEL", "WARNING").upper())


def error_body(error_type: str, message: str, request_id: str, tb=None) -> dict:
    stack = traceback.format_list(traceback.extract_tb(tb)[1:]) if tb else []
    return {"errorMessage": message, "errorType": error_type, "requestId": request_id, "stackTrace": stack}


def load_handler(request_id: str = ""):
    """Returns (handler, None) or (None, error body), with the error types AWS's runtime uses."""
    spec = os.environ.get("_HANDLER", "")
    try:
        module_path, function_name = spec.rsplit(".", 1)
    except ValueError:
        return None, error_body(
            "Runtime.MalformedHandlerName",
            f"Bad handler '{spec}': not enough values to unpack (expected 2, got 1)",
            request_id,
        )
    module_name = module_path.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as error:
        return None, error_body(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {error}", request_id
        )
    except ImportError as error:
        return None, error_body(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}", request_id
        )
    except Exception as error:
        _, _, tb = sys.exc_info()
        return None, error_body(type(error).__name__, str(error), request_id, tb)
    handler = getattr(module, function_name, None)
    if handler is None:
        return None, error_body(
            "Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'", request_id
        )
    return handler, None


def log_error(body: dict) -> None:
    print(f"[ERROR] {body['errorType']}: {body['errorMessage']}", file=sys.stdout)
    if body["stackTrace"]:
        print("Traceback (most recent call last):\n" + "".join(body["stackTrace"]).rstrip("\n"), file=sys.stdout)


def run(handler, message: dict) -> dict:
    request_id = message["request_id"]
    REQUEST_ID.request_id = request_id
    os.environ["_X_AMZN_TRACE_ID"] = message.get("trace_id", "")
    context = LambdaContext(request_id, message["invoked_function_arn"], message["deadline_ms"])
    try:
        event = json.loads(message["payload"]) if message["payload"] else {}
        result = handler(event, context)
    except Exception as error:
        _, _, tb = sys.exc_info()
        body = error_body(type(error).__name__, str(error), request_id, tb)
        log_error(body)
        return {"error": body}
    try:
        return {"payload": json.dumps(result)}
    except (TypeError, ValueError) as error:
        body = error_body("Runtime.MarshalError", f"Unable to marshal response: {error}", request_id)
        log_error(body)
        return {"error": body}


def end_of_invocation_output() -> None:
    sys.stderr.flush()
    sys.stdout.flush()
    os.write(sys.stdout.fileno(), LOG_MARKER)


def exit_with_init() -> None:
    """Ends the runtime when its init is gone (killed while this module hung in an import, say): no orphan."""
    init = os.getppid()
    while os.getppid() == init:
        time.sleep(0.5)
    os._exit(1)


def main() -> None:
    threading.Thread(target=exit_with_init, name="exit-with-init", daemon=True).start()
    task_root = os.environ["LAMBDA_TASK_ROOT"]
    sys.path.insert(0, task_root)
    os.chdir(task_root)
    configure_logging()
    read_fd, write_fd = (int(fd) for fd in os.environ.pop("KINESIS_COURSE_CONTROL_FDS").split(","))
    results = os.fdopen(write_fd, "w")

    def reply(message: dict) -> None:
        results.write(json.dumps(message) + "\n")
        results.flush()

    handler, init_error = load_handler()
    if init_error:
        log_error(init_error)
    end_of_invocation_output()
    reply({"ready": True})
    for line in os.fdopen(read_fd, "r"):
        message = json.loads(line)
        if handler is None:
            # AWS runs the init again when it failed, and answers the invoke with the init's error.
            handler, init_error = load_handler(message["request_id"])
        if handler is None:
            log_error(init_error)
            outcome = {"error": init_error}
        else:
            outcome = run(handler, message)
        end_of_invocation_output()
        reply(outcome)


if __name__ == "__main__":
    main()
