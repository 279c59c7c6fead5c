"""The rooms of congress_vote/ and their doors: no import circle, no module over 400 lines.

Every module of the package is parsed with ``ast``; every ``import`` / ``from … import`` of a
congress_vote module counts, at module level and inside functions alike (an import hidden in a
function is still a door), relative imports resolved. ``from pkg import name`` counts as an
import of ``pkg.name`` when that is a module, else of ``pkg``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

# reads the source with ast
pytestmark = pytest.mark.db_independent

PACKAGE = "congress_vote"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, path, node)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.append(sub if sub in modules else base)
            for target in targets:
                # the nearest enclosing module of the package (a.b.c -> a.b if c is a name)
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != module and target.startswith(PACKAGE):
                    graph[module].add(target)
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                components.append(comp)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    cycles = []
    for comp in components:
        members = set(comp)
        start = min(comp)
        # the shortest path back to `start` inside the component (breadth first)
        paths = {start: [start]}
        queue = [start]
        found = None
        while queue and found is None:
            v = queue.pop(0)
            for w in sorted(graph[v] & members):
                if w == start:
                    found = paths[v] + [start]
                    break
                if w not in paths:
                    paths[w] = paths[v] + [w]
                    queue.append(w)
        cycles.append(found or sorted(comp))
    return cycles


def test_the_graph_sees_function_level_and_relative_imports():
    graph = import_graph()
    # module level, relative: the app factory imports its blueprints inside create_app
    assert "congress_vote.extensions" in graph["congress_vote"]
    assert "congress_vote.api" in graph["congress_vote"]  # imported inside create_app
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def test_no_import_circle():
    cycles = find_cycles(import_graph())
    assert not cycles, "import circles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_no_module_over_400_lines():
    big = {}
    for module, path in _modules().items():
        if ".migrations.versions." in module:
            continue
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES:
            big[module] = n
    assert not big, f"modules over {MAX_LINES} lines: {big}"


def _own_and_imported(tree: ast.Module) -> tuple[set[str], set[str]]:
    own: set[str] = set()
    imported: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            own.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            own.update(x.id for t in targets for x in ast.walk(t) if isinstance(x, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            imported.update((a.asname or a.name).split(".")[0] for a in node.names)
    return own, imported


def test_no_second_door():
    """A name is imported from the module that defines it, never through another module that
    only imports it (a re-export shim). A package's ``__init__`` may face for its package."""
    modules = _modules()
    trees = {m: ast.parse(p.read_text(encoding="utf-8")) for m, p in modules.items()}
    names = {m: _own_and_imported(t) for m, t in trees.items()}

    def borrowed(target: str, name: str) -> bool:
        own, imported = names[target]
        return modules[target].name != "__init__.py" and name not in own and name in imported

    found = []
    for module, tree in trees.items():
        aliases = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                base = _resolve(module, modules[module], node)
                for alias in node.names:
                    if f"{base}.{alias.name}" in modules:
                        aliases[alias.asname or alias.name] = f"{base}.{alias.name}"
                    elif base in modules and borrowed(base, alias.name):
                        found.append(f"{module}: from {base} import {alias.name}")
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and borrowed(aliases[node.value.id], node.attr)
            ):
                found.append(f"{module}: {node.value.id}.{node.attr} ({aliases[node.value.id]})")
    assert not found, "names taken through a second door:\n" + "\n".join(sorted(set(found)))


def _is_door(module: str) -> bool:
    """The request and command-line doors: views, API routes, CLI, the app factory."""
    last = module.rsplit(".", 1)[-1]
    return (
        module == PACKAGE
        or module.startswith(f"{PACKAGE}.api")
        or last
        in ("views", "account_views", "kiosk_views", "checkin_views", "main", "cli", "cli_extra")
    )


def test_layers():
    """The rules engine imports nothing outside rules/; models only models, db and extensions;
    nothing but a door imports a door (services never import views, API routes or the CLI)."""
    bad = []
    for module, targets in import_graph().items():
        if ".migrations." in module:
            continue
        for target in sorted(targets):
            if (
                module.startswith(f"{PACKAGE}.rules")
                and not target.startswith(f"{PACKAGE}.rules")
                or module.endswith(".models")
                and not (
                    target.endswith(".models")
                    or target in (f"{PACKAGE}.db", f"{PACKAGE}.extensions")
                )
                or _is_door(target)
                and not _is_door(module)
            ):
                bad.append(f"{module} -> {target}")
    assert not bad, "imports across the layers:\n" + "\n".join(bad)
