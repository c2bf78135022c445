"""The modules `make mutation` scores, read from ``targets.toml``, and how a score is told."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGETS = Path(__file__).with_name("targets.toml")


@dataclass(frozen=True)
class Target:
    path: str
    floor: int
    tests: tuple[str, ...]
    only: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.path}::{','.join(self.only)}" if self.only else self.path

    @property
    def module(self) -> str:
        return self.path.removesuffix(".py").replace("/", ".")


def load_targets() -> list[Target]:
    data = tomllib.loads(TARGETS.read_text("utf-8"))
    return [
        Target(
            path=m["path"],
            floor=int(m["floor"]),
            tests=tuple(m["tests"]),
            only=tuple(m.get("only", ())),
        )
        for m in data["module"]
    ]


def mutmut_source_paths() -> list[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    return list(data["tool"]["mutmut"]["source_paths"])


@dataclass(frozen=True)
class Score:
    killed: int
    total: int

    @property
    def percent(self) -> int:
        """Rounded down, so that 89.9% never reads as the 90% it does not reach."""
        return 100 * self.killed // self.total if self.total else 100

    def meets(self, floor: int) -> bool:
        return self.killed * 100 >= floor * self.total


def line(kind: str, target: Target, score: Score) -> str:
    verdict = "" if score.meets(target.floor) else f"  UNDER THE FLOOR ({target.floor}%)"
    return f"{kind}: {target.label} {score.killed}/{score.total} {score.percent}%{verdict}"
