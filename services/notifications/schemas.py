"""Request and response models of notifications."""

from __future__ import annotations
