"""A process-wide, thread-safe LRU store for finished results (shared by every session of a server).

``pn.cache`` memoises a function call; the family widgets need to decide *after*
a long job whether its result may be kept (a cancelled or partly failed sweep
must not be served to the next session as if complete), so they store results
explicitly: ``cache.get(key)`` before the work, ``cache.put(key, value)`` after.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any


class ResultCache:
    """Least-recently-used mapping of at most ``max_items`` entries (safe across threads)."""

    def __init__(self, max_items: int = 32):
        if max_items < 1:
            raise ValueError(f"max_items must be >= 1, got {max_items}")
        self.max_items = max_items
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        """The stored value (now the most recently used), or None."""
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: Hashable, value: Any) -> None:
        """Store ``value``, evicting the least recently used entries beyond ``max_items``."""
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
