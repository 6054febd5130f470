"""Every text of the UI, as data: one catalog per language, ``static/i18n/<lang>.json``.

A catalog is a flat JSON object ``{key: text}``; every language has the same keys and,
in each text, the same ``{slots}`` (``tests/test_i18n.py``). The page loads the catalog
of its language; the server reads the English one for what it sends in words (the
API's ``notes`` and ``title`` fields, a frame's ``theory_note``, a status's ``reason``)
and sends the key beside it, so that the page translates by key.

Keys are derived from registry names:

- ``activation.<name>.notes.<i>``; ``optimizer.<name>.title`` / ``.notes.<i>``;
  ``surface.<name>.title`` / ``.notes.<i>``; ``dataset.<name>.title`` / ``.notes.<i>``
- ``preset.<id>.title`` / ``.notice`` / ``.labels.<i>`` (the lecture presets)
- ``layers.theory.*`` and ``train.diverged.*`` (what the engine says, as a ``Text``)
- the page's own strings (``f.<field>``, ``c.<chart>``, ``err.<code>``…)

A missing key is an error (``KeyError``), never a silent fallback.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from .engine.text import Text
from .paths import page_dir

LANGS = ("en", "zh")
SLOT = re.compile(r"\{(\w+)\}")


@cache
def catalog(lang: str) -> dict[str, str]:
    """The catalog of ``lang`` (read once)."""
    if lang not in LANGS:
        raise KeyError(f"no catalog for language {lang!r}: DeepScope speaks {LANGS}")
    path = page_dir("static") / "i18n" / f"{lang}.json"
    table: Any = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(table, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in table.items()
    ):
        raise ValueError(f"{path} must be one JSON object of strings")
    return table


def text(key: str, lang: str = "en", **slots: str) -> str:
    """The text of ``key`` in ``lang``, its ``{slots}`` filled (a missing one is an error:
    a text with slots is never sent with them unfilled)."""
    words = catalog(lang).get(key)
    if words is None:
        raise KeyError(f"no text {key!r} in static/i18n/{lang}.json")

    def fill(m: re.Match[str]) -> str:
        if m.group(1) not in slots:
            raise KeyError(f"{key!r} needs the slot {{{m.group(1)}}}")
        return slots[m.group(1)]

    return SLOT.sub(fill, words)


def english(said: Text) -> str:
    """What the engine said, in English (the API's words beside the key)."""
    return text(said.key, "en", **said.vars)


def notes(kind: str, name: str, lang: str = "en") -> list[str]:
    """``<kind>.<name>.notes.0``, ``.1``… in order (none: an empty list)."""
    table = catalog(lang)
    out: list[str] = []
    while (note := table.get(f"{kind}.{name}.notes.{len(out)}")) is not None:
        out.append(note)
    return out


def translations(key: str) -> dict[str, str]:
    """{lang: text} of ``key`` in every language (for what carries all of them, e.g.
    the lecture presets' labels in a shared link)."""
    return {lang: text(key, lang) for lang in LANGS}
