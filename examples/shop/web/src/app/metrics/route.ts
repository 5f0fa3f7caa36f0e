import { metricsResponse, processObservability } from "@/lib/observe";

// Served by src/app.ts itself on node:http; this is the Next.js build's Prometheus /metrics.
export function GET(): Response {
  return metricsResponse(processObservability().metrics);
}
