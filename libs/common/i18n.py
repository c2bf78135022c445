"""Problem texts in the reader's language, from one gettext catalogue per language
(``libs/common/locale/<lang>/LC_MESSAGES/ctip.po``, read with Babel).

A message id may hold ``{placeholders}``: ``requires one of the roles: {roles}`` translates every
text of that shape, so code keeps raising plain English with f-strings, and pydantic's own
message templates (``String should have at most {max_length} characters``) are catalogued as
pydantic writes them. A value caught by a placeholder is translated too when it is itself a
catalogued text (``Value error, {error}`` around one of our validators' messages)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALES = Path(__file__).parent / "locale"
DOMAIN = "ctip"
DEFAULT = "en"
SUPPORTED = ("vi", "en")
_PLACEHOLDER = re.compile(r"\{(\w*)\}")


@dataclass(frozen=True)
class Shape:
    """A message id with placeholders, as a pattern over rendered texts."""

    msgid: str
    pattern: re.Pattern[str]
    names: tuple[str, ...]
    translation: str
    literal: int  # characters of fixed text: the more, the more specific


def _shape(msgid: str, msgstr: str) -> Shape:
    parts = _PLACEHOLDER.split(msgid)
    regex, names = [], []
    for i, part in enumerate(parts):
        if i % 2:
            names.append(part)
            regex.append("(.*?)")
        else:
            regex.append(re.escape(part))
    literal = sum(len(p) for p in parts[::2])
    pattern = re.compile("".join(regex) + r"\Z", re.S)
    return Shape(msgid, pattern, tuple(names), msgstr, literal)


def normalized(msgid: str) -> str:
    """A message id with its placeholders unnamed: two spellings of one shape compare equal."""
    return _PLACEHOLDER.sub("{}", msgid)


@dataclass(frozen=True)
class Catalogue:
    exact: dict[str, str]
    shapes: tuple[Shape, ...]
    ids: frozenset[str]

    def translate(self, text: str, depth: int = 0) -> str:
        found = self.exact.get(text)
        if found is not None:
            return found
        if depth > 2:
            return text
        for shape in self.shapes:
            match = shape.pattern.match(text)
            if match is None:
                continue
            values = [self.translate(v, depth + 1) for v in match.groups()]
            filled = shape.translation
            for name, value in zip(shape.names, values, strict=True):
                filled = filled.replace("{" + name + "}", value, 1)
            return filled
        return text


@cache
def catalogue(language: str) -> Catalogue:
    path = LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    exact: dict[str, str] = {}
    shapes: list[Shape] = []
    if path.exists():
        with path.open("rb") as handle:
            for message in read_po(handle, locale=language):
                if not message.id or not message.string or message.fuzzy:
                    continue
                msgid, msgstr = str(message.id), str(message.string)
                if _PLACEHOLDER.search(msgid):
                    shapes.append(_shape(msgid, msgstr))
                else:
                    exact[msgid] = msgstr
    shapes.sort(key=lambda s: s.literal, reverse=True)
    ids = frozenset(normalized(m) for m in [*exact, *(s.msgid for s in shapes)])
    return Catalogue(exact, tuple(shapes), ids)


def translate(text: str, language: str) -> str:
    return text if language == DEFAULT else catalogue(language).translate(text)


def negotiate(accept_language: str | None, default: str = DEFAULT) -> str:
    """The supported language the client prefers most (RFC 9110 ``Accept-Language`` with
    q-values), or ``default`` when it names none of ours (or sends no header)."""
    if not accept_language:
        return default
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept_language.split(",")):
        tag, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        ranked.append((q, -position, tag.strip().lower()))
    for q, _, tag in sorted(ranked, reverse=True):
        if q <= 0:
            continue
        if tag == "*":
            return default
        primary = tag.split("-")[0]
        if primary in SUPPORTED:
            return primary
    return default
