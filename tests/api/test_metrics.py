"""Latency histograms: one bucket increment per observation, rendered cumulative."""

from __future__ import annotations

import random

from trustbridge.api.metrics import BUCKETS, Metrics


def cumulative_by_scan(durations: list[float]) -> list[int]:
    """What each ``le`` bucket must show: the observations at or below its bound."""
    return [sum(1 for d in durations if d <= bound) for bound in BUCKETS]


def test_histogram_matches_a_scan_of_every_bound() -> None:
    rng = random.Random(11)
    durations = [*BUCKETS, 0.0, 1e-9, 10.000001, 99.0,
                 *(b * (1 + 1e-12) for b in BUCKETS), *(b * (1 - 1e-12) for b in BUCKETS),
                 *(rng.uniform(0, 12) for _ in range(500)),
                 *(rng.expovariate(300) for _ in range(500))]
    m = Metrics()
    for d in durations:
        m.observe("POST", "/v1/verify", 200, d)
    lines = m.render().splitlines()
    labels = 'method="POST",route="/v1/verify"'
    for bound, expected in zip(BUCKETS, cumulative_by_scan(durations), strict=True):
        line = f'trustbridge_http_request_duration_seconds_bucket{{{labels},le="{bound}"}} ' \
               f"{expected}"
        assert line in lines, line
    n = len(durations)
    assert f'trustbridge_http_request_duration_seconds_bucket{{{labels},le="+Inf"}} {n}' in lines
    assert f"trustbridge_http_request_duration_seconds_count{{{labels}}} {n}" in lines
    assert f"trustbridge_http_request_duration_seconds_sum{{{labels}}} {sum(durations):.6f}" \
        in lines
    assert f'trustbridge_http_requests_total{{{labels},status="200"}} {n}' in lines
