"""Every query of notifications."""

from __future__ import annotations
