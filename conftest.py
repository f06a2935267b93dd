"""Repository-wide pytest hooks. Keep this file to what must apply to every collected notebook."""

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


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


@functools.cache
def _measures_throughput(path: Path) -> bool:
    metadata = json.loads(path.read_text()).get("metadata", {}) if path.suffix == ".ipynb" else {}
    return bool(metadata.get("kinesis_course", {}).get("measures_throughput"))


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config, items):
    # A notebook whose story is a throughput (lesson 08: which mapping falls behind) measures the one LocalStack
    # process every lesson shares; another notebook's load on it at the same time is not a learner's situation.
    # tools/run_tests.sh runs these alone, after the rest (`-m measures_throughput`).
    for item in items:
        if _measures_throughput(Path(item.path)):
            item.add_marker(pytest.mark.measures_throughput)
