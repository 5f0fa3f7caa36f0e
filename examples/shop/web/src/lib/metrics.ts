// Prometheus text exposition: requests by route/method/status and a latency histogram by route.
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, Histogram>();

  observe(route: string, method: string, status: number, seconds: number): void {
    const key = `route="${escape(route)}",method="${method}",status="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    const histogram = this.latency.get(route) ?? { counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
    BUCKETS.forEach((bound, i) => {
      if (seconds <= bound) histogram.counts[i] += 1;
    });
    histogram.sum += seconds;
    histogram.count += 1;
    this.latency.set(route, histogram);
  }

  render(): string {
    const lines = [
      "# HELP http_requests_total HTTP requests by route, method and status.",
      "# TYPE http_requests_total counter",
      ...[...this.requests].map(([labels, value]) => `http_requests_total{${labels}} ${value}`),
      "# HELP http_request_duration_seconds HTTP request latency by route.",
      "# TYPE http_request_duration_seconds histogram",
    ];
    for (const [route, h] of this.latency) {
      const label = `route="${escape(route)}"`;
      BUCKETS.forEach((bound, i) => lines.push(`http_request_duration_seconds_bucket{${label},le="${bound}"} ${h.counts[i]}`));
      lines.push(`http_request_duration_seconds_bucket{${label},le="+Inf"} ${h.count}`);
      lines.push(`http_request_duration_seconds_sum{${label}} ${h.sum}`);
      lines.push(`http_request_duration_seconds_count{${label}} ${h.count}`);
    }
    return lines.join("\n") + "\n";
  }
}

function escape(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
}
