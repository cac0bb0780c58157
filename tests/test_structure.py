"""The shape of the code (issue 9, "Done means"), from the parsed source of synthgen/ and evaluators/:

- no import circle among first-party modules (imports inside functions count too: they hide a circle, they do not
  remove it). A module importing its own parent package (``from . import x`` inside ``pkg``, which runs
  ``pkg/__init__``) is not an edge, as in ../shared/tools/shape.py: a package re-exporting its own submodules
  would otherwise make every such pair a circle;
- no module over 400 lines, except those in ALLOWED_LONG_MODULES (each with its reason);
- no function over 60 lines in synthgen/generators/, synthgen/release/, synthgen/cli/.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("synthgen", "evaluators")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
SHORT_FUNCTION_DIRS = ("synthgen/generators", "synthgen/release", "synthgen/cli")

# module path -> why it may exceed MAX_MODULE_LINES. Keep this short; every entry needs a reason.
ALLOWED_LONG_MODULES: dict[str, str] = {}


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _targets(mod: str, is_pkg: bool, node: ast.AST) -> list[str]:
    """First-party modules an import statement loads (the longest known prefix of each imported name)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        base = node.module or ""
        if node.level:
            parts = mod.split(".") if is_pkg else mod.split(".")[:-1]
            parts = parts[: len(parts) - (node.level - 1)]
            base = ".".join(parts + ([base] if base else []))
        names = [base] + [f"{base}.{a.name}" for a in node.names]
    out = []
    for n in names:
        while n and n not in MODULES:
            n = n.rpartition(".")[0]
        if n:
            out.append(n)
    return out


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for mod, path in MODULES.items():
        graph.setdefault(mod, set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for dep in _targets(mod, path.name == "__init__.py", node):
                    if dep != mod and not mod.startswith(dep + "."):  # a module importing its own parent
                        graph[mod].add(dep)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack, on_stack, out = [], set(), []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            w = next(children, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def test_circle_finder_finds_a_planted_circle():
    g = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert circles(g) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_function_level_imports_count():
    tree = ast.parse("def f():\n    from synthgen.privacy import spend\n")
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom))
    assert "synthgen.privacy.spend" in _targets("synthgen.generators.base", False, node)


def test_no_import_circles():
    found = circles(import_graph())
    assert not found, "import circles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_no_long_modules():
    long = []
    for path in MODULES.values():
        rel = path.relative_to(ROOT).as_posix()
        n = path.read_text(encoding="utf-8").count("\n")
        if n > MAX_MODULE_LINES and rel not in ALLOWED_LONG_MODULES:
            long.append(f"{rel}: {n} lines")
    stale = [m for m in ALLOWED_LONG_MODULES if not (ROOT / m).exists()
             or (ROOT / m).read_text(encoding="utf-8").count("\n") <= MAX_MODULE_LINES]
    assert not long, f"modules over {MAX_MODULE_LINES} lines (split them, or allow-list one with a reason): {long}"
    assert not stale, f"allow-listed modules that no longer need it (remove them from the list): {stale}"


def test_no_long_functions_in_generators_release_cli():
    long = []
    for path in MODULES.values():
        rel = path.relative_to(ROOT).as_posix()
        if not rel.startswith(SHORT_FUNCTION_DIRS):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{rel}:{node.lineno} {node.name} ({n} lines)")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"
