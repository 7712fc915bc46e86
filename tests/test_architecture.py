"""The map in docs/architecture.md, checked on the source: who may import whom, how big things get,
and that nothing depends on one machine's file system.

Imports: a small AST walk over the repository's own modules (tests, migrations and benchmarks left
out, since they may reach across apps on purpose). It sees every form of import: absolute, relative,
``from pkg import submodule`` and imports inside functions. Each failure names the file, the line and
the import. Each check has a twin that proves it can fail.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Folders whose modules are not part of the running product.
NOT_PRODUCT = {"tests", "migrations", "bench", "node_modules", "static", "templates", "var"}
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


@dataclass(frozen=True)
class Import:
    """One import statement's target, as a dotted name (``from a import b`` gives ``a`` and ``a.b``)."""

    path: str  # relative to the repository, with forward slashes
    line: int
    target: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {self.target}"


def _is_test_module(relative: Path) -> bool:
    return relative.name.startswith("test_") or relative.name == "conftest.py"


def python_files(root: Path, *, skip: set[str]) -> list[Path]:
    """The repository's .py files outside hidden folders (.venv, .git) and the ``skip`` folders."""
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if any(part.startswith(".") or part in skip for part in relative.parts[:-1]):
            continue
        if not _is_test_module(relative):
            found.append(path)
    return found


def _package_of(relative: Path, level: int) -> list[str]:
    """The package a relative import of ``level`` dots starts from."""
    package = list(relative.parent.parts)
    return package[: len(package) - (level - 1)] if level > 1 else package


