"""The import graph of the package: the engine never reaches the CLI, and SQL stays in the store and the
workbench's own tables (layers are import-linter's job: see pyproject.toml)."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "cadre_policy"


def imports() -> dict[str, set[str]]:
    """Each module of the package (as a path below it) and every module it imports, lazy ones included."""
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
        graph[path.relative_to(PACKAGE).as_posix()] = names
    return graph


#: Where SQL may be written: the fact store, the aggregate conditions compiled to SQL, and the
#: workbench's own tables (accounts, decision records).
SQL_HOMES = ("store/", "aggregate/sql.py", "accounts/", "decisions/store.py", "decisions/tables.py")


def _offenders(graph, allowed, forbidden) -> list[str]:
    allowed = (allowed,) if isinstance(allowed, str) else allowed
    return sorted(f"{module} imports {name}" for module, names in graph.items()
                  if not module.startswith(allowed) for name in names if forbidden(name))


def _under(*roots: str):
    return lambda name: any(name == r or name.startswith(r + ".") for r in roots)


def test_the_graph_is_read():
    graph = imports()
    assert len(graph) > 50
    assert "click" in graph["cli/common.py"] and "sqlalchemy" in graph["store/fact_store.py"]
    # the rules below would catch these
    assert _offenders({"run/x.py": {"click"}}, "cli/", _under("click")) == ["run/x.py imports click"]
    assert _offenders({"aggregate/x.py": {"cadre_policy.store.models.Post"}}, SQL_HOMES,
                      _under("cadre_policy.store.models")) == ["aggregate/x.py imports cadre_policy.store.models.Post"]


def test_nothing_outside_cli_imports_click_or_the_cli():
    graph = imports()
    assert graph.pop("__main__.py") == {"cadre_policy.cli", "cadre_policy.cli.main"}   # `python -m`: the entry shim
    assert _offenders(graph, "cli/", _under("click", "cadre_policy.cli")) == []


def test_sql_is_written_only_in_its_homes():
    assert _offenders(imports(), SQL_HOMES, _under("sqlalchemy", "cadre_policy.store.models")) == []
