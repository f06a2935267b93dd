"""Where an event source mapping stands on each shard of its stream: the kit's position view.

A view of the kit's LocalStack extension, NOT an AWS API: on AWS the mapping's position per shard is internal to
Lambda, and the IteratorAge metric is the outside sign of it. For each shard:

- checkpoint: the last sequence number the mapping is done with (None before it finished any record);
- in flight: the records of the batch being delivered now, the attempt number (1 = first try), and whether
  BisectBatchOnFunctionError split the batch;
- behind: how many records of the shard come after the checkpoint (None when unknown, e.g. mapping disabled).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from .endpoint import endpoint_url


# The view counts the records behind each checkpoint (GetRecords on every shard): on a busy laptop that takes seconds.
LOADED_LAPTOP_S = 60


class PositionUnavailable(RuntimeError):
    pass


def mapping_position(uuid: str) -> dict:
    """{"uuid": ..., "shards": {shard_id: {"checkpoint", "in_flight", "batches_in_flight", "behind"}}}."""
    url = f"{endpoint_url()}/_kinesis_course/esm/{uuid}/position"
    try:
        with urllib.request.urlopen(url, timeout=LOADED_LAPTOP_S) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            raise PositionUnavailable(
                "This LocalStack has no position view: restart it (`make down && make up`) so that it loads the "
                "kit's current extension."
            ) from None
        raise


def short(sequence_number: str | None, digits: int = 6) -> str:
    """A sequence number's last digits (enough to tell a shard's records apart), '-' for None."""
    if not sequence_number:
        return "-"
    return sequence_number if len(sequence_number) <= digits else "…" + sequence_number[-digits:]


NOT_COUNTED = "n/a"


def position_table(uuid: str, position: dict | None = None) -> str:
    """The position as a small text table, one row per shard (sequence numbers cut to their last digits)."""
    position = mapping_position(uuid) if position is None else position
    header = ("shard", "checkpoint", "in flight", "records", "attempt", "bisecting", "behind")
    rows = [header]
    for shard_id, shard in sorted(position.get("shards", {}).items()):
        flight = shard.get("in_flight")
        if flight:
            span = f"{short(flight['first'])}..{short(flight['last'])}"
            size, attempt, bisecting = (
                str(flight["size"]),
                str(flight["attempt"]),
                "yes" if flight["bisecting"] else "no",
            )
        else:
            span, size, attempt, bisecting = "-", "-", "-", "-"
        behind = NOT_COUNTED if shard.get("behind") is None else str(shard["behind"])
        rows.append((shard_id, short(shard.get("checkpoint")), span, size, attempt, bisecting, behind))
    if len(rows) == 1:
        return f"mapping {uuid}: no shard read yet"
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    if any(row[-1] == NOT_COUNTED for row in rows[1:]):
        lines.append(
            f"behind {NOT_COUNTED}: not counted, the mapping has read no record of that shard yet (no "
            "checkpoint to count from), or it is not reading now"
        )
    return "\n".join(lines)
