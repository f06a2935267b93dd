"""Event source mappings of LocalStack 4.14 made to behave as AWS documents them, plus two teaching devices.

Layout (each module one idea; ``tools/import_graph.py`` prints who imports whom, and there is no cycle):

Pure rules, no LocalStack import (tests/unit/engine tests them without LocalStack):
- ``attempts``: how the attempts at a batch are counted (approximateInvokeCount), inferred from AWS's recordings.
- ``batches``: how read records are cut into batches (BatchSize, 6 MB) and lanes (ParallelizationFactor).
- ``validation``: which mapping parameters AWS refuses, with AWS's messages.
- ``window_rules``: tumbling windows: a record's window, the window's event, the state in a response.
- ``switches``: the environment variables that switch parts off (COURSE_ESM_POLLER, COURSE_ESM_METRICS,
  COURSE_ESM_POSITION).

State, no LocalStack import:
- ``state``: the poller's state, with public read access: checkpoints and shard readers, the course clock's factors,
  the batches in flight, the open windows, and each LocalStack poller's settings (kept beside the poller).

Behaviour on LocalStack's objects (LocalStack's names imported where used):
- ``delivery``: delivering a batch with AWS's retry rules (bisection, attempts, RecordAgeExceeded records), and
  the observers it tells what it delivers (``DeliveryObserver``, ``OBSERVERS``).
- ``lifecycle``: disable and delete stop retries; a disabled mapping can be deleted; a deleted mapping's state goes.
- ``reading``: Kinesis mappings read like AWS's (one ``shard_reader.ShardReader`` per shard), settings passed to the
  poller, validation raised as AWS raises it.
- ``shard_reader``: one shard's reader: reads of 10,000, batches back to back, batching window, lanes, windows.
- ``windows``: a tumbling window's invocations (the window's event, the final invocation).
- ``metrics``: Lambda's Duration and IteratorAge in LocalStack's CloudWatch (an observer for IteratorAge).
- ``event_counts``: the mapping's EventCount metrics (MetricsConfig), an observer of the reader and the delivery.
- ``position``: the position view, a teaching device (not AWS): an observer keeps the batches in flight, the
  endpoint GET /_kinesis_course/esm/<UUID>/position reads state.
- ``clock``: the course clock's endpoint, a teaching device (not AWS): PUT /_kinesis_course/esm/<UUID>/clock.

Wiring:
- ``patches``: the table of patches (LocalStack target, replacement, AWS behaviour, switch, pinned signature and,
  for the two copies of LocalStack functions, the pinned source), the routes and the observers; the hook
  ``apply_esm_patches`` (entry point ``localstack.hooks.on_infra_start``) applies them.
- ``pins``: checks the pins against the installed LocalStack (tests/engine/test_esm_localstack_pins.py runs it).
"""
