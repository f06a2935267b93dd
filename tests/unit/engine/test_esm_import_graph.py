"""The extension's import graph (tools/import_graph.py prints it): no cycle, and the pure rules import no LocalStack."""

from __future__ import annotations

import import_graph

PURE = ("attempts", "batches", "validation", "window_rules", "state", "switches")


def test_the_extension_has_no_import_cycle():
    graph, _ = import_graph.import_graph()
    assert "kinesis_course_localstack.esm.delivery" in graph and len(graph) > 20, "the extension's modules were found"
    assert import_graph.cycle(graph) is None, f"import cycle: {import_graph.cycle(graph)}"


def test_a_cycle_is_found_also_through_a_lazy_import():
    assert import_graph.cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) is not None
    graph, _ = import_graph.import_graph()
    # The delivery loop's observers import it; it must not import them back (not even inside a function).
    assert "kinesis_course_localstack.esm.delivery" in graph["kinesis_course_localstack.esm.position"]
    assert not graph["kinesis_course_localstack.esm.delivery"] & {
        "kinesis_course_localstack.esm.position",
        "kinesis_course_localstack.esm.metrics",
    }


def test_the_pure_rules_and_the_state_import_no_localstack():
    graph, uses_localstack = import_graph.import_graph()
    for name in PURE:
        module = f"kinesis_course_localstack.esm.{name}"
        assert module in graph
        assert module not in uses_localstack, f"{module} imports LocalStack"
        assert not any(imported in uses_localstack for imported in graph[module]), f"{module} imports one that does"
