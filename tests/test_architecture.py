"""The package's shape: no import cycles, layers that only import downwards, short
functions in the model, and file reading kept at the model's edges.

Read from the source with `ast`, never by importing, so a cycle is found even where a
lazy import inside a function hides it from Python at load time. Imports written under
`if TYPE_CHECKING:` are annotations only, never run, and are not edges.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The checkout's folders and the names they install under (pyproject's package-dir).
PACKAGES = {"model": "relief.model", "cli": "relief.cli"}
LONG_FUNCTION = 80  # lines, the def line to the last line of its body
# Where model/ may read files: the case reader, the run files, the sweep store, and the
# sweep file's reader (spec.load_spec: a sweep.yaml is an input, as a case is).
READERS = {"relief.model.core.read", "relief.model.core.io", "relief.model.sweeps.store", "relief.model.sweeps.spec"}
READ_CALLS = ("open", "read_csv", "read_excel", "read_text", "read_bytes", "load_workbook")


def _modules() -> dict[str, Path]:
    """Every module of relief.model and relief.cli, by its dotted name."""
    out = {}
    for folder, package in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join((package, *parts))] = path
    return out


MODULES = _modules()


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _is_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _imports(node: ast.AST):
    """The import statements under `node`, at any depth, except under `if TYPE_CHECKING:`."""
    for child in ast.iter_child_nodes(node):
        if _is_type_checking(child):
            for other in child.orelse:
                yield from _imports_of(other)
            continue
        yield from _imports_of(child)


def _imports_of(node: ast.AST):
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
    yield from _imports(node)


def _resolve(module: str, path: Path, node: ast.Import | ast.ImportFrom) -> set[str]:
    """The relief modules one import statement loads (a package's `from p import m` is m)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        base = node.module or ""
        if node.level:  # relative: from . import x, from ..core import y
            package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join(package + ([base] if base else []))
        names = [f"{base}.{a.name}" for a in node.names] + [base]
    out = set()
    for name in names:
        # the longest prefix that is a module of the package
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name:
            out.add(name)
    return out


def _graph() -> dict[str, set[str]]:
    graph = {}
    for module, path in MODULES.items():
        edges = set()
        for node in _imports(_tree(path)):
            edges |= _resolve(module, path, node)
        # a package's own __init__ is loaded by any import of its modules: not an edge of interest
        graph[module] = {m for m in edges if m != module and not module.startswith(m + ".")}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle spelled out (a -> b -> a) for each strongly connected component of more
    than one module (Tarjan): removing that cycle may leave others in the same component,
    which `_components` lists whole."""
    return [_one_cycle(graph, c) for c in _components(graph)]


def _components(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module, each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
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
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return components


def _one_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A shortest path from the component's first module back to itself."""
    inside = set(component)
    start = component[0]
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & inside):
                if w == start:
                    return paths[v] + [start]
                if w not in paths:
                    paths[w] = paths[v] + [w]
                    nxt.append(w)
        frontier = nxt
    return component


def _short(module: str) -> str:
    return module.removeprefix("relief.")


def _cycle_report(graph: dict[str, set[str]]) -> str:
    lines = []
    for component in _components(graph):
        lines.append(" -> ".join(map(_short, _one_cycle(graph, component))))
        if len(component) > 2:
            lines.append(f"    (one of the cycles among {len(component)} modules: {', '.join(map(_short, component))})")
    return "\n".join(lines)


def _long_functions() -> list[str]:
    out = []
    for module, path in MODULES.items():
        if not module.startswith("relief.model"):
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(_tree(path)):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            length = node.end_lineno - node.lineno + 1
            reason = [lines[node.lineno - 1], lines[first - 2] if first >= 2 else ""]
            if length > LONG_FUNCTION and not any("# long:" in line for line in reason):
                out.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    return out


