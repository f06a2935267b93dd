"""What an event source mapping did, one invocation at a time, read back from a handler's ``BATCH {...}`` lines.

Lesson 06's handlers print one line per invocation, for example::

    BATCH {"readings": ["r-04", "r-05"], "outcome": "error", "processed": ["r-04"], "raised": "r-05"}

``readings`` lists the batch in stream order; ``outcome`` is ``ok``, ``error`` (the function raised) or
``partial`` (it returned batchItemFailures); ``processed`` are the readings the handler finished;
``raised`` names the reading that raised, ``reported`` the ones listed in batchItemFailures.
These helpers turn such lines into a table, per-reading counts and a picture.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from .logs import json_lines

PREFIX = "BATCH "
COLORS = {
    "ok": "#59a14f",         # delivered, and the invocation succeeded
    "processed": "#a6d49b",  # finished by the handler, but its invocation failed: it will run again
    "error": "#f4b6b6",      # delivered to an invocation that failed
    "raised": "#c0392b",     # the reading that made the function fail
    "reported": "#f28e2b",   # listed in batchItemFailures
    "destination": "#7b4fa0",  # named by the on-failure record
}


def invocations(function_name: str) -> list[dict]:
    """The function's BATCH documents, oldest first, each with its 1-based number and its size added."""
    return [
        {"number": number, "size": len(batch["readings"]), **batch}
        for number, batch in enumerate(json_lines(function_name, PREFIX), start=1)
    ]


def delivery_counts(batches: Iterable[dict]) -> Counter:
    """How many invocations received each reading."""
    return Counter(reading for batch in batches for reading in batch["readings"])


def processing_counts(batches: Iterable[dict]) -> Counter:
    """How many times the handler finished each reading (whether or not its invocation then succeeded)."""
    return Counter(reading for batch in batches for reading in batch.get("processed", []))


def span(readings: Sequence[str]) -> str:
    """``r-04 … r-07`` for a run of readings, or the readings themselves when there are three or fewer."""
    if len(readings) <= 3:
        return " ".join(readings)
    return f"{readings[0]} … {readings[-1]}"


def print_invocations(batches: Sequence[dict], extra: Sequence[str] = ()) -> None:
    """One row per invocation: number, size, the readings it held, the outcome, and any ``extra`` keys."""
    header = ["#", "size", "readings", "outcome", *extra]
    rows = [
        [str(batch["number"]), str(batch["size"]), span(batch["readings"]), batch["outcome"],
         *(_cell(batch.get(key)) for key in extra)]
        for batch in batches
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.rjust(width) if i < 2 else cell.ljust(width) for i, (cell, width) in enumerate(zip(row, widths))).rstrip())


def print_counts(order: Sequence[str], **counts: Counter) -> None:
    """A small table: one row per reading (in stream order), one column per named Counter."""
    names = list(counts)
    width = max(len(reading) for reading in order)
    print(" " * width + "".join(f"  {name:>10}" for name in names))
    for reading in order:
        print(f"{reading:<{width}}" + "".join(f"  {counts[name][reading]:>10}" for name in names))
    print(f"{'total':<{width}}" + "".join(f"  {sum(counts[name][r] for r in order):>10}" for name in names))


def draw_invocations(batches: Sequence[dict], order: Sequence[str], title: str, destination: Sequence[str] = (), ax=None):
    """One row per invocation, one column per reading in stream order; colours say what happened to each cell.

    ``destination``: the readings an on-failure record named, drawn as a last row. Returns the matplotlib axes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch, Rectangle

    rows = len(batches) + (1 if destination else 0)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.6 + 0.55 * len(order), 0.9 + 0.42 * rows))
    column = {reading: i for i, reading in enumerate(order)}
    labels = []
    for row, batch in enumerate(batches):
        for reading in batch["readings"]:
            ax.add_patch(Rectangle((column[reading], row), 1, 1, facecolor=COLORS[_state(batch, reading)], edgecolor="white"))
            if reading == batch.get("raised"):
                ax.text(column[reading] + 0.5, row + 0.5, "✗", ha="center", va="center", color="white", fontsize=11)
        labels.append(f"#{batch['number']} · {batch['size']}")
        ax.text(len(order) + 0.2, row + 0.5, batch["outcome"], va="center", fontsize=9)
    if destination:
        for reading in destination:
            ax.add_patch(Rectangle((column[reading], rows - 1), 1, 1, facecolor=COLORS["destination"], edgecolor="white"))
        labels.append("OnFailure")
        ax.text(len(order) + 0.2, rows - 0.5, "on-failure record", va="center", fontsize=9)
    ax.set_xlim(0, len(order) + 2.2)
    ax.set_ylim(rows, 0)
    ax.set_xticks([i + 0.5 for i in range(len(order))], order, rotation=90 if len(order) > 10 else 0, fontsize=8)
    ax.set_yticks([i + 0.5 for i in range(rows)], labels, fontsize=8)
    ax.tick_params(length=0)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title(title, fontsize=10, loc="left")
    used = {_state(batch, reading) for batch in batches for reading in batch["readings"]} | ({"destination"} if destination else set())
    legend = {
        "ok": "delivered, invocation succeeded", "processed": "processed, then its invocation failed",
        "error": "delivered to a failed invocation", "raised": "raised (✗)", "reported": "reported in batchItemFailures",
        "destination": "named by the on-failure record",
    }
    ax.legend(handles=[Patch(color=COLORS[key], label=text) for key, text in legend.items() if key in used],
              loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    return ax


def _state(batch: dict, reading: str) -> str:
    if reading in batch.get("reported", []):
        return "reported"
    if reading == batch.get("raised"):
        return "raised"
    if batch["outcome"] == "error":
        return "processed" if reading in batch.get("processed", []) else "error"
    return "ok"


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return span(value) if value else "-"
    return str(value)
