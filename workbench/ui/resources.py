"""Served pages load every script and stylesheet from the server itself (offline use).

Panel gives its components' stylesheets CDN addresses (``https://cdn.holoviz.org/...``)
and rewrites them to the server's own copies (``static/extensions/panel/...``) only
when it renders a session's HTML page. A session that Bokeh creates from a websocket
connection instead (a page whose first session expired before its websocket
connected, as under heavy load; a ``bokeh.client`` session) kept the CDN addresses,
and a browser without internet access failed on them (``net::ERR_NAME_NOT_RESOLVED``).
Setting the document's ``dist_url`` before any of its models exists makes Panel give
every model of every session the server's addresses from the start.
"""

from __future__ import annotations

import panel as pn
from bokeh.document import Document
from panel.io.resources import LOCAL_DIST, use_cdn


def serve_resources_locally(doc: Document | None = None) -> None:
    """In a served session, resolve Panel's stylesheets to the server's copies (no-op elsewhere,
    or when the server was told to use CDN resources)."""
    doc = doc or pn.state.curdoc
    if doc is None or getattr(doc, "session_context", None) is None or use_cdn():
        return
    rel = pn.state.rel_path  # same address as Panel's own page rendering
    doc.template_variables["dist_url"] = f"{rel}/{LOCAL_DIST}" if rel else LOCAL_DIST
