"""The domain stays pure: `workflows` imports the standard library, `transitions` and `ortools`."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

WORKFLOWS = Path(__file__).parents[2] / "workflows"
# ortools: CP-SAT for the conversation planner (workflows/planning), pure computation, no I/O.
ALLOWED_THIRD_PARTY = {"transitions", "ortools"}
# Standard-library modules that read the clock, touch the network or disk, or spawn processes.
FORBIDDEN_STDLIB = {
    "os",
    "io",
    "socket",
    "subprocess",
    "sqlite3",
    "time",
    "pathlib",
    "shutil",
    "urllib",
    "http",
    "asyncio",
    "threading",
    "random",
    "logging",
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_the_domain_imports_only_the_standard_library_transitions_and_ortools() -> None:
    modules = sorted(WORKFLOWS.rglob("*.py"))
    assert modules, "no domain modules found"
    for module in modules:
        for name in _imports(module):
            if name in {"workflows", "__future__"}:
                continue
            assert name in sys.stdlib_module_names or name in ALLOWED_THIRD_PARTY, (
                f"{module.name} imports {name}"
            )
            assert name not in FORBIDDEN_STDLIB, f"{module.name} imports {name} (I/O or clock)"


def test_the_domain_never_reads_the_clock() -> None:
    for module in WORKFLOWS.rglob("*.py"):
        source = module.read_text(encoding="utf-8")
        for call in ("datetime.now(", "date.today(", "datetime.utcnow(", "datetime.today("):
            assert call not in source, f"{module.name} calls {call}"


# -- the service's direction: edges -> capabilities -> store -> workflows ------------------------

SERVICE = Path(__file__).parents[2] / "service"
# Edge modules: the HTTP API, web pages, CLI, worker loops and the composition root. A
# capability package may hold its own routes (`*_api.py`, `api.py`, `routing.py`) and CLI
# (`cli.py`, `demo.py`); those are edges too.
EDGE_PACKAGES = {"api", "web"}
EDGE_MODULES = {
    "cli",
    "worker",
    "clitools",
    "bootstrap",
    "handlers",  # composition: which capability handles which outbox topic
    "settings",
    "gcpause",
    "logs",
    "dbfaults",
}
EDGE_NAMES = {"api", "cli", "routing", "demo"}
# Capability modules that still take the whole `Container` (a service locator) instead of
# what they use. Debt, listed so that it can only shrink: a new entry fails the test.
CONTAINER_LOCATORS = {
    "imports/pupils.py",
    "imports/results.py",
    "imports/running.py",
    "intake/processing.py",
    "intake/senders.py",
}


def _layer(parts: tuple[str, ...]) -> str:
    if len(parts) == 1:
        return "edge" if parts[0] in EDGE_MODULES else "capability"
    if parts[0] in EDGE_PACKAGES:
        return "edge"
    if parts[0] in {"store", "shared"}:
        return parts[0]
    name = parts[-1]
    return "edge" if name.endswith("_api") or name in EDGE_NAMES else "capability"


def _service_imports(path: Path) -> set[tuple[str, ...]]:
    """The service modules `path` imports, as parts below `service` (`("store", "log")`)."""
    found: set[tuple[str, ...]] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = tuple(name.split("."))
            if parts[0] == "service" and len(parts) > 1:
                found.add(parts[1:])
    return found


def _modules() -> list[tuple[tuple[str, ...], Path]]:
    return [
        (tuple(p.relative_to(SERVICE).with_suffix("").parts), p)
        for p in sorted(SERVICE.rglob("*.py"))
        if p.name != "__init__.py"
    ]


def _target_layer(target: tuple[str, ...]) -> str:
    if (SERVICE.joinpath(*target)).is_dir():  # `from service.store import log`: the package
        return _layer((*target, "__init__"))
    return _layer(target)


def test_the_store_imports_only_the_store_shared_types_and_the_domain() -> None:
    for parts, path in _modules():
        if parts[0] != "store":
            continue
        for target in _service_imports(path):
            assert target[0] in {"store", "shared"}, f"{path} imports service.{'.'.join(target)}"


def test_shared_types_import_nothing_of_the_service() -> None:
    for parts, path in _modules():
        if parts[0] == "shared":
            assert not _service_imports(path), f"{path} imports the service"


def test_only_the_postgresql_adapter_imports_psycopg() -> None:
    for parts, path in _modules():
        if parts == ("store", "postgres"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            assert not any(n.split(".")[0] == "psycopg" for n in names), (
                f"{path} imports a database driver"
            )


def test_capabilities_never_import_an_edge_except_the_listed_container_locators() -> None:
    locators = set()
    for parts, path in _modules():
        if _layer(parts) != "capability" or len(parts) == 1:
            continue
        for target in _service_imports(path):
            if _target_layer(target) != "edge":
                continue
            where = "/".join(parts) + ".py"
            if target == ("bootstrap",) and where in CONTAINER_LOCATORS:
                locators.add(where)
                continue
            if target in {("settings",), ("gcpause",), ("dbfaults",)}:
                continue  # plain settings and process helpers, no service behind them
            raise AssertionError(f"{where} (a capability) imports the edge {'.'.join(target)}")
    assert locators == CONTAINER_LOCATORS, "update the list: a locator was removed (good)"


def _capability_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for parts, path in _modules():
        if len(parts) == 1 or _layer(parts) != "capability":
            continue
        for target in _service_imports(path):
            if target[0] != parts[0] and _target_layer(target) == "capability":
                graph.setdefault(parts[0], set()).add(target[0])
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_capability_packages() -> None:
    graph = _capability_graph()
    assert graph, "no capability imports found: the scan is broken"
    assert cycles(graph) == []
