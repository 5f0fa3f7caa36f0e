// Run a TypeScript scenario's trigger requests against its route handler and print each real error as JSON.
// Runs with `tsx` inside a materialised scenario checkout (cwd), so the project's tsconfig paths apply and
// stack traces are source-mapped to the .ts lines. One JSON object per request on stdout.
import { pathToFileURL } from "node:url";
import path from "node:path";

interface TriggerRequest {
  method: string;
  path: string;
  json?: unknown;
  headers?: Record<string, string>;
  params?: Record<string, string>;
}

const [modulePath, exportName, requestsJson] = process.argv.slice(2);
const mod = await import(pathToFileURL(path.resolve(modulePath)).href);
const handler = mod[exportName] as (req: Request, ctx: { params: Promise<Record<string, string>> }) => Promise<Response>;
for (const spec of JSON.parse(requestsJson) as TriggerRequest[]) {
  const init: RequestInit = { method: spec.method, headers: { ...(spec.headers ?? {}) } };
  if (spec.json !== undefined) {
    init.body = JSON.stringify(spec.json);
    (init.headers as Record<string, string>)["content-type"] = "application/json";
  }
  const request = new Request(new URL(spec.path, "http://localhost"), init);
  try {
    const response = await handler(request, { params: Promise.resolve(spec.params ?? {}) });
    console.log(JSON.stringify({ request: spec, status: response.status }));
  } catch (caught) {
    const err = caught instanceof Error ? caught : new Error(String(caught));
    console.log(JSON.stringify({ request: spec, error: { type: err.name, message: err.message, stack: err.stack ?? "" } }));
  }
}
