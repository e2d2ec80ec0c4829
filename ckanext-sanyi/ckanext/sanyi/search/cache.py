"""The PostgreSQL backend's result cache: results keyed by the index generation."""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any


class ResultCache:
    """Search results keyed by the index generation (a thread-safe LRU with a time limit).

    Correctness: every write advances the generation inside its transaction (statement
    trigger) and the backend advances it again right after the commit or rollback
    (``after_transaction_end`` of the outermost transaction). A result computed before a commit is thus
    stored under a generation that is over once the commit is complete, and no later search
    can read it. A transaction that has written to the index neither reads nor fills the
    cache (it sees its own uncommitted rows). The time limit bounds staleness if a process
    dies between a commit and the bump after it, or a tool outside CKAN writes to the table.
    """

    def __init__(self, size: int = 512, ttl: float = 300.0):
        self.size, self.ttl = size, ttl
        self._data: OrderedDict[Any, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Any) -> Any:
        with self._lock:
            item = self._data.get(key)
            if item is None or time.monotonic() - item[0] > self.ttl:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return item[1]

    def put(self, key: Any, value: Any) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._data[key] = (time.monotonic(), value)
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


def _freeze(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value
