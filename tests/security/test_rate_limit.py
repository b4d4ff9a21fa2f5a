"""Token buckets: bursts are allowed, sustained excess is told when to come back."""

from __future__ import annotations

from fhir_server.security.rate_limit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refusal_then_refill() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    allowed = [limiter.retry_after("a", 60) is None for _ in range(12)]
    assert allowed == [True] * 10 + [False] * 2  # a burst of ten seconds' worth
    assert limiter.retry_after("a", 60) == 1
    clock.now += 1.0
    assert limiter.retry_after("a", 60) is None  # one request a second at 60/min
    assert limiter.retry_after("a", 60) is not None


def test_clients_are_limited_separately_and_zero_means_off() -> None:
    limiter = RateLimiter(Clock())
    for _ in range(10):
        limiter.retry_after("a", 60)
    assert limiter.retry_after("a", 60) is not None
    assert limiter.retry_after("b", 60) is None
    assert all(limiter.retry_after("c", 0) is None for _ in range(1000))
