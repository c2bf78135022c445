"""Vocabularies shared by several services."""

from __future__ import annotations

from enum import StrEnum


class ExploitationType(StrEnum):
    """IOM HTCDS exploitation taxonomy; baby selling is illegal_adoption."""

    sexual_exploitation = "sexual_exploitation"
    forced_labour = "forced_labour"
    forced_marriage = "forced_marriage"
    organ_removal = "organ_removal"
    forced_begging = "forced_begging"
    forced_criminality = "forced_criminality"
    illegal_adoption = "illegal_adoption"
    surrogacy = "surrogacy"
    other = "other"
