export interface ApiRequest {
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  headers: Record<string, string | undefined>;
  body?: unknown;
}

export interface ApiResponse {
  statusCode: number;
  body: unknown;
  status(code: number): ApiResponse;
  json(body: unknown): ApiResponse;
}
