"""tests/nbval_sanitize.cfg, parsed and applied exactly as nbval does it."""

from __future__ import annotations

import re
from collections import OrderedDict
from pathlib import Path

import pytest
from nbval.plugin import get_sanitize_patterns  # nbval's own parser of --nbval-sanitize-with files

CFG = Path(__file__).resolve().parents[3] / "tests" / "nbval_sanitize.cfg"
TEXT = CFG.read_text(encoding="utf-8")
# Like IPyNbFile.setup_sanitize_files: an OrderedDict, so a repeated regex would silently drop a rule.
PATTERNS = OrderedDict(get_sanitize_patterns(TEXT))


def sanitize(s: str) -> str:
    # Like nbval's IPyNbCell.sanitize: every rule in file order.
    for regex, replace in PATTERNS.items():
        s = re.sub(regex, replace, s)
    return s


def test_every_rule_is_parsed():
    # A `regex:` line that nbval does not pair with the next line's `replace:` is ignored without a word.
    assert len(PATTERNS) == len(re.findall(r"^regex: ", TEXT, flags=re.MULTILINE)) >= 10
    for regex, replace in PATTERNS.items():
        re.compile(regex)
        assert regex == regex.strip() and replace == replace.strip(), f"stray whitespace in rule {regex!r}"


