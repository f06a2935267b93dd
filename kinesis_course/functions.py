"""Lambda functions: zip a handler folder, create or update the function, wait until it can run."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from .endpoint import ACCOUNT_ID, client
from .waiting import wait_until

ROLE_NAME = "kinesis-course-lambda-role"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/{ROLE_NAME}"
TRUST_POLICY = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
    '"Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'
)


def ensure_role() -> str:
    """The execution role every course function uses (LocalStack does not enforce its permissions)."""
    iam = client("iam")
    try:
        return iam.get_role(RoleName=ROLE_NAME)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        pass
    try:
        return iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=TRUST_POLICY)["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        # Another notebook or test created it in the meantime: both want the same role.
        return iam.get_role(RoleName=ROLE_NAME)["Role"]["Arn"]


def zip_folder(folder: str | Path) -> bytes:
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder: write the handler there first.")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def function_exists(name: str) -> bool:
    try:
        client("lambda").get_function(FunctionName=name)
        return True
    except client("lambda").exceptions.ResourceNotFoundException:
        return False


def deploy_function(
    name: str,
    folder: str | Path,
    handler: str = "handler.handler",
    timeout: int = 10,
    memory: int = 128,
    environment: dict[str, str] | None = None,
    runtime: str = "python3.12",
) -> str:
    """Creates the function from ``folder``'s files, or updates its code and settings; waits until it is ready.

    Returns the function's ARN.
    """
    lam = client("lambda")
    code = zip_folder(folder)
    settings = dict(
        Runtime=runtime,
        Role=ensure_role(),
        Handler=handler,
        Timeout=timeout,
        MemorySize=memory,
        Environment={"Variables": environment or {}},
    )
    if function_exists(name):
        lam.update_function_code(FunctionName=name, ZipFile=code)
        _wait_updated(name)
        lam.update_function_configuration(FunctionName=name, **settings)
        _wait_updated(name)
    else:
        lam.create_function(FunctionName=name, Code={"ZipFile": code}, **settings)
    configuration = wait_until(
        lambda: _configuration_if(name, lambda c: c["State"] != "Pending"),
        timeout=60,
        what=f"function {name} to leave Pending",
    )
    if configuration["State"] != "Active":
        raise RuntimeError(f"function {name} is {configuration['State']}: {configuration.get('StateReason')}")
    return configuration["FunctionArn"]


def deploy_functions(names, folder: str | Path, **settings) -> list[str]:
    """``deploy_function`` for several functions of the same code and settings, each on its own thread (most of the
    time goes in waiting for each to be ready). Returns their ARNs, in the order of ``names``."""
    from concurrent.futures import ThreadPoolExecutor

    ensure_role()
    names = list(names)
    with ThreadPoolExecutor(min(8, len(names) or 1)) as pool:
        return list(pool.map(lambda name: deploy_function(name, folder, **settings), names))


def _configuration_if(name, predicate):
    configuration = client("lambda").get_function_configuration(FunctionName=name)
    return configuration if predicate(configuration) else None


def _wait_updated(name: str) -> None:
    wait_until(
        lambda: _configuration_if(name, lambda c: c.get("LastUpdateStatus") != "InProgress"),
        timeout=60,
        what=f"the update of function {name}",
    )


def delete_function(name: str) -> None:
    try:
        client("lambda").delete_function(FunctionName=name)
    except client("lambda").exceptions.ResourceNotFoundException:
        pass
