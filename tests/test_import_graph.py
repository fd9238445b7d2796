"""No import circle in `integration/`: every module imports only what sits below it.

The graph is read from the source, not from Python's import machinery, so that nothing can hide
in it: module-level and function-local imports alike, relative ones, and dotted strings naming a
module of ours ("integration.app.module.name", as django-q2 task names and `import_string`
paths are written), which are imports that only happen later. A circle through any of them is a
failure naming the modules; `tests/` and migrations are not part of the graph.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "integration"
DOTTED = re.compile(rf"{PACKAGE}(\.\w+)+")


def our_modules(root: Path = ROOT) -> dict[str, Path]:
    modules = {}
    for path in (root / PACKAGE).rglob("*.py"):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if "migrations" in parts:
            continue
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The module of ours that `name` (a module, or a name inside one) lives in."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _imported_names(node: ast.AST, package: str) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            parts = package.split(".")[:len(package.split(".")) - (node.level - 1)]
            base = ".".join([*parts, base] if base else parts)
        return [f"{base}.{alias.name}" for alias in node.names]
    if isinstance(node, ast.Constant) and isinstance(node.value, str) \
            and DOTTED.fullmatch(node.value):
        return [node.value]
    return []


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """{module: the modules of ours it imports}, from every import and dotted string in it."""
    modules = our_modules(root)
    graph = {}
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for name in _imported_names(node, package):
                target = _resolve(name, modules)
                if target is not None and target != module:
                    targets.add(target)
        graph[module] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in graph[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_integration_has_no_import_circle():
    # given every module of integration/ with what it imports, strings included
    graph = import_graph()

    # when
    circles = cycles(graph)

    # then
    assert circles == [], "\n".join(
        " <-> ".join(circle) + ": " + "; ".join(
            f"{module} -> {', '.join(sorted(graph[module] & set(circle)))}" for module in circle)
        for circle in circles)


def test_the_graph_sees_function_local_imports_and_dotted_strings(tmp_path):
    """The checker itself: a circle made of a local import and a task name is found."""
    # given
    package = tmp_path / PACKAGE / "app"
    package.mkdir(parents=True)
    (tmp_path / PACKAGE / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "engine.py").write_text("TASK = 'integration.app.tasks.run'\n")
    (package / "tasks.py").write_text("def run():\n    from . import engine\n")
    (package / "alone.py").write_text("from .engine import TASK\n")

    # when
    found = cycles(import_graph(tmp_path))

    # then
    assert found == [["integration.app.engine", "integration.app.tasks"]]
