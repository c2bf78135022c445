"""The shape of the tree, as docs/architecture.md describes it: every service laid out alike,
layers that do not leak, and no copy of the shared machinery. Read from the source, no imports."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SERVICES = ("intake", "casework", "victim_support", "interagency", "outreach", "notifications")
SAME_FILES = (
    "access.py",
    "api.py",
    "app.py",
    "consumers.py",
    "domain.py",
    "kpis.py",
    "models.py",
    "repository.py",
    "schemas.py",
    "settings.py",
)
MAX_LINES = 400
pytestmark = pytest.mark.reads_source


def python_files(*parts: str) -> Iterator[Path]:
    for part in parts:
        for path in sorted((ROOT / part).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def module_name(path: Path) -> str:
    relative = path.relative_to(ROOT).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def top_level_imports(path: Path) -> set[str]:
    """Modules imported when ``path`` is imported (not under ``if TYPE_CHECKING``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # ``from services.x import repository`` imports the module services.x.repository
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def service_area(service: str) -> list[Path]:
    """A service's code with its own tests and benchmark: what one refactoring step touches."""
    paths = [*python_files(f"services/{service}", f"tests/unit/{service}")]
    paths += python_files(f"tests/integration/{service}")
    bench = ROOT / "bench" / f"{service}.py"
    return paths + ([bench] if bench.exists() else [])


def shared_area() -> list[Path]:
    own = {p for s in SERVICES for p in service_area(s)}
    return [p for p in python_files("libs", "testkit", "tests", "bench") if p not in own]


AREAS = [*SERVICES, "shared"]


def area(name: str) -> list[Path]:
    return shared_area() if name == "shared" else service_area(name)


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_the_same_files(service: str) -> None:
    present = {p.name for p in (ROOT / "services" / service).glob("*.py")}
    assert set(SAME_FILES) <= present, sorted(set(SAME_FILES) - present)
    assert "service.py" not in present, "use cases live in one module per aggregate"


# Shared machinery that each service once wrote for itself; it now lives once, in libs/common.
SHARED_NAMES = {"save", "now_utc", "RuleViolation", "Actor", "Context", "_actor", "_start"}


@pytest.mark.parametrize("service", SERVICES)
def test_no_service_defines_its_own_copy_of_shared_machinery(service: str) -> None:
    for path in python_files(f"services/{service}"):
        tree = ast.parse(path.read_text())
        defined = {
            n.name
            for n in tree.body
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        }
        assert defined & SHARED_NAMES == set(), path


@pytest.mark.parametrize("name", AREAS)
def test_the_platform_reaches_use_cases_only_through_the_context(name: str) -> None:
    for path in area(name):
        if path == Path(__file__).resolve():
            continue
        text = path.read_text()
        assert not re.search(r"from services\.\w+\.models import[^\n]*\bplatform\b", text), path
        if path.is_relative_to(ROOT / "services"):  # a test may hold one; a use case may not
            assert not re.search(r"^platform = platform_of\(", text, re.M), path


@pytest.mark.parametrize("part", ["libs", *(f"services/{s}" for s in SERVICES)])
def test_no_file_is_over_400_lines(part: str) -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in python_files(part)
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def import_cycles() -> list[list[str]]:
    paths = list(python_files("libs", "services"))
    modules = {module_name(p): p for p in paths}
    graph = {
        m: {i for i in top_level_imports(p) if i in modules and i != m} for m, p in modules.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's strongly connected components
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
                cycles.append(sorted(component))

    for module in graph:
        if module not in index:
            visit(module)
    return cycles


@pytest.mark.parametrize("package", ["libs", *(f"services.{s}" for s in SERVICES)])
def test_no_import_cycle(package: str) -> None:
    assert [c for c in import_cycles() if c[0].startswith(f"{package}.")] == []


@pytest.mark.parametrize("service", SERVICES)
def test_services_never_import_each_other(service: str) -> None:
    for path in python_files(f"services/{service}"):
        others = {
            i.split(".")[1]
            for i in top_level_imports(path)
            if i.startswith("services.") and i.count(".") >= 1
        } - {service}
        assert others == set(), path


# The one deliberate look outside: the README's ports against the contract, skipped without it.
CROSS_CHECKS = {ROOT / "tests" / "deploy" / "test_compose.py", Path(__file__).resolve()}


@pytest.mark.parametrize("name", AREAS)
def test_code_cites_nothing_outside_the_repository(name: str) -> None:
    for path in area(name):
        if path in CROSS_CHECKS:
            continue
        assert not re.search(r"DESIGN\.md|\.\./shared", path.read_text()), path


@pytest.mark.parametrize("name", AREAS)
def test_benchmarks_do_not_import_tests(name: str) -> None:
    for path in area(name):
        if path.is_relative_to(ROOT / "bench"):
            assert not any(i.split(".")[0] == "tests" for i in top_level_imports(path)), path


def test_the_cycle_check_finds_a_cycle(tmp_path: Path) -> None:
    """The check above would pass on a tree it cannot read; this one proves it reads imports."""
    a = tmp_path / "a.py"
    a.write_text("from services.casework import cases\nimport libs.common.db\n")
    assert {"services.casework", "services.casework.cases", "libs.common.db"} <= top_level_imports(
        a
    )


def test_one_ward_allocator_serves_every_services_tests() -> None:
    """Integration tests take their wards from one fixture-like allocator, not a copy each."""
    defined = [
        str(p.relative_to(ROOT))
        for p in python_files("tests", "testkit")
        if re.search(r"^def fresh_ward\(", p.read_text(), re.M)
    ]
    assert defined == ["tests/support.py"]
