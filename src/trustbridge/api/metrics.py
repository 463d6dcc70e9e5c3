"""Prometheus text exposition: request counts and latency histograms by route and status."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict

BUCKETS: tuple[float, ...] = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                              2.5, 5.0, 10.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    """In-process counters; small and lock-free (one event loop)."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        # per (method, route): observations per bucket (not cumulative), the last one +Inf
        self.hist: dict[tuple[str, str], list[int]] = {}
        self.sums: dict[tuple[str, str], float] = defaultdict(float)
        self.counters: dict[tuple[str, tuple[tuple[str, str], ...]], int] = defaultdict(int)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests[(method, route, status)] += 1
        key = (method, route)
        buckets = self.hist.get(key)
        if buckets is None:
            buckets = self.hist[key] = [0] * (len(BUCKETS) + 1)
        buckets[bisect_left(BUCKETS, seconds)] += 1  # the first bound >= seconds
        self.sums[key] += seconds

    def inc(self, name: str, **labels: str) -> None:
        """Domain counters, e.g. ``verifications_total{verdict="valid"}``."""
        self.counters[(name, tuple(sorted(labels.items())))] += 1

    def add(self, name: str, amount: int, **labels: str) -> None:
        """Add ``amount`` to a domain counter, e.g. bytes released by a malloc trim."""
        self.counters[(name, tuple(sorted(labels.items())))] += amount

    def render(self) -> str:
        lines = [
            "# HELP trustbridge_http_requests_total HTTP requests by method, route and status.",
            "# TYPE trustbridge_http_requests_total counter",
        ]
        for (method, route, status), n in sorted(self.requests.items()):
            lines.append(
                f'trustbridge_http_requests_total{{method="{method}",route="{_escape(route)}",'
                f'status="{status}"}} {n}'
            )
        lines += [
            "# HELP trustbridge_http_request_duration_seconds Request latency.",
            "# TYPE trustbridge_http_request_duration_seconds histogram",
        ]
        for (method, route), buckets in sorted(self.hist.items()):
            labels = f'method="{method}",route="{_escape(route)}"'
            count = 0
            for bound, n in zip(BUCKETS, buckets, strict=False):
                count += n
                lines.append(
                    f'trustbridge_http_request_duration_seconds_bucket{{{labels},le="{bound}"}} '
                    f"{count}"
                )
            total = sum(buckets)
            lines.append(
                f'trustbridge_http_request_duration_seconds_bucket{{{labels},le="+Inf"}} '
                f"{total}"
            )
            lines.append(
                f"trustbridge_http_request_duration_seconds_sum{{{labels}}} "
                f"{self.sums[(method, route)]:.6f}"
            )
            lines.append(
                f"trustbridge_http_request_duration_seconds_count{{{labels}}} {total}"
            )
        names = sorted({name for name, _ in self.counters})
        for name in names:
            lines.append(f"# TYPE trustbridge_{name} counter")
            for (counter, label_pairs), value in sorted(self.counters.items()):
                if counter != name:
                    continue
                lab = ",".join(f'{k}="{_escape(v)}"' for k, v in label_pairs)
                lines.append(f"trustbridge_{name}{{{lab}}} {value}" if lab
                             else f"trustbridge_{name} {value}")
        return "\n".join(lines) + "\n"


__all__ = ["BUCKETS", "Metrics"]
