"""notifications' event handlers (filled in below)."""

from __future__ import annotations

from libs.common.inbox import Handler

HANDLERS: dict[str, Handler] = {}
