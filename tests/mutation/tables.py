"""Mutants of the module-level tables, which mutmut 3 leaves alone (it only changes code inside
functions): roles, periods, entitlements, weights, transition tables.

For each UPPER_CASE assignment at the top of a target module, one mutant per

* element of a dict, set, list or tuple literal, removed (a record such as a tuple inside a
  tuple is removed whole, never cut short: a malformed record would be "killed" by a crash);
* enum member in a value position (``CaseStatus.closed``), swapped for the next member of the
  same enum defined in the module;
* number (``timedelta(days=20)``, ``W_NAME = 0.50``), one up and one down (an integer by 1, a
  float by 0.05).

Strings are left alone: most are prose (a transition's ``why``), and a changed field name is
the same mutant as the field removed.

Each mutant is compiled from the changed syntax tree into a fresh process (forked from one that
has already imported the third-party libraries), served by an import hook in place of the file,
and the target's unit tests run against it with ``-x``: a failure kills it.

    uv run python -m tests.mutation.tables [--list] [--survivors] [path ...]
"""

from __future__ import annotations

import argparse
import ast
import copy
import importlib.abc
import importlib.machinery
import importlib.util
import os
import re
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import CodeType, ModuleType

from tests.mutation.targets import ROOT, Score, Target, line, load_targets

TABLE_NAME = re.compile(r"^_?[A-Z][A-Z0-9_]*$")
ENUM_BASES = {"Enum", "StrEnum", "IntEnum", "Flag", "IntFlag"}
TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class Mutant:
    """``kind`` applied to the ``node``-th node (in ``ast.walk`` order) of the module."""

    node: int
    kind: str  # "remove:<i>", "enum:<member>", "number:<value>"
    table: str
    lineno: int
    description: str


def _enums(tree: ast.Module) -> dict[str, list[str]]:
    enums: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and any(
            isinstance(b, ast.Name) and b.id in ENUM_BASES for b in node.bases
        ):
            enums[node.name] = [
                t.id
                for stmt in node.body
                if isinstance(stmt, ast.Assign)
                for t in stmt.targets
                if isinstance(t, ast.Name)
            ]
    return enums


NOT_A_RULE = "# not a rule:"
"""Marks a module-level constant that is no rule of the domain (a lock namespace, a rounding
tolerance), with the reason after it: its mutants would only measure the tests' taste."""


def _tables(tree: ast.Module, lines: Sequence[str] = ()) -> Iterator[tuple[str, ast.expr]]:
    for node in tree.body:
        if 0 < node.lineno <= len(lines) and NOT_A_RULE in lines[node.lineno - 1]:
            continue
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and TABLE_NAME.match(target.id):
            yield target.id, value


def _children(node: ast.expr) -> Iterator[tuple[ast.expr, bool, bool]]:
    """(child, is a dict key, is a record inside a sequence) for the nodes a table is made of."""
    if isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values, strict=True):
            if key is not None:
                yield key, True, False
            yield value, False, False
    elif isinstance(node, ast.Set | ast.List | ast.Tuple):
        for element in node.elts:
            yield element, False, isinstance(element, ast.Tuple | ast.List)
    elif isinstance(node, ast.Call):
        for arg in node.args:
            yield arg, False, False
        for keyword in node.keywords:
            yield keyword.value, False, False
    elif isinstance(node, ast.UnaryOp | ast.BinOp):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                yield child, False, False


def mutants(source: str) -> list[Mutant]:
    tree = ast.parse(source)
    enums = _enums(tree)
    index = {id(n): i for i, n in enumerate(ast.walk(tree))}
    found: list[Mutant] = []

    def visit(name: str, node: ast.expr, in_key: bool, record: bool) -> None:
        at = index[id(node)]
        text = ast.unparse(node)
        short = text if len(text) <= 60 else text[:57] + "..."
        if isinstance(node, ast.Dict | ast.Set | ast.List) or (
            isinstance(node, ast.Tuple) and not record and not in_key
        ):
            elements = node.keys if isinstance(node, ast.Dict) else node.elts
            for i, element in enumerate(elements):
                shown = ast.unparse(element) if element is not None else "**"
                shown = shown if len(shown) <= 50 else shown[:47] + "..."
                found.append(Mutant(at, f"remove:{i}", name, node.lineno, f"drop {shown}"))
        if (
            not in_key
            and isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in enums
            and node.attr in enums[node.value.id]
            and len(enums[node.value.id]) > 1
        ):
            members = enums[node.value.id]
            other = members[(members.index(node.attr) + 1) % len(members)]
            swapped = f"{short} -> {node.value.id}.{other}"
            found.append(Mutant(at, f"enum:{other}", name, node.lineno, swapped))
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, int | float)
            and not isinstance(node.value, bool)
        ):
            step = 1 if isinstance(node.value, int) else 0.05
            for changed in (node.value + step, node.value - step):
                changed = round(changed, 6) if isinstance(changed, float) else changed
                found.append(
                    Mutant(at, f"number:{changed!r}", name, node.lineno, f"{text} -> {changed!r}")
                )
        for child, is_key, is_record in _children(node):
            visit(name, child, in_key or is_key, is_record)

    for name, value in _tables(tree, source.splitlines()):
        visit(name, value, False, False)
    return found


