"""Split the suite into CI shards: whole test files, balanced by their time in tests/durations.json.

    python tools/ci_shards.py --shards 4 --shard 2     KC_PATHS=..., KC_ALONE_PATHS=..., KC_BROWSER=... lines
    python tools/ci_shards.py --shards 4 --table       every shard's files and seconds

The GitHub workflow runs one job per shard, each on its own runner with its own LocalStack, and writes these lines
to $GITHUB_ENV before `bash .ci/run`; tools/run_tests.sh reads them. The last shard runs the browser test first and
the notebooks that measure throughput (lesson 08) last, in a pytest session of their own, so that no other
notebook's load on its LocalStack is measured with them; its other files run in between. tests/unit is left out:
the workflow's fast job runs it. Files never measured count as 10 s. Standard library only; the same input gives
the same shards.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DURATIONS = ROOT / "tests" / "durations.json"
UNMEASURED_S = 10.0
BROWSER = "tests/browser/test_lab_in_chromium.py"


def measures_throughput(path: Path) -> bool:
    if path.suffix != ".ipynb":
        return False
    metadata = json.loads(path.read_text()).get("metadata", {})
    return bool(metadata.get("kinesis_course", {}).get("measures_throughput"))


def test_files(root: Path = ROOT) -> list[str]:
    """Every file the suite stage collects (tests/ but tests/unit and tests/browser, and solutions/), repo-relative."""
    tests = [
        path
        for path in sorted((root / "tests").rglob("test_*.py"))
        if path.relative_to(root / "tests").parts[0] not in ("unit", "browser")
    ]
    return [path.relative_to(root).as_posix() for path in tests + sorted((root / "solutions").glob("*.ipynb"))]


def shards(files: list[str], durations: dict[str, float], count: int, root: Path = ROOT) -> list[dict]:
    """``count`` shards. The last runs the browser test first and the throughput notebooks last, alone (after its
    other files: tools/run_tests.sh runs them in a pytest session of their own), so it starts with their time."""
    alone = [file for file in files if measures_throughput(root / file)]
    rest = [file for file in files if file not in alone]
    result = [{"paths": [], "alone": [], "browser": False, "seconds": 0.0} for _ in range(count)]
    last = result[-1]
    last["alone"] = alone
    last["browser"] = True
    last["seconds"] = sum(durations.get(file, UNMEASURED_S) for file in alone) + durations.get(BROWSER, UNMEASURED_S)
    # Longest first, each to the shard with the least so far (ties: the lowest index): deterministic.
    for file in sorted(rest, key=lambda file: (-durations.get(file, UNMEASURED_S), file)):
        shard = min(range(count), key=lambda index: (result[index]["seconds"], index))
        result[shard]["paths"].append(file)
        result[shard]["seconds"] += durations.get(file, UNMEASURED_S)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shards", type=int, required=True)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--shard", type=int, help="1 to --shards: print that shard's environment lines")
    group.add_argument("--table", action="store_true")
    arguments = parser.parse_args()
    if arguments.shards < 1 or (arguments.shard is not None and not 1 <= arguments.shard <= arguments.shards):
        parser.error("--shard must be between 1 and --shards")
    durations = json.loads(DURATIONS.read_text()) if DURATIONS.exists() else {}
    split = shards(test_files(), durations, arguments.shards)
    if arguments.table:
        for index, shard in enumerate(split, 1):
            files = shard["paths"] + shard["alone"]
            print(
                f"shard {index}: {shard['seconds']:6.1f} s, {len(files)} files"
                f"{' + the browser test' if shard['browser'] else ''}"
            )
            for file in files:
                print(f"  {durations.get(file, UNMEASURED_S):6.1f}  {file}")
        return 0
    shard = split[arguments.shard - 1]
    print(f"KC_PATHS={' '.join(shard['paths'])}")
    print(f"KC_ALONE_PATHS={' '.join(shard['alone'])}")
    print(f"KC_BROWSER={1 if shard['browser'] else 0}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
