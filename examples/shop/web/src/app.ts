// The web application without the network: route a WHATWG Request to its handler, observed (log, metrics, 500s)
// by src/lib/observe.ts, the same code that observes the route handlers in the Next.js build.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { loggerContext, type LogContext } from "./lib/log";
import type { Metrics } from "./lib/metrics";
import { createObservability, healthResponse, metricsResponse, observe } from "./lib/observe";
import { loadRoutes, match, type RouteHandler } from "./lib/router";

const APP_DIR = join(dirname(fileURLToPath(import.meta.url)), "app");

export interface App {
  handle(request: Request): Promise<Response>;
  metrics: Metrics;
}

export async function createApp(context: LogContext = loggerContext()): Promise<App> {
  const routes = await loadRoutes(APP_DIR);
  const observability = createObservability(context);

  function route(request: Request, url: URL): { template: string; handle: () => Promise<Response> } {
    if (url.pathname === "/health") {
      return { template: "/health", handle: async () => healthResponse(context) };
    }
    if (url.pathname === "/metrics") {
      return { template: "/metrics", handle: async () => metricsResponse(observability.metrics) };
    }
    const found = match(routes, url.pathname);
    if (!found) {
      return { template: "unmatched", handle: async () => Response.json({ error: "Not found" }, { status: 404 }) };
    }
    const handler = found.route.module[request.method] as RouteHandler | undefined;
    if (!handler) {
      return {
        template: found.route.template,
        handle: async () => Response.json({ error: "Method not allowed" }, { status: 405 }),
      };
    }
    return { template: found.route.template, handle: () => handler(request, { params: Promise.resolve(found.params) }) };
  }

  return {
    metrics: observability.metrics,
    async handle(request: Request): Promise<Response> {
      const { template, handle } = route(request, new URL(request.url));
      return observe(observability, request, template, handle);
    },
  };
}