def mutated_code(source: str, path: str, mutant: Mutant) -> CodeType:
    tree = ast.parse(source)
    nodes = list(ast.walk(tree))
    node = nodes[mutant.node]
    kind, _, arg = mutant.kind.partition(":")
    if kind == "remove":
        i = int(arg)
        if isinstance(node, ast.Dict):
            del node.keys[i], node.values[i]
        else:
            assert isinstance(node, ast.Set | ast.List | ast.Tuple)
            del node.elts[i]
            if isinstance(node, ast.Set) and not node.elts:  # `{}` would be a dict
                _replace(tree, node, ast.Call(ast.Name("set", ast.Load()), [], []))
    elif kind == "enum":
        assert isinstance(node, ast.Attribute)
        node.attr = arg
    elif kind == "number":
        assert isinstance(node, ast.Constant)
        node.value = float(arg) if isinstance(node.value, float) else int(arg)
    else:
        raise ValueError(mutant.kind)
    return compile(ast.fix_missing_locations(tree), path, "exec", dont_inherit=True)


def _replace(tree: ast.AST, old: ast.AST, new: ast.expr) -> None:
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, field, copy.copy(new))
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    if item is old:
                        value[i] = new


class _MutatedFinder(importlib.abc.MetaPathFinder):
    def __init__(self, module: str, path: str, code: CodeType) -> None:
        self.module, self.path, self.code = module, path, code

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.module:
            return None
        return importlib.util.spec_from_file_location(fullname, self.path, loader=_Loader(self))


class _Loader(importlib.machinery.SourceFileLoader):
    def __init__(self, finder: _MutatedFinder) -> None:
        super().__init__(finder.module, finder.path)
        self.finder = finder

    def get_code(self, fullname: str) -> CodeType:
        return self.finder.code


def _warm_up() -> None:
    """Import once, before forking, what every test run needs and no mutant changes."""
    import fastapi  # noqa: F401
    import httpx  # noqa: F401
    import hypothesis  # noqa: F401
    import pydantic  # noqa: F401
    import pytest  # noqa: F401
    import schemathesis  # noqa: F401
    import sqlalchemy  # noqa: F401


def start_tests(target: Target, code: CodeType | None) -> int:
    """Fork a process that runs the target's unit tests with ``code`` served as the module."""
    pid = os.fork()
    if pid:
        return pid
    try:  # the child: never returns
        import pytest

        signal.alarm(TIMEOUT_SECONDS)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        sys.dont_write_bytecode = True
        if code is not None:
            sys.meta_path.insert(0, _MutatedFinder(target.module, str(ROOT / target.path), code))
        args = ["-x", "-q", "-p", "no:cacheprovider", "-p", "no:warnings", *target.tests]
        os._exit(int(pytest.main(args)))
    except BaseException:
        os._exit(3)


def run_all(target: Target, source: str, found: Sequence[Mutant], jobs: int) -> list[int]:
    """Every mutant's exit code, ``jobs`` at a time."""
    codes = [0] * len(found)
    running: dict[int, int] = {}
    pending = list(enumerate(found))
    while pending or running:
        while pending and len(running) < jobs:
            i, mutant = pending.pop(0)
            running[start_tests(target, mutated_code(source, target.path, mutant))] = i
        pid, status = os.wait()
        codes[running.pop(pid)] = os.waitstatus_to_exitcode(status)
    return codes


def run_tables(
    targets: Sequence[Target], *, jobs: int = 2, survivors: bool = False, list_only: bool = False
) -> bool:
    """Run every target's table mutants and print one line per module; False if one fails."""
    os.chdir(ROOT)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    _warm_up()
    ok = True
    started = time.monotonic()
    for target in targets:
        source = (ROOT / target.path).read_text("utf-8")
        found = mutants(source)
        if not found:
            continue
        if list_only:
            for m in found:
                print(f"{target.path}:{m.lineno} {m.table}: {m.description}")
            continue
        _, status = os.waitpid(start_tests(target, None), 0)
        if (baseline := os.waitstatus_to_exitcode(status)) != 0:
            raise SystemExit(f"{' '.join(target.tests)} fails without any mutant ({baseline})")
        codes = run_all(target, source, found, jobs)
        if unusable := {c for c in codes if c in (4, 5)}:  # usage error, nothing collected
            raise SystemExit(f"pytest could not run {' '.join(target.tests)} ({unusable})")
        alive = [m for m, code in zip(found, codes, strict=True) if code == 0]
        result = Score(killed=len(found) - len(alive), total=len(found))
        print(line("mutation-tables", target, result), flush=True)
        ok &= result.meets(target.floor)
        if survivors:
            for m in alive:
                print(f"    survived {target.path}:{m.lineno} {m.table}: {m.description}")
    if not list_only:
        print(f"timing: table mutants {time.monotonic() - started:.0f} s", flush=True)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="only these target paths")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--survivors", action="store_true", help="print the surviving mutants")
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested at once (2)")
    args = parser.parse_args()
    targets = [t for t in load_targets() if not args.paths or t.path in args.paths]
    ok = run_tables(targets, jobs=args.jobs, survivors=args.survivors, list_only=args.list)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
