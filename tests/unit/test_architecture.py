"""Layers as a contract: the import-linter contracts in pyproject.toml hold, a wrong import
breaks them, and the top-level packages import each other in one direction only."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
LINTER = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
PACKAGES: list[str] = LINTER["root_packages"]
CONTRACTS = {c["id"]: c["name"] for c in LINTER["contracts"]}

# Package cycles that exist today, each with the issue-16 work stream that removes it; when
# one goes, delete its line here (the test fails until then, so the list stays true).
KNOWN_CYCLES: set[frozenset[str]] = set()  # ml ⇄ maintenance went with the lead's ml/ work


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` on the packages of ``tree`` (it puts its working directory first on the
    path, so the tree's packages are read, not an installed copy), its output in UTF-8 and
    unwrapped."""
    run = "from importlinter.cli import lint_imports_command; lint_imports_command()"
    return subprocess.run(
        [sys.executable, "-c", run, "--no-cache"],
        cwd=tree,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"},  # no wrapped lines
        capture_output=True,
        encoding="utf-8",
        timeout=120,
    )


def test_the_contracts_hold() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's packages and contracts, copied to be broken on purpose."""
    tree = tmp_path_factory.mktemp("tree")
    shutil.copy(ROOT / "pyproject.toml", tree)
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tree / package, ignore=shutil.ignore_patterns("__pycache__", "*.md")
        )
    return tree


@pytest.mark.parametrize(
    ("package", "wrong_import", "contract"),
    [
        ("data", "import web", "layers"),
        ("ml", "import config", "ml-handed-in"),
        ("pages", "from data import db", "pages-pure"),
        ("maintenance", "import ingest", "ingest-edge"),
        ("web", "import simulator", "simulator-source"),
        ("data", "import worker", "roots"),
        ("maintenance", "import dash", "no-web-inside"),
    ],
)
def test_a_wrong_import_breaks_its_contract(
    tree_copy: Path, package: str, wrong_import: str, contract: str
) -> None:
    init = tree_copy / package / "__init__.py"
    original = init.read_text()
    init.write_text(f"{original}\n{wrong_import}  # deliberately wrong\n")
    try:
        result = lint_imports(tree_copy)
    finally:
        init.write_text(original)
    assert result.returncode != 0
    assert f"{CONTRACTS[contract]} BROKEN" in result.stdout, result.stdout


def test_a_stale_ignore_line_fails(tree_copy: Path) -> None:
    """An ignored import that no longer exists fails the run: the ignore lists only shrink."""
    config = tree_copy / "pyproject.toml"
    original = config.read_text()
    contract = 'id = "roots"\n'  # a contract with no ignore lines of its own
    stale = 'ignore_imports = ["pages.fleet -> app"]\n'
    config.write_text(original.replace(contract, contract + stale))
    try:
        result = lint_imports(tree_copy)
    finally:
        config.write_text(original)
    assert result.returncode != 0
    assert "No matches for ignored import pages.fleet -> app" in result.stdout, result.stdout


def test_the_copy_is_faithful(tree_copy: Path) -> None:
    """The contracts hold on the untouched copy: the breaks above are the wrong import's."""
    result = lint_imports(tree_copy)
    assert result.returncode == 0, result.stdout + result.stderr


def _package_imports() -> dict[tuple[str, str], list[str]]:
    """(importer package, imported package) → the module imports that make the edge."""
    sys.path.insert(0, str(ROOT))  # the tree under test, not an installed copy
    try:
        graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    finally:
        sys.path.remove(str(ROOT))
    edges: dict[tuple[str, str], list[str]] = {}
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            a, b = module.split(".")[0], imported.split(".")[0]
            if a != b:
                edges.setdefault((a, b), []).append(f"{module} -> {imported}")
    return edges


def _cycles(edges: set[tuple[str, str]]) -> set[frozenset[str]]:
    """The strongly connected groups of more than one package."""
    reach = {p: {b for a, b in edges if a == p} for p in PACKAGES}
    changed = True
    while changed:  # transitive closure: a dozen packages, nothing to optimise
        changed = False
        for p in PACKAGES:
            more = set().union(*(reach[q] for q in reach[p])) - reach[p]
            if more:
                reach[p] |= more
                changed = True
    groups = {frozenset({p} | {q for q in reach[p] if p in reach[q]}) for p in PACKAGES}
    return {g for g in groups if len(g) > 1}


def test_no_package_cycles_but_the_known_ones() -> None:
    edges = _package_imports()
    cycles = _cycles(set(edges))
    detail = {
        "/".join(sorted(c)): [i for (a, b), imps in edges.items() if {a, b} <= c for i in imps]
        for c in cycles
    }
    assert cycles == KNOWN_CYCLES, detail


def test_a_planted_cycle_is_found() -> None:
    edges = {("data", "ingest"), ("ingest", "web"), ("web", "data"), ("pages", "web")}
    assert _cycles(edges) == {frozenset({"data", "ingest", "web"})}


@pytest.mark.parametrize("module", ["config.py", "logs.py"])
def test_settings_and_logs_import_nothing_of_the_app(module: str) -> None:
    """Import Linter cannot read single-file modules; these two sit below every package."""
    app = set(PACKAGES) | {"app", "worker", "config", "logs"}
    tree = ast.parse((ROOT / module).read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not {name.split(".")[0] for name in imported} & app


GRAPH_BEGIN, GRAPH_END = "<!-- package-graph:begin -->", "<!-- package-graph:end -->"


def package_graph() -> str:
    """The import graph of the top-level packages as a Mermaid block, drawn from the code:
    one arrow per importing package and imported package."""
    edges = sorted(_package_imports())
    lines = ["```mermaid", "flowchart TD"]
    lines += [f"    {a} --> {b}" for a, b in edges]
    return "\n".join([*lines, "```"])


def test_the_architecture_picture_is_the_code() -> None:
    """docs/architecture.md draws the package graph; it must be the one the code has."""
    doc = (ROOT / "docs" / "architecture.md").read_text()
    drawn = doc.split(GRAPH_BEGIN)[1].split(GRAPH_END)[0].strip()
    assert drawn == package_graph(), "paste this into docs/architecture.md:\n" + package_graph()


def test_every_module_says_its_job() -> None:
    """Each module of the app opens with a docstring: the one job it does, in words."""
    silent = [
        str(path.relative_to(ROOT))
        for package in [*PACKAGES, "app.py", "config.py", "logs.py"]
        for path in sorted(
            (ROOT / package).rglob("*.py") if package in PACKAGES else [ROOT / package]
        )
        if "migrations" not in path.parts
        and path.stat().st_size
        and not ast.get_docstring(ast.parse(path.read_text()))
    ]
    assert not silent


def test_file_names_say_where_they_live() -> None:
    """Outside a page's three modules (pages/, callbacks/, web/views/ share the page's name),
    no two modules of the app have the same file name."""
    page_layers = {ROOT / "pages", ROOT / "callbacks", ROOT / "web" / "views"}
    pages = {p.name for layer in page_layers for p in layer.glob("*.py")}
    seen: dict[str, list[str]] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "__init__.py" or "migrations" in path.parts:
                continue
            if path.parent not in page_layers:
                seen.setdefault(path.name, []).append(str(path.relative_to(ROOT)))
    repeated = {n: paths for n, paths in seen.items() if len(paths) > 1 or n in pages}
    assert repeated == {}
