"""Pictures of measured batches (lesson 05): batch sizes at low traffic, batch sizes of a burst, and latencies.

The notebooks call one function and get one figure, so that no lesson carries plotting code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def latency(batch: dict) -> float:
    """How long a batch's oldest record waited before the function saw it (seconds)."""
    return batch["invoked_at"] - batch["first_arrival"]


def plot_batches(
    batches: Mapping[str, Sequence[dict]],
    batch_sizes: Mapping[str, int],
    low: Sequence[str],
    burst: Sequence[str],
    started: float,
    burst_records: int,
):
    """Three panels: how many batches of each size the ``low`` experiments got; each batch of the ``burst``
    experiments against time, with their BatchSize as a dotted line; and every batch's latency against time.

    ``batches`` maps an experiment's name to its batches (kinesis_course.batches, with arrival times),
    ``batch_sizes`` to its BatchSize; ``started`` is when the producers started (epoch seconds).
    Returns the matplotlib figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    figure, (sizes_axis, burst_axis, latency_axis) = plt.subplots(1, 3, figsize=(15, 4))

    largest = max((batch["size"] for name in low for batch in batches[name]), default=1)
    sizes = range(1, largest + 1)
    width = 0.8 / max(1, len(low))
    for index, name in enumerate(low):
        counts = [sum(batch["size"] == size for batch in batches[name]) for size in sizes]
        offset = (index - (len(low) - 1) / 2) * width
        sizes_axis.bar([size + offset for size in sizes], counts, width=width, label=name)
    sizes_axis.set(
        title="Low traffic: how many batches of each size",
        xlabel="records in the batch",
        ylabel="batches",
        xticks=list(sizes),
    )
    sizes_axis.yaxis.set_major_locator(MaxNLocator(integer=True))
    sizes_axis.legend()

    for name, marker in zip(burst, "os^v"):
        burst_axis.plot(
            [batch["invoked_at"] - started for batch in batches[name]],
            [batch["size"] for batch in batches[name]],
            marker,
            label=name,
        )
    for name in burst:
        limit = batch_sizes[name]
        burst_axis.axhline(limit, linestyle=":", color="grey")
        burst_axis.annotate(f"BatchSize {limit}", (0, limit), xytext=(0, 3), textcoords="offset points", color="grey")
    top = max(batch_sizes[name] for name in burst)
    burst_axis.set(
        title=f"A burst of {burst_records} records: each batch's size",
        xlabel="seconds since the producers started",
        ylabel="records in the batch",
        ylim=(0, top * 1.15),
    )
    burst_axis.legend()

    for name in [*low, *burst]:
        latency_axis.plot(
            [batch["invoked_at"] - started for batch in batches[name]],
            [latency(batch) for batch in batches[name]],
            "o-",
            label=name,
        )
    latency_axis.set(
        # LocalStack stamps an invocation's log lines when it stores them, after the invocation; AWS stamps each line.
        title="How long each batch's oldest record waited\n(until LocalStack stored the BATCH line, after the invocation)",
        xlabel="seconds since the producers started",
        ylabel="latency (s)",
    )
    latency_axis.legend()
    figure.tight_layout()
    return figure
