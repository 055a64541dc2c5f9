"""The domain stays pure: `workflows` imports the standard library and `transitions` only."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

WORKFLOWS = Path(__file__).parents[2] / "workflows"
ALLOWED_THIRD_PARTY = {"transitions"}
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


def test_the_domain_imports_only_the_standard_library_and_transitions() -> None:
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
