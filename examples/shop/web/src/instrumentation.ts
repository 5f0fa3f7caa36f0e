// Next.js instrumentation hook (the node:http server in src/server.ts does not use it). When SENTRY_DSN is set,
// the official Sentry SDK for Next.js reports the shop's errors: the ones the route wrapper turns into 500s
// (src/lib/observe.ts) and, through onRequestError, any other error Next.js itself sees. Without a DSN the SDK is
// never loaded.
import { processObservability } from "@/lib/observe";

interface SentrySdk {
  init(options: Record<string, unknown>): unknown;
  captureException(error: unknown, context?: Record<string, unknown>): string;
  captureRequestError(error: unknown, request: unknown, context: unknown): void;
}

// Loaded by name at run time: Next.js leaves the package to Node (serverExternalPackages in next.config.mjs), and
// the TypeScript check of src/ runs without the app's node_modules.
const SDK = "@sentry/nextjs";
let sentry: SentrySdk | undefined;

export async function register(): Promise<void> {
  const dsn = process.env.SENTRY_DSN;
  if (process.env.NEXT_RUNTIME !== "nodejs" || !dsn) return;
  sentry = (await import(/* webpackIgnore: true */ SDK)) as SentrySdk;
  const observability = processObservability();
  const { context } = observability;
  sentry.init({ dsn, release: context.release, environment: context.environment, serverName: context.service });
  const sdk = sentry;
  observability.reporters.push((error, request) => {
    sdk.captureException(error, {
      tags: { route: request.route, service: context.service, commit: context.commit },
      user: request.userId ? { id: request.userId } : undefined,
      extra: { method: request.method, path: request.path, request_id: request.requestId },
    });
  });
}

export function onRequestError(error: unknown, request: unknown, context: unknown): void {
  sentry?.captureRequestError(error, request, context);
}
