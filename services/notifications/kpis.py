"""The figures of notifications."""

from __future__ import annotations
