"""Dependencies point one way — translate ← summarize ← tarjama ← app — with no cycles and no module
reaching into another's underscore names.  Read from the source with ast, function-level imports included
(a lazy import is still a dependency); each failure names the file and line."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import REPO

# The installed name of each product folder (pyproject's package-dir), and its layer: lower may not import higher.
ROOTS = {"translate": "tarjama.translate", "summarize": "tarjama.summarize", "tarjama": "tarjama"}
LAYERS = [("tarjama.translate", 0), ("tarjama.summarize", 1), ("tarjama", 2), ("app", 3)]


def _modules() -> dict[str, Path]:
    found = {"app": REPO / "app.py"}
    for folder, name in ROOTS.items():
        for path in sorted((REPO / folder).rglob("*.py")):
            parts = list(path.relative_to(REPO / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join([name, *parts])] = path
    return found


MODULES = _modules()


def _layer(module: str) -> int:
    return next(rank for prefix, rank in LAYERS if module == prefix or module.startswith(prefix + "."))


def _imports(module: str, path: Path) -> list[tuple[str, list[str], int]]:
    """(imported module, names taken from it, line) for every import statement in the file."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            names = [alias.name for alias in node.names]
            out.append((base, names, node.lineno))
            out += [(f"{base}.{n}", [], node.lineno) for n in names if f"{base}.{n}" in MODULES]
    return out


def _edges() -> dict[str, dict[str, int]]:
    edges: dict[str, dict[str, int]] = {m: {} for m in MODULES}
    for module, path in MODULES.items():
        for target, _, line in _imports(module, path):
            if target in MODULES and target != module:
                edges[module].setdefault(target, line)
    return edges


def test_the_module_list_is_complete() -> None:
    assert {"app", "tarjama.translate.engine", "tarjama.summarize.summarizer", "tarjama.pipeline",
            "tarjama.cli.command"} <= set(MODULES)


def test_no_upward_import() -> None:
    """translate knows nothing of summarize or tarjama; summarize nothing of tarjama; tarjama nothing of app
    (the page is loaded by `tarjama serve` from its file or ``tarjama.app``, never imported by name)."""
    bad = [f"{MODULES[m].relative_to(REPO)}:{line}: {m} imports {t}"
           for m, targets in _edges().items() for t, line in targets.items() if _layer(t) > _layer(m)]
    assert not bad, "\n".join(bad)


def test_no_private_name_crosses_a_module() -> None:
    bad = []
    for module, path in MODULES.items():
        for target, names, line in _imports(module, path):
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if target in MODULES and target != module and private:
                bad.append(f"{path.relative_to(REPO)}:{line}: {', '.join(private)} from {target}")
    assert not bad, "\n".join(bad)


def test_no_import_cycle() -> None:
    edges = _edges()
    cycles = _cycles(edges)
    described = [" → ".join(f"{a} ({MODULES[a].relative_to(REPO)}:{edges[a][b]})" for a, b in zip(c, c[1:] + c[:1]))
                 for c in cycles]
    assert not cycles, "\n".join(described)


def _cycles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in edges:
        if v not in index:
            visit(v)
    return [_one_cycle(c, edges) for c in components]


def _one_cycle(component: list[str], edges: dict[str, dict[str, int]]) -> list[str]:
    """A concrete cycle inside a strongly connected component, found by walking edges inside it."""
    members, path = set(component), [component[0]]
    while True:
        nxt = next(w for w in edges[path[-1]] if w in members)
        if nxt in path:
            return path[path.index(nxt):]
        path.append(nxt)


@pytest.mark.parametrize("source,expected", [
    ({"a": {"b": 1}, "b": {"a": 2}}, [["a", "b"]]),
    ({"a": {"b": 1}, "b": {"c": 1}, "c": {}}, []),
    ({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}}, [["a", "b", "c"]]),
])
def test_the_cycle_finder_itself(source: dict, expected: list) -> None:
    assert [sorted(c) for c in _cycles(source)] == [sorted(c) for c in expected]


# -- one home per fact ------------------------------------------------------------------------------------


def test_the_schemas_flags_are_the_flag_enum() -> None:
    import json

    from tarjama.translate.flags import NEEDS_REVIEW, Flag

    schema = json.loads((REPO / "tarjama" / "schema" / "article.schema.json").read_text(encoding="utf-8"))
    assert schema["$defs"]["sentence"]["properties"]["flags"]["items"] == {"$ref": "#/$defs/flag"}
    enum = schema["$defs"]["flag"]["enum"]
    assert sorted(enum) == sorted(f.value for f in Flag)
    assert set(Flag) > NEEDS_REVIEW and Flag.EDITED not in NEEDS_REVIEW and Flag.MEMORY not in NEEDS_REVIEW
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert all(f"`{f.value}`" in readme for f in Flag), "README's flag list"


@pytest.mark.parametrize("fact,home", [
    ("This output is noise", "tarjama/result.py"),            # the DEMO notice
    ("0x0600, 0x06FF", "translate/segment.py"),               # what counts as Arabic script
    ('"chunk-merge", "lead"', "summarize/summarizer.py"),     # the summary strategies
    ('"TARJAMA_CACHE"', "tarjama/paths.py"),                  # environment variables and default paths
    ('"TARJAMA_MODELS"', "tarjama/paths.py"),
    ('"TARJAMA_CORPUS"', "tarjama/paths.py"),
    ('"--no-memory", dest=', "tarjama/cli/options.py"),       # the options every translating command shares
    ('"--backend", choices=', "tarjama/cli/options.py"),
])
def test_a_fact_is_written_once(fact: str, home: str) -> None:
    where = [str(path.relative_to(REPO)) for path in (*MODULES.values(), *(REPO / "bench").glob("*.py"))
             if fact in path.read_text(encoding="utf-8")]
    assert where == [home]
