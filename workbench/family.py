"""Method families declare themselves once; everything else iterates the declarations.

A family is a package with a ``family`` module holding ``FAMILY = Family(...)``: its name (the
CLI subcommand), title, where its CLI lives, and its dashboards (:class:`Dashboard`: slug,
title, one-line description, explorer, thumbnail scene, quick settings for the shared tests).
Code is named by ``"module:attribute"`` strings, imported only when used, so
``workbench --help`` stays fast.
:func:`families` finds

* the workbench's own families: every sub-package of :mod:`workbench` with a ``family`` module;
* families of other installed packages, through the ``workbench.families`` entry-point group
  (``[project.entry-points."workbench.families"] mine = "mypackage.family:FAMILY"``).

The CLI (:mod:`workbench.cli`), the server (:mod:`workbench.serve`, its set-up script and the
index page), the apps, the thumbnails and the shared explorer tests read this list, so adding
a family is adding its folder.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

ENTRY_POINT_GROUP = "workbench.families"


def _load(target: str) -> Any:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


@dataclass(frozen=True)
class Dashboard:
    """One served view of a family: ``/<slug>`` shows ``explorer`` in the shared template."""

    slug: str                 # URL path: "hj_landscapes"
    title: str                # page title: "HJ smoothing of landscapes"
    description: str          # one line, shown on the index page
    explorer: str             # "workbench.hj.widget:HJExplorer"
    thumbnail: tuple[str, str | None, str | None] = ("", None, None)  # (query, button to press, text shown when done)
    quick: dict[str, Any] = field(default_factory=dict)  # explorer settings small enough for the shared tests

    def make_explorer(self, **params: Any) -> Any:
        return _load(self.explorer)(**params)


@dataclass(frozen=True)
class Family:
    """One method family's declaration."""

    name: str                 # CLI subcommand and short name: "hj"
    title: str                # "Hamilton-Jacobi / local entropy"
    dashboards: tuple[Dashboard, ...] = ()
    cli: str = ""             # "workbench.hj.cli:register" (register(subparsers)); "" = no subcommand
    imports: tuple[str, ...] = ()   # modules the server imports once at start (their libraries frozen)

    def register_cli(self, subparsers: Any) -> None:
        if self.cli:
            _load(self.cli)(subparsers)


def _own() -> list[Family]:
    import workbench

    out = []
    for info in sorted(pkgutil.iter_modules(workbench.__path__), key=lambda m: m.name):
        # a family's folder has a family module; looking for the file imports nothing else
        if info.ispkg and any((Path(p) / info.name / "family.py").is_file() for p in workbench.__path__):
            out.append(importlib.import_module(f"workbench.{info.name}.family").FAMILY)
    return out


def families() -> list[Family]:
    """Every declared family: the workbench's own, then those of installed packages (by name)."""
    found = {f.name: f for f in _own()}
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        fam = ep.load()
        if not isinstance(fam, Family):
            raise TypeError(f"entry point {ep.name!r} of {ENTRY_POINT_GROUP} must be a Family, got {type(fam).__name__}")
        found.setdefault(fam.name, fam)
    return list(found.values())


def dashboards() -> list[Dashboard]:
    """Every declared family's dashboards, in family order."""
    return [d for fam in families() for d in fam.dashboards]


def get(name: str) -> Family:
    """The family called ``name``."""
    for fam in families():
        if fam.name == name:
            return fam
    raise ValueError(f"family must be one of {[f.name for f in families()]}, got {name!r}")


def dashboard(slug: str) -> Dashboard:
    """The dashboard served at ``/<slug>``."""
    for dash in dashboards():
        if dash.slug == slug:
            return dash
    raise ValueError(f"app must be one of {[d.slug for d in dashboards()]}, got {slug!r}")


def serve_app(slug: str) -> Any:
    """The dashboard ``slug`` in the shared template, servable."""
    dash = dashboard(slug)
    explorer = dash.make_explorer()
    return explorer.app(dash.title, dash.description).servable(title=dash.title)
