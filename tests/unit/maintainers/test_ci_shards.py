"""The GitHub workflow's shards (tools/ci_shards.py): every suite file in exactly one shard, lesson 08 alone."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def ci_shards():
    import ci_shards  # tools/, on pytest's pythonpath (pyproject.toml)

    return ci_shards


@pytest.fixture(scope="module")
def durations() -> dict[str, float]:
    return json.loads((ROOT / "tests" / "durations.json").read_text())


@pytest.mark.parametrize("count", [2, 3, 4, 6])
def test_every_suite_file_runs_in_exactly_one_shard(ci_shards, durations, count):
    files = ci_shards.test_files()
    split = ci_shards.shards(files, durations, count)
    assigned = [file for shard in split for file in shard["paths"] + shard["alone"]]
    assert sorted(assigned) == sorted(files)
    assert not [file for file in files if file.startswith(("tests/unit/", "tests/browser/"))]
    assert "solutions/07-capstone-faults.ipynb" in files and "tests/engine/test_esm_reading.py" in files


def test_the_throughput_notebook_runs_alone_after_the_browser_in_the_last_shard(ci_shards, durations):
    split = ci_shards.shards(ci_shards.test_files(), durations, 4)
    assert [shard["alone"] for shard in split] == [[], [], [], ["solutions/08-diagnosing-a-growing-iteratorage.ipynb"]]
    assert [shard["browser"] for shard in split] == [False, False, False, True]
    assert all("solutions/08-diagnosing-a-growing-iteratorage.ipynb" not in shard["paths"] for shard in split)


def test_shards_are_balanced_within_the_longest_file(ci_shards, durations):
    split = ci_shards.shards(ci_shards.test_files(), durations, 4)
    seconds = [shard["seconds"] for shard in split]
    longest = max(durations.get(file, 0) for file in ci_shards.test_files())
    assert max(seconds) - min(seconds) <= longest, seconds
    assert split == ci_shards.shards(ci_shards.test_files(), durations, 4)  # the same on every runner


def test_the_workflow_matrix_and_the_split_agree(ci_shards):
    workflow = (ROOT / ".github" / "workflows" / "ci.yml").read_text()
    matrix = re.search(r"shard: \[([\d, ]+)\]", workflow).group(1)
    shards = re.search(r"ci_shards\.py --shards (\d+) --shard", workflow).group(1)
    assert [int(n) for n in matrix.split(",")] == list(range(1, int(shards) + 1))
