"""A deploy check that skipped is named at the end of the run with its reason, even under ``-q``:
a skip is a check that did not run, and ought to be seen (issue 21)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


def pytest_terminal_summary(terminalreporter: Any) -> None:
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if HERE in Path(str(report.fspath)).resolve().parents
    ]
    if not skipped:
        return
    terminalreporter.section("deploy checks that did not run")
    for report in skipped:
        _, _, reason = report.longrepr
        terminalreporter.write_line(f"{report.nodeid}: {reason.removeprefix('Skipped: ')}")
