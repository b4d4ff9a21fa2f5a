"""Per-client request rate limits: a token bucket per client in each worker process.

A client may send `per_minute` requests a minute on average, in bursts of up to a sixth
of that (ten seconds' worth). Each worker keeps its own buckets, so with N workers the
server as a whole admits up to N times the limit; that bounds abuse without a shared
store on the hot path.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, clock: object = time.monotonic) -> None:
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def retry_after(self, key: str, per_minute: int) -> int | None:
        """None when the request may go ahead; else whole seconds until it may."""
        if per_minute <= 0:
            return None
        rate = per_minute / 60.0
        burst = max(1.0, per_minute / 6.0)
        now = self._clock()  # type: ignore[operator]
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(burst, now)
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return max(1, math.ceil((1.0 - bucket.tokens) / rate))
