// One request under the house observability, for both runtimes (src/app.ts on node:http, and Next.js through
// src/lib/next-route.ts): timed, counted in the metrics, logged as a JSON line, and an unhandled error becomes a
// 500 without internals whose stack goes to the log and to any error reporter (Sentry, when configured).
import { randomUUID } from "node:crypto";

import { errorFields, Logger, loggerContext, type LogContext } from "./log";
import { Metrics } from "./metrics";

/** What an error reporter learns about the request that failed. */
export interface FailedRequest {
  route: string;
  method: string;
  path: string;
  userId: string | null;
  requestId: string;
}

export type ErrorReporter = (error: unknown, request: FailedRequest) => void;

export interface Observability {
  readonly context: LogContext;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly reporters: ErrorReporter[];
}

export function createObservability(context: LogContext = loggerContext()): Observability {
  return { context, logger: new Logger(context), metrics: new Metrics(), reporters: [] };
}

const PROCESS_KEY = Symbol.for("shop.observability");

/** The process's one Observability (from SHOP_* variables): Next.js builds each route and the instrumentation hook
 * as separate bundles, so the instance lives on globalThis, not in a module variable. */
export function processObservability(): Observability {
  const holder = globalThis as { [PROCESS_KEY]?: Observability };
  return (holder[PROCESS_KEY] ??= createObservability());
}

export function healthResponse(context: LogContext): Response {
  return Response.json({ status: "ok", release: context.release, commit: context.commit });
}

export function metricsResponse(metrics: Metrics): Response {
  return new Response(metrics.render(), { headers: { "content-type": "text/plain; version=0.0.4" } });
}

/** Run ``handle`` for ``request`` (matched to the route template ``route``) and observe it. */
export async function observe(
  observability: Observability,
  request: Request,
  route: string,
  handle: () => Promise<Response>,
): Promise<Response> {
  const started = performance.now();
  const url = new URL(request.url);
  const requestId = request.headers.get("x-request-id") ?? randomUUID();
  let response: Response;
  let failed = false;
  let error: unknown;
  try {
    response = await handle();
  } catch (caught) {
    // an unhandled error is a 500 with no internals in the body; the stack goes to the log
    failed = true;
    error = caught;
    response = Response.json({ error: "Internal Server Error" }, { status: 500 });
  }
  const seconds = (performance.now() - started) / 1000;
  if (route !== "/metrics") {
    observability.metrics.observe(route, request.method, response.status, seconds);
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
  if (failed) {
    observability.logger.write("error", `Unhandled error in ${request.method} ${route}`, { ...fields, error: errorFields(error) });
    const failedRequest = { route, method: request.method, path: url.pathname, userId: fields.user_id, requestId };
    for (const report of observability.reporters) {
      try {
        report(error, failedRequest);
      } catch {
        // a reporter that fails never changes the answer; the log line above already has the error
      }
    }
  } else if (route !== "/health" && route !== "/metrics") {
    observability.logger.write(response.status >= 500 ? "error" : "info", "request", fields);
  }
  response.headers.set("x-request-id", requestId);
  return response;
}