def test_the_checks_see_the_package():
    """The checks below read real modules: the graph holds the layers and their edges."""
    graph = _graph()
    assert {"relief.model.core.case", "relief.model.core.build", "relief.cli.main"} <= set(graph)
    assert "relief.model.core.schema" in graph["relief.model.core.case"] | graph["relief.model.core.validate"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def test_no_import_cycle():
    """No module of relief reaches itself through imports, lazy ones inside functions included."""
    graph = _graph()
    assert not _components(graph), "import cycles:\n" + _cycle_report(graph)


def test_no_import_cycle_in_the_model():
    """relief.model alone has no cycle: the layers below the command line form no loop."""
    graph = {m: {w for w in e if w.startswith("relief.model")} for m, e in _graph().items()}
    graph = {m: e for m, e in graph.items() if m.startswith("relief.model")}
    assert not _components(graph), "import cycles:\n" + _cycle_report(graph)


# A module of the first layer may not import the second: data flows one way,
# schema -> case -> build -> engine -> run -> sweeps -> analyses -> cli.
FORBIDDEN = [
    ("relief.model.core", "relief.model.sweeps"),
    ("relief.model.core", "relief.model.analyses"),
    ("relief.model.core", "relief.cli"),
    ("relief.model.sweeps", "relief.model.analyses"),
    ("relief.model.sweeps", "relief.cli"),
    ("relief.model", "relief.cli"),
]


def test_layers_import_only_downwards():
    def within(module: str, layer: str) -> bool:
        return module == layer or module.startswith(layer + ".")

    wrong = [
        f"{_short(m)} imports {_short(w)}"
        for m, edges in sorted(_graph().items())
        for w in sorted(edges)
        for low, high in FORBIDDEN
        if within(m, low) and within(w, high)
    ]
    assert not wrong, "imports against the layers:\n" + "\n".join(dict.fromkeys(wrong))


def test_no_long_function_in_the_model_without_a_reason():
    """A function of model/ over 80 lines says why on its def line or the line above
    (`# long: REASON`); otherwise it is split at its natural seams."""
    long = _long_functions()
    assert not long, "functions over 80 lines:\n" + "\n".join(long)


def test_the_model_reads_files_only_at_its_edges():
    """Only the case reader, the run files, the sweep store and the sweep file's reader
    read files: the rest of the model takes a Case and returns results (style.md: the
    model never reads files)."""
    reads = []
    for module, path in MODULES.items():
        if not module.startswith("relief.model") or module in READERS:
            continue
        for node in ast.walk(_tree(path)):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
            if name in READ_CALLS:
                reads.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}(")
    edges = "model/core/read.py, io.py, sweeps/store.py and sweeps/spec.py"
    assert not reads, f"files read outside {edges}:\n" + "\n".join(reads)


def test_the_map_names_every_module():
    """docs/architecture.md is the map of the code: it names every module of model/ and cli/
    (as `model/core/build.py`, or `cli/report_*.py` for a family), and no module that is gone."""
    import fnmatch
    import re

    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:model|cli)/[\w/*]+\.py)`", text))
    files = {str(p.relative_to(ROOT)) for p in MODULES.values() if p.name != "__init__.py"}
    missing = sorted(f for f in files if not any(fnmatch.fnmatch(f, n) for n in named))
    gone = sorted(n for n in named if not any(fnmatch.fnmatch(f, n) for f in files))
    assert not missing, "modules the map (docs/architecture.md) does not name: " + ", ".join(missing)
    assert not gone, "modules the map names that do not exist: " + ", ".join(gone)


def test_the_command_line_starts_without_the_solver_stack():
    """`relief --help`, a usage error or a bad case answer at once: importing the command
    group loads none of Pyomo, HiGHS, pandas, NumPy or matplotlib (each command imports what
    it needs when it runs). One top-level import of a model module in a command undid this
    once (relief --help took 2 s instead of 0.3 s)."""
    import subprocess
    import sys

    heavy = ("pyomo", "highspy", "pandas", "numpy", "matplotlib")
    code = f"import sys, relief.cli.main; print(','.join(m for m in {heavy!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert not loaded, f"importing relief.cli.main loads {loaded}"
