"""A sentence the engine says, by key: its words, in every language, live in the
page's catalogs (``static/i18n/<lang>.json``), never here.

``vars`` fill the ``{name}`` slots of the text; the engine formats numbers itself
(``f"{lr:.3g}"``) so that every language quotes the same digits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Text:
    key: str
    vars: Mapping[str, str] = field(default_factory=dict)