SEQ = "49590338271490256608559692538361571095921575989136588898"
ITERATOR = (
    "AAAAAAAAAAHsW8zCWf9164uy8Epue6WS3w6wmj4a4USt+CNvJQ9lG8HydB4K8bzqxTVmGlW3YzYo1xSqhBqUjwqeSnT7G3rV7ZWf8I4Fq"
    "EwsobiEJuJ36gG6gyxEyxR1qkjpGyFJ2Nr6yLkRShQn9eVvC+5gZzrvBcdvLbwT7"
)


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("Overwriting build/handler.py\n", "Writing build/handler.py\n"),
        ("Writing build/handler.py\n", "Writing build/handler.py\n"),
        ("endpoint http://127.0.0.1:4566 is healthy", "endpoint http://127.0.0.1:PORT is healthy"),
        ("'http://localhost:4630/'", "'http://localhost:PORT/'"),
        ("arn:aws:kinesis:us-east-1:000000000000:stream/orders", "ARN"),
        ("'EventSourceArn': 'arn:aws:kinesis:us-east-1:000000000000:stream/orders'}", "'EventSourceArn': 'ARN'}"),
        ('{"arn": "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST"}', '{"arn": "ARN"}'),
        ("consumer arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1545084650 ready", "consumer ARN ready"),
        (f"'SequenceNumber': '{SEQ}'", "'SequenceNumber': 'SEQUENCE'"),
        (f"'ShardIterator': '{ITERATOR}'", "'ShardIterator': 'SHARD_ITERATOR'"),
        ("UUID 3f2504e0-4f89-11d3-9a0c-0305e82c3301 done", "UUID UUID done"),
        (
            "START RequestId: 3f2504e0-4f89-11d3-9a0c-0305e82c3301 Version: $LATEST",
            "START RequestId: REQUEST_ID Version: $LATEST",
        ),
        ("'RequestId': 'QM0DXV0DB4AYU8WBJPR6YNCR6VKB6QRG'", "'RequestId': 'REQUEST_ID'"),
        ("'x-amzn-requestid': 'b2ad9c8e-7f3e-4b6a-9d0e-3b1f2a4c5d6e'", "'x-amzn-requestid': 'REQUEST_ID'"),
        ("2025-11-26T21:43:00Z", "TIMESTAMP"),
        ("at 2025-11-26T21:43:00.123Z:", "at TIMESTAMP:"),
        ("2025-11-26T21:43:00.123456+00:00", "TIMESTAMP"),
        ("2025-11-26 21:43:00,123 INFO", "TIMESTAMP INFO"),
        ("2025-11-26T21:43:00-0500", "TIMESTAMP"),
        ("created 2025-11-26T21:43:00", "created TIMESTAMP"),
        (
            "'StreamCreationTimestamp': datetime.datetime(2025, 11, 26, 21, 43, 5, 120000, tzinfo=tzlocal())}",
            "'StreamCreationTimestamp': DATETIME}",
        ),
        ("'date': 'Wed, 26 Nov 2025 21:43:00 GMT'", "'date': 'HTTP_DATE'"),
        ('"approximateArrivalTimestamp": 1545084650.987,', '"approximateArrivalTimestamp": EPOCH,'),
        ("arrived 1545084650.5", "arrived EPOCH"),
        (
            "REPORT RequestId: 3f2504e0-4f89-11d3-9a0c-0305e82c3301\tDuration: 12.34 ms\tBilled Duration: 13 ms\t"
            "Memory Size: 128 MB\tMax Memory Used: 42 MB\tInit Duration: 45.6 ms",
            "REPORT RequestId: REQUEST_ID\tDuration: N ms\tBilled Duration: N ms\t"
            "Memory Size: 128 MB\tMax Memory Used: N MB\tInit Duration: N ms",
        ),
        ("2025/11/26/[$LATEST]0f1e2d3c4b5a69788796a5b4c3d2e1f0", "DATE/[$LATEST]HEX_ID"),
        ("trace 0123456789abcdef0123456789ABCDEF", "trace HEX_ID"),
        ("the batch took 1.23 s", "the batch took ELAPSED"),
        ("all records arrived in 850 ms", "all records arrived in ELAPSED"),
        ("retried after 2.5 seconds", "retried after ELAPSED"),
        ("done elapsed=1.234", "done elapsed=ELAPSED"),
        ("{'elapsed_s': 0.52, 'n': 3}", "{'elapsed_s': ELAPSED, 'n': 3}"),
        ("elapsed: 12 ms", "elapsed: ELAPSED"),
        (
            "  decoding.py  yours, from lesson 01 (Exercise 01.1 and 01.2 passed)\n",
            "  decoding.py  yours or the course's\n",
        ),
        (
            "  readings.py  the course's, from lesson 02 (Exercise 02.1 not passed yet in lesson 02)",
            "  readings.py  yours or the course's",
        ),
        (
            "  store.py     the course's, from lesson 04 (Exercise 04.1 and 04.2 not passed yet in lesson 04)",
            "  store.py     yours or the course's",
        ),
        (
            "  handler.py  yours, from lesson 02 (Exercise 02.2 passed); your earlier one is kept as "
            "handler.yours-20261202-173000.py",
            "  handler.py  yours or the course's",
        ),
        (
            "  decoding.py  kept yours, already in ../build/lessons/02/ (the kit would have copied yours from lesson 01)",
            "  decoding.py  yours or the course's",
        ),
        (
            "decoding.py  decode_record     from lesson 01            yours\nhandler.py  handler  new in this lesson",
            "decoding.py  decode_record     from lesson 01            yours or the course's\n"
            "handler.py  handler  new in this lesson",
        ),
        (
            "readings.py  InvalidReading    from lesson 02            the course's",
            "readings.py  InvalidReading    from lesson 02            yours or the course's",
        ),
    ],
)
def test_rule(raw, clean):
    assert sanitize(raw) == clean


@pytest.mark.parametrize(
    "text",
    [
        "3 records in 2 batches",
        "Sent 500 records to 4 shards in 12 PutRecords calls; batch size 100, window 5 s",
        "{'batchItemFailures': [{'itemIdentifier': '42'}]}",
        "StatusCode: 200, Memory Size: 128 MB, retries=3, 1234567890 records",
        "order-0001 total=99.95 EUR on 2025-11-26",
        "stream orders is ACTIVE with 2 shards",
        "decoding.py: yours, as you wrote it",  # only the exact shape of start()'s and show_handler()'s lines
        "Writing ../build/solutions/02/handler.py",
    ],
)
def test_ordinary_output_is_left_alone(text):
    assert sanitize(text) == text
