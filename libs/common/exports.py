"""Downloads: the ``Content-Disposition`` of a file the API hands out.

A file name built from request input (a report's period, say) must never reach a header as it
came: a newline or a quote in it breaks the header (a 500 from the server, or a header injected
into the response). Names keep letters, digits, ``.``, ``_`` and ``-``; anything else becomes
``_``.
"""

from __future__ import annotations

import re
from typing import Any

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def safe_filename(name: str, *, default: str = "download") -> str:
    cleaned = _UNSAFE.sub("_", name.strip())[:120].strip("._")
    return cleaned or default


def attachment(name: str) -> dict[str, str]:
    """The header that makes a browser save the response as ``name`` (sanitised)."""
    return {"Content-Disposition": f'attachment; filename="{safe_filename(name)}"'}


def sheet_cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``) is written as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
