// The slice of Express's Request and Response the route modules use (express 4, default "extended" query parser:
// a repeated ?key= arrives as an array, a single one as a string).
export type QueryValue = string | string[] | undefined;

export interface Request {
  method: string;
  path: string;
  params: Record<string, string>;
  query: Record<string, QueryValue>;
  headers: Record<string, string | undefined>;
  body?: unknown;
}

export interface Response {
  status(code: number): Response;
  json(body: unknown): Response;
}
