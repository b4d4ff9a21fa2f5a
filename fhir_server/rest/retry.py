"""Re-running a unit of work that the store aborted for a concurrent one.

MongoDB aborts the later of two conflicting transactions at once instead of making it
wait (SQLite makes it wait on its writer lock, so this never fires there). A
single-resource interaction re-reads everything it decides on, so running it again is
safe; after a few tries the client gets the 409 with Retry-After.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from fhir_server.storage.base import TransactionConflict

P = ParamSpec("P")
T = TypeVar("T")
ATTEMPTS = 4


def retry_conflicts(interaction: Callable[P, T]) -> Callable[P, T]:
    @functools.wraps(interaction)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return interaction(*args, **kwargs)
            except TransactionConflict:
                if attempt == ATTEMPTS:
                    raise
                # a short random pause keeps two retrying writers from colliding again
                time.sleep(random.uniform(0.001, 0.01) * attempt)
        raise AssertionError("unreachable")

    return run
