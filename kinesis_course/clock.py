"""The course clock: run one mapping's time-based behaviour faster, to see in seconds what AWS does in minutes.

A teaching device of the kit's LocalStack extension, NOT something AWS has: on AWS a record expires after
MaximumRecordAgeInSeconds of real time, and nothing speeds that up. Off by default (factor 1 = AWS's timing).

With ``set_clock(uuid, 20)`` the mapping's clock runs 20 times faster for: record age (MaximumRecordAgeInSeconds
60 is reached after 3 real seconds), retry backoff, the batching window (MaximumBatchingWindowInSeconds) and the
idle polling interval. Everything else, and every measurement the course shows (timestamps, durations,
IteratorAge), stays in real seconds. ``set_clock(uuid, 1)`` turns it off. A lesson that uses it says so.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from .endpoint import endpoint_url


class ClockUnavailable(RuntimeError):
    pass


def _request(uuid: str, method: str, body: dict | None = None) -> dict:
    url = f"{endpoint_url()}/_kinesis_course/esm/{uuid}/clock"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace")
        if error.code == 404 and "event source mapping" not in detail:
            raise ClockUnavailable(
                "This LocalStack has no course clock: restart it (`make down && make up`) so that it loads the "
                "kit's current extension."
            ) from None
        raise ValueError(f"the course clock refused {method} for mapping {uuid}: {detail}") from None


def set_clock(uuid: str, factor: float) -> float:
    """Runs mapping ``uuid``'s clock ``factor`` times faster (1 turns the clock off); returns the factor set."""
    return float(_request(uuid, "PUT", {"factor": factor})["factor"])


def clock_of(uuid: str) -> float:
    """The factor mapping ``uuid``'s clock runs at (1.0 when nobody set it)."""
    return float(_request(uuid, "GET")["factor"])
