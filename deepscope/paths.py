"""Where the page's files are: inside the installed package, or in the checkout."""

from __future__ import annotations

from pathlib import Path


def page_dir(name: str) -> Path:
    """``static/`` or ``templates/``: inside the installed package (a wheel copies them into
    ``deepscope/``), else at the top of the checkout (an editable install or a clone)."""
    package = Path(__file__).resolve().parent
    for where in (package / name, package.parent / name):
        if where.is_dir():
            return where
    raise RuntimeError(f"DeepScope's {name}/ folder is neither in {package} nor beside it")
