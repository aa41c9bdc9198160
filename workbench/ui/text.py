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

import panel as pn
from markdown_it import MarkdownIt

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


class TextView(pn.widgets.StaticText):
    """A text block that a view rewrites: plain text (``pre=True``: monospace, lines kept) or
    Markdown the workbench writes itself (``markdown=True``: tables, emphasis; raw HTML in it is
    escaped, never rendered). Set :attr:`object` to change it.

    A widget rather than a ``Str``/``Markdown`` pane: a new text sends only the widget's ``text``,
    while a pane re-sends all its properties, stylesheets included, which in a notebook carry
    Panel's CDN addresses (a request that leaves the machine on every update).
    """

    def __init__(self, object: str = "", markdown: bool = False, pre: bool = False, **params: Any):
        self._markdown, self._pre = markdown, pre
        self._object = ""
        super().__init__(value=self._render(object), **params)
        self._object = str(object)

    @property
    def object(self) -> str:
        """The text shown (before rendering)."""
        return self._object

    @object.setter
    def object(self, text: str) -> None:
        self._object = str(text)
        self.value = self._render(self._object)

    def _render(self, text: Any) -> str:
        text = str(text)
        if self._markdown:
            return _MARKDOWN.render(text)
        if self._pre:
            return f'<pre style="margin:0;white-space:pre-wrap">{as_text(text, limit=100_000)}</pre>'
        return f'<span style="white-space:pre-wrap">{as_text(text, limit=100_000)}</span>'


_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")
