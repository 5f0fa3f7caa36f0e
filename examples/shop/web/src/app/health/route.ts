import { healthResponse, processObservability } from "@/lib/observe";

// Served by src/app.ts itself on node:http; this is the Next.js build's /health.
export function GET(): Response {
  return healthResponse(processObservability().context);
}
