"""The fault run as a picture: records over time, by what happened to them."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime

FUNCTION_ERRORS = ("error", "crash", "timeout")
CATEGORIES = {
    "delivered": ("delivered for the first time", "#59a14f"),
    "retried": ("delivered again (retry after a failure)", "#f28e2b"),
    "bisected": ("delivered in half of a failed batch (bisection)", "#4e79a7"),
    "failed": ("given up: in an on-failure record", "#7b4fa0"),
}


def classify(found: list[dict]) -> list[tuple[float, str, int]]:
    """(time, category, records) for each invocation: first deliveries, retries, bisected halves."""
    seen: set[str] = set()
    failed_batches: list[tuple[str, set[str]]] = []
    rows = []
    for line in found:
        numbers = set(line["sequenceNumbers"])
        halves = any(shard == line["shardId"] and numbers < batch for shard, batch in failed_batches)
        new = len(numbers - seen)
        if new:
            rows.append((line["at"], "delivered", new))
        if len(numbers) - new:
            rows.append((line["at"], "bisected" if halves else "retried", len(numbers) - new))
        seen |= numbers
        if line["fault"] in FUNCTION_ERRORS:
            failed_batches.append((line["shardId"], numbers))
    return rows


def counts(found: list[dict], failures: list[dict]) -> Counter:
    """Records per category over the whole run (a record delivered three times counts three times)."""
    total = Counter()
    for _, category, records in classify(found):
        total[category] += records
    total["failed"] = sum(f["KinesisBatchInfo"]["batchSize"] for f in failures)
    return total


def plot(found: list[dict], failures: list[dict], faults: list[dict], seconds_per_bar: float = 2.0):
    """Stacked bars: records per category in each time slot; a mark at each injected fault."""
    import matplotlib.pyplot as plt

    start = min(line["at"] for line in found)
    bins: dict[str, Counter] = defaultdict(Counter)
    for at, category, records in classify(found):
        bins[category][int((at - start) // seconds_per_bar)] += records
    for failure in failures:
        at = datetime.fromisoformat(failure["timestamp"].replace("Z", "+00:00")).timestamp()
        bins["failed"][int(max(0, at - start) // seconds_per_bar)] += failure["KinesisBatchInfo"]["batchSize"]
    slots = range(max(max(b, default=0) for b in bins.values()) + 1)
    figure, axis = plt.subplots(figsize=(10, 4))
    bottom = [0] * len(slots)
    for category, (label, color) in CATEGORIES.items():
        heights = [bins[category][slot] for slot in slots]
        axis.bar(
            [slot * seconds_per_bar for slot in slots],
            heights,
            width=seconds_per_bar * 0.9,
            bottom=bottom,
            color=color,
            label=label,
            align="edge",
        )
        bottom = [b + h for b, h in zip(bottom, heights)]
    markers = {"error": "x", "throttle": "v", "crash": "*", "timeout": "s"}
    top = max(bottom, default=1) * 1.08 + 1
    for kind, marker in markers.items():
        times = [fault["at"] - start for fault in faults if fault["kind"] == kind]
        if times:
            axis.scatter(times, [top] * len(times), marker=marker, color="#c0392b", label=f"injected fault: {kind}")
    axis.set_xlabel("seconds since the first invocation")
    axis.set_ylabel(f"records per {seconds_per_bar:g} s")
    axis.set_title("The fault run: what the mapping did with each record")
    axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    figure.tight_layout()
    return figure
