"""Empty: outreach's figures are its own records, and the plan report asks the others over HTTP."""

from __future__ import annotations

from libs.common.inbox import Handler

HANDLERS: dict[str, Handler] = {}
