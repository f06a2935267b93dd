"""The extension's pins on LocalStack (esm/pins.py, esm/patches.py), checked in LocalStack's own environment: every
patched target's signature, the signatures of the functions the delivery loop calls, and the source of the two
LocalStack functions the extension copies with lines changed (StreamPoller.forward_events_to_target,
LambdaSender.send_events). A LocalStack upgrade that changes one fails here with a message naming what to re-check."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

LOCALSTACK_PYTHON = Path(__file__).resolve().parents[2] / ".venv" / "localstack" / "bin" / "python"


def _in_localstack_environment(code: str) -> subprocess.CompletedProcess:
    if not LOCALSTACK_PYTHON.exists():
        pytest.fail(f"{LOCALSTACK_PYTHON} is missing: `make setup` installs LocalStack's environment", pytrace=False)
    return subprocess.run([str(LOCALSTACK_PYTHON), "-c", code], capture_output=True, text=True, timeout=120)


def test_localstack_is_as_the_extension_pins_it(host_mode):
    run = _in_localstack_environment(
        "import sys; from kinesis_course_localstack.esm import pins; sys.exit(pins.main([]))"
    )
    assert run.returncode == 0, f"LocalStack changed under the extension:\n{run.stdout}{run.stderr}"
    assert "are as pinned" in run.stdout


def test_a_changed_signature_or_source_is_reported_with_what_to_recheck(host_mode):
    # The same check on a table whose pins are wrong on purpose: it must fail, naming the target and the replacement.
    code = """
import dataclasses, json
from kinesis_course_localstack.esm import patches, pins
entries = {entry.target.rpartition(".")[2]: entry for entry in patches.PATCHES}
wrong = [dataclasses.replace(entries["poll_events"], signature="(self, timeout)"),
         dataclasses.replace(entries["send_events"], copied_source_sha256="0" * 64),
         dataclasses.replace(entries["stop"], target=entries["stop"].target + "_gone"),
         entries["invoke"], entries["invoke"]]
print(json.dumps(pins.mismatches(wrong, relied_on=())))
"""
    run = _in_localstack_environment(code)
    assert run.returncode == 0, run.stderr
    twice, signature, source, gone = json.loads(run.stdout)
    assert "LambdaVersionManager.invoke is patched 2 times" in twice
    assert (
        "StreamPoller.poll_events (patched by kinesis_course_localstack.esm.reading.keep_one_reader_per_shard)"
        in signature
        and "pinned (self, timeout), now (self)" in signature
    )
    assert "LambdaSender.send_events" in source and "carry its changes into the copy" in source
    assert "EsmWorker.stop_gone" in gone and "is gone" in gone
