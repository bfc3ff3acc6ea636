"""The house holds: the import-linter contracts in pyproject.toml (layers, no Prefect below the
flows), no import cycle between modules, small modules, and short functions where the pipeline
is assembled."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("lstmflow", "flows", "tasks", "models", "expectations")
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60
# where the chain is put together: the core, what it calls, and what calls it
ASSEMBLY = ("lstmflow/core", "lstmflow/fit", "lstmflow/repair", "lstmflow/backtest",
            "lstmflow/tune", "flows", "tasks")


def _sources(*roots: str) -> list[Path]:
    return sorted(p for r in roots for p in (ROOT / r).rglob("*.py"))


def import_graph():
    import grimp

    return grimp.build_graph(*PACKAGES, include_external_packages=False)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on.add(root)
        while work:
            v, children = work[-1]
            w = next(children, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges.get(w, ())))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def test_the_cycle_finder_finds_a_cycle():
    """The check below can fail: two modules importing each other are one component."""
    assert cycles({"a": {"b"}, "b": {"a", "c"}, "c": set()}) == [["a", "b"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_no_module_imports_itself_back():
    """Every import counts, also one inside a function (how the old cycles hid)."""
    graph = import_graph()
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    assert cycles(edges) == []


def test_the_import_contracts_hold(capsys, monkeypatch):
    """pyproject.toml's import-linter contracts: each layer imports only the layers below it;
    nothing under lstmflow/ (but the CLI), models/ or expectations/ imports Prefect."""
    from importlinter.cli import lint_imports

    monkeypatch.chdir(ROOT)
    code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True,
                        no_logo=True)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "2 kept, 0 broken" in out


@pytest.mark.parametrize("path", _sources(*PACKAGES), ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_stay_small(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_MODULE_LINES


def test_functions_where_the_pipeline_is_assembled_stay_short():
    long = []
    for path in _sources(*ASSEMBLY):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} {lines}")
    assert long == []


def test_every_package_folder_is_a_package():
    """A folder without __init__.py is a namespace package: setuptools' find_packages skips it
    and the import contracts cannot see it."""
    missing = [str(d.relative_to(ROOT)) for r in PACKAGES for d in [ROOT / r,
                                                                    *(ROOT / r).rglob("*")]
               if d.is_dir() and d.name != "__pycache__" and any(d.glob("*.py"))
               and not (d / "__init__.py").is_file()]
    assert missing == []
