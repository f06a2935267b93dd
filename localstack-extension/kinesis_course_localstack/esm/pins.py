"""What the extension assumes of the installed LocalStack, checked: run in LocalStack's environment, before LocalStack
starts (nothing is patched then), e.g. ``.venv/localstack/bin/python -m kinesis_course_localstack.esm.pins``
(``--table`` prints the patch table instead).

For every entry of the patch table (patches.py): the target is patched once, exists, and has the signature pinned at
LocalStack 4.14; where the replacement is a copy of LocalStack's function with lines changed, that function's source
is the one copied (SHA-256). Also the signatures of the LocalStack methods the copied delivery loop calls (RELIED_ON). A
LocalStack upgrade that changes any of these prints what to re-check and exits 1.
"""

from __future__ import annotations

import hashlib
import inspect
import sys
from collections import Counter
from collections.abc import Iterable

from .patches import PATCHES, PatchEntry

_POLLER = "localstack.services.lambda_.event_source_mapping.pollers"

# The LocalStack functions delivery.py and windows.py call, beside their patch targets: (target, signature at 4.14).
RELIED_ON: tuple[tuple[str, str], ...] = (
    (
        f"{_POLLER}.stream_poller:StreamPoller.transform_into_events",
        "(self, records: list[dict], shard_id) -> list[dict]",
    ),
    (f"{_POLLER}.stream_poller:StreamPoller.pre_filter", "(self, events: list[dict]) -> list[dict]"),
    (f"{_POLLER}.stream_poller:StreamPoller.filter_events", "(self, events: list[dict]) -> list[dict]"),
    (f"{_POLLER}.stream_poller:StreamPoller.post_filter", "(self, events: list[dict]) -> list[dict]"),
    (
        f"{_POLLER}.stream_poller:StreamPoller.add_source_metadata",
        "(self, events: list[dict], extra_metadata=None) -> list[dict]",
    ),
    (f"{_POLLER}.stream_poller:StreamPoller.max_retries_exceeded", "(self, attempts: int) -> bool"),
    (
        f"{_POLLER}.stream_poller:StreamPoller.bisect_events",
        "(self, sequence_number: str, events: list[dict]) -> tuple[list[dict], list[dict]]",
    ),
    (
        f"{_POLLER}.stream_poller:StreamPoller.bisect_events_by_record_age",
        "(self, maximum_record_age: int, events: list[dict]) -> tuple[list[dict], list[dict]]",
    ),
    (f"{_POLLER}.stream_poller:StreamPoller.send_events_to_dlq", "(self, shard_id, events, context) -> None"),
    (
        f"{_POLLER}.poller:get_batch_item_failures",
        "(result: dict | str | None, valid_item_ids: set[str] | None = None) -> list[str] | None",
    ),
    (
        "localstack.services.lambda_.event_source_mapping.esm_event_processor:EsmEventProcessor.process_events_batch",
        "(self, input_events: list[dict] | dict) -> None",
    ),
    (
        "localstack.services.lambda_.event_source_mapping.esm_event_processor:"
        "EsmEventProcessor.generate_event_failure_context",
        "(self, abort_condition: str, **kwargs) -> dict",
    ),
)


def _resolve(target: str):
    return PatchEntry(target, print, "", None, "").resolve()


def source_sha256(function) -> str:
    return hashlib.sha256(inspect.getsource(function).encode("utf-8")).hexdigest()


def mismatches(patches: Iterable[PatchEntry] = PATCHES, relied_on: Iterable[tuple[str, str]] = RELIED_ON) -> list[str]:
    """One message per pin the installed LocalStack breaks, naming what to re-check."""
    patches = list(patches)
    found = [
        f"{target} is patched {count} times: merge the replacements into one entry of the patch table."
        for target, count in Counter(entry.target for entry in patches).items()
        if count > 1
    ]
    checks = [(entry.target, entry.signature, entry.copied_source_sha256, entry.replacement) for entry in patches]
    checks += [(target, signature, None, None) for target, signature in relied_on]
    for target, signature, sha256, replacement in checks:
        user = f" (patched by {replacement.__module__}.{replacement.__name__})" if replacement else ""
        try:
            function = _resolve(target)
        except (ImportError, AttributeError) as error:
            found.append(f"{target}{user} is gone: {error}. Re-check where LocalStack moved it.")
            continue
        actual = str(inspect.signature(function))
        if actual != signature:
            found.append(
                f"{target}{user} changed its signature: pinned {signature}, now {actual}. Re-check the "
                "replacement's arguments and what it passes on."
            )
        if sha256 and (actual_sha := source_sha256(function)) != sha256:
            found.append(
                f"{target}{user} is copied with lines changed, and LocalStack's source changed (sha256 "
                f"{actual_sha}, pinned {sha256}). Re-read LocalStack's new source, carry its changes into the "
                "copy, then pin the new sha256 in patches.py."
            )
    return found


def print_table() -> None:
    """The patch table, one patch a paragraph: target, replacement, switch, what is pinned, the AWS behaviour."""
    for entry in PATCHES:
        pinned = "signature" + (" and source (a copy with lines changed)" if entry.copied_source_sha256 else "")
        switch = entry.switch.variable if entry.switch else "always on"
        print(
            f"{entry.target}\n  by {entry.replacement.__module__}.{entry.replacement.__name__}; switch: {switch}; "
            f"pinned: {pinned}\n  AWS: {entry.aws}"
        )


def main(arguments: list[str]) -> int:
    from localstack.version import __version__

    if "--table" in arguments:
        print_table()
        return 0
    found = mismatches()
    for message in found:
        print(message)
    if not found:
        print(
            f"LocalStack {__version__}: the {len(PATCHES)} patch targets and "
            f"{len(RELIED_ON)} functions the extension relies on are as pinned."
        )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
