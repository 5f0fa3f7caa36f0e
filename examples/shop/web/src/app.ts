// The web application without the network: route a WHATWG Request to its handler, log it, count it.
import { randomUUID } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { errorFields, Logger, loggerContext, type LogContext } from "./lib/log";
import { Metrics } from "./lib/metrics";
import { loadRoutes, match, type RouteHandler } from "./lib/router";

const APP_DIR = join(dirname(fileURLToPath(import.meta.url)), "app");

export interface App {
  handle(request: Request): Promise<Response>;
  metrics: Metrics;
}

export async function createApp(context: LogContext = loggerContext()): Promise<App> {
  const routes = await loadRoutes(APP_DIR);
  const logger = new Logger(context);
  const metrics = new Metrics();

  async function dispatch(request: Request, url: URL): Promise<{ response: Response; route: string; error?: unknown }> {
    if (url.pathname === "/health") {
      return { response: Response.json({ status: "ok", release: context.release, commit: context.commit }), route: "/health" };
    }
    if (url.pathname === "/metrics") {
      const body = metrics.render();
      return { response: new Response(body, { headers: { "content-type": "text/plain; version=0.0.4" } }), route: "/metrics" };
    }
    const found = match(routes, url.pathname);
    if (!found) {
      return { response: Response.json({ error: "Not found" }, { status: 404 }), route: "unmatched" };
    }
    const handler = found.route.module[request.method] as RouteHandler | undefined;
    if (!handler) {
      return { response: Response.json({ error: "Method not allowed" }, { status: 405 }), route: found.route.template };
    }
    try {
      return { response: await handler(request, { params: Promise.resolve(found.params) }), route: found.route.template };
    } catch (error) {
      // an unhandled error is a 500 with no internals in the body; the stack goes to the log
      return { response: Response.json({ error: "Internal Server Error" }, { status: 500 }), route: found.route.template, error };
    }
  }

  return {
    metrics,
    async handle(request: Request): Promise<Response> {
      const started = performance.now();
      const url = new URL(request.url);
      const requestId = request.headers.get("x-request-id") ?? randomUUID();
      const { response, route, error } = await dispatch(request, url);
      const seconds = (performance.now() - started) / 1000;
      if (route !== "/metrics") {
        metrics.observe(route, request.method, response.status, seconds);
      }
      const fields = {
        route,
        path: url.pathname,
        method: request.method,
        status: response.status,
        duration_ms: Math.round(seconds * 100000) / 100,
        user_id: request.headers.get("x-user-id"),
        request_id: requestId,
      };
      if (error !== undefined) {
        logger.write("error", `Unhandled error in ${request.method} ${route}`, { ...fields, error: errorFields(error) });
      } else if (route !== "/health" && route !== "/metrics") {
        logger.write(response.status >= 500 ? "error" : "info", "request", fields);
      }
      response.headers.set("x-request-id", requestId);
      return response;
    },
  };
}
