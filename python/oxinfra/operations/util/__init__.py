"""Helpers for deploy code: `any_changed` and `all_changed` build `_if` conditions."""

from __future__ import annotations

from typing import Any, Callable


def any_changed(*metas: Any) -> Callable[[], bool]:
    """A condition that holds when any of the operations changed something."""
    return lambda: any(meta.did_change() for meta in metas)


def all_changed(*metas: Any) -> Callable[[], bool]:
    """A condition that holds when all of the operations changed something."""
    return lambda: all(meta.did_change() for meta in metas)
