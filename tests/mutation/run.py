"""`make mutation`: mutmut over every rule module with tests/unit only, then the module-level
tables (``tables.py``), one line per module, and a non-zero exit when one is under its floor.

    uv run python -m tests.mutation.run              # both, from scratch (~15-20 min here)
    uv run python -m tests.mutation.run --report     # score the last mutmut run again
    uv run python -m tests.mutation.run --no-tables  # mutmut only

A surviving mutant is a change to the rule that every unit test accepts: ``uv run mutmut
results`` lists them, ``uv run mutmut show <name>`` shows one.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter

from mutmut.stats import status_by_exit_code
from mutmut.utils.format_utils import orig_function_and_class_names_from_key

from tests.mutation.targets import ROOT, Score, Target, line, load_targets, mutmut_source_paths

KILLED = {"killed", "timeout", "caught by type check", "segfault"}
"""A segfault or a timeout is the tests noticing; "no tests" and "suspicious" are not."""


def run_mutmut() -> None:
    shutil.rmtree(ROOT / "mutants", ignore_errors=True)  # its cache outlives config changes
    started = time.monotonic()
    with tempfile.TemporaryFile(mode="w+") as log:
        done = subprocess.run(
            [sys.executable, "-m", "mutmut", "run"], cwd=ROOT, stdout=log, stderr=log, check=False
        )
        if done.returncode != 0:
            log.seek(0)
            sys.stdout.write(log.read()[-4000:])
            raise SystemExit(f"mutmut run failed ({done.returncode})")
    print(f"timing: mutmut {time.monotonic() - started:.0f} s", flush=True)


def statuses(target: Target) -> Counter[str]:
    meta = ROOT / "mutants" / f"{target.path}.meta"
    if not meta.exists():
        raise SystemExit(f"{meta} is missing: run mutmut first (make mutation)")
    exit_codes: dict[str, int | None] = json.loads(meta.read_text("utf-8"))["exit_code_by_key"]
    found: Counter[str] = Counter()
    for key, code in exit_codes.items():
        function, cls = orig_function_and_class_names_from_key(key)
        if target.only and function not in target.only and cls not in target.only:
            continue
        found[status_by_exit_code[code]] += 1
    return found


def score(found: Counter[str]) -> Score:
    if found["not checked"]:
        raise SystemExit("mutmut left mutants unchecked: the run was interrupted")
    counted = {k: v for k, v in found.items() if k != "skipped"}
    return Score(
        killed=sum(v for k, v in counted.items() if k in KILLED), total=sum(counted.values())
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", action="store_true", help="score the last mutmut run")
    parser.add_argument("--no-tables", action="store_true", help="skip the table mutants")
    parser.add_argument("--tables-only", action="store_true", help="only the table mutants")
    args = parser.parse_args()

    targets = load_targets()
    configured = set(mutmut_source_paths())
    listed = {t.path for t in targets}
    if configured != listed:
        raise SystemExit(
            "pyproject.toml [tool.mutmut] source_paths and tests/mutation/targets.toml differ: "
            f"only in pyproject {sorted(configured - listed)}, "
            f"only in targets {sorted(listed - configured)}"
        )

    failed = False
    if not args.tables_only:
        if not args.report:
            run_mutmut()
        for target in targets:
            found = score(statuses(target))
            print(line("mutation", target, found), flush=True)
            failed |= not found.meets(target.floor)
    if not (args.no_tables or args.report):
        from tests.mutation.tables import run_tables

        failed |= not run_tables(targets)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
