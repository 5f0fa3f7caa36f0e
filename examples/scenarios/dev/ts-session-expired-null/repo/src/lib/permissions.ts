import { bearerToken, getSession } from "./session";

export async function currentUserId(request: Request): Promise<string | null> {
  const session = await getSession(bearerToken(request));
  return session?.user.id ?? null;
}
