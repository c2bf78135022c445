"""Identifiers: UUIDv7, time-ordered so primary-key indexes stay compact and lists sort by age."""

from __future__ import annotations

import uuid

import uuid6


def new_id() -> uuid.UUID:
    return uuid.UUID(bytes=uuid6.uuid7().bytes)
