"""Intake rules: tip statuses and the legal clock of the Criminal Procedure Code.

CPC 2015 Art. 147 (thời hạn giải quyết tố giác, tin báo về tội phạm): a crime report or
denunciation is resolved within 20 days of receipt.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

RESOLUTION_PERIOD = timedelta(days=20)


class TipStatus(StrEnum):
    received = "received"
    triaged = "triaged"
    verified = "verified"
    closed = "closed"


class Channel(StrEnum):
    hotline = "hotline"
    web = "web"
    mobile = "mobile"
    walk_in = "walk_in"
    police = "police"
    partner = "partner"
    other = "other"


class ExploitationType(StrEnum):
    """IOM HTCDS exploitation taxonomy (DESIGN.md section 5)."""

    sexual_exploitation = "sexual_exploitation"
    forced_labour = "forced_labour"
    forced_marriage = "forced_marriage"
    organ_removal = "organ_removal"
    forced_begging = "forced_begging"
    forced_criminality = "forced_criminality"
    illegal_adoption = "illegal_adoption"
    surrogacy = "surrogacy"
    other = "other"


def resolution_due_at(received_at: datetime) -> datetime:
    """Twenty days from receipt (Art. 147(1)); extensions are added by later rules."""
    return received_at + RESOLUTION_PERIOD
