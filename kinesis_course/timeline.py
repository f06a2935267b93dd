"""What an event source mapping did, one invocation at a time: a table, per-record counts and a picture.

Read from the function's CloudWatch Logs. Every invocation of the course's handler logs, between Lambda's own
``START RequestId`` and ``END RequestId`` lines::

    BATCH {"shardId": ..., "sequenceNumbers": [...]}   the batch, in stream order (every step from lesson 03)
    DONE {"stored": n, "duplicates": n, "skipped": n}  it went through the batch (lesson 04's handler)
    FAILED {"sequenceNumber": ..., "error": ...}       it stopped at that record and returned a partial batch
                                                       response (lesson 06's handler)
    [ERROR] PoisonRecord: shardId-...:<seq>: ...       Lambda's line for an exception that escaped the handler

``invocations`` turns them into one dict per invocation with ``outcome`` "ok", "error" (the function raised),
"partial" (it returned batchItemFailures) or "running" (no END line yet), and replaces sequence numbers by the
labels the notebook chose (``r-05``), so tables and pictures read in terms of records. Which records an
invocation *processed* is not logged record by record: the course's handler works through a batch in order, so
they are the records before the one that raised or failed (all of them when it went through). Likewise
``reported`` is what lesson 06's handler returns: the failed record and every later one.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence

from .logs import log_lines
from .waiting import wait_until

COLORS = {
    "ok": "#59a14f",  # processed, and the ESM moved past it
    "processed": "#a6d49b",  # finished by the handler, but its invocation failed: it will run again
    "error": "#f4b6b6",  # delivered to an invocation that failed
    "raised": "#c0392b",  # the record that made the function fail
    "reported": "#f28e2b",  # listed in batchItemFailures
    "destination": "#7b4fa0",  # named by the on-failure record
}
LEGEND = {
    "ok": "done: processed, not sent again",
    "processed": "processed, then its invocation failed",
    "error": "delivered to a failed invocation",
    "raised": "raised (✗)",
    "reported": "reported in batchItemFailures (✗ failed)",
    "destination": "named by the on-failure record",
}


def invocations(function_name: str, labels: Mapping[str, str]) -> list[dict]:
    """The function's invocations, oldest first, numbered from 1 (see the module's docstring for the keys)."""
    found: list[dict] = []
    current = None
    for line in log_lines(function_name):
        if line.startswith("BATCH "):
            sequence_numbers = json.loads(line[len("BATCH ") :])["sequenceNumbers"]
            current = {
                "number": len(found) + 1,
                "size": len(sequence_numbers),
                "sequenceNumbers": sequence_numbers,
                "records": [labels[sequence] for sequence in sequence_numbers],
                "outcome": "running",
                "raised": None,
                "failed_at": None,
            }
            found.append(current)
        elif current is None:
            continue
        elif line.startswith("DONE "):
            current.update(json.loads(line[len("DONE ") :]))
        elif line.startswith("FAILED "):
            current["failed_at"] = json.loads(line[len("FAILED ") :])["sequenceNumber"]
        elif line.startswith("[ERROR]"):
            # Lambda's error line quotes the exception, and the course's PoisonRecord names the record's eventID.
            current["raised"] = next((s for s in current["sequenceNumbers"] if s in line), current["raised"])
            current["outcome"] = "error"
        elif line.startswith("END RequestId"):
            if current["outcome"] == "running":
                current["outcome"] = "partial" if current["failed_at"] else "ok"
            current = None
    for batch in found:
        stop = batch["failed_at"] or batch["raised"]
        cut = batch["sequenceNumbers"].index(stop) if stop in batch["sequenceNumbers"] else len(batch["records"])
        if batch["outcome"] == "error" and stop is None:
            cut = 0  # it raised, but not at a record it named: assume nothing was finished
        batch["processed"] = batch["records"][:cut]
        batch["reported"] = batch["records"][cut:] if batch["failed_at"] else []
        if batch["failed_at"]:
            batch["raised"] = batch["failed_at"]
        batch["raised"] = labels[batch["raised"]] if batch["raised"] else None
    return found


def wait_for_invocation(
    function_name: str, labels: Mapping[str, str], predicate: Callable[[dict], bool], timeout: float = 60
) -> list[dict]:
    """Polls the logs until one invocation satisfies ``predicate``; returns every invocation so far."""
    return wait_until(
        lambda: batches if any(map(predicate, batches := invocations(function_name, labels))) else None,
        timeout=timeout,
        what=f"the awaited invocation of {function_name}",
        interval=0.5,
    )


def delivery_counts(batches: Iterable[dict]) -> Counter:
    """How many invocations received each record."""
    return Counter(record for batch in batches for record in batch["records"])


def processing_counts(batches: Iterable[dict]) -> Counter:
    """How many times the handler finished each record (whether or not its invocation then succeeded)."""
    return Counter(record for batch in batches for record in batch["processed"])


def span(records: Sequence[str]) -> str:
    """``r-04 … r-07`` for a run of records, or the records themselves when there are three or fewer."""
    if len(records) <= 3:
        return " ".join(records)
    return f"{records[0]} … {records[-1]}"


def print_invocations(batches: Sequence[dict], extra: Sequence[str] = ()) -> None:
    """One row per invocation: number, size, the records it held, the outcome, and any ``extra`` keys."""
    header = ["#", "size", "records", "outcome", *extra]
    rows = [
        [
            str(batch["number"]),
            str(batch["size"]),
            span(batch["records"]),
            batch["outcome"],
            *(_cell(batch.get(key)) for key in extra),
        ]
        for batch in batches
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = (cell.rjust(width) if i < 2 else cell.ljust(width) for i, (cell, width) in enumerate(zip(row, widths)))
        print("  ".join(cells).rstrip())


def print_counts(order: Sequence[str], **counts: Counter) -> None:
    """A small table: one row per record (in stream order), one column per named Counter, and the totals."""
    width = max(len(record) for record in [*order, "total"])
    print(" " * width + "".join(f"  {name:>10}" for name in counts))
    for record in order:
        print(f"{record:<{width}}" + "".join(f"  {count[record]:>10}" for count in counts.values()))
    print(f"{'total':<{width}}" + "".join(f"  {sum(count[r] for r in order):>10}" for count in counts.values()))


def draw_invocations(
    batches: Sequence[dict], order: Sequence[str], title: str, destination: Sequence[str] = (), ax=None
):
    """One row per invocation, one column per record in stream order; colours say what happened to each cell.

    ``destination``: the records an on-failure record named, drawn as a last row. Returns the matplotlib axes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch, Rectangle

    rows = len(batches) + (1 if destination else 0)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.6 + 0.55 * len(order), 0.9 + 0.42 * rows))
    column = {record: i for i, record in enumerate(order)}
    labels = []
    for row, batch in enumerate(batches):
        for record in batch["records"]:
            ax.add_patch(
                Rectangle((column[record], row), 1, 1, facecolor=COLORS[_state(batch, record)], edgecolor="white")
            )
            if record == batch["raised"]:
                ax.text(column[record] + 0.5, row + 0.5, "✗", ha="center", va="center", color="white", fontsize=11)
        labels.append(f"#{batch['number']} · {batch['size']}")
        ax.text(len(order) + 0.2, row + 0.5, batch["outcome"], va="center", fontsize=9)
    if destination:
        for record in destination:
            ax.add_patch(
                Rectangle((column[record], rows - 1), 1, 1, facecolor=COLORS["destination"], edgecolor="white")
            )
        labels.append("OnFailure")
        ax.text(len(order) + 0.2, rows - 0.5, "on-failure record", va="center", fontsize=9)
    ax.set_xlim(0, len(order) + 2.2)
    ax.set_ylim(rows, 0)
    ax.set_xticks([i + 0.5 for i in range(len(order))], order, fontsize=8)
    ax.set_yticks([i + 0.5 for i in range(rows)], labels, fontsize=8)
    ax.tick_params(length=0)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title(title, fontsize=10, loc="left")
    used = {_state(batch, record) for batch in batches for record in batch["records"]}
    used |= {"destination"} if destination else set()
    ax.legend(
        handles=[Patch(color=COLORS[key], label=text) for key, text in LEGEND.items() if key in used],
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        fontsize=8,
        frameon=False,
    )
    return ax


def _state(batch: dict, record: str) -> str:
    if record in batch["reported"]:
        return "reported"
    if record == batch["raised"]:
        return "raised"
    if batch["outcome"] == "error":
        return "processed" if record in batch["processed"] else "error"
    return "ok"


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return span(value) if value else "-"
    return str(value)
