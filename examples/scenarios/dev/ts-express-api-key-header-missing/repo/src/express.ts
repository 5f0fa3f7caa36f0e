export interface Request {
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  headers: Record<string, string | undefined>;
  body?: unknown;
}

export interface Response {
  status(code: number): Response;
  json(body: unknown): Response;
}
