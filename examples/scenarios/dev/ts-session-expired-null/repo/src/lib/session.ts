export interface Session {
  token: string;
  expiresAt: number;
  user: { id: string; roles: Record<string, "owner" | "editor" | "viewer"> };
}

const SESSIONS: Session[] = [
  { token: "tok_live", expiresAt: Date.parse("2099-01-01"), user: { id: "usr_1", roles: { prj_1: "editor", prj_2: "viewer" } } },
  { token: "tok_old", expiresAt: Date.parse("2024-01-01"), user: { id: "usr_2", roles: { prj_1: "owner" } } },
];

export function bearerToken(request: Request): string {
  return (request.headers.get("authorization") ?? "").replace(/^Bearer\s+/i, "");
}

/** The live session for a token, or null when the token is unknown or expired. */
export async function getSession(token: string, now = Date.now()): Promise<Session | null> {
  const session = SESSIONS.find((s) => s.token === token);
  return session && session.expiresAt > now ? session : null;
}
