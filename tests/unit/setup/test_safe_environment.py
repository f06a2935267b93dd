"""Safe by construction (issue 9): every process the kit starts talks to the course's LocalStack only.

A learner's own AWS settings are present here on purpose: a ~/.aws profile whose endpoint, region and
credentials would be wrong, and AWS_* variables naming a profile, a per-service endpoint and a session token.
tools/course-env (which tools/with_localstack.sh puts in front of `make lab`, `make test`, `make check` ...) must
hide all of it, so that a plain boto3.client("kinesis"), in a process or in a Jupyter kernel, uses the course's
endpoint, region and dummy credentials and never reads ~/.aws.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PORT = "4611"  # not a LocalStack: only the endpoint's name is checked, nothing is sent

# What a plain cell would do, and what it reports about where it would send requests.
PROBE = textwrap.dedent(
    """
    import json, os, boto3
    client = boto3.client("kinesis")
    credentials = client._request_signer._credentials
    print(json.dumps({
        "endpoint": client.meta.endpoint_url,
        "region": client.meta.region_name,
        "access_key": credentials.access_key,
        "token": credentials.token,
        "config_file": os.environ.get("AWS_CONFIG_FILE"),
        "credentials_file": os.environ.get("AWS_SHARED_CREDENTIALS_FILE"),
        "aws_vars": sorted(k for k in os.environ if k.startswith("AWS_")),
    }))
    """
)

# The same probe, run in a Jupyter kernel started by a parent process, as JupyterLab starts a notebook's kernel.
IN_KERNEL = textwrap.dedent(
    """
    import sys
    from jupyter_client.manager import start_new_kernel
    manager, kernel = start_new_kernel(kernel_name="python3")
    try:
        lines = []
        reply = kernel.execute_interactive(sys.argv[1], timeout=60,
            output_hook=lambda msg: lines.append(msg["content"].get("text", "")) if msg["msg_type"] == "stream" else None)
        assert reply["content"]["status"] == "ok", reply["content"]
        print("".join(lines))
    finally:
        kernel.stop_channels()
        manager.shutdown_kernel(now=True)
    """
)


@pytest.fixture
def learner_home(tmp_path) -> dict[str, str]:
    """An environment with a learner's real-looking AWS set-up in HOME and in the variables."""
    aws = tmp_path / "home" / ".aws"
    aws.mkdir(parents=True)
    (aws / "config").write_text(
        "[default]\nregion = eu-west-3\nendpoint_url = https://kinesis.eu-west-3.amazonaws.com\n"
        "[profile prod]\nregion = ap-southeast-2\nendpoint_url = https://prod.example.invalid\n"
    )
    (aws / "credentials").write_text(
        "[default]\naws_access_key_id = AKIALEARNERDEFAULT\naws_secret_access_key = secret\n"
        "[prod]\naws_access_key_id = AKIALEARNERPROD\naws_secret_access_key = secret\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "KINESIS_COURSE_"))}
    env.update(
        HOME=str(tmp_path / "home"),
        LOCALSTACK_PORT=PORT,
        AWS_PROFILE="prod",
        AWS_DEFAULT_PROFILE="prod",
        AWS_ENDPOINT_URL_KINESIS="https://kinesis.example.invalid",
        AWS_ACCESS_KEY_ID="AKIALEARNERENV",
        AWS_SECRET_ACCESS_KEY="secret",
        AWS_SESSION_TOKEN="a-real-session",
        AWS_REGION="eu-central-1",
    )
    return env


def probe(env: dict[str, str], *command: str) -> dict:
    result = subprocess.run(
        [str(ROOT / "tools" / "course-env"), *command] if command[0] != "raw" else list(command[1:]),
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def assert_course_only(seen: dict) -> None:
    assert seen["endpoint"] == f"http://127.0.0.1:{PORT}"
    assert seen["region"] == "us-east-1"
    assert seen["access_key"] == "test" and seen["token"] is None
    assert seen["config_file"] == str(ROOT / "tools" / "aws" / "config")
    assert seen["credentials_file"] == str(ROOT / "tools" / "aws" / "credentials")
    assert "AWS_PROFILE" not in seen["aws_vars"] and "AWS_ENDPOINT_URL_KINESIS" not in seen["aws_vars"]


def test_the_fake_profile_would_be_used_without_the_kit(learner_home):
    # Makes sure the set-up above really is dangerous: plain boto3 follows the learner's settings.
    seen = probe(learner_home, "raw", sys.executable, "-c", PROBE)
    assert seen["endpoint"] == "https://kinesis.example.invalid"
    assert seen["access_key"] == "AKIALEARNERENV"


def test_a_plain_boto3_client_in_a_kit_process_reaches_localstack_only(learner_home):
    assert_course_only(probe(learner_home, sys.executable, "-c", PROBE))


def test_a_plain_boto3_client_in_a_notebook_kernel_reaches_localstack_only(learner_home):
    # JupyterLab's kernels inherit its environment; `make lab` runs JupyterLab under tools/course-env.
    assert_course_only(probe(learner_home, sys.executable, "-c", IN_KERNEL, PROBE))


def test_the_kits_own_files_are_read_not_the_learners(learner_home):
    # Even if a cell removes the variables, the kit's config and credentials files are still the ones read.
    code = (
        "import os\nfor k in ('AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'AWS_DEFAULT_REGION'): del os.environ[k]\n"
        + PROBE
    )
    seen = probe(learner_home, sys.executable, "-c", code)
    assert seen["access_key"] == "test" and seen["region"] == "us-east-1"
    assert seen["endpoint"] == "http://127.0.0.1:4566"  # tools/aws/config's fallback, still local


def test_the_real_account_path_is_an_explicit_opt_in(learner_home):
    seen = probe({**learner_home, "KINESIS_COURSE_ALLOW_REMOTE": "1"}, sys.executable, "-c", PROBE)
    assert seen["endpoint"] == "https://kinesis.example.invalid"
    assert seen["access_key"] == "AKIALEARNERENV"


def test_every_kit_entry_point_runs_its_command_under_course_env():
    # make lab, make test, make check, make bench, make prepare and make solutions-outputs all go through
    # tools/with_localstack.sh; tools/lab.sh and tools/run_tests.sh call it.
    assert 'tools/course-env "$@"' in (ROOT / "tools" / "with_localstack.sh").read_text()
    for script in ("lab.sh", "run_tests.sh"):
        assert "tools/with_localstack.sh" in (ROOT / "tools" / script).read_text()


def test_pytest_itself_runs_in_the_course_environment():
    # conftest.py applies tools/course-env to the test session, so nbval's kernels inherit it too.
    if os.environ.get("KINESIS_COURSE_ALLOW_REMOTE") == "1":
        pytest.skip("KINESIS_COURSE_ALLOW_REMOTE=1: the caller's AWS settings are kept on purpose")
    assert os.environ["AWS_CONFIG_FILE"] == str(ROOT / "tools" / "aws" / "config")
    assert os.environ["AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{os.environ.get('LOCALSTACK_PORT', '4566')}"
