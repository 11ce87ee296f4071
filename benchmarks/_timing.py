"""The one timing helper of the benchmark scripts: the best of repeated wall times."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_of(fn: Callable[[], object], repeat: int = 3, *, warm_up: bool = False) -> float:
    """The smallest wall time of ``repeat`` calls of ``fn`` (after one untimed call when
    ``warm_up``: imports, caches, a filled bytecode cache)."""
    if warm_up:
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)