def imports_in(path: Path, root: Path) -> list[Import]:
    """Every import in a module, relative ones resolved against its package."""
    relative = path.relative_to(root)
    where = relative.as_posix()
    found: list[Import] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=where)):
        if isinstance(node, ast.Import):
            found += [Import(where, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = [*_package_of(relative, node.level)] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.append(Import(where, node.lineno, module))
            # ``from crm import views_call_panel`` imports a module too: record ``crm.views_call_panel``.
            found += [Import(where, node.lineno, f"{module}.{alias.name}") for alias in node.names if alias.name != "*"]
    return found


@dataclass(frozen=True)
class Rule:
    """Modules whose path matches ``importers`` must not import a name matching ``forbidden``."""

    name: str
    importers: str  # regex on the module's path, e.g. r"^callkaro/"
    forbidden: str  # regex on the dotted import target, e.g. r"^acefone(\.|$)"
    why: str

    def violations(self, imports: list[Import]) -> list[Import]:
        importers, forbidden = re.compile(self.importers), re.compile(self.forbidden)
        hits: dict[tuple[str, int], Import] = {}
        for i in imports:  # one per statement: the module itself rather than the name taken from it
            if importers.search(i.path) and forbidden.search(i.target):
                hits.setdefault((i.path, i.line), i)
        return sorted(hits.values(), key=lambda i: (i.path, i.line))


PROVIDER_APPS = r"^(callkaro|acefone)/"
RULES = {
    "acefone_never_imports_callkaro": Rule(
        "acefone never imports callkaro",
        r"^acefone/",
        r"^callkaro(\.|$)",
        "provider apps meet only through telephony (the registry and its selectors)",
    ),
    "callkaro_never_imports_acefone": Rule(
        "callkaro never imports acefone",
        r"^callkaro/",
        r"^acefone(\.|$)",
        "provider apps meet only through telephony (the registry and its selectors)",
    ),
    "provider_apps_never_import_crm_views": Rule(
        "a provider app never imports a CRM page module",
        PROVIDER_APPS,
        r"^crm\.views(_\w+)?(\.|$)",
        "starting a call is telephony's service and form, not a page of the CRM",
    ),
    "crm_models_never_import_telephony_or_providers": Rule(
        "crm models never import telephony or provider models",
        r"^crm/models(\.py$|/)",
        r"^(telephony|callkaro|acefone|reporting)(\.|$)",
        "telephony depends on the CRM core, never the reverse (no import circle through the models)",
    ),
    "crm_core_never_imports_a_provider_app": Rule(
        "the CRM core never imports a provider app",
        r"^crm/",
        r"^(callkaro|acefone)(\.|$)",
        "the core reaches a provider only through telephony.registry",
    ),
    "telephony_never_imports_a_provider_app": Rule(
        "telephony never imports a provider app",
        r"^telephony/",
        r"^(callkaro|acefone)(\.|$)",
        "providers are found through settings.TELEPHONY_PROVIDERS, not imports",
    ),
    "metaleads_never_imports_a_provider_app": Rule(
        "the lead source never imports a provider app",
        r"^metaleads/",
        r"^(callkaro|acefone)(\.|$)",
        "speed-to-lead calls through telephony.services.call_place with the provider's key",
    ),
}


@pytest.fixture(scope="module")
def product_imports() -> list[Import]:
    return [i for path in python_files(ROOT, skip=NOT_PRODUCT) for i in imports_in(path, ROOT)]


@pytest.mark.parametrize("key", list(RULES))
def test_import_rule(key: str, product_imports: list[Import]) -> None:
    rule = RULES[key]
    bad = rule.violations(product_imports)
    assert not bad, f"{rule.name} ({rule.why}); found:\n  " + "\n  ".join(map(str, bad))


def test_the_walk_sees_every_form_of_import(tmp_path: Path) -> None:
    """The rules can fail: each import form below is seen, with its file and line."""
    (tmp_path / "callkaro").mkdir()
    (tmp_path / "callkaro" / "views.py").write_text(
        "import acefone.models as m\n"
        "from crm import views_call_panel\n"
        "from ..acefone import provider\n"
        "def late():\n"
        "    from acefone.views import initiate_call\n",
        encoding="utf-8",
    )
    (tmp_path / "callkaro" / "tests").mkdir()
    (tmp_path / "callkaro" / "tests" / "test_x.py").write_text("import acefone\n", encoding="utf-8")
    found = [i for p in python_files(tmp_path, skip=NOT_PRODUCT) for i in imports_in(p, tmp_path)]
    across = RULES["callkaro_never_imports_acefone"].violations(found)
    assert [i.line for i in across if i.path == "callkaro/views.py"] == [1, 3, 5]  # the test file is skipped
    assert len(across) == 3
    views = RULES["provider_apps_never_import_crm_views"].violations(found)
    assert [str(i) for i in views] == ["callkaro/views.py:2 imports crm.views_call_panel"]


def oversized(root: Path) -> list[str]:
    """Modules over MAX_MODULE_LINES and functions over MAX_FUNCTION_LINES (tests and migrations aside)."""
    found = []
    for path in python_files(root, skip={"tests", "migrations", "node_modules", "var"}):
        relative = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8")
        lines = len(text.splitlines())
        if lines > MAX_MODULE_LINES:
            found.append(f"{relative}: {lines} lines (module limit {MAX_MODULE_LINES})")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(
                        f"{relative}:{node.lineno} {node.name}(): {length} lines (function limit {MAX_FUNCTION_LINES})"
                    )
    return found


def test_no_module_over_400_lines_and_no_function_over_80() -> None:
    found = oversized(ROOT)
    assert not found, "split these along a seam a reader would expect:\n  " + "\n  ".join(found)


def test_the_size_check_can_fail(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    (tmp_path / "app" / "long.py").write_text(f"def long():\n{body}\n", encoding="utf-8")
    (tmp_path / "app" / "migrations").mkdir()
    (tmp_path / "app" / "migrations" / "0001_big.py").write_text("x = 1\n" * 500, encoding="utf-8")
    assert oversized(tmp_path) == [f"app/long.py:1 long(): {MAX_FUNCTION_LINES + 1} lines (function limit 80)"]


#: A checkout must run anywhere: no path of one machine's file system in any file we keep.
MACHINE_PATH = re.compile("|".join(re.escape(p) for p in ("/" + "work/", "/" + "home/", "/" + "Users/", "/" + "root/")))
TEXT_SUFFIXES = {".py", ".md", ".html", ".txt", ".toml", ".ini", ".json", ".yml", ".js", ".css", ".example", ""}
#: Hidden names we keep; other hidden ones (.git, .venv, caches) are not the repository's text.
KEPT_HIDDEN = {".env.example", ".gitignore", ".ci"}
GENERATED = {"var", "node_modules", "staticfiles", "test-artifacts", "__pycache__"}


def _kept(name: str) -> bool:
    return name in KEPT_HIDDEN or not (name.startswith(".") or name in GENERATED)


def machine_paths(root: Path) -> list[str]:
    """Lines naming a path of one machine (a shared work folder, a home folder) in the repository's text."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if _kept(d))
        for name in sorted(files):
            path = Path(folder) / name
            if not _kept(name) or path.suffix not in TEXT_SUFFIXES:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                if MACHINE_PATH.search(line):
                    found.append(f"{path.relative_to(root).as_posix()}:{number}: {line.strip()[:100]}")
    return found


def test_no_absolute_machine_path_in_the_repository() -> None:
    found = machine_paths(ROOT)
    assert not found, "read files relative to the repository (tests/fixtures/ for samples):\n  " + "\n  ".join(found)


def test_the_machine_path_check_can_fail(tmp_path: Path) -> None:
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "b.py").write_text('SAMPLE = "/' + 'work/shared/x.json"\n', encoding="utf-8")
    assert machine_paths(tmp_path) == ['bench/b.py:1: SAMPLE = "/' + 'work/shared/x.json"']
