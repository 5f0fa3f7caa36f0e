import { avatarFor } from "@/lib/avatar";
import { currentUser } from "@/lib/users";

export async function GET(request: Request): Promise<Response> {
  const user = await currentUser(request);
  if (!user) {
    return Response.json({ error: "Not signed in" }, { status: 401 });
  }
  return Response.json(avatarFor(user), { headers: { "cache-control": "private, max-age=60" } });
}
