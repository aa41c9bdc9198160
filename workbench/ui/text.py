"""User text on a page is text: one helper escapes it for every place that renders markup.

A formula typed in a box, a file name, a token of a sentence or a parameter from a
shared link can carry markup (``<img src=x onerror=...>``, a Markdown link to
``javascript:``). Panes that render HTML or Markdown would run or link it, so every
message built from such text goes through :func:`as_text` (HTML-escaped, so the
browser shows the characters) and is rendered by an HTML pane, never by Markdown.
"""

from __future__ import annotations

import html
from typing import Any

MAX_SHOWN = 2000  # characters of one message shown; a 5 MB text is not echoed back whole


def as_text(value: Any, limit: int = MAX_SHOWN) -> str:
    """``str(value)`` cut to ``limit`` characters and HTML-escaped (quotes included)."""
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + f"... ({len(text) - limit} more characters)"
    return html.escape(text, quote=True)


def error_text(exc: BaseException | str) -> str:
    """The one line an error shows: ``TypeName: message`` for exceptions, as plain text."""
    return exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
