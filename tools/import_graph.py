"""Prints the import graph of the LocalStack extension (kinesis_course_localstack) and fails on a cycle.

    .venv/course/bin/python tools/import_graph.py        (any Python 3.9+: the standard library only)

Every import counts, also those inside functions (a cycle through a lazy import is still a cycle). Each line is a
module and the extension's modules it imports; "LocalStack" marks a module that imports LocalStack itself. The exit
status is 1 when the graph has a cycle, which is printed.
"""

from __future__ import annotations

import ast
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

PACKAGE = "kinesis_course_localstack"
ROOT = Path(__file__).resolve().parent.parent / "localstack-extension"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, module: str) -> tuple[set[str], bool]:
    """The package's modules that ``module`` imports, and whether it imports LocalStack."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    localstack = False
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # "from . import state" imports the module state; "from .state import Flight" imports state.
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            localstack |= name == "localstack" or name.startswith("localstack.")
            if name == PACKAGE or name.startswith(PACKAGE + "."):
                found.add(name)
    return found, localstack


def import_graph() -> tuple[dict[str, set[str]], set[str]]:
    """{module: the package's modules it imports}, and the modules that import LocalStack."""
    paths = {_module_name(path): path for path in sorted((ROOT / PACKAGE).rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    uses_localstack: set[str] = set()
    for module, path in paths.items():
        imported, localstack = _imports(path, module)
        # Keep the names that are modules (not "from .state import Flight"'s Flight), and no self-reference from
        # a package to its own __init__.
        graph[module] = {name for name in imported if name in paths and name != module}
        # A package's __init__ is imported with each of its modules: not an edge worth showing.
        graph[module] -= {name for name in graph[module] if module.startswith(name + ".")}
        if localstack:
            uses_localstack.add(module)
    return graph, uses_localstack


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as error:
        return list(error.args[1])
    return None


def main() -> int:
    graph, uses_localstack = import_graph()
    short = len(PACKAGE) + 1
    for module in sorted(graph):
        imported = ", ".join(sorted(name[short:] for name in graph[module])) or "-"
        mark = "  [LocalStack]" if module in uses_localstack else ""
        print(f"{module[short:] or PACKAGE:28} -> {imported}{mark}")
    if found := cycle(graph):
        print("Import cycle: " + " -> ".join(found), file=sys.stderr)
        return 1
    print(f"No import cycle among the {len(graph)} modules of {PACKAGE}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
