export interface Req {
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  body?: unknown;
  headers: Record<string, string | undefined>;
}

export interface Res {
  statusCode: number;
  body: unknown;
  status(code: number): Res;
  json(body: unknown): Res;
}

export function fakeRes(): Res {
  return {
    statusCode: 200,
    body: undefined,
    status(code) {
      this.statusCode = code;
      return this;
    },
    json(body) {
      this.body = body;
      return this;
    },
  };
}

export const fakeReq = (over: Partial<Req> = {}): Req => ({ params: {}, query: {}, headers: {}, ...over });
