// Run a TypeScript scenario's trigger requests against its code and print each real error as JSON.
// Runs with `tsx` inside a materialised scenario checkout (cwd), so the project's tsconfig paths apply and
// stack traces are source-mapped to the .ts lines. One JSON object per request on stdout.
// Modes: "route" (a Next.js App Router handler: Request and { params }), "express" (an Express-style
// (req, res) handler, given a plain req whose query is parsed as Express does, a repeated parameter being an
// array, and a res recording status and json; a handler returning its own { status, body } is read from its
// return value), "call" (a plain exported function called with args; with "vars" after the mode, its frame's
// local variables are recorded too, as the Node SDK's includeLocalVariables does).
// A request's "json" is sent serialised with content-type application/json; "body" is sent as the raw text it is
// (an empty body, a form post, broken JSON), with only the headers the trigger gives.
import { pathToFileURL } from "node:url";
import path from "node:path";

interface TriggerRequest {
  method?: string;
  path?: string;
  json?: unknown;
  body?: string;
  headers?: Record<string, string>;
  params?: Record<string, string>;
  args?: unknown[];
}

type RouteHandler = (req: Request, ctx: { params: Promise<Record<string, string>> }) => Promise<Response>;

const [modulePath, exportName, requestsJson, mode = "route", localVariables = ""] = process.argv.slice(2);

// The parameter names of a plain function, read from its (transpiled) source: the called frame's local
// variables, as the Node SDK's LocalVariables integration (includeLocalVariables) reports them.
function parameterNames(fn: (...args: unknown[]) => unknown): string[] {
  const head = /^[^(]*\(([^)]*)\)/.exec(fn.toString());
  return (head?.[1] ?? "").split(",").map((p) => p.split("=")[0].trim()).filter((p) => /^[A-Za-z_$][\w$]*$/.test(p));
}
const mod = await import(pathToFileURL(path.resolve(modulePath)).href);
const target = mod[exportName] as (...args: unknown[]) => unknown;

// req.query as Express's query parser gives it: a parameter sent once is a string, a repeated one
// (?tag=a&tag=b) an array of its values in order.
function expressQuery(search: URLSearchParams): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(search.keys())) {
    const values = search.getAll(key);
    query[key] = values.length > 1 ? values : values[0];
  }
  return query;
}

function expressPair(spec: TriggerRequest) {
  const url = new URL(spec.path ?? "/", "http://localhost");
  const req = {
    method: spec.method ?? "GET",
    url: url.pathname + url.search,
    path: url.pathname,
    params: spec.params ?? {},
    query: expressQuery(url.searchParams),
    body: spec.json ?? spec.body,
    headers: spec.headers ?? {},
  };
  const res = {
    statusCode: 200,
    body: undefined as unknown,
    status(code: number) {
      this.statusCode = code;
      return this;
    },
    json(body: unknown) {
      this.body = body;
      return this;
    },
  };
  return { req, res };
}

// A {"$date": iso} value (a TOML date-time in triggers.toml) is a Date argument.
const revive = (_key: string, value: unknown) =>
  value && typeof value === "object" && typeof (value as { $date?: unknown }).$date === "string"
    ? new Date((value as { $date: string }).$date)
    : value;

for (const spec of JSON.parse(requestsJson, revive) as TriggerRequest[]) {
  try {
    let status: unknown;
    if (mode === "call") {
      status = JSON.stringify(await target(...(spec.args ?? [])));
    } else if (mode === "express") {
      const { req, res } = expressPair(spec);
      const out = (await target(req, res)) as { status?: unknown } | undefined;
      status = out && typeof out === "object" && "status" in out ? out.status : res.statusCode;
    } else {
      const init: RequestInit = { method: spec.method, headers: { ...(spec.headers ?? {}) } };
      if (spec.json !== undefined) {
        init.body = JSON.stringify(spec.json);
        (init.headers as Record<string, string>)["content-type"] = "application/json";
      } else if (spec.body !== undefined) {
        init.body = spec.body; // the raw body as sent (empty, or not JSON); its content-type comes from headers
      }
      const request = new Request(new URL(spec.path ?? "/", "http://localhost"), init);
      const response = await (target as RouteHandler)(request, { params: Promise.resolve(spec.params ?? {}) });
      status = response.status;
    }
    console.log(JSON.stringify({ request: spec, status }));
  } catch (caught) {
    const err = caught instanceof Error ? caught : new Error(String(caught));
    const error: Record<string, unknown> = { type: err.name, message: err.message, stack: err.stack ?? "" };
    if (mode === "call" && localVariables === "vars") {
      const args = spec.args ?? [];
      error.vars = Object.fromEntries(parameterNames(target).map((name, i) => [name, i < args.length ? args[i] : "<undefined>"]));
    }
    console.log(JSON.stringify({ request: spec, error }));
  }
}
