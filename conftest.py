"""Repository-wide pytest hooks. Keep this file to what must apply to every collected notebook."""

import json
import os
import subprocess
import sys
from pathlib import Path


def _use_the_course_environment() -> None:
    """The AWS settings of tools/course-env (course LocalStack, dummy credentials, the kit's config files), also
    when pytest is started directly rather than through `make test`: nbval's kernels inherit them."""
    if os.environ.get("KINESIS_COURSE_ALLOW_REMOTE") == "1":
        return
    dump = "import json, os; print(json.dumps({k: v for k, v in os.environ.items() if k.startswith('AWS_')}))"
    tool = Path(__file__).resolve().parent / "tools" / "course-env"
    result = subprocess.run([str(tool), sys.executable, "-c", dump], capture_output=True, text=True, check=True)
    for key in [key for key in os.environ if key.startswith("AWS_")]:
        del os.environ[key]
    os.environ.update(json.loads(result.stdout))


_use_the_course_environment()


def pytest_collectstart(collector):
    # nbval compares each cell's fresh outputs with the ones stored in solutions/. stderr is not worth
    # comparing: it carries progress bars, boto3/botocore deprecation and library warnings, and log
    # lines whose wording changes with library versions, none of which the course teaches. nbval's
    # documented way to ignore an output key is to extend the notebook collector's skip_compare.
    # Errors still fail the test: an exception is an `error` output, not stderr, and nbval fails any
    # cell that raises (unless tagged raises-exception).
    if collector.path.suffix == ".ipynb" and hasattr(collector, "skip_compare"):
        collector.skip_compare += ("stderr",)

